package webui

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/plans"
)

// The plan form (new and edit), closing a plan and one-off corrections.
// Every field at fault is told at once, next to it.

// planForm is the plan page's form: what was typed, and the choices.
type planForm struct {
	// ID is the plan being changed; "" for a new one.
	ID                                                     string
	Kind                                                   string
	Name, Year, StartsOn, EndsOn, Residual, CarryOverUntil string
	Categories                                             map[string]bool
	Amounts                                                map[string]string // employee category code → euro text
	ServiceCategories                                      []catalog.Category
	EmployeeCategories                                     []plans.EmployeeCategory
	Residuals                                              []string // the plan kind's residual policies
	// Locked: credits were allocated, only the name may change.
	Locked bool
	Faults *formFaults
}

// Action is where the form posts.
func (f planForm) Action() string {
	if f.ID == "" {
		return "/azienda/piani/nuovo"
	}
	return "/azienda/piani/" + f.ID + "/modifica"
}

func (u *UI) newPlanForm(c echo.Context) (planForm, error) {
	cats, err := u.deps.Plans.Categories(c.Request().Context(), CurrentPrincipal(c))
	y := time.Now().Year()
	return planForm{Kind: plans.Ordinary, Year: strconv.Itoa(y), StartsOn: strconv.Itoa(y) + "-01-01", EndsOn: strconv.Itoa(y) + "-12-31",
		Residual: plans.ResidualReturn, Categories: map[string]bool{}, Amounts: map[string]string{},
		ServiceCategories: catalog.Categories(), EmployeeCategories: cats,
		Residuals: []string{plans.ResidualReturn, plans.ResidualCarryOver, plans.ResidualDonate}, Faults: u.newFaults(c)}, err
}

func (u *UI) planNew(c echo.Context) error {
	f, err := u.newPlanForm(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "plans_form", u.page(c, f))
}

// readPlanForm fills f with what was typed and returns the plan it
// describes; what cannot be read is marked in f.Faults.
func (u *UI) readPlanForm(c echo.Context, f *planForm) plans.PlanInput {
	f.Name, f.Year, f.StartsOn, f.EndsOn = c.FormValue("name"), c.FormValue("plan_year"), c.FormValue("starts_on"), c.FormValue("ends_on")
	f.Residual, f.CarryOverUntil = c.FormValue("residual_policy"), c.FormValue("carry_over_until")
	form, _ := c.FormParams()
	in := plans.PlanInput{Kind: f.Kind, Name: f.Name, ResidualPolicy: f.Residual, Rules: map[string]int64{}}
	f.Categories = map[string]bool{}
	for _, code := range form["categories"] {
		f.Categories[code] = true
		in.Categories = append(in.Categories, code)
	}
	var err error
	if in.Year, err = strconv.Atoi(strings.TrimSpace(f.Year)); err != nil {
		f.Faults.bad("plan_year")
	}
	date := func(text, field string) time.Time {
		d, err := time.Parse(time.DateOnly, strings.TrimSpace(text))
		if err != nil {
			f.Faults.bad(field)
		}
		return d
	}
	in.StartsOn, in.EndsOn = date(f.StartsOn, "starts_on"), date(f.EndsOn, "ends_on")
	if strings.TrimSpace(f.CarryOverUntil) != "" {
		d := date(f.CarryOverUntil, "carry_over_until")
		in.CarryOverUntil = &d
	}
	for _, ec := range f.EmployeeCategories {
		text := strings.TrimSpace(c.FormValue("amount_" + ec.Code))
		f.Amounts[ec.Code] = text
		if text == "" {
			continue
		}
		cents, ok := parseEuroText(text)
		if !ok {
			f.Faults.bad("rules")
			continue
		}
		in.Rules[ec.Code] = cents
	}
	if in.Kind == plans.PdR {
		in.Rules = nil
	}
	return in
}

func (u *UI) planCreate(c echo.Context) error {
	f, err := u.newPlanForm(c)
	if err != nil {
		return err
	}
	in := u.readPlanForm(c, &f)
	if f.Faults.Any() {
		f.Faults.also(in.Check())
	} else {
		p, err := u.deps.Plans.CreatePlan(c.Request().Context(), CurrentPrincipal(c), in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+p.ID.String())
		}
		if err := f.Faults.refused(err); err != nil {
			return err
		}
	}
	return u.r.render(c, f.Faults.Status, "plans_form", u.page(c, f))
}

// editPlanForm is the form of plan :id as it is.
func (u *UI) editPlanForm(c echo.Context) (planForm, uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return planForm{}, id, apperr.New(apperr.NotFound, "plan not found")
	}
	pl, err := u.deps.Plans.GetPlan(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return planForm{}, id, err
	}
	f, err := u.newPlanForm(c)
	f.ID, f.Kind, f.Name, f.Year, f.Residual, f.Locked = id.String(), pl.Kind, pl.Name, strconv.Itoa(pl.Year), pl.ResidualPolicy, pl.Locked()
	f.StartsOn, f.EndsOn = pl.StartsOn.Format(time.DateOnly), pl.EndsOn.Format(time.DateOnly)
	if pl.CarryOverUntil != nil {
		f.CarryOverUntil = pl.CarryOverUntil.Format(time.DateOnly)
	}
	for _, code := range pl.Categories {
		f.Categories[code] = true
	}
	for _, r := range pl.Rules {
		f.Amounts[r.Category] = formatEuroPlain(r.AmountCents, lang(c))
	}
	if pl.Kind == plans.PdR {
		f.Residuals, f.EmployeeCategories = []string{plans.ResidualPensionFund, plans.ResidualPayroll}, nil
	}
	return f, id, err
}

func (u *UI) planEdit(c echo.Context) error {
	f, _, err := u.editPlanForm(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "plans_form", u.page(c, f))
}

func (u *UI) planUpdate(c echo.Context) error {
	f, id, err := u.editPlanForm(c)
	if err != nil {
		return err
	}
	in := u.readPlanForm(c, &f)
	if f.Faults.Any() {
		f.Faults.also(in.Check())
	} else {
		_, err := u.deps.Plans.UpdatePlan(c.Request().Context(), CurrentPrincipal(c), id, in)
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+id.String())
		}
		if err := f.Faults.refused(err); err != nil {
			return err
		}
	}
	return u.r.render(c, f.Faults.Status, "plans_form", u.page(c, f))
}

func (u *UI) planClose(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "plan not found")
	}
	if _, err := u.deps.Plans.ClosePlan(c.Request().Context(), CurrentPrincipal(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+id.String())
}

// correctionForm is what HR typed for a one-off correction, and its
// faults.
type correctionForm struct {
	UserID, Amount, Reason string
	Faults                 *formFaults
}

// planCorrect credits one employee from the plan at once, with a reason.
func (u *UI) planCorrect(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "plan not found")
	}
	f := correctionForm{UserID: c.FormValue("user_id"), Amount: c.FormValue("amount"), Reason: c.FormValue("reason"), Faults: u.newFaults(c)}
	in := plans.CorrectionInput{Reason: f.Reason}
	var ok bool
	if in.UserID, err = uuid.Parse(f.UserID); err != nil {
		f.Faults.bad("user_id")
	}
	if in.AmountCents, ok = parseEuroText(f.Amount); !ok {
		f.Faults.bad("amount_cents")
	}
	if strings.TrimSpace(f.Reason) == "" {
		f.Faults.bad("reason")
	}
	if !f.Faults.Any() {
		err := untilSettled(ctx, func() error {
			_, err := u.deps.Plans.Correct(ctx, CurrentPrincipal(c), id, in, c.FormValue(formKeyField))
			return err
		})
		if err == nil {
			return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+id.String()+"#correzione")
		}
		if err := f.Faults.refused(err); err != nil {
			return err
		}
		if cents, ok := missingCents(err); ok {
			f.Faults.Other += " " + u.cat.T(lang(c), "plans.allocate.missing") + " " + formatEuro(cents, lang(c)) + "."
		}
	}
	pg, err := u.planPageData(c)
	if err != nil {
		return err
	}
	pg.Correction = f
	return u.r.render(c, f.Faults.Status, "plans_detail", u.page(c, pg))
}
