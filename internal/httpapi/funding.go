package httpapi

import (
	"bytes"
	"context"
	"io"

	"github.com/google/uuid"
	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/funding"
)

// fundingHandlers map company funding's operations to funding.Service.
type fundingHandlers struct {
	svc *funding.Service
}

func (h fundingHandlers) GetBudget(ctx context.Context, req GetBudgetRequestObject) (GetBudgetResponseObject, error) {
	b, err := h.svc.Budget(ctx, auth.PrincipalFrom(ctx), deref(req.Params.CompanyId))
	if err != nil {
		return nil, err
	}
	s := h.svc.Settings()
	out := Budget{CompanyId: b.CompanyID, Company: b.Company, AvailableCents: b.Available, PostedCents: b.Posted,
		PendingOutCents: b.PendingOut, OpenItems: make([]OpenItem, len(b.OpenItems)),
		Limits: TopUpLimits{CardMinCents: s.CardMin, CardMaxCents: s.CardMax, BankMinCents: s.BankMin, BankMaxCents: s.BankMax},
		Bank:   PlatformBank{Iban: s.IBAN, Bic: s.BIC, Beneficiary: s.Beneficiary}}
	for i, it := range b.OpenItems {
		out.OpenItems[i] = openItemOut(it)
	}
	return GetBudget200JSONResponse(out), nil
}

func (h fundingHandlers) ListBudgetMovements(ctx context.Context, req ListBudgetMovementsRequestObject) (ListBudgetMovementsResponseObject, error) {
	p := req.Params
	limit := 50
	if p.Limit != nil {
		limit = *p.Limit
	}
	list, next, err := h.svc.Movements(ctx, auth.PrincipalFrom(ctx), deref(p.CompanyId), deref(p.Before), limit)
	if err != nil {
		return nil, err
	}
	out := MovementPage{Items: make([]Movement, len(list))}
	for i, m := range list {
		out.Items[i] = Movement{Id: m.ID, TransactionId: m.TxID, At: m.EffectiveAt, Kind: m.Kind, AmountCents: m.Delta}
	}
	if next != 0 {
		out.NextBefore = &next
	}
	return ListBudgetMovements200JSONResponse(out), nil
}

func (h fundingHandlers) ListTopUps(ctx context.Context, req ListTopUpsRequestObject) (ListTopUpsResponseObject, error) {
	list, err := h.svc.TopUps(ctx, auth.PrincipalFrom(ctx), deref(req.Params.CompanyId), 200)
	if err != nil {
		return nil, err
	}
	out := ListTopUps200JSONResponse{}
	for _, t := range list {
		out = append(out, h.topUpOut(t, nil))
	}
	return out, nil
}

func (h fundingHandlers) RequestTopUp(ctx context.Context, req RequestTopUpRequestObject) (RequestTopUpResponseObject, error) {
	t, err := h.svc.RequestTopUp(ctx, auth.PrincipalFrom(ctx),
		funding.TopUpRequest{Channel: funding.Channel(req.Body.Channel), Amount: req.Body.AmountCents}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return RequestTopUp201JSONResponse(h.topUpOut(t, nil)), nil
}

func (h fundingHandlers) GetTopUp(ctx context.Context, req GetTopUpRequestObject) (GetTopUpResponseObject, error) {
	p := auth.PrincipalFrom(ctx)
	t, err := h.svc.TopUp(ctx, p, req.TopupId)
	if err != nil {
		return nil, err
	}
	var receipts []funding.BankReceipt
	if t.Channel == funding.Bank {
		if receipts, err = h.svc.BankReceipts(ctx, p, t.ID); err != nil {
			return nil, err
		}
	}
	return GetTopUp200JSONResponse(h.topUpOut(t, receipts)), nil
}

func (h fundingHandlers) GetTopUpReceipt(ctx context.Context, req GetTopUpReceiptRequestObject) (GetTopUpReceiptResponseObject, error) {
	pdf, err := h.svc.Receipt(ctx, auth.PrincipalFrom(ctx), req.TopupId)
	if err != nil {
		return nil, err
	}
	return GetTopUpReceipt200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf))}, nil
}

func (h fundingHandlers) ListPendingBankReceipts(ctx context.Context, _ ListPendingBankReceiptsRequestObject) (ListPendingBankReceiptsResponseObject, error) {
	list, err := h.svc.BankReceipts(ctx, auth.PrincipalFrom(ctx), uuid.Nil)
	if err != nil {
		return nil, err
	}
	out := ListPendingBankReceipts200JSONResponse{}
	for _, r := range list {
		out = append(out, bankReceiptOut(r))
	}
	return out, nil
}

func (h fundingHandlers) RecordBankReceipt(ctx context.Context, req RecordBankReceiptRequestObject) (RecordBankReceiptResponseObject, error) {
	b := req.Body
	r, err := h.svc.RecordBankReceipt(ctx, auth.PrincipalFrom(ctx), funding.BankReceiptInput{Reference: b.Reference,
		Amount: b.AmountCents, CRO: b.Cro, ValueDate: b.ValueDate.Time})
	if err != nil {
		return nil, err
	}
	return RecordBankReceipt201JSONResponse(bankReceiptOut(r)), nil
}

func (h fundingHandlers) ConfirmBankReceipt(ctx context.Context, req ConfirmBankReceiptRequestObject) (ConfirmBankReceiptResponseObject, error) {
	r, err := h.svc.ConfirmBankReceipt(ctx, auth.PrincipalFrom(ctx), req.ReceiptId)
	if err != nil {
		return nil, err
	}
	return ConfirmBankReceipt200JSONResponse(bankReceiptOut(r)), nil
}

func (h fundingHandlers) ListOpenItems(ctx context.Context, req ListOpenItemsRequestObject) (ListOpenItemsResponseObject, error) {
	list, err := h.svc.OpenItems(ctx, auth.PrincipalFrom(ctx), deref(req.Params.CompanyId), deref(req.Params.Open))
	if err != nil {
		return nil, err
	}
	out := ListOpenItems200JSONResponse{}
	for _, it := range list {
		out = append(out, openItemOut(it))
	}
	return out, nil
}

func (h fundingHandlers) ResolveOpenItem(ctx context.Context, req ResolveOpenItemRequestObject) (ResolveOpenItemResponseObject, error) {
	b := req.Body
	it, err := h.svc.ResolveOpenItem(ctx, auth.PrincipalFrom(ctx), req.ItemId,
		funding.Resolution{How: string(b.How), CRO: deref(b.Cro), Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return ResolveOpenItem200JSONResponse(openItemOut(it)), nil
}

func (h fundingHandlers) topUpOut(t funding.TopUp, receipts []funding.BankReceipt) TopUp {
	out := TopUp{Id: t.ID, CompanyId: t.CompanyID, Company: t.Company, Channel: TopUpChannel(t.Channel), Status: TopUpStatus(t.Status),
		AmountCents: t.Amount, CreditedCents: t.Credited, RefundedCents: t.Refunded, FeeCents: t.Fee,
		DisputeState: TopUpDisputeState(t.DisputeState), DisputeOutcome: t.DisputeOutcome, CheckoutUrl: t.CheckoutURL,
		Reference: t.Reference, PaidAt: t.PaidAt, CreatedAt: t.CreatedAt}
	if t.Channel == funding.Bank {
		iban, outstanding := h.svc.Settings().IBAN, t.Outstanding()
		out.Iban, out.OutstandingCents = &iban, &outstanding
		if receipts != nil {
			list := make([]BankReceipt, len(receipts))
			for i, r := range receipts {
				list[i] = bankReceiptOut(r)
			}
			out.Receipts = &list
		}
	}
	return out
}

func bankReceiptOut(r funding.BankReceipt) BankReceipt {
	return BankReceipt{Id: r.ID, TopupId: r.TopUpID, Reference: r.Reference, CompanyId: r.CompanyID, Company: r.Company,
		AmountCents: r.Amount, Cro: r.CRO, ValueDate: openapi_types.Date{Time: r.ValueDate}, Status: BankReceiptStatus(r.Status),
		RecordedAt: r.RecordedAt, ConfirmedAt: r.ConfirmedAt}
}

func openItemOut(it funding.OpenItem) OpenItem {
	out := OpenItem{Id: it.ID, CompanyId: it.CompanyID, Company: it.Company, TopupId: it.TopUpID, Cause: OpenItemCause(it.Cause),
		AmountCents: it.Amount, Status: OpenItemStatus(it.Status), ResolvedAt: it.ResolvedAt, CreatedAt: it.CreatedAt}
	if it.Resolution != nil {
		r := OpenItemResolution(*it.Resolution)
		out.Resolution = &r
	}
	if it.Note != "" {
		out.Note = &it.Note
	}
	return out
}

func (h fundingHandlers) ReconcileFunding(ctx context.Context, req ReconcileFundingRequestObject) (ReconcileFundingResponseObject, error) {
	r, err := h.svc.Reconcile(ctx, auth.PrincipalFrom(ctx), req.Params.From.Time, req.Params.To.Time, nil)
	if err != nil {
		return nil, err
	}
	return ReconcileFunding200JSONResponse(reconciliationOut(r)), nil
}

// maxStatementBytes bounds an uploaded bank statement.
const maxStatementBytes = 8 << 20

func (h fundingHandlers) ReconcileFundingWithStatement(ctx context.Context, req ReconcileFundingWithStatementRequestObject) (ReconcileFundingWithStatementResponseObject, error) {
	data, err := io.ReadAll(io.LimitReader(req.Body, maxStatementBytes))
	if err != nil {
		return nil, err
	}
	lines, err := funding.ParseStatement(data)
	if err != nil {
		return nil, err
	}
	r, err := h.svc.Reconcile(ctx, auth.PrincipalFrom(ctx), req.Params.From.Time, req.Params.To.Time, lines)
	if err != nil {
		return nil, err
	}
	return ReconcileFundingWithStatement200JSONResponse(reconciliationOut(r)), nil
}

func reconciliationOut(r funding.Reconciliation) Reconciliation {
	out := Reconciliation{From: openapi_types.Date{Time: r.From}, To: openapi_types.Date{Time: r.To},
		Days: make([]ReconciliationDay, len(r.Days)), Differences: make([]ReconciliationDifference, len(r.Differences))}
	for i, d := range r.Days {
		out.Days[i] = ReconciliationDay{Day: openapi_types.Date{Time: d.Day}, Channel: ReconciliationDayChannel(d.Channel),
			RecordedCents: d.Recorded, LedgerCents: d.Ledger, FeesRecordedCents: d.FeesRecorded, FeesLedgerCents: d.FeesLedger}
	}
	for i, d := range r.Differences {
		out.Differences[i] = ReconciliationDifference{Source: ReconciliationDifferenceSource(d.Source), Cause: d.Cause,
			Day: openapi_types.Date{Time: d.Day}, Ref: d.Ref, ExpectedCents: d.Expected, ActualCents: d.Actual}
	}
	if r.StripeError != "" {
		out.StripeError = &r.StripeError
	}
	if r.Stripe != nil {
		list := make([]StripeBalanceTransaction, len(r.Stripe))
		for i, bt := range r.Stripe {
			list[i] = StripeBalanceTransaction{Id: bt.ID, Type: bt.Type, AmountCents: bt.Amount, FeeCents: bt.Fee, NetCents: bt.Net,
				Created: bt.Created, Source: &r.Stripe[i].Source, TopupId: &r.Stripe[i].Reference}
		}
		out.Stripe = &list
	}
	return out
}

func (h fundingHandlers) EndContract(ctx context.Context, req EndContractRequestObject) (EndContractResponseObject, error) {
	b := req.Body
	c, err := h.svc.EndContract(ctx, auth.PrincipalFrom(ctx), funding.ContractEndInput{CompanyID: b.CompanyId, IBAN: b.Iban,
		CRO: b.Cro, ValueDate: b.ValueDate.Time, Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return EndContract201JSONResponse(ContractEnd{Id: c.ID, CompanyId: c.CompanyID, Company: c.Company, AmountCents: c.Amount,
		Iban: c.IBAN, Cro: c.CRO, ValueDate: openapi_types.Date{Time: c.ValueDate}, Note: &c.Note, DoneAt: c.DoneAt}), nil
}

func (h fundingHandlers) GetContractEndStatement(ctx context.Context, req GetContractEndStatementRequestObject) (GetContractEndStatementResponseObject, error) {
	pdf, err := h.svc.ContractEndStatement(ctx, auth.PrincipalFrom(ctx), req.ContractEndId)
	if err != nil {
		return nil, err
	}
	return GetContractEndStatement200ApplicationpdfResponse{Body: bytes.NewReader(pdf), ContentLength: int64(len(pdf))}, nil
}
