package httpapi

import (
	"bytes"
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

func payoutOut(p redemption.Payout) Payout {
	out := Payout{Id: p.ID, AmountCents: p.AmountCents, Method: PayoutMethod(p.Method), Status: PayoutStatus(p.Status),
		StripeTransferId: p.StripeTransferID, Attempts: p.Attempts, LastError: p.LastError, CreatedAt: p.CreatedAt,
		ResolvedAt: p.ResolvedAt, BatchId: p.BatchID, CreditorIban: p.CreditorIBAN}
	if p.ReturnReason != "" {
		out.ReturnReason = &p.ReturnReason
	}
	return out
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

// SEPA payouts: the provider's bank account and failed bank payouts, the
// platform admin's files.

func (h redemptionHandlers) GetProviderBankAccount(ctx context.Context, _ GetProviderBankAccountRequestObject) (GetProviderBankAccountResponseObject, error) {
	a, err := h.svc.BankAccount(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	if a == nil {
		return nil, apperr.New(apperr.NotFound, "no bank account was given yet")
	}
	return GetProviderBankAccount200JSONResponse{Holder: a.Holder, Iban: a.IBAN, UpdatedAt: a.UpdatedAt}, nil
}

func (h redemptionHandlers) SetProviderBankAccount(ctx context.Context, req SetProviderBankAccountRequestObject) (SetProviderBankAccountResponseObject, error) {
	a, err := h.svc.SetBankAccount(ctx, auth.PrincipalFrom(ctx), req.Body.Holder, req.Body.Iban)
	if err != nil {
		return nil, err
	}
	return SetProviderBankAccount200JSONResponse{Holder: a.Holder, Iban: a.IBAN, UpdatedAt: a.UpdatedAt}, nil
}

func (h redemptionHandlers) ListProviderBankFailures(ctx context.Context, _ ListProviderBankFailuresRequestObject) (ListProviderBankFailuresResponseObject, error) {
	list, err := h.svc.BankFailures(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[ListProviderBankFailures200JSONResponse](list)
}

func (h redemptionHandlers) ListWaitingSEPAPayouts(ctx context.Context, _ ListWaitingSEPAPayoutsRequestObject) (ListWaitingSEPAPayoutsResponseObject, error) {
	list, err := h.svc.WaitingSEPA(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	return as[ListWaitingSEPAPayouts200JSONResponse](list)
}

// payoutBatchOut is a file as the API shows it (its execution day a date).
func payoutBatchOut(b redemption.PayoutBatch) (PayoutBatch, error) {
	out := PayoutBatch{Id: b.ID, MessageId: b.MessageID, ExecutionOn: openapi_types.Date{Time: b.ExecutionOn},
		Status: PayoutBatchStatus(b.Status), CreatedAt: b.CreatedAt, ExecutedAt: b.ExecutedAt, TotalCents: b.Total, Count: b.Count}
	if b.Payouts != nil {
		list, err := as[[]SEPAPayout](b.Payouts)
		if err != nil {
			return out, err
		}
		out.Payouts = &list
	}
	return out, nil
}

func (h redemptionHandlers) ListPayoutBatches(ctx context.Context, _ ListPayoutBatchesRequestObject) (ListPayoutBatchesResponseObject, error) {
	list, err := h.svc.PayoutBatches(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListPayoutBatches200JSONResponse{}
	for _, b := range list {
		o, err := payoutBatchOut(b)
		if err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, nil
}

func (h redemptionHandlers) CreatePayoutBatch(ctx context.Context, req CreatePayoutBatchRequestObject) (CreatePayoutBatchResponseObject, error) {
	b, err := h.svc.ExportPayouts(ctx, auth.PrincipalFrom(ctx), req.Body.ExecutionOn.Time, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	o, err := payoutBatchOut(b)
	return CreatePayoutBatch201JSONResponse(o), err
}

func (h redemptionHandlers) GetPayoutBatch(ctx context.Context, req GetPayoutBatchRequestObject) (GetPayoutBatchResponseObject, error) {
	b, err := h.svc.PayoutBatch(ctx, auth.PrincipalFrom(ctx), req.BatchId)
	if err != nil {
		return nil, err
	}
	o, err := payoutBatchOut(b)
	return GetPayoutBatch200JSONResponse(o), err
}

func (h redemptionHandlers) GetPayoutBatchFile(ctx context.Context, req GetPayoutBatchFileRequestObject) (GetPayoutBatchFileResponseObject, error) {
	_, file, err := h.svc.PayoutBatchFile(ctx, auth.PrincipalFrom(ctx), req.BatchId)
	if err != nil {
		return nil, err
	}
	return GetPayoutBatchFile200ApplicationxmlResponse{Body: bytes.NewReader(file), ContentLength: int64(len(file))}, nil
}

func (h redemptionHandlers) ExecutePayoutBatch(ctx context.Context, req ExecutePayoutBatchRequestObject) (ExecutePayoutBatchResponseObject, error) {
	b, err := h.svc.ConfirmPayoutBatch(ctx, auth.PrincipalFrom(ctx), req.BatchId)
	if err != nil {
		return nil, err
	}
	o, err := payoutBatchOut(b)
	return ExecutePayoutBatch200JSONResponse(o), err
}

func (h redemptionHandlers) ReturnPayout(ctx context.Context, req ReturnPayoutRequestObject) (ReturnPayoutResponseObject, error) {
	p, err := h.svc.ReturnPayout(ctx, auth.PrincipalFrom(ctx), req.PayoutId, req.Body.Reason)
	if err != nil {
		return nil, err
	}
	return ReturnPayout200JSONResponse(payoutOut(p)), nil
}
