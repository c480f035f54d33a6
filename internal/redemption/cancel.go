package redemption

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Cancel cancels a booked voucher: the hold is voided (the credits and
// their lots come back) and the slot's place is freed. The employee may
// cancel their own voucher until its cut-off; the provider's staff may
// cancel any booked voucher of theirs, with a reason, and the employee is
// mailed.
//
// Errors: not_found (not the caller's), conflict (not booked any more, or
// past the employee's cut-off), invalid (a provider without a reason),
// forbidden.
func (s *Service) Cancel(ctx context.Context, p *auth.Principal, id uuid.UUID, reason string) (Voucher, error) {
	if p == nil {
		return Voucher{}, apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	reason = strings.TrimSpace(reason)
	var sc scope
	byProvider := false
	switch {
	case p.Has(auth.RoleProviderStaff) && p.OrgKind == auth.OrgProvider:
		sc.provider, byProvider = &p.OrgID, true
		if reason == "" || len(reason) > 500 {
			return Voucher{}, apperr.New(apperr.Invalid, "tell the employee why (up to 500 characters)").With("field", "reason")
		}
	case p.Has(auth.RoleEmployee):
		sc.employee = &p.UserID
		if len(reason) > 500 {
			return Voucher{}, apperr.New(apperr.Invalid, "the reason can be up to 500 characters").With("field", "reason")
		}
	default:
		return Voucher{}, apperr.New(apperr.Forbidden, "only the employee or the provider can cancel a voucher")
	}
	var out Voucher
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		v, err := getVoucher(ctx, tx, sc, "id", id, true)
		if err != nil {
			return err
		}
		if v.Status != Booked {
			return usable(v, s.cfg.Now(), Cancelled)
		}
		if !byProvider && !v.CanCancelAt(s.cfg.Now()) {
			return apperr.New(apperr.Conflict, "the cancellation cut-off has passed (%s): ask the provider",
				v.CancelUntil.In(rome).Format("02/01/2006 15:04")).With("reason", "cut_off").With("cancel_until", v.CancelUntil)
		}
		out, err = s.release(ctx, tx, v, Cancelled, p.UserID, reason)
		if err != nil {
			return err
		}
		if byProvider {
			return s.mailCancelled(ctx, tx, out)
		}
		return s.mailProviderCancelled(ctx, tx, out)
	})
	return out, err
}

// CancelSlot cancels every booked voucher of one of the provider's slots
// (the provider cannot hold it): each employee gets the credits back and
// a mail. It returns the vouchers it cancelled.
//
// Errors: not_found (not the provider's slot), invalid (no reason), forbidden.
func (s *Service) CancelSlot(ctx context.Context, p *auth.Principal, slot uuid.UUID, reason string) ([]Voucher, error) {
	prov, err := providerOf(p)
	if err != nil {
		return nil, err
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > 500 {
		return nil, apperr.New(apperr.Invalid, "tell the employees why (up to 500 characters)").With("field", "reason")
	}
	out := []Voucher{}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		out = out[:0]
		var ok bool
		// The slot's lock keeps new bookings out while it is emptied.
		err := tx.GetContext(ctx, &ok, `SELECT true FROM offering_slots s JOIN offerings o ON o.id = s.offering_id
			WHERE s.id = $1 AND o.provider_id = $2 FOR UPDATE OF s`, slot, prov)
		if errors.Is(err, sql.ErrNoRows) {
			return apperr.New(apperr.NotFound, "slot not found")
		}
		if err != nil {
			return err
		}
		var ids []uuid.UUID
		if err := tx.SelectContext(ctx, &ids, `SELECT id FROM vouchers WHERE slot_id = $1 AND provider_id = $2
			AND status = 'booked' ORDER BY id`, slot, prov); err != nil {
			return err
		}
		for _, id := range ids {
			v, err := getVoucher(ctx, tx, scope{provider: &prov}, "id", id, true)
			if err != nil {
				return err
			}
			c, err := s.release(ctx, tx, v, Cancelled, p.UserID, reason)
			if err != nil {
				return err
			}
			if err := s.mailCancelled(ctx, tx, c); err != nil {
				return err
			}
			out = append(out, c)
		}
		return nil
	})
	return out, err
}

// release voids a booked voucher's hold, takes a fringe-type voucher off
// the employee's fringe meter, and records its new status. A
// hold the ledger's own sweeper already expired is released all the same.
func (s *Service) release(ctx context.Context, tx *sqlx.Tx, v Voucher, to Status, by uuid.UUID, note string) (Voucher, error) {
	err := ledger.Void(ctx, tx, v.HoldID)
	var ae *apperr.Error
	if errors.As(err, &ae) && ae.Code == apperr.Conflict && ae.Fields["status"] == "expired" {
		err = nil
	}
	if err != nil {
		return v, err
	}
	if err := s.unchargeFringe(ctx, tx, v, v.AmountCents, string(to)); err != nil {
		return v, err
	}
	now := s.cfg.Now()
	var byArg any = by
	if by == uuid.Nil {
		byArg = nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE vouchers SET status = $2, resolved_at = $3, resolved_by = $4, note = $5
		WHERE id = $1`, v.ID, string(to), now, byArg, note); err != nil {
		return v, err
	}
	v.Status, v.ResolvedAt, v.Note = to, &now, note
	if by != uuid.Nil {
		v.ResolvedBy = &by
	}
	return v, nil
}

// ExpireVouchers expires up to limit booked vouchers whose validation
// window has passed, each in its own short transaction, voiding the hold.
// Several workers may run it side by side (SKIP LOCKED); a voucher being
// validated or cancelled at that moment is left to that. It returns how
// many it expired.
func (s *Service) ExpireVouchers(ctx context.Context, limit int) (int, error) {
	n := 0
	for n < limit {
		done := false
		err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
			var id uuid.UUID
			err := tx.GetContext(ctx, &id, `SELECT id FROM vouchers WHERE status = 'booked' AND validate_until <= $1
				ORDER BY validate_until LIMIT 1 FOR UPDATE SKIP LOCKED`, s.cfg.Now())
			if errors.Is(err, sql.ErrNoRows) {
				done = true
				return nil
			}
			if err != nil {
				return err
			}
			v, err := getVoucher(ctx, tx, scope{}, "id", id, false)
			if err != nil {
				return err
			}
			_, err = s.release(ctx, tx, v, Expired, uuid.Nil, "")
			return err
		})
		if err != nil {
			return n, err
		}
		if done {
			return n, nil
		}
		n++
	}
	return n, nil
}

// ExpiredBacklog counts the booked vouchers past their window: the
// expiry job's backlog.
func (s *Service) ExpiredBacklog(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM vouchers WHERE status = 'booked' AND validate_until <= $1`, s.cfg.Now())
	return n, err
}
