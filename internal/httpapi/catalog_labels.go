package httpapi

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

// The inclusion label and the offering change log: handlers that map to
// catalog.Service (rules in catalog/label_service.go and changes.go).

func (h catalogHandlers) GetProviderLabel(ctx context.Context, req GetProviderLabelRequestObject) (GetProviderLabelResponseObject, error) {
	st, err := h.svc.ProviderLabel(ctx, auth.PrincipalFrom(ctx), req.ProviderId)
	if err != nil {
		return nil, err
	}
	out := GetProviderLabel200JSONResponse{}
	if st.Current != nil {
		c := labelRequestOut(*st.Current)
		out.Current = &c
	}
	if st.Latest != nil {
		l := labelRequestOut(*st.Latest)
		out.Latest = &l
	}
	return out, nil
}

func (h catalogHandlers) RequestProviderLabel(ctx context.Context, req RequestProviderLabelRequestObject) (RequestProviderLabelResponseObject, error) {
	b := req.Body
	in := catalog.LabelInput{Evidence: catalog.LabelEvidence(b.Evidence), AlboNumber: deref(b.AlboNumber),
		InclusionHires: deref(b.InclusionHires), TotalStaff: deref(b.TotalStaff), Declared: deref(b.Declaration)}
	r, err := h.svc.RequestLabel(ctx, auth.PrincipalFrom(ctx), req.ProviderId, in, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return RequestProviderLabel201JSONResponse(labelRequestOut(r)), nil
}

func (h catalogHandlers) ListLabelRequests(ctx context.Context, req ListLabelRequestsRequestObject) (ListLabelRequestsResponseObject, error) {
	var status catalog.LabelStatus
	if req.Params.Status != nil {
		status = catalog.LabelStatus(*req.Params.Status)
	}
	list, err := h.svc.LabelRequests(ctx, auth.PrincipalFrom(ctx), status)
	if err != nil {
		return nil, err
	}
	out := ListLabelRequests200JSONResponse{}
	for _, r := range list {
		out = append(out, labelRequestOut(r))
	}
	return out, nil
}

func (h catalogHandlers) DecideLabelRequest(ctx context.Context, req DecideLabelRequestRequestObject) (DecideLabelRequestResponseObject, error) {
	b := req.Body
	d := catalog.LabelDecision{Approve: b.Decision == LabelDecisionInputDecisionApprove, Note: deref(b.Note)}
	if b.ValidUntil != nil {
		d.ValidUntil = b.ValidUntil.Time
	}
	r, err := h.svc.DecideLabel(ctx, auth.PrincipalFrom(ctx), req.RequestId, d, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return DecideLabelRequest200JSONResponse(labelRequestOut(r)), nil
}

func (h catalogHandlers) ListOfferingChanges(ctx context.Context, req ListOfferingChangesRequestObject) (ListOfferingChangesResponseObject, error) {
	list, err := h.svc.OfferingChanges(ctx, auth.PrincipalFrom(ctx), deref(req.Params.Limit), deref(req.Params.Before))
	if err != nil {
		return nil, err
	}
	out := ListOfferingChanges200JSONResponse{}
	for _, c := range list {
		out = append(out, OfferingChange{Id: c.ID, OfferingId: c.OfferingID, OfferingTitle: c.OfferingTitle,
			Provider: ProviderSummary{Id: c.ProviderID, Name: c.ProviderName}, Field: OfferingChangeField(c.Field),
			Old: c.Old, New: c.New, ChangedBy: c.ChangedBy, ChangedAt: c.ChangedAt})
	}
	return out, nil
}

func labelRequestOut(r catalog.LabelRequest) LabelRequest {
	out := LabelRequest{Id: r.ID, Provider: ProviderSummary{Id: r.ProviderID, Name: r.ProviderName,
		LegalForm: ProviderSummaryLegalForm(r.ProviderForm)}, AlboNumber: r.AlboNumber, InclusionHires: r.InclusionHires,
		TotalStaff: r.TotalStaff, Status: LabelRequestStatus(r.Status), RequestedAt: r.RequestedAt, Note: r.Note,
		DecidedAt: r.DecidedAt}
	if r.Evidence != nil {
		e := LabelRequestEvidence(*r.Evidence)
		out.Evidence = &e
	}
	if r.LegacyLabel != nil {
		l := LabelRequestLegacyLabel(*r.LegacyLabel)
		out.LegacyLabel = &l
	}
	if r.ValidUntil != nil {
		out.ValidUntil = &openapi_types.Date{Time: r.ValidUntil.In(time.UTC)}
	}
	return out
}
