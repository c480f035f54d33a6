package plans

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Credits of an employee who left. Until the end of their leaving day
// they spend as before. Afterwards what is left in their wallet is
// reserved by ledger holds (kind leaver_freeze, to company:{id}:leavers,
// never captured), so it can no longer be spent, whichever domain asks
// the ledger; each hold expires with the lots it reserves, the ledger's
// hold sweeper gives them back, expired, and
// the expiry sweep disposes of each by its plan's residual policy: back
// to the budget, donated, or to the PdR residual for payroll or the
// pension fund. A carry-over plan returns a leaver's credits to the
// budget instead: there is nobody to carry them over for. Money that
// comes back to a leaver's wallet later (a refund) is reserved by the
// next run. HR clearing or moving the leaving date voids the holds.

// leaversAccount is where a leaver's freeze holds point; holds on it are
// always voided (by HR or by expiry), never captured.
func leaversAccount(company uuid.UUID) string { return fmt.Sprintf("company:%s:leavers", company) }

// FreezeLeavers reserves the spendable credits of up to limit employees
// whose leaving day has ended (the worker's job) and returns how many it
// froze.
func (s *Service) FreezeLeavers(ctx context.Context, limit int) (int, error) {
	var due []struct {
		UserID    uuid.UUID `db:"user_id"`
		CompanyID uuid.UUID `db:"company_id"`
	}
	err := s.db.SelectContext(ctx, &due, `
		SELECT e.user_id, e.company_id FROM employees e
		JOIN ledger_accounts a ON a.path = 'employee:' || e.user_id || ':wallet'
		WHERE e.leaves_on < $1
		  AND EXISTS (SELECT 1 FROM ledger_lots l WHERE l.account_id = a.id AND l.live AND (l.expires_at IS NULL OR l.expires_at > now()))
		ORDER BY e.leaves_on, e.user_id LIMIT $2`, today(), limit)
	if err != nil {
		return 0, db.MapError(err, "leavers")
	}
	n := 0
	var errs []error
	for _, d := range due {
		froze, err := s.freeze(ctx, d.UserID, d.CompanyID)
		if err != nil {
			errs = append(errs, fmt.Errorf("freezing the credits of %s: %w", d.UserID, err))
		} else if froze {
			n++
		}
	}
	return n, errors.Join(errs...)
}

// freeze reserves what user's wallet can still spend, in one transaction
// with the holds' rows; false: nothing to reserve.
func (s *Service) freeze(ctx context.Context, user, company uuid.UUID) (bool, error) {
	froze := false
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		froze = false
		// One freeze of a user at a time (two workers): the next one sees
		// the lots the first reserved.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM employees WHERE user_id = $1 FOR UPDATE`, user); err != nil {
			return err
		}
		lots, err := ledger.Lots(ctx, tx, walletAccount(user))
		if err != nil {
			return err
		}
		// One hold per expiry, earliest first: the ledger takes lots in
		// expiry order, so each hold reserves exactly the lots that expire
		// with it, and each lot is disposed of on its own date.
		now := time.Now()
		byExpiry := map[time.Time]int64{}
		for _, l := range lots {
			if l.Remaining == 0 || (l.ExpiresAt != nil && !l.ExpiresAt.After(now)) {
				continue
			}
			exp := now.AddDate(1, 0, 0) // a lot without expiry: reserved a year, then again
			if l.ExpiresAt != nil {
				exp = *l.ExpiresAt
			}
			byExpiry[exp] += l.Remaining
		}
		if len(byExpiry) == 0 {
			return nil
		}
		if _, err := ledger.CreateAccount(ctx, tx, ledger.AccountSpec{Path: leaversAccount(company), Kind: ledger.Liability, Floor: &zero}); err != nil {
			return err
		}
		var seq int
		if err := tx.GetContext(ctx, &seq, `SELECT count(*) FROM leaver_freezes WHERE user_id = $1`, user); err != nil {
			return err
		}
		for _, exp := range slices.SortedFunc(maps.Keys(byExpiry), time.Time.Compare) {
			amount := byExpiry[exp]
			res, err := ledger.Hold(ctx, tx, ledger.HoldRequest{ExpiresAt: exp, Request: ledger.Request{
				Key: fmt.Sprintf("plans:leaver:%s:freeze:%d", user, seq), Kind: "leaver_freeze", Reference: user.String(),
				Metadata: map[string]any{"user_id": user.String()},
				Postings: []ledger.Posting{{From: walletAccount(user), To: leaversAccount(company), Amount: amount}},
			}})
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO leaver_freezes (hold_tx, user_id, company_id, amount_cents) VALUES ($1, $2, $3, $4)
				ON CONFLICT DO NOTHING`, res.TxID, user, company, amount); err != nil {
				return err
			}
			seq++
		}
		froze = true
		return nil
	})
	return froze, err
}

// unfreeze voids user's pending freeze holds (HR cleared or moved the
// leaving date), inside tx.
func unfreeze(ctx context.Context, tx *sqlx.Tx, user uuid.UUID) error {
	var holds []int64
	if err := tx.SelectContext(ctx, &holds, `SELECT hold_tx FROM leaver_freezes WHERE user_id = $1 ORDER BY hold_tx`, user); err != nil {
		return err
	}
	for _, h := range holds {
		h := h
		if err := releaseHold(ctx, tx, &h); err != nil {
			return err
		}
	}
	return nil
}

// hasLeft reports whether the owner of wallet path had left before at:
// their leaving day ended.
func (s *Service) hasLeft(ctx context.Context, path string, at time.Time) (bool, error) {
	user, err := uuid.Parse(strings.TrimSuffix(strings.TrimPrefix(path, "employee:"), ":wallet"))
	if err != nil {
		return false, nil
	}
	var leaves *time.Time
	err = s.db.GetContext(ctx, &leaves, `SELECT max(leaves_on) FROM employees WHERE user_id = $1`, user)
	if err != nil {
		return false, db.MapError(err, "leaving date")
	}
	return leaves != nil && !endOfDay(*leaves).After(at), nil
}
