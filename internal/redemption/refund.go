package redemption

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// RefundInput is a refund after validation: an amount up to what is left
// to refund, and the reason.
type RefundInput struct {
	AmountCents int64  `json:"amount_cents"`
	Reason      string `json:"reason"`
}

// Refund gives back part or all of a used voucher's amount to the
// employee's wallet, by a ledger reversal of the split in proportion
// (provider, fund share from the same company's contributor lots — what
// the fund already spent is written off to platform:loss by the ledger —
// and fee), and of the provider's pledge in proportion to its part. The
// credits return to the lots they came from; a lot that expired meanwhile
// is its plan's (the expiry sweep). The provider's staff refund their own
// vouchers, a platform admin any.
//
// Errors: not_found, conflict (not used, or nothing left to refund; key
// reused), invalid (amount, reason), forbidden.
func (s *Service) Refund(ctx context.Context, p *auth.Principal, id uuid.UUID, in RefundInput, key string) (Refund, error) {
	if p == nil {
		return Refund{}, apperr.New(apperr.Unauthorized, "sign in to continue")
	}
	var sc scope
	switch {
	case p.Has(auth.RoleProviderStaff) && p.OrgKind == auth.OrgProvider:
		sc.provider = &p.OrgID
	case p.Has(auth.RolePlatformAdmin):
	default:
		return Refund{}, apperr.New(apperr.Forbidden, "only the provider or a platform admin can refund a voucher")
	}
	in.Reason = strings.TrimSpace(in.Reason)
	if in.Reason == "" || len(in.Reason) > 500 {
		return Refund{}, apperr.New(apperr.Invalid, "give the reason for the refund (up to 500 characters)").With("field", "reason")
	}
	if in.AmountCents <= 0 {
		return Refund{}, apperr.New(apperr.Invalid, "the refund must be at least 1 cent").With("field", "amount_cents")
	}
	var out Refund
	_, err := db.Idempotent(ctx, s.db, db.Scope{Caller: p.UserID, Operation: "redemption.refund"}, key,
		struct {
			Voucher uuid.UUID `json:"voucher"`
			RefundInput
		}{id, in}, &out,
		func(tx *sqlx.Tx) error {
			var err error
			out, err = s.refund(ctx, tx, p, sc, id, in)
			return err
		})
	return out, err
}

func (s *Service) refund(ctx context.Context, tx *sqlx.Tx, p *auth.Principal, sc scope, id uuid.UUID, in RefundInput) (Refund, error) {
	v, err := getVoucher(ctx, tx, sc, "id", id, true)
	if err != nil {
		return Refund{}, err
	}
	left := v.Refundable()
	switch {
	case !v.Status.Used():
		return Refund{}, apperr.New(apperr.Conflict, "only a validated voucher can be refunded; this one is %s", v.Status).
			With("status", string(v.Status))
	case in.AmountCents > left:
		return Refund{}, apperr.New(apperr.Invalid, "at most %s is left to refund", euro(left)).
			With("field", "amount_cents").With("refundable", left)
	}
	var prev Refund
	if err := tx.GetContext(ctx, &prev, `SELECT coalesce(sum(provider_cents), 0) AS provider_cents,
			coalesce(sum(fund_cents), 0) AS fund_cents, coalesce(sum(fee_cents), 0) AS fee_cents,
			coalesce(sum(pledge_cents), 0) AS pledge_cents
		FROM voucher_refunds WHERE voucher_id = $1`, v.ID); err != nil {
		return Refund{}, err
	}
	orig := ledger.Shares{Provider: *v.ProviderCents, Fund: *v.FundCents, Fee: *v.FeeCents}
	parts := refundParts(orig, v.AmountCents, v.RefundedCents+in.AmountCents,
		ledger.Shares{Provider: prev.ProviderCents, Fund: prev.FundCents, Fee: prev.FeeCents})
	r := Refund{ID: uuid.New(), VoucherID: v.ID, AmountCents: in.AmountCents, ProviderCents: parts.Provider,
		FundCents: parts.Fund, FeeCents: parts.Fee, Reason: in.Reason, RefundedBy: p.UserID}
	// The pledge follows the provider's part: what the provider gives back
	// of its part, the fund gives back of the pledge.
	if v.PledgeTxID != nil && orig.Provider > 0 {
		r.PledgeCents = v.PledgeCents*(prev.ProviderCents+parts.Provider)/orig.Provider - prev.PledgeCents
	}
	tag := "voucher:" + v.ID.String() + ":refund:" + r.ID.String()
	var pledgeTx *int64
	if r.PledgeCents > 0 {
		res, err := ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: tag + ":pledge", TransactionID: *v.PledgeTxID,
			Kind: "pledge_refund", Reference: "voucher:" + v.ID.String(),
			Postings: []ledger.Posting{{From: PayablePath(v.ProviderID), To: *v.FundAccount, Amount: r.PledgeCents}}})
		if err != nil {
			return Refund{}, err
		}
		pledgeTx = &res.TxID
	}
	// What the provider was already paid of its part comes from its
	// receivable, netted against its next payouts.
	if err := s.advanceRefund(ctx, tx, v.ProviderID, parts.Provider, tag); err != nil {
		return Refund{}, err
	}
	wallet := WalletPath(v.EmployeeID)
	var postings []ledger.Posting
	for _, x := range []struct {
		to     string
		amount int64
	}{{PayablePath(v.ProviderID), parts.Provider}, {*v.FundAccount, parts.Fund}, {s.cfg.Fees, parts.Fee}} {
		if x.amount > 0 {
			postings = append(postings, ledger.Posting{From: wallet, To: x.to, Amount: x.amount})
		}
	}
	res, err := ledger.Reverse(ctx, tx, ledger.ReverseRequest{Key: tag, TransactionID: *v.CaptureTxID, Kind: "refund",
		Reference: "voucher:" + v.ID.String(), Metadata: map[string]any{"voucher": v.ID.String(), "reason": in.Reason},
		Postings: postings})
	if err != nil {
		return Refund{}, err
	}
	r.ReversalTxID = res.TxID
	// The meter goes down by what came back: in proportion, to the cent.
	if err := s.unchargeFringe(ctx, tx, v, in.AmountCents, "refund:"+r.ID.String()); err != nil {
		return Refund{}, err
	}
	if err := tx.GetContext(ctx, &r.CreatedAt, `INSERT INTO voucher_refunds (id, voucher_id, amount_cents, provider_cents,
			fund_cents, fee_cents, pledge_cents, reason, reversal_tx_id, pledge_reversal_tx_id, refunded_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING created_at`,
		r.ID, v.ID, r.AmountCents, r.ProviderCents, r.FundCents, r.FeeCents, r.PledgeCents, r.Reason, r.ReversalTxID,
		pledgeTx, r.RefundedBy); err != nil {
		return Refund{}, err
	}
	status := PartlyRefunded
	if v.RefundedCents+in.AmountCents == v.AmountCents {
		status = Refunded
	}
	_, err = tx.ExecContext(ctx, `UPDATE vouchers SET refunded_cents = refunded_cents + $2, status = $3 WHERE id = $1`,
		v.ID, in.AmountCents, string(status))
	return r, err
}

// refundParts divides a refund so that, refund after refund, the
// reversals stay in proportion to the original split: after a total of
// cumulative refunded out of gross, each party has given back its share
// of cumulative (largest remainder rounding, so never more than its share
// rounded up, hence never more than it received), minus what it gave back
// before. The parts sum to the refund exactly; a part that rounding would
// make negative is taken from the largest other instead, and a full
// refund reverses the split exactly.
func refundParts(orig ledger.Shares, gross, cumulative int64, before ledger.Shares) ledger.Shares {
	o := []int64{orig.Provider, orig.Fund, orig.Fee}
	want := make([]int64, 3)
	rem := make([]int64, 3)
	left := cumulative
	for i := range o {
		want[i], rem[i] = o[i]*cumulative/gross, o[i]*cumulative%gross
		left -= want[i]
	}
	for ; left > 0; left-- {
		j := largest(rem)
		want[j]++
		rem[j] = -1
	}
	d := []int64{want[0] - before.Provider, want[1] - before.Fund, want[2] - before.Fee}
	for i := range d {
		for d[i] < 0 {
			j := largest(d)
			d[j]--
			d[i]++
		}
	}
	return ledger.Shares{Provider: d[0], Fund: d[1], Fee: d[2]}
}

// largest is the index of the largest value, the first of equals.
func largest(d []int64) int {
	j := 0
	for i := range d {
		if d[i] > d[j] {
			j = i
		}
	}
	return j
}
