package webui

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/funding"
)

// The funding pages: a company admin's budget (balance, movements, top-up
// by card or bank transfer, open items), one top-up's page (Stripe sends
// the payer back there; it refreshes itself until the webhook has
// arrived), its receipt, and the platform admin's desk for bank receipts
// and open items.

func (u *UI) registerFunding(e *echo.Echo) {
	if u.deps.Funding == nil {
		return
	}
	hr := Roles(auth.RoleCompanyAdmin)
	u.Handle(e, http.MethodGet, "/budget", hr, u.budgetPage)
	u.Handle(e, http.MethodPost, "/budget/ricariche", hr, u.requestTopUp)
	both := Roles(auth.RoleCompanyAdmin, auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, "/budget/ricariche/:id", both, u.topUpPage)
	u.Handle(e, http.MethodGet, "/budget/ricariche/:id/ricevuta", both, u.topUpReceipt)
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, "/admin/ricariche", admin, u.fundingDesk)
	u.Handle(e, http.MethodPost, "/admin/ricariche/bonifici", admin, u.recordBankReceipt)
	u.Handle(e, http.MethodPost, "/admin/ricariche/bonifici/:id/conferma", admin, u.confirmBankReceipt)
	u.Handle(e, http.MethodPost, "/admin/ricariche/partite/:id", admin, u.resolveOpenItem)
	u.registerFundingAdmin(e)
}

// budgetView is the company admin's budget page.
type budgetView struct {
	Budget    funding.Budget
	Movements []funding.Movement
	TopUps    []funding.TopUp
	Closings  []funding.ContractEnd
	Settings  funding.Settings
	// The top-up form as typed.
	Amount, Channel string
	formError
}

// formError is what a refused funding form shows: a message next to each
// field at fault, all at once, and under "" (or the form's prefix) one
// about the form as a whole.
type formError struct{ Errors fieldErrors }

// ErrorAt is the message to show next to field, if it is at fault.
func (f formError) ErrorAt(field string) string { return f.Errors.At(field) }

// fundingRefused is the messages for a funding form that err refused:
// one for each field the domain names (the amount in cents is the typed
// "amount"), each under prefix+field; typos are the fields the web could
// not read, with their own message, which wins over the domain's (the
// domain saw them as empty).
func (u *UI) fundingRefused(lang, prefix string, err error, typos map[string]string) formError {
	out := fieldErrors{}
	var ae *apperr.Error
	fields := []string{apperr.FieldOf(err)}
	if errors.As(err, &ae) {
		if named, _ := ae.Fields["fields"].([]string); len(named) > 0 {
			fields = named
		}
	}
	for _, f := range fields {
		one := err
		if ae != nil && f != "" && f != apperr.FieldOf(err) {
			one = ae.With("field", f)
		}
		if f == "amount_cents" {
			f = "amount"
		}
		out[prefix+f] = u.fundingMessage(lang, one)
	}
	for f, key := range typos {
		out[prefix+f] = u.cat.T(lang, key)
	}
	return formError{out}
}

func (u *UI) budgetPage(c echo.Context) error {
	return u.renderBudget(c, http.StatusOK, budgetView{Channel: "card"})
}

func (u *UI) renderBudget(c echo.Context, status int, v budgetView) error {
	ctx, who := c.Request().Context(), CurrentPrincipal(c)
	var err error
	if v.Budget, err = u.deps.Funding.Budget(ctx, who, who.OrgID); err != nil {
		return err
	}
	if v.Movements, _, err = u.deps.Funding.Movements(ctx, who, who.OrgID, 0, 20); err != nil {
		return err
	}
	if v.TopUps, err = u.deps.Funding.TopUps(ctx, who, who.OrgID, 20); err != nil {
		return err
	}
	if v.Closings, err = u.deps.Funding.ContractEnds(ctx, who, who.OrgID); err != nil {
		return err
	}
	v.Settings = u.deps.Funding.Settings()
	return u.r.render(c, status, "funding_budget", u.page(c, v))
}

// requestTopUp reads the euro amount as typed ("1.500,00"): more than two
// decimals, or not a number, is refused naming the field, as is an amount
// outside the limits. A card top-up goes on to Stripe's page; a bank one
// to its page with the IBAN and the reference.
func (u *UI) requestTopUp(c echo.Context) error {
	v := budgetView{Amount: c.FormValue("amount"), Channel: c.FormValue("channel")}
	lng := lang(c)
	// An amount that is not one goes to the service as none, so the
	// other field is checked too.
	cents, ok := parseEuroText(v.Amount)
	typos := map[string]string{}
	if !ok || cents == 0 {
		cents, typos["amount"] = 0, "funding.form.amount.invalid"
	}
	ctx, who := c.Request().Context(), CurrentPrincipal(c)
	var t funding.TopUp
	var err error
	err = untilSettled(ctx, func() error {
		t, err = u.deps.Funding.RequestTopUp(ctx, who, funding.TopUpRequest{Channel: funding.Channel(v.Channel), Amount: cents},
			c.FormValue(formKeyField))
		return err
	})
	switch {
	case apperr.Is(err, apperr.Invalid) || formKeyMessage(err) != "":
		v.formError = u.fundingRefused(lng, "", err, typos)
		return u.renderBudget(c, http.StatusUnprocessableEntity, v)
	case apperr.Is(err, apperr.Unavailable):
		v.Errors = fieldErrors{"": u.cat.T(lng, "funding.form.unavailable")}
		return u.renderBudget(c, http.StatusServiceUnavailable, v)
	case err != nil:
		return err
	}
	if t.Channel == funding.Card && t.CheckoutURL != nil {
		return c.Redirect(http.StatusSeeOther, *t.CheckoutURL)
	}
	return c.Redirect(http.StatusSeeOther, funding.TopUpPath(t))
}

// topUpView is one top-up's page.
type topUpView struct {
	TopUp     funding.TopUp
	Receipts  []funding.BankReceipt
	Settings  funding.Settings
	Cancelled bool
}

func (u *UI) topUpPage(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "top-up not found")
	}
	ctx, who := c.Request().Context(), CurrentPrincipal(c)
	v := topUpView{Settings: u.deps.Funding.Settings(), Cancelled: c.QueryParam("cancelled") == "1"}
	if v.TopUp, err = u.deps.Funding.TopUp(ctx, who, id); err != nil {
		return err
	}
	if v.TopUp.Channel == funding.Bank {
		if v.Receipts, err = u.deps.Funding.BankReceipts(ctx, who, id); err != nil {
			return err
		}
	}
	if !v.TopUp.Settled() && !v.Cancelled {
		// The page asks again every few seconds until Stripe's event has
		// been handled: it resolves by itself, without JavaScript.
		c.Response().Header().Set("Refresh", "3")
	}
	return u.r.render(c, http.StatusOK, "funding_topup", u.page(c, v))
}

func (u *UI) topUpReceipt(c echo.Context) error {
	return u.servePDF(c, "ricevuta", u.deps.Funding.Receipt)
}

// servePDF answers the PDF that document makes for the object named by
// the path's id, as name-<id>.pdf shown in the browser.
func (u *UI) servePDF(c echo.Context, name string,
	document func(context.Context, *auth.Principal, uuid.UUID) ([]byte, error)) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "document not found")
	}
	pdf, err := document(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", `inline; filename="`+name+"-"+id.String()[:8]+`.pdf"`)
	return c.Blob(http.StatusOK, "application/pdf", pdf)
}

// deskView is the platform admin's funding desk.
type deskView struct {
	Awaiting  []funding.BankReceipt
	OpenItems []funding.OpenItem
	TopUps    []funding.TopUp
	Companies []funding.Company
	Today     time.Time
	Done      string
	// ContractEnd is the contract end just recorded (its statement's link).
	ContractEnd string
	// The receipt form, the contract end form and an open item's form
	// (its "id") as typed.
	Form, EndForm, ItemForm map[string]string
	formError
}

// Resolutions are the ways an open item is closed, in the order the desk
// offers them.
func (deskView) Resolutions() []string { return []string{"budget", "transfer", "write_off"} }

func (u *UI) fundingDesk(c echo.Context) error {
	return u.renderDesk(c, http.StatusOK, deskView{Done: c.QueryParam("fatto"), ContractEnd: c.QueryParam("chiusura")})
}

func (u *UI) renderDesk(c echo.Context, status int, v deskView) error {
	ctx, who := c.Request().Context(), CurrentPrincipal(c)
	var err error
	if v.Awaiting, err = u.deps.Funding.BankReceipts(ctx, who, uuid.Nil); err != nil {
		return err
	}
	if v.OpenItems, err = u.deps.Funding.OpenItems(ctx, who, uuid.Nil, true); err != nil {
		return err
	}
	if v.TopUps, err = u.deps.Funding.TopUps(ctx, who, uuid.Nil, 50); err != nil {
		return err
	}
	if v.Companies, err = u.deps.Funding.Companies(ctx, who); err != nil {
		return err
	}
	v.Today = time.Now()
	return u.r.render(c, status, "funding_admin", u.page(c, v))
}

func (u *UI) recordBankReceipt(c echo.Context) error {
	form := map[string]string{"reference": c.FormValue("reference"), "amount": c.FormValue("amount"),
		"cro": c.FormValue("cro"), "value_date": c.FormValue("value_date")}
	v := deskView{Form: form}
	// What the web cannot read goes to the service as empty, so every
	// other field is checked too.
	typos := map[string]string{}
	cents, ok := parseEuroText(form["amount"])
	if !ok || cents == 0 {
		cents, typos["amount"] = 0, "funding.form.amount.invalid"
	}
	vd, err := time.Parse(time.DateOnly, form["value_date"])
	if err != nil {
		typos["value_date"] = "funding.form.invalid.value_date"
	}
	_, err = u.deps.Funding.RecordBankReceipt(c.Request().Context(), CurrentPrincipal(c),
		funding.BankReceiptInput{Reference: form["reference"], Amount: cents, CRO: form["cro"], ValueDate: vd})
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		v.formError = u.fundingRefused(lang(c), "", err, typos)
		return u.renderDesk(c, http.StatusUnprocessableEntity, v)
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/ricariche?fatto=registrato")
}

func (u *UI) confirmBankReceipt(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "receipt not found")
	}
	if _, err := u.deps.Funding.ConfirmBankReceipt(c.Request().Context(), CurrentPrincipal(c), id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/ricariche?fatto=confermato")
}

func (u *UI) resolveOpenItem(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "open item not found")
	}
	r := funding.Resolution{How: c.FormValue("how"), CRO: c.FormValue("cro"), Note: c.FormValue("note")}
	_, err = u.deps.Funding.ResolveOpenItem(c.Request().Context(), CurrentPrincipal(c), id, r)
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.InsufficientFunds) {
		// The message goes next to the item's field at fault (how, cro),
		// or above its form ("item-<id>-"), with what was chosen kept.
		return u.renderDesk(c, http.StatusUnprocessableEntity, deskView{ItemForm: map[string]string{"id": id.String(), "how": r.How, "cro": r.CRO},
			formError: u.fundingRefused(lang(c), "item-"+id.String()+"-", err, nil)})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/ricariche?fatto=risolto")
}

// fundingMessage is the message for a refused funding form: funding's own
// ("funding.form.<code>.<field>", "funding.form.<code>"), else the
// general one.
func (u *UI) fundingMessage(lang string, err error) string {
	code := string(apperr.CodeOf(err))
	keys := []string{"funding.form." + code}
	if f := apperr.FieldOf(err); f != "" && formKeyMessage(err) == "" {
		keys = append([]string{"funding.form." + code + "." + f}, keys...)
	}
	for _, k := range keys {
		if msg := u.cat.T(lang, k); msg != k {
			return msg
		}
	}
	return u.formMessage(lang, err)
}
