package funding

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// OpenItem is money a company owes the platform because Stripe took back
// more than its budget still held.
type OpenItem struct {
	ID         uuid.UUID  `json:"id" db:"id"`
	CompanyID  uuid.UUID  `json:"company_id" db:"company_id"`
	Company    string     `json:"company" db:"company"`
	TopUpID    uuid.UUID  `json:"topup_id" db:"topup_id"`
	Cause      string     `json:"cause" db:"cause"`
	Amount     int64      `json:"amount" db:"amount"`
	Status     string     `json:"status" db:"status"`
	Resolution *string    `json:"resolution" db:"resolution"`
	Note       string     `json:"note" db:"note"`
	ResolvedAt *time.Time `json:"resolved_at" db:"resolved_at"`
	CreatedAt  time.Time  `json:"created_at" db:"created_at"`
}

// OpenItems lists a company's items (uuid.Nil: every company's, for a
// platform admin), newest first; onlyOpen leaves out resolved ones.
func (s *Service) OpenItems(ctx context.Context, p *auth.Principal, company uuid.UUID, onlyOpen bool) ([]OpenItem, error) {
	company, err := scopeCompany(p, company)
	if err != nil {
		return nil, err
	}
	out := []OpenItem{}
	err = s.db.SelectContext(ctx, &out, `SELECT i.id, i.company_id, o.name AS company, i.topup_id, i.cause, i.amount, i.status,
			i.resolution, i.note, i.resolved_at, i.created_at
		FROM funding_open_items i JOIN organisations o ON o.id = i.company_id
		WHERE ($1 = '00000000-0000-0000-0000-000000000000'::uuid OR i.company_id = $1) AND (NOT $2 OR i.status = 'open')
		ORDER BY i.created_at DESC LIMIT 500`, company, onlyOpen)
	return out, apperr.Wrap(err, "listing open items")
}

// Resolution is how a platform admin settles an open item: "budget" (take
// it from the company's budget, which must now cover it), "transfer" (the
// company paid it by bank transfer: CRO required) or "write_off" (a
// platform loss).
type Resolution struct {
	How  string `json:"how"`
	CRO  string `json:"cro,omitempty"`
	Note string `json:"note,omitempty"`
}

// ResolveOpenItem settles an open item with a ledger transaction that
// clears the company's receivable.
//
// Errors: forbidden (not a platform admin), not_found, conflict (already
// resolved), invalid (field how, cro), insufficient_funds (the budget does
// not cover it yet).
func (s *Service) ResolveOpenItem(ctx context.Context, p *auth.Principal, id uuid.UUID, r Resolution) (OpenItem, error) {
	if err := platformAdmin(p); err != nil {
		return OpenItem{}, err
	}
	var from string
	switch r.How {
	case "budget", "write_off":
	case "transfer":
		if r.CRO = NormaliseReference(r.CRO); r.CRO == "" {
			return OpenItem{}, invalidField("cro", "a payment by transfer needs the bank's transaction reference (CRO/TRN)")
		}
	default:
		return OpenItem{}, invalidField("how", "resolve by budget, transfer or write_off")
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var it OpenItem
		if err := tx.GetContext(ctx, &it, `SELECT id, company_id, '' AS company, topup_id, cause, amount, status, resolution, note,
				resolved_at, created_at FROM funding_open_items WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "open item")
		}
		if it.Status != "open" {
			return apperr.New(apperr.Conflict, "this item is already resolved")
		}
		switch r.How {
		case "budget":
			from = BudgetAccount(it.CompanyID)
		case "transfer":
			from = BankAccount
		case "write_off":
			from = LossAccount
		}
		meta := map[string]any{"resolution": r.How}
		if r.CRO != "" {
			meta["cro"] = r.CRO
		}
		if _, err := ledger.Post(ctx, tx, ledger.Request{Key: "open-item:" + id.String() + ":resolved", Kind: "topup.open_item",
			Reference: it.TopUpID.String(), Metadata: meta,
			Postings: []ledger.Posting{{From: from, To: ReceivableAccount(it.CompanyID), Amount: it.Amount}}}); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE funding_open_items SET status = 'resolved', resolution = $2, note = $3,
			resolved_by = $4, resolved_at = now() WHERE id = $1`, id, r.How, r.Note, p.UserID)
		return err
	})
	if err != nil {
		return OpenItem{}, err
	}
	items, err := s.OpenItems(ctx, p, uuid.Nil, false)
	for _, it := range items {
		if it.ID == id {
			return it, err
		}
	}
	return OpenItem{}, err
}

// platformAdmin refuses anyone but a platform admin.
func platformAdmin(p *auth.Principal) error {
	if p == nil {
		return apperr.New(apperr.Unauthorized, "sign in first")
	}
	if p.OrgKind != auth.OrgPlatform || !p.Has(auth.RolePlatformAdmin) {
		return apperr.New(apperr.Forbidden, "only platform administrators can do this")
	}
	return nil
}
