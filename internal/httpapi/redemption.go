package httpapi

import (
	"context"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// redemptionHandlers map booking, vouchers, validation and refunds to
// redemption.Service.
type redemptionHandlers struct {
	svc *redemption.Service
}

func (h redemptionHandlers) voucherOut(v redemption.Voucher) Voucher {
	pledge := v.PledgeCents
	return Voucher{Id: v.ID, Code: v.Code, DisplayCode: v.DisplayCode(), EmployeeName: v.EmployeeName, ProviderId: v.ProviderID,
		ProviderName: v.ProviderName, OfferingId: v.OfferingID, OfferingTitle: v.OfferingTitle, Category: v.Category,
		TaxBucket: v.TaxBucket, Unit: v.Unit, Quantity: v.Quantity, UnitPriceCents: v.UnitPriceCents, AmountCents: v.AmountCents,
		SlotId: v.SlotID, StartsAt: v.StartsAt, EndsAt: v.EndsAt, CancelUntil: v.CancelUntil, ValidateFrom: v.ValidateFrom,
		ValidateUntil: v.ValidateUntil, Status: VoucherStatus(v.Status), ProviderCents: v.ProviderCents, FundCents: v.FundCents,
		FeeCents: v.FeeCents, PledgeCents: &pledge, PolicyVersion: v.PolicyVersion, RefundedCents: v.RefundedCents,
		ResolvedAt: v.ResolvedAt, Note: v.Note, ValidationUrl: h.svc.ValidationURL(v), CreatedAt: v.CreatedAt}
}

func (h redemptionHandlers) vouchersOut(list []redemption.Voucher) []Voucher {
	out := make([]Voucher, 0, len(list))
	for _, v := range list {
		out = append(out, h.voucherOut(v))
	}
	return out
}

func (h redemptionHandlers) ListMyVouchers(ctx context.Context, req ListMyVouchersRequestObject) (ListMyVouchersResponseObject, error) {
	list, err := h.svc.MyVouchers(ctx, auth.PrincipalFrom(ctx), redemption.Status(deref(req.Params.Status)), deref(req.Params.Limit))
	if err != nil {
		return nil, err
	}
	return ListMyVouchers200JSONResponse(h.vouchersOut(list)), nil
}

func (h redemptionHandlers) BookVoucher(ctx context.Context, req BookVoucherRequestObject) (BookVoucherResponseObject, error) {
	v, err := h.svc.Book(ctx, auth.PrincipalFrom(ctx), redemption.BookInput{OfferingID: req.Body.OfferingId,
		Quantity: req.Body.Quantity, SlotID: req.Body.SlotId}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return BookVoucher201JSONResponse(h.voucherOut(v)), nil
}

func (h redemptionHandlers) GetVoucher(ctx context.Context, req GetVoucherRequestObject) (GetVoucherResponseObject, error) {
	v, err := h.svc.Voucher(ctx, auth.PrincipalFrom(ctx), req.VoucherId)
	if err != nil {
		return nil, err
	}
	return GetVoucher200JSONResponse(h.voucherOut(v)), nil
}

func (h redemptionHandlers) CancelVoucher(ctx context.Context, req CancelVoucherRequestObject) (CancelVoucherResponseObject, error) {
	reason := ""
	if req.Body != nil {
		reason = deref(req.Body.Reason)
	}
	v, err := h.svc.Cancel(ctx, auth.PrincipalFrom(ctx), req.VoucherId, reason)
	if err != nil {
		return nil, err
	}
	return CancelVoucher200JSONResponse(h.voucherOut(v)), nil
}

func (h redemptionHandlers) RecordNoShow(ctx context.Context, req RecordNoShowRequestObject) (RecordNoShowResponseObject, error) {
	v, err := h.svc.NoShow(ctx, auth.PrincipalFrom(ctx), req.VoucherId, req.Body.Note)
	if err != nil {
		return nil, err
	}
	return RecordNoShow200JSONResponse(h.voucherOut(v)), nil
}

func (h redemptionHandlers) RefundVoucher(ctx context.Context, req RefundVoucherRequestObject) (RefundVoucherResponseObject, error) {
	r, err := h.svc.Refund(ctx, auth.PrincipalFrom(ctx), req.VoucherId,
		redemption.RefundInput{AmountCents: req.Body.AmountCents, Reason: req.Body.Reason}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return RefundVoucher201JSONResponse(VoucherRefund{Id: r.ID, VoucherId: r.VoucherID, AmountCents: r.AmountCents,
		ProviderCents: r.ProviderCents, FundCents: r.FundCents, FeeCents: r.FeeCents, PledgeCents: r.PledgeCents,
		Reason: r.Reason, CreatedAt: r.CreatedAt}), nil
}

func (h redemptionHandlers) ValidateVoucher(ctx context.Context, req ValidateVoucherRequestObject) (ValidateVoucherResponseObject, error) {
	v, err := h.svc.Validate(ctx, auth.PrincipalFrom(ctx), req.Body.Code)
	if err != nil {
		return nil, err
	}
	return ValidateVoucher200JSONResponse(h.voucherOut(v)), nil
}

func (h redemptionHandlers) ListProviderBookings(ctx context.Context, req ListProviderBookingsRequestObject) (ListProviderBookingsResponseObject, error) {
	var day time.Time
	if req.Params.Date != nil {
		d, err := h.svc.Day(req.Params.Date.Format("2006-01-02"))
		if err != nil {
			return nil, err
		}
		day = d
	}
	list, err := h.svc.ProviderDay(ctx, auth.PrincipalFrom(ctx), day)
	if err != nil {
		return nil, err
	}
	return ListProviderBookings200JSONResponse(h.vouchersOut(list)), nil
}

func (h redemptionHandlers) CancelSlot(ctx context.Context, req CancelSlotRequestObject) (CancelSlotResponseObject, error) {
	list, err := h.svc.CancelSlot(ctx, auth.PrincipalFrom(ctx), req.SlotId, deref(req.Body.Reason))
	if err != nil {
		return nil, err
	}
	return CancelSlot200JSONResponse(h.vouchersOut(list)), nil
}
