package funding

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
)

// The operator's accounting export and the money Stripe took back, day by
// day. Receipts are not invoices: the operator's accounting system issues
// the e-invoices (SdI), fed by this export of what came in (top-ups by
// card and by bank transfer), what Stripe charged (its fees, booked to
// platform:stripe-fees) and what went back (refunds, disputes), each line
// with the company and the payment's reference.

// AccountingLine is one line of the accounting export.
type AccountingLine struct {
	Day       time.Time `db:"day"`
	Kind      string    `db:"kind"` // topup_card, topup_bank, stripe_fee, refund, dispute, dispute_reinstated
	Company   string    `db:"company"`
	CompanyID string    `db:"company_id"`
	TopUp     string    `db:"topup_id"`
	// Reference is the payment's: the PaymentIntent (card), the RF
	// reference and the CRO (bank).
	Reference string `db:"reference"`
	// Cents is money in (positive) or out (negative) for the platform;
	// a fee is what Stripe charged (negative: it gave some back).
	Cents int64 `db:"cents"`
}

// AccountingLines lists the period's lines, by day (from inclusive, to
// exclusive, Italian days), from the ledger: what the books say is what
// the accountant gets. Platform admins only.
//
// Errors: forbidden, invalid (to).
func (s *Service) AccountingLines(ctx context.Context, p *auth.Principal, from, to time.Time) ([]AccountingLine, error) {
	if err := platformAdmin(p); err != nil {
		return nil, err
	}
	from, to = dateIn(from), dateIn(to)
	if !to.After(from) || to.Sub(from) > 366*24*time.Hour {
		return nil, invalidField("to", "the period must end after it starts, within a year")
	}
	start := time.Date(from.Year(), from.Month(), from.Day(), 0, 0, 0, 0, rome)
	end := time.Date(to.Year(), to.Month(), to.Day(), 0, 0, 0, 0, rome)
	return s.accountingLines(ctx, start, end)
}

// accountingLines reads the lines of the instants [start, end).
func (s *Service) accountingLines(ctx context.Context, start, end time.Time) ([]AccountingLine, error) {
	out := []AccountingLine{}
	err := s.db.SelectContext(ctx, &out, `
		SELECT (x.effective_at AT TIME ZONE 'Europe/Rome')::date::timestamp AS day,
		       CASE WHEN x.kind = 'topup' AND a.path = 'platform:bank' THEN 'topup_bank'
		            WHEN x.kind = 'topup' THEN 'topup_card'
		            WHEN x.kind = 'stripe.fee' THEN 'stripe_fee'
		            WHEN x.kind = 'topup.refund' THEN 'refund'
		            WHEN x.idempotency_key LIKE '%:dispute-reinstated' THEN 'dispute_reinstated'
		            ELSE 'dispute' END AS kind,
		       o.name AS company, o.id::text AS company_id, t.id::text AS topup_id,
		       concat_ws(' ', coalesce(t.payment_intent, t.reference),
		                 (SELECT b.cro FROM funding_bank_receipts b WHERE x.idempotency_key = 'bank-receipt:' || b.id)) AS reference,
		       -sum(e.amount)::bigint AS cents
		FROM ledger_transactions x
		JOIN ledger_entries e ON e.tx_id = x.id
		JOIN ledger_accounts a ON a.id = e.account_id
		JOIN funding_topups t ON t.id::text = x.reference
		JOIN organisations o ON o.id = t.company_id
		WHERE x.kind IN ('topup', 'stripe.fee', 'topup.refund', 'topup.dispute')
		  AND a.path IN ('platform:stripe', 'platform:bank', 'platform:stripe-fees')
		  AND NOT (x.kind = 'stripe.fee' AND a.path <> 'platform:stripe-fees')
		  AND x.effective_at >= $1 AND x.effective_at < $2
		GROUP BY x.id, a.path, o.id, t.id
		HAVING sum(e.amount) <> 0
		ORDER BY 1, x.id`, start, end)
	return out, apperr.Wrap(err, "accounting lines")
}

// WriteAccountingCSV writes the period's lines for the operator's
// accounting system (Italian Excel): data, tipo, azienda, id_azienda,
// ricarica, riferimento_pagamento, importo.
func (s *Service) WriteAccountingCSV(ctx context.Context, p *auth.Principal, from, to time.Time, w io.Writer) error {
	lines, err := s.AccountingLines(ctx, p, from, to)
	if err != nil {
		return err
	}
	cw := csvfile.NewWriter(w)
	if err := cw.Write("data", "tipo", "azienda", "id_azienda", "ricarica", "riferimento_pagamento", "importo"); err != nil {
		return err
	}
	for _, l := range lines {
		if err := cw.Write(l.Day.Format("02/01/2006"), l.Kind, l.Company, l.CompanyID, l.TopUp, l.Reference, centsText(l.Cents)); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// centsText writes cents as Italian Excel reads an amount: 1234,56.
func centsText(cents int64) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	return fmt.Sprintf("%s%d,%02d", sign, cents/100, cents%100)
}
