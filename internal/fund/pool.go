package fund

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Inflow is money that reached the pool in one month from one source and
// company: the sum of the contributor lots the pool received.
type Inflow struct {
	Month       time.Time `json:"month" db:"month"`
	Source      string    `json:"source" db:"source"`
	CompanyID   string    `json:"company_id" db:"company_id"`
	CompanyName string    `json:"company_name" db:"company_name"`
	Amount      int64     `json:"amount" db:"amount"`
}

// Pool is the fund's unallocated money and where it came from.
type Pool struct {
	// Available is the pool account's balance.
	Available int64    `json:"available"`
	Inflows   []Inflow `json:"inflows"`
}

// Pool returns the pool's balance and its inflows by month, source and
// company, read from the ledger's contributor lots (fund managers and
// approvers). Errors: forbidden.
func (s *Service) Pool(ctx context.Context, p *auth.Principal) (Pool, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover)
	if err != nil {
		return Pool{}, err
	}
	out := Pool{Inflows: []Inflow{}}
	err = sqlx.GetContext(ctx, s.db, &out.Available, `SELECT coalesce(sum(b.posted - b.pending_out), 0)::bigint
		FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id WHERE a.path = $1`, poolPath(fund))
	if err != nil {
		return Pool{}, apperr.Wrap(err, "reading pool")
	}
	// A lot's source is its own attribute, else what made it: a split
	// (a redemption's fund share) or an expired lot's donation.
	err = sqlx.SelectContext(ctx, s.db, &out.Inflows, `
		SELECT date_trunc('month', l.created_at AT TIME ZONE 'Europe/Rome') AS month,
		       coalesce(l.attrs->>'source', CASE WHEN l.attrs ? 'donated_from_lot' THEN 'residual'
		                                         WHEN t.split IS NOT NULL THEN 'redemption' ELSE 'other' END) AS source,
		       coalesce(l.attrs->>'company', '') AS company_id, coalesce(o.name, '') AS company_name,
		       sum(l.amount + l.grown)::bigint AS amount
		FROM ledger_accounts a
		JOIN ledger_lots l ON l.account_id = a.id
		JOIN ledger_transactions t ON t.id = l.tx_id
		LEFT JOIN organisations o ON o.id::text = l.attrs->>'company'
		WHERE a.path = $1 AND l.parent_id IS NULL
		GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 4`, poolPath(fund))
	return out, apperr.Wrap(err, "reading inflows")
}

// StateCount is how many interventions are in a state, and their amount.
type StateCount struct {
	Status string `json:"status" db:"status"`
	Count  int    `json:"count" db:"count"`
	Amount int64  `json:"amount" db:"amount"`
}

// Dashboard is the fund at a glance: the pool and its inflows, the
// envelopes, and the interventions by state. Money figures come from the
// ledger (balances and contributor lots).
type Dashboard struct {
	Pool      Pool         `json:"pool"`
	Envelopes []Envelope   `json:"envelopes"`
	ByState   []StateCount `json:"interventions_by_state"`
}

// Dashboard returns the fund's dashboard (fund managers and approvers).
// Errors: forbidden.
func (s *Service) Dashboard(ctx context.Context, p *auth.Principal) (Dashboard, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover)
	if err != nil {
		return Dashboard{}, err
	}
	var d Dashboard
	if d.Pool, err = s.Pool(ctx, p); err != nil {
		return Dashboard{}, err
	}
	if d.Envelopes, err = s.envelopes(ctx, s.db, fund, ""); err != nil {
		return Dashboard{}, err
	}
	var rows []StateCount
	if err := sqlx.SelectContext(ctx, s.db, &rows, `SELECT status, count(*) AS count, coalesce(sum(amount), 0)::bigint AS amount
		FROM fund_interventions WHERE fund_id = $1 GROUP BY status`, fund); err != nil {
		return Dashboard{}, apperr.Wrap(err, "counting interventions")
	}
	byStatus := map[string]StateCount{}
	for _, r := range rows {
		byStatus[r.Status] = r
	}
	for _, st := range []string{StatusProposed, StatusApproved, StatusPaid, StatusRejected, StatusCancelled} {
		c := byStatus[st]
		c.Status = st
		d.ByState = append(d.ByState, c)
	}
	return d, nil
}
