package plans

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/mail"
)

// RunAllocations makes the credits of running allocations, oldest first,
// up to limit allocations: the worker's job. It returns how many it
// finished. Several workers may run it at once: a chunk locks its
// allocation, so they take turns and none credits what another did.
func (s *Service) RunAllocations(ctx context.Context, limit int) (int, error) {
	var ids []uuid.UUID
	if err := s.db.SelectContext(ctx, &ids, `SELECT id FROM welfare_allocations WHERE status = 'running'
		ORDER BY created_at LIMIT $1`, limit); err != nil {
		return 0, db.MapError(err, "running allocations")
	}
	n := 0
	var errs []error
	for _, id := range ids {
		if err := s.RunAllocation(ctx, id); err != nil {
			errs = append(errs, fmt.Errorf("allocation %s: %w", id, err))
			continue
		}
		n++
	}
	return n, errors.Join(errs...)
}

// runInBackground credits an allocation detached from the request that
// started it. A failure is only logged: the allocation stays running and
// the worker takes it up.
func (s *Service) runInBackground(id uuid.UUID) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if err := s.RunAllocation(ctx, id); err != nil {
		slog.Warn("allocation left to the worker", "allocation", id, "error", err)
	}
}

// RunningAllocations counts allocations still crediting (the job's backlog).
func (s *Service) RunningAllocations(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM welfare_allocations WHERE status = 'running'`)
	return n, err
}

// RunAllocation credits an allocation's remaining employees, chunk by
// chunk, until it is done. A chunk the ledger refuses (the hold expired
// and the budget was spent meanwhile, a wallet closed) fails the
// allocation: what was credited stays, the rest of the hold is released,
// and last_error says why. Any other error leaves it running, to resume.
func (s *Service) RunAllocation(ctx context.Context, id uuid.UUID) error {
	for {
		finished, err := s.runChunk(ctx, id)
		var refused *refusal
		switch {
		case errors.As(err, &refused):
			slog.WarnContext(ctx, "allocation refused by the ledger", "allocation", id, "error", refused.err)
			return s.fail(ctx, id, refused.err)
		case err != nil:
			return err
		case finished:
			return nil
		}
	}
}

// refusal is a ledger refusal of a chunk's credits: retrying will not help.
type refusal struct{ err error }

func (r *refusal) Error() string { return r.err.Error() }

type chunkItem struct {
	UserID uuid.UUID `db:"user_id"`
	Amount int64     `db:"amount_cents"`
	Email  string    `db:"email"`
	Name   string    `db:"name"`
}

// runChunk credits the next chunk of employees in one transaction: void
// the hold, post the credits, hold what is left. It reports whether the
// allocation is finished (or another runner has it in hand).
func (s *Service) runChunk(ctx context.Context, id uuid.UUID) (finished bool, err error) {
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var err error
		finished, err = s.step(ctx, tx, id)
		return err
	})
	return finished, err
}

// step is runChunk's work inside tx.
func (s *Service) step(ctx context.Context, tx *sqlx.Tx, id uuid.UUID) (bool, error) {
	// Another runner holding the allocation is crediting it: leave it to
	// them rather than wait for each of their chunks.
	var rows []allocRow
	if err := tx.SelectContext(ctx, &rows, `SELECT `+allocCols+` FROM welfare_allocations WHERE id = $1
		FOR UPDATE SKIP LOCKED`, id); err != nil {
		return false, db.MapError(err, "allocation")
	}
	if len(rows) == 0 || rows[0].Status != Running {
		return true, nil
	}
	a := rows[0]
	pl, err := s.plan(ctx, tx, a.CompanyID, a.PlanID)
	if err != nil {
		return false, err
	}
	var items []chunkItem
	if err := tx.SelectContext(ctx, &items, `SELECT i.user_id, i.amount_cents, u.email::text AS email, u.name
		FROM welfare_allocation_items i JOIN users u ON u.id = i.user_id
		WHERE i.allocation_id = $1 AND i.tx_id IS NULL ORDER BY i.user_id LIMIT $2`, id, s.chunk); err != nil {
		return false, db.MapError(err, "allocation lines")
	}
	if err := releaseHold(ctx, tx, a.HoldTx); err != nil {
		return false, err
	}
	txIDs, err := s.credit(ctx, tx, a, pl, items)
	if err != nil {
		return false, err
	}
	var rest int64
	if err := tx.GetContext(ctx, &rest, `SELECT coalesce(sum(amount_cents), 0) FROM welfare_allocation_items
		WHERE allocation_id = $1 AND tx_id IS NULL`, id); err != nil {
		return false, err
	}
	var hold *int64
	if rest > 0 {
		a.HoldSeq++
		h, err := holdRest(ctx, tx, a, rest)
		if err != nil {
			return false, &refusal{err}
		}
		hold = &h
	}
	finished := rest == 0
	if _, err := tx.ExecContext(ctx, `UPDATE welfare_allocations SET credited = credited + $2, hold_tx = $3, hold_seq = $4,
			status = CASE WHEN $5 THEN 'done' ELSE status END, finished_at = CASE WHEN $5 THEN now() END
		WHERE id = $1`, id, len(txIDs), hold, a.HoldSeq, finished); err != nil {
		return false, err
	}
	if err := mail.EnqueueAll(ctx, tx, s.creditMails(pl, items)); err != nil {
		return false, err
	}
	if s.afterChunk != nil {
		return finished, s.afterChunk(id, a.Credited+len(txIDs))
	}
	return finished, nil
}

// releaseHold voids an allocation's hold while it is still pending (one
// the ledger expired has released its money already).
func releaseHold(ctx context.Context, tx *sqlx.Tx, hold *int64) error {
	if hold == nil {
		return nil
	}
	t, err := ledger.GetTransaction(ctx, tx, *hold)
	if err != nil || t.Status != "pending" {
		return err
	}
	return ledger.Void(ctx, tx, *hold)
}

// credit posts one credit per item (a lot of the plan) in one batch and
// records each one's transaction on its line.
func (s *Service) credit(ctx context.Context, tx *sqlx.Tx, a allocRow, pl Plan, items []chunkItem) ([]int64, error) {
	if len(items) == 0 {
		return nil, nil
	}
	wallets := make([]string, len(items))
	for i, it := range items {
		wallets[i] = walletAccount(it.UserID)
	}
	var missing []string
	if err := tx.SelectContext(ctx, &missing, `SELECT w FROM unnest($1::text[]) w
		WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.path = w)`, pq.Array(wallets)); err != nil {
		return nil, err
	}
	for _, w := range missing {
		for _, it := range items {
			if walletAccount(it.UserID) == w {
				if err := ensureWallet(ctx, tx, it.UserID); err != nil {
					return nil, err
				}
			}
		}
	}
	expiry := pl.Expiry()
	attrs := map[string]any{"plan_id": pl.ID.String(), "plan_kind": pl.Kind, "allocation_id": a.ID.String(),
		"company": a.CompanyID.String()}
	reqs := make([]ledger.Request, len(items))
	for i, it := range items {
		reqs[i] = ledger.Request{Key: creditKey(a.ID, it.UserID), Kind: "allocation", Reference: a.ID.String(),
			Metadata: map[string]any{"plan_id": pl.ID.String(), "allocation_id": a.ID.String()},
			Postings: []ledger.Posting{{From: budgetAccount(a.CompanyID), To: wallets[i], Amount: it.Amount,
				Lot: &ledger.LotSpec{ExpiresAt: &expiry, Categories: pl.Categories, Attrs: attrs}}}}
	}
	outs, err := ledger.PostBatch(ctx, tx, reqs)
	if err != nil {
		return nil, err
	}
	users, txIDs := make([]uuid.UUID, len(items)), make([]int64, len(items))
	for i, o := range outs {
		if o.Err != nil {
			if apperr.CodeOf(o.Err) == apperr.Internal {
				return nil, o.Err
			}
			return nil, &refusal{fmt.Errorf("crediting %s: %w", items[i].Email, o.Err)}
		}
		users[i], txIDs[i] = items[i].UserID, o.TxID
	}
	_, err = tx.ExecContext(ctx, `UPDATE welfare_allocation_items i SET tx_id = v.tx
		FROM unnest($2::uuid[], $3::bigint[]) v(u, tx) WHERE i.allocation_id = $1 AND i.user_id = v.u`,
		a.ID, pq.Array(users), pq.Array(txIDs))
	return txIDs, err
}

// creditKey is the ledger key of one employee's credit in one allocation:
// whatever happens, it is written once.
func creditKey(allocation, user uuid.UUID) string {
	return fmt.Sprintf("plans:allocation:%s:credit:%s", allocation, user)
}

// fail ends an allocation the ledger refused: its pending hold released,
// status failed with the reason. Credits already made stay.
func (s *Service) fail(ctx context.Context, id uuid.UUID, cause error) error {
	return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var a allocRow
		if err := tx.GetContext(ctx, &a, `SELECT `+allocCols+` FROM welfare_allocations WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "allocation")
		}
		if a.Status != Running {
			return nil
		}
		if err := releaseHold(ctx, tx, a.HoldTx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE welfare_allocations SET status = 'failed', hold_tx = NULL, last_error = $2,
			finished_at = now() WHERE id = $1`, id, cause.Error())
		return err
	})
}

func (r *refusal) Unwrap() error { return r.err }
