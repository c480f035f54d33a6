package httpapi

import (
	"context"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
)

// fundHandlers map the inclusion fund's operations to fund.Service.
type fundHandlers struct{ svc *fund.Service }

func (h fundHandlers) ListFundEnvelopes(ctx context.Context, _ ListFundEnvelopesRequestObject) (ListFundEnvelopesResponseObject, error) {
	list, err := h.svc.Envelopes(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListFundEnvelopes200JSONResponse{}
	for _, e := range list {
		out = append(out, envelopeOut(e))
	}
	return out, nil
}

func (h fundHandlers) SetFundEnvelope(ctx context.Context, req SetFundEnvelopeRequestObject) (SetFundEnvelopeResponseObject, error) {
	e, err := h.svc.SetEnvelope(ctx, auth.PrincipalFrom(ctx), fund.Theme(req.Theme), req.Body.YearlyCap)
	if err != nil {
		return nil, err
	}
	return SetFundEnvelope200JSONResponse(envelopeOut(e)), nil
}

func (h fundHandlers) EarmarkFundEnvelope(ctx context.Context, req EarmarkFundEnvelopeRequestObject) (EarmarkFundEnvelopeResponseObject, error) {
	e, err := h.svc.Earmark(ctx, auth.PrincipalFrom(ctx), fund.Theme(req.Theme), req.Body.Amount, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return EarmarkFundEnvelope200JSONResponse(envelopeOut(e)), nil
}

func (h fundHandlers) GetFundPool(ctx context.Context, _ GetFundPoolRequestObject) (GetFundPoolResponseObject, error) {
	pool, err := h.svc.Pool(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := GetFundPool200JSONResponse{Available: pool.Available, Inflows: []FundInflow{}}
	for _, in := range pool.Inflows {
		out.Inflows = append(out.Inflows, FundInflow{Month: openapi_types.Date{Time: in.Month}, Source: in.Source,
			CompanyId: in.CompanyID, CompanyName: in.CompanyName, Amount: in.Amount})
	}
	return out, nil
}

func (h fundHandlers) ListFunds(ctx context.Context, _ ListFundsRequestObject) (ListFundsResponseObject, error) {
	list, err := h.svc.Funds(ctx)
	if err != nil {
		return nil, err
	}
	out := ListFunds200JSONResponse{}
	for _, f := range list {
		out = append(out, FundRef{Id: f.ID, Name: f.Name, Territory: f.Territory})
	}
	return out, nil
}

func (h fundHandlers) DonateToFund(ctx context.Context, req DonateToFundRequestObject) (DonateToFundResponseObject, error) {
	d, err := h.svc.Donate(ctx, auth.PrincipalFrom(ctx), req.FundId, req.Body.Amount, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return DonateToFund201JSONResponse(donationOut(d)), nil
}

func (h fundHandlers) ListCompanyDonations(ctx context.Context, _ ListCompanyDonationsRequestObject) (ListCompanyDonationsResponseObject, error) {
	list, err := h.svc.Donations(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListCompanyDonations200JSONResponse{}
	for _, d := range list {
		out = append(out, donationOut(d))
	}
	return out, nil
}

func envelopeOut(e fund.Envelope) FundEnvelope {
	return FundEnvelope{Id: e.ID, Theme: FundTheme(e.Theme), YearlyCap: e.YearlyCap, Available: e.Available,
		CommittedYear: e.CommittedYear, CapLeft: e.CapLeft(), Committed: e.Committed, Disbursed: e.Disbursed}
}

func donationOut(d fund.Donation) FundDonation {
	return FundDonation{Id: d.ID, FundId: d.FundID, FundName: d.FundName, Amount: d.Amount, TransactionId: d.TxID, CreatedAt: d.CreatedAt}
}
