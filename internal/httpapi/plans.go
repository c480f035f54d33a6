package httpapi

import (
	"context"
	"time"

	openapi_types "github.com/oapi-codegen/runtime/types"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// plansHandlers map welfare plans, employees' HR data, allocations and the
// wallet to plans.Service. Tenant scoping is the service's: every call
// takes the caller.
type plansHandlers struct {
	svc *plans.Service
}

func (h plansHandlers) ListEmployeeCategories(ctx context.Context, _ ListEmployeeCategoriesRequestObject) (ListEmployeeCategoriesResponseObject, error) {
	list, err := h.svc.Categories(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListEmployeeCategories200JSONResponse{}
	for _, c := range list {
		out = append(out, EmployeeCategory{Id: c.ID, Code: c.Code, Name: c.Name})
	}
	return out, nil
}

func (h plansHandlers) SaveEmployeeCategory(ctx context.Context, req SaveEmployeeCategoryRequestObject) (SaveEmployeeCategoryResponseObject, error) {
	c, err := h.svc.SaveCategory(ctx, auth.PrincipalFrom(ctx), req.Body.Code, req.Body.Name)
	if err != nil {
		return nil, err
	}
	return SaveEmployeeCategory200JSONResponse{Id: c.ID, Code: c.Code, Name: c.Name}, nil
}

func (h plansHandlers) ListEmployees(ctx context.Context, _ ListEmployeesRequestObject) (ListEmployeesResponseObject, error) {
	list, err := h.svc.Employees(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListEmployees200JSONResponse{}
	for _, e := range list {
		out = append(out, employeeOut(e))
	}
	return out, nil
}

func (h plansHandlers) SaveEmployee(ctx context.Context, req SaveEmployeeRequestObject) (SaveEmployeeResponseObject, error) {
	b := req.Body
	e, err := h.svc.SaveEmployee(ctx, auth.PrincipalFrom(ctx), plans.EmployeeInput{UserID: req.UserId, Category: b.Category,
		EmployeeNumber: deref(b.EmployeeNumber), TaxCode: deref(b.TaxCode), HiredOn: dateIn(b.HiredOn),
		PartTimePct: deref(b.PartTimePct), LeavesOn: dateIn(b.LeavesOn)})
	if err != nil {
		return nil, err
	}
	return SaveEmployee200JSONResponse(employeeOut(e)), nil
}

func employeeOut(e plans.Employee) Employee {
	return Employee{UserId: e.UserID, Name: e.Name, Email: e.Email, Category: e.Category, CategoryName: e.CategoryName,
		EmployeeNumber: e.EmployeeNumber, TaxCode: e.TaxCode, HiredOn: dateOut(e.HiredOn), PartTimePct: e.PartTimePct,
		LeavesOn: dateOut(e.LeavesOn), BalanceCents: e.BalanceCents}
}

func (h plansHandlers) ListPlans(ctx context.Context, _ ListPlansRequestObject) (ListPlansResponseObject, error) {
	list, err := h.svc.Plans(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := ListPlans200JSONResponse{}
	for _, p := range list {
		out = append(out, planOut(p))
	}
	return out, nil
}

func (h plansHandlers) CreatePlan(ctx context.Context, req CreatePlanRequestObject) (CreatePlanResponseObject, error) {
	p, err := h.svc.CreatePlan(ctx, auth.PrincipalFrom(ctx), planIn(*req.Body))
	if err != nil {
		return nil, err
	}
	return CreatePlan201JSONResponse(planOut(p)), nil
}

func (h plansHandlers) GetPlan(ctx context.Context, req GetPlanRequestObject) (GetPlanResponseObject, error) {
	p, err := h.svc.GetPlan(ctx, auth.PrincipalFrom(ctx), req.PlanId)
	if err != nil {
		return nil, err
	}
	return GetPlan200JSONResponse(planOut(p)), nil
}

func (h plansHandlers) UpdatePlan(ctx context.Context, req UpdatePlanRequestObject) (UpdatePlanResponseObject, error) {
	p, err := h.svc.UpdatePlan(ctx, auth.PrincipalFrom(ctx), req.PlanId, planIn(*req.Body))
	if err != nil {
		return nil, err
	}
	return UpdatePlan200JSONResponse(planOut(p)), nil
}

func (h plansHandlers) ClosePlan(ctx context.Context, req ClosePlanRequestObject) (ClosePlanResponseObject, error) {
	p, err := h.svc.ClosePlan(ctx, auth.PrincipalFrom(ctx), req.PlanId)
	if err != nil {
		return nil, err
	}
	return ClosePlan200JSONResponse(planOut(p)), nil
}

func planIn(b PlanInput) plans.PlanInput {
	in := plans.PlanInput{Kind: string(deref(b.Kind)), Name: b.Name, Year: b.PlanYear, StartsOn: b.StartsOn.Time,
		EndsOn: b.EndsOn.Time, Categories: b.Categories, ResidualPolicy: string(b.ResidualPolicy), CarryOverUntil: dateIn(b.CarryOverUntil)}
	if b.Rules != nil {
		in.Rules = map[string]int64{}
		for _, r := range *b.Rules {
			in.Rules[r.Category] = r.AmountCents
		}
	}
	return in
}

func planOut(p plans.Plan) Plan {
	out := Plan{Id: p.ID, Kind: PlanKind(p.Kind), Name: p.Name, PlanYear: p.Year, StartsOn: openapi_types.Date{Time: p.StartsOn},
		EndsOn: openapi_types.Date{Time: p.EndsOn}, Categories: p.Categories, ResidualPolicy: ResidualPolicy(p.ResidualPolicy),
		CarryOverUntil: dateOut(p.CarryOverUntil), Status: PlanStatus(p.Status), AllocatedCents: p.AllocatedCents,
		Locked: p.Locked(), Rules: []PlanRule{}, CreatedAt: p.CreatedAt}
	for _, r := range p.Rules {
		out.Rules = append(out.Rules, PlanRule{Category: r.Category, CategoryName: &r.CategoryName, AmountCents: r.AmountCents})
	}
	return out
}

func (h plansHandlers) PreviewAllocation(ctx context.Context, req PreviewAllocationRequestObject) (PreviewAllocationResponseObject, error) {
	pv, err := h.svc.PreviewAllocation(ctx, auth.PrincipalFrom(ctx), req.PlanId)
	if err != nil {
		return nil, err
	}
	out := PreviewAllocation200JSONResponse{PlanId: pv.Plan.ID, Lines: []AllocationLine{}, TotalCents: pv.TotalCents,
		AvailableCents: pv.AvailableCents, MissingCents: pv.MissingCents}
	for _, l := range pv.Lines {
		out.Lines = append(out.Lines, AllocationLine{UserId: l.UserID, Name: l.Name, Email: l.Email, Category: l.Category,
			AmountCents: l.AmountCents, Basis: l.Basis})
	}
	return out, nil
}

func (h plansHandlers) AllocatePlan(ctx context.Context, req AllocatePlanRequestObject) (AllocatePlanResponseObject, error) {
	a, err := h.svc.Allocate(ctx, auth.PrincipalFrom(ctx), req.PlanId, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return AllocatePlan202JSONResponse(allocationOut(a)), nil
}

func (h plansHandlers) CorrectAllocation(ctx context.Context, req CorrectAllocationRequestObject) (CorrectAllocationResponseObject, error) {
	a, err := h.svc.Correct(ctx, auth.PrincipalFrom(ctx), req.PlanId, plans.CorrectionInput{UserID: req.Body.UserId,
		AmountCents: req.Body.AmountCents, Reason: req.Body.Reason}, deref(req.Params.IdempotencyKey))
	if err != nil {
		return nil, err
	}
	return CorrectAllocation201JSONResponse(allocationOut(a)), nil
}

func (h plansHandlers) ListAllocations(ctx context.Context, req ListAllocationsRequestObject) (ListAllocationsResponseObject, error) {
	list, err := h.svc.Allocations(ctx, auth.PrincipalFrom(ctx), req.PlanId)
	if err != nil {
		return nil, err
	}
	out := ListAllocations200JSONResponse{}
	for _, a := range list {
		out = append(out, allocationOut(a))
	}
	return out, nil
}

func (h plansHandlers) GetAllocation(ctx context.Context, req GetAllocationRequestObject) (GetAllocationResponseObject, error) {
	a, err := h.svc.GetAllocation(ctx, auth.PrincipalFrom(ctx), req.AllocationId)
	if err != nil {
		return nil, err
	}
	return GetAllocation200JSONResponse(allocationOut(a)), nil
}

func allocationOut(a plans.Allocation) Allocation {
	return Allocation{Id: a.ID, PlanId: a.PlanID, Kind: AllocationKind(a.Kind), Status: AllocationStatus(a.Status), Reason: a.Reason,
		TotalCents: a.TotalCents, Employees: a.Employees, Credited: a.Credited, LastError: a.LastError, CreatedAt: a.CreatedAt,
		FinishedAt: a.FinishedAt}
}

func (h plansHandlers) GetMyWallet(ctx context.Context, _ GetMyWalletRequestObject) (GetMyWalletResponseObject, error) {
	w, err := h.svc.MyWallet(ctx, auth.PrincipalFrom(ctx))
	if err != nil {
		return nil, err
	}
	out := GetMyWallet200JSONResponse{BalanceCents: w.BalanceCents, HeldCents: w.HeldCents, Lots: []WalletLot{}, Movements: []WalletMovement{}}
	for _, l := range w.Lots {
		out.Lots = append(out.Lots, WalletLot{Id: l.ID, AmountCents: l.AmountCents, RemainingCents: l.RemainingCents, ExpiresAt: l.ExpiresAt,
			LastDay: dateOut(l.LastDay), Categories: l.Categories, PlanId: l.PlanID, PlanName: l.PlanName})
	}
	for _, m := range w.Movements {
		out.Movements = append(out.Movements, WalletMovement{TransactionId: m.TxID, At: m.At, Kind: m.Kind, Status: m.Status, DeltaCents: m.DeltaCents})
	}
	return out, nil
}

func dateIn(d *openapi_types.Date) *time.Time {
	if d == nil {
		return nil
	}
	return &d.Time
}

func dateOut(t *time.Time) *openapi_types.Date {
	if t == nil {
		return nil
	}
	return &openapi_types.Date{Time: *t}
}
