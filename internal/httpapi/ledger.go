package httpapi

import (
	"context"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/ledger"
)

// ledgerHandlers expose the ledger's admin operations.
type ledgerHandlers struct {
	db *sqlx.DB
}

// VerifyLedger runs every invariant check of the ledger (platform admins
// and auditors, by the spec's x-roles).
func (h ledgerHandlers) VerifyLedger(ctx context.Context, _ VerifyLedgerRequestObject) (VerifyLedgerResponseObject, error) {
	rep, err := ledger.Verify(ctx, h.db)
	if err != nil {
		return nil, err
	}
	return VerifyLedger200JSONResponse(ledgerReport(rep)), nil
}

func ledgerReport(rep ledger.Report) LedgerReport {
	out := LedgerReport{
		Ok:           rep.OK,
		Accounts:     rep.Accounts,
		Transactions: rep.Transactions,
		Entries:      rep.Entries,
		Sealed:       rep.Sealed,
		TookMs:       rep.Took.Milliseconds(),
		Checks:       make([]LedgerCheck, len(rep.Checks)),
	}
	for i, c := range rep.Checks {
		examples := c.Examples
		if examples == nil {
			examples = []string{}
		}
		out.Checks[i] = LedgerCheck{Name: c.Name, Description: c.Description, Violations: c.Violations, Examples: examples}
	}
	return out
}
