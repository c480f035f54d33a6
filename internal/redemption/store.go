package redemption

import (
	"context"
	"strconv"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

const voucherColumns = `v.id, v.code, v.employee_id, u.name AS employee_name, v.company_id, v.provider_id,
	p.legal_name AS provider_name, v.offering_id, v.offering_title, v.category, v.tax_bucket, v.unit, v.quantity,
	v.unit_price_cents, v.amount_cents, v.slot_id, v.starts_at, v.ends_at, v.cancel_until, v.validate_from,
	v.validate_until, v.status, v.hold_id, v.capture_tx_id, v.pledge_tx_id, v.policy_version, v.provider_cents,
	v.fund_cents, v.fee_cents, v.pledge_cents, v.fund_account, v.refunded_cents, v.resolved_at, v.resolved_by, v.note, v.created_at`

const voucherFrom = ` FROM vouchers v JOIN users u ON u.id = v.employee_id JOIN providers p ON p.organisation_id = v.provider_id`

// scope narrows a voucher query to what a caller may see: an employee
// their own, a provider its own, a platform admin any.
type scope struct {
	employee *uuid.UUID
	provider *uuid.UUID
}

func (sc scope) where(args []any) (string, []any) {
	switch {
	case sc.employee != nil:
		return ` AND v.employee_id = $` + strconv.Itoa(len(args)+1), append(args, *sc.employee)
	case sc.provider != nil:
		return ` AND v.provider_id = $` + strconv.Itoa(len(args)+1), append(args, *sc.provider)
	}
	return "", args
}

// getVoucher reads one voucher within sc; forUpdate locks its row (the
// voucher's state changes under that lock).
func getVoucher(ctx context.Context, q sqlx.QueryerContext, sc scope, field string, value any, forUpdate bool) (Voucher, error) {
	query, args := voucherQuery(sc, field, value, forUpdate)
	var v Voucher
	query, err := db.Inline(query, args...) // one round trip: validation waits on it under the voucher's lock
	if err == nil {
		err = sqlx.GetContext(ctx, q, &v, query)
	}
	return v, db.MapError(err, "voucher")
}

// voucherQuery is getVoucher's statement and arguments.
func voucherQuery(sc scope, field string, value any, forUpdate bool) (string, []any) {
	cond, args := sc.where([]any{value})
	query := `SELECT ` + voucherColumns + voucherFrom + ` WHERE v.` + field + ` = $1` + cond
	if forUpdate {
		query += ` FOR UPDATE OF v`
	}
	return query, args
}

// listVouchers lists vouchers within sc, newest first, optionally of one status.
func listVouchers(ctx context.Context, q sqlx.QueryerContext, sc scope, status Status, limit int) ([]Voucher, error) {
	args := []any{string(status), limit}
	cond, args := sc.where(args)
	out := []Voucher{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+voucherColumns+voucherFrom+`
		WHERE ($1 = '' OR v.status = $1)`+cond+` ORDER BY v.created_at DESC LIMIT $2`, args...)
	return out, db.MapError(err, "voucher")
}

// providerDay lists a provider's vouchers whose service falls on the
// Italian day starting at day, by slot time.
func providerDay(ctx context.Context, q sqlx.QueryerContext, provider uuid.UUID, day time.Time) ([]Voucher, error) {
	out := []Voucher{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+voucherColumns+voucherFrom+`
		WHERE v.provider_id = $1 AND v.validate_from = $2
		ORDER BY v.starts_at NULLS LAST, v.created_at`, provider, day)
	return out, db.MapError(err, "voucher")
}

func listRefunds(ctx context.Context, q sqlx.QueryerContext, voucher uuid.UUID) ([]Refund, error) {
	out := []Refund{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, voucher_id, amount_cents, provider_cents, fund_cents, fee_cents,
		pledge_cents, reason, reversal_tx_id, refunded_by, created_at FROM voucher_refunds WHERE voucher_id = $1
		ORDER BY created_at`, voucher)
	return out, db.MapError(err, "refund")
}
