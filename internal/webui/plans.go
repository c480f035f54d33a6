package webui

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// registerPlans mounts the welfare pages: the employee's wallet, and for
// HR the plans, their allocation and the employees with their balances.
func (u *UI) registerPlans(e *echo.Echo) {
	if u.deps.Plans == nil {
		return
	}
	u.Handle(e, http.MethodGet, plans.WalletPath, Roles(auth.RoleEmployee), u.wallet)
	u.Handle(e, http.MethodPost, plans.WalletPath+"/figli", Roles(auth.RoleEmployee), u.childrenSave)
	u.Handle(e, http.MethodPost, plans.WalletPath+"/premio/:id", Roles(auth.RoleEmployee), u.pdrChoose)
	hr := Roles(auth.RoleCompanyAdmin)
	u.Handle(e, http.MethodGet, "/azienda/piani", hr, u.plansList)
	u.Handle(e, http.MethodGet, "/azienda/piani/nuovo", hr, u.planNew)
	u.Handle(e, http.MethodGet, "/azienda/paghe.csv", hr, u.payrollCSV)
	u.Handle(e, http.MethodGet, "/azienda/report", hr, u.welfareReport)
	u.Handle(e, http.MethodGet, "/azienda/report.csv", hr, u.welfareReportCSV)
	u.addHome("/azienda/report", "plans.report.title", "plans.report.home", auth.RoleCompanyAdmin)
	u.Handle(e, http.MethodPost, "/azienda/piani/nuovo", hr, u.planCreate)
	u.Handle(e, http.MethodGet, "/azienda/piani/:id/modifica", hr, u.planEdit)
	u.Handle(e, http.MethodPost, "/azienda/piani/:id/modifica", hr, u.planUpdate)
	u.Handle(e, http.MethodPost, "/azienda/piani/:id/chiudi", hr, u.planClose)
	u.Handle(e, http.MethodPost, "/azienda/piani/:id/correzioni", hr, u.planCorrect)
	u.Handle(e, http.MethodGet, "/azienda/piani/:id", hr, u.planDetail)
	u.Handle(e, http.MethodPost, "/azienda/piani/:id/assegna", hr, u.planAllocate)
	u.Handle(e, http.MethodPost, "/azienda/piani/:id/premi", hr, u.pdrBonusSave)
	u.Handle(e, http.MethodGet, "/azienda/dipendenti", hr, u.employeesList)
	u.Handle(e, http.MethodPost, "/azienda/dipendenti/categorie", hr, u.employeeCategorySave)
	u.Handle(e, http.MethodGet, "/azienda/dipendenti/:id", hr, u.employeeEdit)
	u.Handle(e, http.MethodPost, "/azienda/dipendenti/:id", hr, u.employeeSave)
}

// walletPage is the employee's wallet with their fringe-benefit room and
// their performance bonuses to convert.
type walletPage struct {
	plans.Wallet
	Room   plans.FringeRoom
	Offers []pdrOfferView
	// PdR is the refused bonus choice, if any: the plan, what was typed
	// and the faults.
	PdR   *pdrChoiceForm
	Error string
}

// pdrOfferView is a bonus offer as the wallet shows it, with its form.
type pdrOfferView struct {
	plans.PdROffer
	TaxPct string // the cash tax rate: "1%", "5%", "2,5%"
	Value  string // the amount field: what was typed, else the choice
	Error  string // next to the amount
	Other  string // a refusal about no field
}

// pdrChoiceForm is a refused choice of how much bonus to convert.
type pdrChoiceForm struct {
	PlanID  string
	Convert string
	Faults  *formFaults
}

func (u *UI) wallet(c echo.Context) error {
	return u.renderWallet(c, http.StatusOK, walletPage{})
}

func (u *UI) renderWallet(c echo.Context, status int, pg walletPage) error {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	w, err := u.deps.Plans.MyWallet(ctx, p)
	if err != nil {
		return err
	}
	room, err := u.deps.Plans.MyFringeRoom(ctx, p, time.Now().Year())
	if err != nil && apperr.CodeOf(err) != apperr.NotFound { // no rule set for the year: no meter to show
		return err
	}
	pg.Wallet, pg.Room = w, room
	offers, err := u.deps.Plans.MyPdROffers(ctx, p)
	if err != nil {
		return err
	}
	for _, o := range offers {
		v := pdrOfferView{PdROffer: o, TaxPct: strings.TrimSuffix(strings.TrimSuffix(formatEuroPlain(int64(o.TaxRateBP), lang(c)), "00"), ",") + "%"}
		if o.ConvertCents != nil {
			v.Value = formatEuroPlain(*o.ConvertCents, lang(c))
		}
		if f := pg.PdR; f != nil && f.PlanID == o.PlanID.String() {
			v.Value, v.Error, v.Other = f.Convert, f.Faults.At("convert_cents"), f.Faults.Other
		}
		pg.Offers = append(pg.Offers, v)
	}
	return u.r.render(c, status, "plans_wallet", u.page(c, pg))
}

// pdrChoose records how much of a performance bonus the employee converts.
func (u *UI) pdrChoose(c echo.Context) error {
	form := &pdrChoiceForm{PlanID: c.Param("id"), Convert: c.FormValue("convert"), Faults: u.newFaults(c)}
	id, err := uuid.Parse(form.PlanID)
	if err != nil {
		return apperr.New(apperr.NotFound, "plan not found")
	}
	cents, ok := parseEuroText(form.Convert)
	if !ok {
		form.Faults.bad("convert_cents")
	} else if _, err := u.deps.Plans.ChoosePdR(c.Request().Context(), CurrentPrincipal(c), id, cents); err != nil {
		if err := form.Faults.refused(err); err != nil {
			return err
		}
	}
	if form.Faults.Any() {
		return u.renderWallet(c, form.Faults.Status, walletPage{PdR: form})
	}
	return c.Redirect(http.StatusSeeOther, plans.WalletPath+"#premio-"+id.String())
}

// childrenSave records the dependent-children declaration: one tax code
// per line, from the date given.
func (u *UI) childrenSave(c echo.Context) error {
	from, bad := parseDate(c.FormValue("valid_from"), "valid_from", "")
	var err error
	if bad != "" {
		err = apperr.New(apperr.Invalid, "not a date").With("field", bad)
	} else {
		err = u.deps.Plans.DeclareChildren(c.Request().Context(), CurrentPrincipal(c), strings.Fields(c.FormValue("tax_codes")), from)
	}
	if err != nil {
		status, msg, ferr := u.plansFormError(c, err)
		if ferr != nil {
			return ferr
		}
		return u.renderWallet(c, status, walletPage{Error: msg})
	}
	return c.Redirect(http.StatusSeeOther, plans.WalletPath)
}

func (u *UI) plansList(c echo.Context) error {
	list, err := u.deps.Plans.Plans(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "plans_list", u.page(c, struct{ Plans []plans.Plan }{list}))
}

// payrollCSV downloads the payroll export of a tax year (?anno=, default
// this year).
func (u *UI) payrollCSV(c echo.Context) error {
	year := time.Now().Year()
	if v := c.QueryParam("anno"); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return apperr.New(apperr.Invalid, "the year must be between 2000 and 2100").With("field", "anno")
		}
		year = y
	}
	var b strings.Builder
	if err := u.deps.Plans.WritePayrollCSV(c.Request().Context(), CurrentPrincipal(c), year, &b); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="welfare-paghe-%d.csv"`, year))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}

// parseDate reads an HTML date field; the first bad field is kept.
func parseDate(s, field, bad string) (time.Time, string) {
	d, err := time.Parse(time.DateOnly, strings.TrimSpace(s))
	if err != nil && bad == "" {
		bad = field
	}
	return d, bad
}

// planPage is a plan with its preview and allocations; a PdR plan also
// with its bonuses and the form that records one.
type planPage struct {
	Plan        plans.Plan
	Preview     plans.Preview
	Allocations []plans.Allocation
	Running     bool
	Error       string
	Bonuses     []plans.PdRBonus
	Employees   []plans.Employee
	Bonus       bonusForm
	Correction  correctionForm
}

// bonusForm is what HR typed to record a bonus, and its faults.
type bonusForm struct {
	UserID, Bonus, Income string
	Faults                *formFaults
}

func (u *UI) planPageData(c echo.Context) (planPage, error) {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return planPage{}, apperr.New(apperr.NotFound, "plan not found")
	}
	var pg planPage
	if pg.Preview, err = u.deps.Plans.PreviewAllocation(ctx, p, id); err != nil {
		return pg, err
	}
	pg.Plan = pg.Preview.Plan
	if pg.Allocations, err = u.deps.Plans.Allocations(ctx, p, id); err != nil {
		return pg, err
	}
	for _, a := range pg.Allocations {
		pg.Running = pg.Running || a.Status == plans.Running
	}
	if pg.Employees, err = u.deps.Plans.Employees(ctx, p); err != nil {
		return pg, err
	}
	if pg.Plan.Kind == plans.PdR {
		if pg.Bonuses, err = u.deps.Plans.PdRBonuses(ctx, p, id); err != nil {
			return pg, err
		}
	}
	return pg, nil
}

// pdrBonusSave records an employee's bonus on a PdR plan.
func (u *UI) pdrBonusSave(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "plan not found")
	}
	f := bonusForm{UserID: c.FormValue("user_id"), Bonus: c.FormValue("bonus"), Income: c.FormValue("prior_income"), Faults: u.newFaults(c)}
	in := plans.PdRBonusInput{}
	var ok bool
	if in.UserID, err = uuid.Parse(f.UserID); err != nil {
		f.Faults.bad("user_id")
	}
	if in.BonusCents, ok = parseEuroText(f.Bonus); !ok {
		f.Faults.bad("bonus_cents")
	}
	if in.PriorIncomeCents, ok = parseEuroText(f.Income); !ok {
		f.Faults.bad("prior_income_cents")
	}
	if !f.Faults.Any() {
		if _, err := u.deps.Plans.SavePdRBonus(c.Request().Context(), CurrentPrincipal(c), id, in); err != nil {
			if err := f.Faults.refused(err); err != nil {
				return err
			}
		}
	}
	if !f.Faults.Any() {
		return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+id.String()+"#premi")
	}
	pg, err := u.planPageData(c)
	if err != nil {
		return err
	}
	pg.Bonus = f
	return u.r.render(c, f.Faults.Status, "plans_detail", u.page(c, pg))
}

func (u *UI) planDetail(c echo.Context) error {
	pg, err := u.planPageData(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "plans_detail", u.page(c, pg))
}

func (u *UI) planAllocate(c echo.Context) error {
	ctx := c.Request().Context()
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "plan not found")
	}
	err = untilSettled(ctx, func() error {
		_, err := u.deps.Plans.Allocate(ctx, CurrentPrincipal(c), id, c.FormValue(formKeyField))
		return err
	})
	if err != nil {
		status, msg, ferr := u.plansFormError(c, err)
		if ferr != nil {
			return ferr
		}
		pg, perr := u.planPageData(c)
		if perr != nil {
			return perr
		}
		pg.Error = msg
		if cents, ok := missingCents(err); ok {
			pg.Error = msg + " " + u.cat.T(lang(c), "plans.allocate.missing") + " " + formatEuro(cents, lang(c)) + "."
		}
		return u.r.render(c, status, "plans_detail", u.page(c, pg))
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/piani/"+id.String())
}

// employeesPage lists employees, with the category form.
type employeesPage struct {
	Employees  []plans.Employee
	Categories []plans.EmployeeCategory
	Error      string
}

func (u *UI) employeesList(c echo.Context) error {
	return u.renderEmployees(c, http.StatusOK, "")
}

func (u *UI) renderEmployees(c echo.Context, status int, msg string) error {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	list, err := u.deps.Plans.Employees(ctx, p)
	if err != nil {
		return err
	}
	cats, err := u.deps.Plans.Categories(ctx, p)
	if err != nil {
		return err
	}
	return u.r.render(c, status, "plans_employees", u.page(c, employeesPage{Employees: list, Categories: cats, Error: msg}))
}

func (u *UI) employeeCategorySave(c echo.Context) error {
	_, err := u.deps.Plans.SaveCategory(c.Request().Context(), CurrentPrincipal(c), c.FormValue("code"), c.FormValue("name"))
	if err != nil {
		status, msg, err := u.plansFormError(c, err)
		if err != nil {
			return err
		}
		return u.renderEmployees(c, status, msg)
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/dipendenti")
}

// employeeForm is the HR data form of one employee.
type employeeForm struct {
	Employee   plans.Employee
	Categories []plans.EmployeeCategory
	HiredOn    string
	LeavesOn   string
	Error      string
}

func (u *UI) employeeFormData(c echo.Context) (employeeForm, uuid.UUID, error) {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return employeeForm{}, id, apperr.New(apperr.NotFound, "employee not found")
	}
	list, err := u.deps.Plans.Employees(ctx, p)
	if err != nil {
		return employeeForm{}, id, err
	}
	var f employeeForm
	found := false
	for _, e := range list {
		if e.UserID == id {
			f.Employee, found = e, true
		}
	}
	if !found {
		return f, id, apperr.New(apperr.NotFound, "employee not found")
	}
	if f.Categories, err = u.deps.Plans.Categories(ctx, p); err != nil {
		return f, id, err
	}
	if d := f.Employee.HiredOn; d != nil {
		f.HiredOn = d.Format(time.DateOnly)
	}
	if d := f.Employee.LeavesOn; d != nil {
		f.LeavesOn = d.Format(time.DateOnly)
	}
	return f, id, nil
}

func (u *UI) employeeEdit(c echo.Context) error {
	f, _, err := u.employeeFormData(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "plans_employee", u.page(c, f))
}

func (u *UI) employeeSave(c echo.Context) error {
	f, id, err := u.employeeFormData(c)
	if err != nil {
		return err
	}
	in := plans.EmployeeInput{UserID: id, Category: c.FormValue("category"), EmployeeNumber: c.FormValue("employee_number"),
		TaxCode: c.FormValue("tax_code")}
	in.PartTimePct, _ = strconv.Atoi(c.FormValue("part_time_pct"))
	f.HiredOn, f.LeavesOn = c.FormValue("hired_on"), c.FormValue("leaves_on")
	var bad string
	if f.HiredOn != "" {
		d, b := parseDate(f.HiredOn, "hired_on", bad)
		in.HiredOn, bad = &d, b
	}
	if f.LeavesOn != "" {
		d, b := parseDate(f.LeavesOn, "leaves_on", bad)
		in.LeavesOn, bad = &d, b
	}
	if bad == "" {
		_, err = u.deps.Plans.SaveEmployee(c.Request().Context(), CurrentPrincipal(c), in)
	} else {
		err = apperr.New(apperr.Invalid, "not a date").With("field", bad)
	}
	if err != nil {
		status, msg, err := u.plansFormError(c, err)
		if err != nil {
			return err
		}
		f.Error = msg
		f.Employee.Category, f.Employee.EmployeeNumber, f.Employee.TaxCode = in.Category, in.EmployeeNumber, in.TaxCode
		return u.r.render(c, status, "plans_employee", u.page(c, f))
	}
	return c.Redirect(http.StatusSeeOther, "/azienda/dipendenti")
}

// plansFormError is formError with the plans pages' own messages first
// (plans.form.<code>.<field>): "name" on a plan form is the plan's name,
// not a person's.
func (u *UI) plansFormError(c echo.Context, err error) (int, string, error) {
	status, msg, err2 := u.formError(c, err)
	if err2 != nil {
		return status, msg, err2
	}
	key := "plans.form." + string(apperr.CodeOf(err)) + "." + apperr.FieldOf(err)
	if m := u.cat.T(lang(c), key); m != key {
		msg = m
	}
	return status, msg, nil
}
