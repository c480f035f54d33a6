package redemption

import (
	"context"
	"database/sql"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// captureRequest is the ledger capture that resolves v as to: the hold
// split by the policy in force, the fund's share attributed to the
// employee's company.
func (s *Service) captureRequest(v Voucher, to Status, pool string) ledger.CaptureRequest {
	return ledger.CaptureRequest{Key: "voucher:" + v.ID.String() + ":capture", HoldID: v.HoldID,
		Reference: "voucher:" + v.ID.String(), Metadata: map[string]any{"voucher": v.ID.String(), "as": string(to)},
		Split: &ledger.Split{Policy: s.cfg.Policy, From: WalletPath(v.EmployeeID), Gross: v.AmountCents, Category: v.Category,
			TaxBucket: v.TaxBucket, Provider: PayablePath(v.ProviderID), Fund: pool, Fees: s.cfg.Fees,
			FundAttrs: map[string]any{"company": v.CompanyID.String(), "source": "redemption"}}}
}

// captureAlone validates a voucher in two statements and no transaction
// of its own, the way a person at a counter waits for: the voucher is
// read (no lock), then one statement locks it if it is still booked,
// captures its hold and records the split on it, all committed together.
// It locks in the transactional path's order (the voucher, then the
// ledger's rows), so it cannot deadlock with a cancellation or the expiry
// worker (the voucher, then the hold's void). Of concurrent resolutions of
// one voucher the first to lock it wins; the others find it no longer
// booked (the statement writes nothing), read it again and say why it
// cannot be validated. The ledger resolves a hold once all the same: a
// capture that finds the hold resolved (or its key's capture committed)
// writes nothing either. done is false when the voucher needs the
// transaction (its provider pledges a share to the fund: a second ledger
// post, which must commit with the capture).
func (s *Service) captureAlone(ctx context.Context, p *auth.Principal, sc scope, field string, value any, to Status, note,
	pool string) (v Voucher, done bool, err error) {
	var row struct {
		Voucher
		Pledge int `db:"pledge_bps"`
	}
	q, args := voucherQuery(sc, field, value, false)
	q = `SELECT p.fund_pledge_bps AS pledge_bps, ` + q[len(`SELECT `):]
	if err := db.MapError(s.getPrepared(ctx, nil, &row, q, args...), "voucher"); err != nil {
		return Voucher{}, true, err
	}
	v = row.Voucher
	now := s.cfg.Now()
	if err := usable(v, now, to); err != nil {
		return Voucher{}, true, err
	}
	if row.Pledge > 0 {
		return Voucher{}, false, nil
	}
	call, err := ledger.EmbedCapture(s.captureRequest(v, to, pool), 1)
	if err != nil {
		return Voucher{}, true, err
	}
	var r struct {
		TxID     int64 `db:"capture_tx_id"`
		Version  int   `db:"policy_version"`
		Provider int64 `db:"provider_cents"`
		Fund     int64 `db:"fund_cents"`
		Fee      int64 `db:"fee_cents"`
	}
	// l locks the voucher while it is booked; c captures once per row of l
	// (the call is in its target list: never without the lock). The
	// capture's rows are not visible to this statement's snapshot:
	// redemption_tx_split reads the split with one of its own.
	query := `WITH l AS MATERIALIZED (SELECT id FROM vouchers WHERE id = $2 AND status = 'booked' FOR UPDATE),
		c AS MATERIALIZED (SELECT ` + call.Call + ` AS r FROM l),
		t AS MATERIALIZED (SELECT (c.r).tx_id AS tx_id, redemption_tx_split((c.r).tx_id) AS split FROM c WHERE NOT (c.r).replayed)
		UPDATE vouchers v SET status = $3, capture_tx_id = t.tx_id, resolved_at = $4, resolved_by = $5, note = $6, fund_account = $7,
			policy_version = (t.split->>'version')::int, provider_cents = (t.split->>'provider')::bigint,
			fund_cents = (t.split->>'fund')::bigint, fee_cents = (t.split->>'fee')::bigint
		FROM t WHERE v.id = $2
		RETURNING v.capture_tx_id, v.policy_version, v.provider_cents, v.fund_cents, v.fee_cents`
	for attempt := 1; ; attempt++ {
		err = s.getPrepared(ctx, nil, &r, query, call.Arg, v.ID, string(to), now, p.UserID, note, pool)
		if err == nil || !db.Retryable(err) || attempt == maxAloneAttempts || ctx.Err() != nil {
			break
		}
		aloneBackoff(ctx, attempt)
	}
	var ae *apperr.Error
	switch err = ledger.MapError(err); {
	case errors.Is(err, sql.ErrNoRows), errors.As(err, &ae) && ae.Code == apperr.Conflict:
		// resolved since the read (the voucher no longer booked, or its
		// hold resolved, or its capture a replay): say why
		again, rerr := getVoucher(ctx, s.db, sc, field, value, false)
		if rerr != nil {
			return Voucher{}, true, rerr
		}
		if uerr := usable(again, s.cfg.Now(), to); uerr != nil {
			return Voucher{}, true, uerr
		}
		if errors.Is(err, sql.ErrNoRows) {
			err = apperr.New(apperr.Conflict, "this voucher is being validated by another request")
		}
		return Voucher{}, true, err
	case err != nil:
		return Voucher{}, true, db.MapError(err, "voucher")
	}
	s.alone.captures.Add(1)
	v.Status, v.CaptureTxID, v.ResolvedAt, v.ResolvedBy, v.Note, v.FundAccount = to, &r.TxID, &now, &p.UserID, note, &pool
	v.PolicyVersion, v.ProviderCents, v.FundCents, v.FeeCents = &r.Version, &r.Provider, &r.Fund, &r.Fee
	return v, true, nil
}

// aloneBackoff waits a random time up to 2^attempt ms (at most 64 ms)
// before a statement committed on its own is sent again.
func aloneBackoff(ctx context.Context, attempt int) {
	d := time.Duration(1+rand.N(1<<min(attempt, 6))) * time.Millisecond
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
}

// maxAloneAttempts bounds the retries of a statement committed on its own
// that met a serialization failure or a deadlock (nothing was written).
const maxAloneAttempts = 8
