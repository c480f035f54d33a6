package httpapi

import (
	"context"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

func payoutOut(p redemption.Payout) Payout {
	return Payout{Id: p.ID, AmountCents: p.AmountCents, Method: PayoutMethod(p.Method), Status: PayoutStatus(p.Status),
		StripeTransferId: p.StripeTransferID, Attempts: p.Attempts, LastError: p.LastError, CreatedAt: p.CreatedAt,
		ResolvedAt: p.ResolvedAt}
}

func (h redemptionHandlers) ListPayouts(ctx context.Context, _ ListPayoutsRequestObject) (ListPayoutsResponseObject, error) {
	list, err := h.svc.Payouts(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListPayouts200JSONResponse{}
	for _, p := range list {
		out = append(out, payoutOut(p))
	}
	return out, nil
}

func (h redemptionHandlers) RequestPayout(ctx context.Context, _ RequestPayoutRequestObject) (RequestPayoutResponseObject, error) {
	p, err := h.svc.RequestPayout(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return RequestPayout201JSONResponse(payoutOut(p)), nil
}

func (h redemptionHandlers) GetPayoutStatement(ctx context.Context, req GetPayoutStatementRequestObject) (GetPayoutStatementResponseObject, error) {
	st, err := h.svc.PayoutStatement(ctx, auth.PrincipalFrom(ctx), req.PayoutId)
	if err != nil {
		return nil, err
	}
	return GetPayoutStatement200JSONResponse{Payout: payoutOut(st.Payout), Vouchers: h.vouchersOut(st.Vouchers),
		GrossCents: st.Gross, FundCents: st.Fund, PledgeCents: st.Pledge, FeeCents: st.Fee, RefundedCents: st.Refunded,
		NetCents: st.Net}, nil
}
