package httpapi

import (
	"bytes"
	"context"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// HR's welfare report: participation, spend by tax bucket, residuals,
// with small groups suppressed by the service.

func (h plansHandlers) GetWelfareReport(ctx context.Context, req GetWelfareReportRequestObject) (GetWelfareReportResponseObject, error) {
	r, err := h.svc.WelfareReport(ctx, auth.PrincipalFrom(ctx), plans.ReportFilter{Year: req.Params.Year, PlanID: req.Params.PlanId})
	if err != nil {
		return nil, err
	}
	out := GetWelfareReport200JSONResponse{Year: r.Year, PlanId: r.PlanID, Plans: []ReportPlan{}, Participation: []ReportParticipation{},
		Spend: []ReportSpend{}, Residuals: []ReportResidual{}}
	for _, pl := range r.Plans {
		out.Plans = append(out.Plans, reportPlanOut(pl))
	}
	for _, p := range r.Participation {
		out.Participation = append(out.Participation, ReportParticipation{Plan: reportPlanOut(p.Plan), Suppressed: p.Suppressed,
			Credited: p.Credited, Users: p.Users, RatePct: p.RatePct})
	}
	for _, s := range r.Spend {
		out.Spend = append(out.Spend, ReportSpend{TaxBucket: s.TaxBucket, Suppressed: s.Suppressed, People: s.People, Cents: s.Cents})
	}
	for _, s := range r.Residuals {
		out.Residuals = append(out.Residuals, ReportResidual{Outcome: s.Outcome, Suppressed: s.Suppressed, People: s.People, Cents: s.Cents})
	}
	return out, nil
}

func reportPlanOut(p plans.ReportPlan) ReportPlan {
	return ReportPlan{Id: p.ID, Name: p.Name, Kind: p.Kind, ResidualPolicy: p.Policy}
}

func (h plansHandlers) GetWelfareReportCSV(ctx context.Context, req GetWelfareReportCSVRequestObject) (GetWelfareReportCSVResponseObject, error) {
	var b bytes.Buffer
	f := plans.ReportFilter{Year: req.Params.Year, PlanID: req.Params.PlanId}
	if err := h.svc.WriteReportCSV(ctx, auth.PrincipalFrom(ctx), f, &b); err != nil {
		return nil, err
	}
	return GetWelfareReportCSV200TextcsvResponse{Body: &b, ContentLength: int64(b.Len())}, nil
}
