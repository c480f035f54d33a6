package httpapi

import (
	"bytes"
	"context"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// The fringe-benefit meter (the employee's room and children declaration,
// HR's outside-platform entries) and the payroll export.

func (h plansHandlers) GetMyFringeRoom(ctx context.Context, req GetMyFringeRoomRequestObject) (GetMyFringeRoomResponseObject, error) {
	year := time.Now().Year()
	if req.Params.Year != nil {
		year = *req.Params.Year
	}
	r, err := h.svc.MyFringeRoom(ctx, auth.PrincipalFrom(ctx), year)
	if err != nil {
		return nil, err
	}
	return GetMyFringeRoom200JSONResponse(fringeRoomOut(r)), nil
}

func (h plansHandlers) DeclareChildren(ctx context.Context, req DeclareChildrenRequestObject) (DeclareChildrenResponseObject, error) {
	if err := h.svc.DeclareChildren(ctx, auth.PrincipalFrom(ctx), req.Body.TaxCodes, req.Body.ValidFrom.Time); err != nil {
		return nil, err
	}
	return DeclareChildren204Response{}, nil
}

func (h plansHandlers) RecordOutsideFringe(ctx context.Context, req RecordOutsideFringeRequestObject) (RecordOutsideFringeResponseObject, error) {
	b := req.Body
	r, err := h.svc.RecordOutsideFringe(ctx, auth.PrincipalFrom(ctx), plans.OutsideFringe{UserID: req.UserId, Year: b.TaxYear,
		Kind: string(b.Kind), AmountCents: b.AmountCents, Note: deref(b.Note)})
	if err != nil {
		return nil, err
	}
	return RecordOutsideFringe201JSONResponse(fringeRoomOut(r)), nil
}

func fringeRoomOut(r plans.FringeRoom) FringeRoom {
	return FringeRoom{TaxYear: r.Year, Children: r.Children, CeilingCents: r.Ceiling, PlatformCents: r.Platform,
		OutsideCents: r.Outside, RemainingCents: r.Remaining}
}

func (h plansHandlers) GetPayrollExport(ctx context.Context, req GetPayrollExportRequestObject) (GetPayrollExportResponseObject, error) {
	var b bytes.Buffer
	if err := h.svc.WritePayrollCSV(ctx, auth.PrincipalFrom(ctx), req.Params.Year, &b); err != nil {
		return nil, err
	}
	return GetPayrollExport200TextcsvResponse{Body: &b, ContentLength: int64(b.Len())}, nil
}
