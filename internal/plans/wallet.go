package plans

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// WalletLot is a piece of an employee's credit: what is left of one
// credit, what it may be spent on and until when.
type WalletLot struct {
	ID             int64      `json:"id"`
	AmountCents    int64      `json:"amount_cents"`
	RemainingCents int64      `json:"remaining_cents"`
	ExpiresAt      *time.Time `json:"expires_at"`
	// LastDay is the last day the credit can be spent (Italian date).
	LastDay    *time.Time `json:"last_day"`
	Categories []string   `json:"categories"`
	PlanID     *uuid.UUID `json:"plan_id"`
	PlanName   string     `json:"plan_name"`
}

// Movement is one change of the wallet's balance, or a booking's hold: a
// pending one keeps its amount aside, a voided or expired one charged
// nothing (its status says which). A captured hold is not listed: its
// amount shows once, as the capture that used it.
type Movement struct {
	TxID       int64     `json:"transaction_id"`
	At         time.Time `json:"at"`
	Kind       string    `json:"kind"`
	Status     string    `json:"status"`
	DeltaCents int64     `json:"delta_cents"`
}

// Wallet is what an employee has to spend.
type Wallet struct {
	// BalanceCents is the available balance: credits not spent nor held
	// by a booking.
	BalanceCents int64       `json:"balance_cents"`
	HeldCents    int64       `json:"held_cents"`
	Lots         []WalletLot `json:"lots"`
	Movements    []Movement  `json:"movements"`
	// LeftOn is the employee's leaving date once it has passed: their
	// credits are reserved and follow their plans' rules (leavers.go).
	LeftOn *time.Time `json:"left_on,omitempty"`
}

// MyWallet returns the caller's own wallet (employees only: nobody reads
// another person's wallet here; HR sees balances on the employee list).
func (s *Service) MyWallet(ctx context.Context, p *auth.Principal) (Wallet, error) {
	if p == nil || !p.Has(auth.RoleEmployee) {
		return Wallet{}, apperr.New(apperr.Forbidden, "only employees have a wallet")
	}
	w, err := s.wallet(ctx, p.UserID)
	if err != nil {
		return w, err
	}
	err = s.db.GetContext(ctx, &w.LeftOn, `SELECT max(leaves_on) FROM employees WHERE user_id = $1 AND leaves_on < $2`, p.UserID, today())
	return w, db.MapError(err, "leaving date")
}

func (s *Service) wallet(ctx context.Context, user uuid.UUID) (Wallet, error) {
	w := Wallet{Lots: []WalletLot{}, Movements: []Movement{}}
	path := walletAccount(user)
	bal, err := ledger.GetBalance(ctx, s.db, path)
	if apperr.CodeOf(err) == apperr.NotFound {
		return w, nil
	}
	if err != nil {
		return w, err
	}
	w.BalanceCents, w.HeldCents = bal.Available, bal.PendingOut
	lots, err := ledger.Lots(ctx, s.db, path)
	if err != nil {
		return w, err
	}
	var planIDs []uuid.UUID
	for _, l := range lots {
		wl := WalletLot{ID: l.ID, AmountCents: l.Amount, RemainingCents: l.Remaining, ExpiresAt: l.ExpiresAt, Categories: l.Categories}
		if wl.Categories == nil {
			wl.Categories = []string{}
		}
		if l.ExpiresAt != nil {
			last := l.ExpiresAt.In(rome).Add(-time.Nanosecond)
			wl.LastDay = &last
		}
		if s, ok := l.Attrs["plan_id"].(string); ok {
			if id, err := uuid.Parse(s); err == nil {
				wl.PlanID = &id
				planIDs = append(planIDs, id)
			}
		}
		w.Lots = append(w.Lots, wl)
	}
	names := map[uuid.UUID]string{}
	var rows []struct {
		ID   uuid.UUID `db:"id"`
		Name string    `db:"name"`
	}
	if err := s.db.SelectContext(ctx, &rows, `SELECT id, name FROM welfare_plans WHERE id = ANY($1)`, pq.Array(planIDs)); err != nil {
		return w, db.MapError(err, "plans")
	}
	for _, r := range rows {
		names[r.ID] = r.Name
	}
	for i, l := range w.Lots {
		if l.PlanID != nil {
			w.Lots[i].PlanName = names[*l.PlanID]
		}
	}
	entries, _, err := ledger.Entries(ctx, s.db, path, 0, 50)
	if err != nil {
		return w, err
	}
	for _, e := range entries {
		if e.Status == "captured" {
			continue
		}
		w.Movements = append(w.Movements, Movement{TxID: e.TxID, At: e.EffectiveAt, Kind: e.Kind, Status: e.Status, DeltaCents: e.Delta})
	}
	return w, nil
}
