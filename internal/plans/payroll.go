package plans

import (
	"context"
	"fmt"
	"io"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
	"github.com/reciproca/reciproca/internal/db"
)

// PayrollLine is what payroll needs about one employee's credits used in
// a tax year under one tax bucket: never the service category or the
// provider (psychological support is health data).
type PayrollLine struct {
	TaxCode        string `db:"tax_code"`
	EmployeeNumber string `db:"employee_number"`
	Year           int    `db:"tax_year"`
	TaxBucket      string `db:"tax_bucket"`
	PdR            bool   `db:"pdr"`
	UsedCents      int64  `db:"used_cents"`
}

// PayrollLines lists, for the caller's company and tax year, the credits
// its employees used: what left their wallet lots for services, net of
// what came back (cancellations, refunds), by tax bucket and PdR or not.
// A booking counts in the year it was made, once it is no longer pending;
// credits that expired are not "used" (they follow the residual policy).
func (s *Service) PayrollLines(ctx context.Context, p *auth.Principal, year int) ([]PayrollLine, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	out := []PayrollLine{}
	err = s.db.SelectContext(ctx, &out, `
		SELECT e.tax_code, e.employee_number, $2::int AS tax_year,
		       coalesce(m.tax_bucket, c.tax_bucket, 'unknown') AS tax_bucket,
		       coalesce(l.attrs->>'plan_kind', '') = 'pdr' AS pdr,
		       sum(m.amount)::bigint AS used_cents
		`+walletLotMoves+`
		WHERE e.company_id = $1
		  AND t.kind NOT LIKE 'lot_expiry.%'
		  AND t.status <> 'pending'
		  AND coalesce(orig.kind, '') NOT LIKE 'lot_expiry.%'
		  AND extract(year FROM coalesce(orig.effective_at, t.effective_at) AT TIME ZONE 'Europe/Rome') = $2
		GROUP BY 1, 2, 4, 5
		HAVING sum(m.amount) <> 0
		ORDER BY 2, 1, 4, 5`, company, year)
	return out, db.MapError(err, "payroll lines")
}

// walletLotMoves joins employees (e) to the moves (m) of their wallet
// lots (l), each with the transaction that made it (t), the one it gave
// back if any (orig) and the catalogue category it paid for (c): what the
// payroll export and the reports count.
const walletLotMoves = `FROM employees e
	JOIN ledger_accounts wa ON wa.path = 'employee:' || e.user_id || ':wallet'
	JOIN ledger_lots l ON l.account_id = wa.id
	JOIN ledger_lot_moves m ON m.lot_id = l.id
	JOIN ledger_transactions t ON t.id = m.tx_id
	LEFT JOIN ledger_transactions orig ON orig.id = m.against_tx
	LEFT JOIN catalog_categories c ON c.code = m.category`

// WritePayrollCSV writes the payroll export of year for Italian Excel:
// codice fiscale, matricola, anno, voce fiscale, PdR, importo usato.
func (s *Service) WritePayrollCSV(ctx context.Context, p *auth.Principal, year int, w io.Writer) error {
	lines, err := s.PayrollLines(ctx, p, year)
	if err != nil {
		return err
	}
	cw := csvfile.NewWriter(w)
	if err := cw.Write("codice_fiscale", "matricola", "anno", "voce_fiscale", "pdr", "importo_usato"); err != nil {
		return err
	}
	for _, l := range lines {
		pdr := "no"
		if l.PdR {
			pdr = "si"
		}
		if err := cw.Write(l.TaxCode, l.EmployeeNumber, fmt.Sprint(l.Year), l.TaxBucket, pdr, csvEuro(l.UsedCents)); err != nil {
			return err
		}
	}
	return cw.Flush()
}

func abs(n int64) int64 {
	if n < 0 {
		return -n
	}
	return n
}
