package redemption

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// providerOf returns the provider organisation p works for.
func providerOf(p *auth.Principal) (uuid.UUID, error) {
	if p == nil {
		return uuid.Nil, apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	if !p.Has(auth.RoleProviderStaff) || p.OrgKind != auth.OrgProvider {
		return uuid.Nil, apperr.New(apperr.Forbidden, "only the provider's staff can do this")
	}
	return p.OrgID, nil
}

// FindForProvider returns the voucher with code if it is p's provider's,
// for the validation page to show before the provider confirms.
//
// Errors: invalid (a code whose check character is wrong: nothing is
// looked up), not_found (no such voucher of this provider), forbidden.
func (s *Service) FindForProvider(ctx context.Context, p *auth.Principal, code string) (Voucher, error) {
	sc, c, err := providerCode(p, code)
	if err != nil {
		return Voucher{}, err
	}
	return getVoucher(ctx, s.db, sc, "code", c, false)
}

// providerCode checks the caller is a provider's staff and the code's
// check character, and returns the scope of the provider's vouchers.
func providerCode(p *auth.Principal, code string) (scope, string, error) {
	prov, err := providerOf(p)
	if err != nil {
		return scope{}, "", err
	}
	c, err := ParseCode(code)
	return scope{provider: &prov}, c, err
}

// Validate records that the provider delivered the service: the hold is
// captured and split by the policy in force (provider payable, fund share
// attributed to the employee's company, platform fee) and, when the
// provider pledges an extra share to the fund, that share moves from its
// payable to the fund. A voucher validates exactly once: from the
// service's day (Italian time) until the grace period after it; a hold
// placed while its lots were valid is captured even if they expired since.
//
// Errors: invalid (bad check character, before any lookup), not_found
// (unknown code, or another provider's voucher), conflict (already
// validated — details.validated_at says when — or cancelled, expired, too
// early, too late), forbidden.
func (s *Service) Validate(ctx context.Context, p *auth.Principal, code string) (Voucher, error) {
	sc, c, err := providerCode(p, code)
	if err != nil {
		return Voucher{}, err
	}
	return s.capture(ctx, p, sc, "code", c, Validated, "")
}

// NoShow records that the employee did not come to a booked slot after
// the cut-off: the voucher is charged like a use (the same split), with a
// note the employee sees. Errors as Validate, and invalid (no note; before
// the cut-off, when the employee could still cancel).
func (s *Service) NoShow(ctx context.Context, p *auth.Principal, id uuid.UUID, note string) (Voucher, error) {
	prov, err := providerOf(p)
	if err != nil {
		return Voucher{}, err
	}
	note = strings.TrimSpace(note)
	if note == "" || len(note) > 500 {
		return Voucher{}, apperr.New(apperr.Invalid, "write a short note for the employee (up to 500 characters)").With("field", "note")
	}
	return s.capture(ctx, p, scope{provider: &prov}, "id", id, NoShow, note)
}

// capture resolves a booked voucher as used (validated or no_show):
// alone when it can (captureAlone), else in a transaction that locks the
// voucher first.
func (s *Service) capture(ctx context.Context, p *auth.Principal, sc scope, field string, value any, to Status, note string) (Voucher, error) {
	pool, err := s.FundPool(ctx)
	if err != nil {
		return Voucher{}, err
	}
	if v, done, err := s.captureAlone(ctx, p, sc, field, value, to, note, pool); done {
		return v, err
	}
	var out Voucher
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var v Voucher
		q, args := voucherQuery(sc, field, value, true)
		if err := db.MapError(s.getPrepared(ctx, tx, &v, q, args...), "voucher"); err != nil {
			return err
		}
		now := s.cfg.Now()
		if err := usable(v, now, to); err != nil {
			return err
		}
		res, err := ledger.Capture(ctx, tx, s.captureRequest(v, to, pool))
		if err != nil {
			return err
		}
		var r struct {
			Version  int   `db:"policy_version"`
			Provider int64 `db:"provider_cents"`
			Fund     int64 `db:"fund_cents"`
			Fee      int64 `db:"fee_cents"`
			Pledge   int   `db:"pledge_bps"`
		}
		// the capture holds the hot accounts' row locks until commit: the
		// voucher's update is one round trip (prepared)
		if err := s.getPrepared(ctx, tx, &r, `WITH t AS (SELECT split FROM ledger_transactions WHERE id = $2)
			UPDATE vouchers v SET status = $3, capture_tx_id = $2, resolved_at = $4, resolved_by = $5, note = $6, fund_account = $7,
				policy_version = (t.split->>'version')::int, provider_cents = (t.split->>'provider')::bigint,
				fund_cents = (t.split->>'fund')::bigint, fee_cents = (t.split->>'fee')::bigint
			FROM t WHERE v.id = $1
			RETURNING v.policy_version, v.provider_cents, v.fund_cents, v.fee_cents,
				(SELECT fund_pledge_bps FROM providers WHERE organisation_id = v.provider_id) AS pledge_bps`,
			v.ID, res.TxID, string(to), now, p.UserID, note, pool); err != nil {
			return err
		}
		v.Status, v.CaptureTxID, v.ResolvedAt, v.ResolvedBy, v.Note, v.FundAccount = to, &res.TxID, &now, &p.UserID, note, &pool
		v.PolicyVersion, v.ProviderCents, v.FundCents, v.FeeCents = &r.Version, &r.Provider, &r.Fund, &r.Fee
		if r.Pledge > 0 {
			if err := s.pledge(ctx, tx, &v, r.Pledge); err != nil {
				return err
			}
		}
		out = v
		return nil
	})
	return out, err
}

// UsableError is why voucher v cannot be validated at now, or nil: for a
// page that shows a voucher before the provider confirms.
func UsableError(v Voucher, now time.Time) error { return usable(v, now, Validated) }

// usable says whether a booked voucher can be resolved as to at now.
func usable(v Voucher, now time.Time, to Status) error {
	switch v.Status {
	case Booked:
	case Validated, NoShow, Refunded, PartlyRefunded:
		at := ""
		if v.ResolvedAt != nil {
			at = v.ResolvedAt.In(rome).Format("02/01/2006 15:04")
		}
		return apperr.New(apperr.Conflict, "this voucher was already validated on %s", at).
			With("reason", "already_validated").With("validated_at", v.ResolvedAt).With("status", string(v.Status))
	case Cancelled:
		return apperr.New(apperr.Conflict, "this voucher was cancelled").With("reason", "cancelled").With("status", string(v.Status))
	default:
		return apperr.New(apperr.Conflict, "this voucher has expired").With("reason", "expired").With("status", string(v.Status))
	}
	switch {
	case now.Before(v.ValidateFrom):
		return apperr.New(apperr.Conflict, "this voucher can be validated from %s", v.ValidateFrom.In(rome).Format("02/01/2006")).
			With("reason", "too_early").With("validate_from", v.ValidateFrom)
	case !now.Before(v.ValidateUntil):
		return apperr.New(apperr.Conflict, "this voucher could be validated until %s", v.ValidateUntil.In(rome).Format("02/01/2006 15:04")).
			With("reason", "expired").With("validate_until", v.ValidateUntil)
	case to == NoShow && now.Before(v.CancelUntil):
		return apperr.New(apperr.Invalid, "a no-show can be recorded only after the cancellation cut-off (%s)",
			v.CancelUntil.In(rome).Format("02/01/2006 15:04")).With("field", "note")
	}
	return nil
}

// pledge moves the provider's pledged share (bps of its part) to the
// fund, as a contributor lot of the employee's company marked as a pledge.
// Only providers that pledge pay this second ledger call.
func (s *Service) pledge(ctx context.Context, tx *sqlx.Tx, v *Voucher, bps int) error {
	amount := *v.ProviderCents * int64(bps) / 10000
	if amount <= 0 {
		return nil
	}
	id := v.ID.String()
	res, err := ledger.Post(ctx, tx, ledger.Request{Key: "voucher:" + id + ":pledge", Kind: "pledge", Reference: "voucher:" + id,
		Postings: []ledger.Posting{{From: PayablePath(v.ProviderID), To: *v.FundAccount, Amount: amount,
			Lot: &ledger.LotSpec{Attrs: map[string]any{"company": v.CompanyID.String(), "source": "pledge", "provider": v.ProviderID.String()}}}}})
	if err != nil {
		return err
	}
	v.PledgeTxID, v.PledgeCents = &res.TxID, amount
	_, err = tx.ExecContext(ctx, `UPDATE vouchers SET pledge_tx_id = $2, pledge_cents = $3 WHERE id = $1`, v.ID, res.TxID, amount)
	return err
}
