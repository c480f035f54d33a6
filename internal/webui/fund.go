package webui

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
)

// The inclusion fund's pages: the dashboard and envelopes (fund managers
// and approvers), and a company's donations (company admins). Cases,
// interventions and payments have their own files (fund_*.go).

var (
	fundManagers = Roles(auth.RoleFundManager)
	fundStaff    = Roles(auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
)

func (u *UI) registerFund(e *echo.Echo) {
	if u.deps.Fund == nil {
		return
	}
	u.Handle(e, http.MethodGet, "/fondo", fundStaff, u.fundHome)
	u.Handle(e, http.MethodGet, "/fondo/buste", fundStaff, u.fundEnvelopes)
	u.Handle(e, http.MethodPost, "/fondo/buste/:theme", fundManagers, u.fundSetEnvelope)
	u.Handle(e, http.MethodPost, "/fondo/buste/:theme/accantona", fundManagers, u.fundEarmark)
	u.registerFundCases(e)
	u.registerFundManage(e)
	u.registerFundRights(e)
	company := Roles(auth.RoleCompanyAdmin)
	u.Handle(e, http.MethodGet, "/azienda/fondo", company, u.companyDonations)
	u.Handle(e, http.MethodPost, "/azienda/fondo", company, u.companyDonate)
}

// fundForm is what a fund page needs to show a refused form again: which
// form, which field, the message, and what was typed.
type fundForm struct {
	Form, Field, Error string
	// Errs are the messages by field when a form is refused for several
	// fields at once (the page shows them all).
	Errs  map[string]string
	Typed url.Values
	Done  string // message key of what just succeeded
}

// ErrorAt is the message to show on form at field ("" for the form's own).
func (f fundForm) ErrorAt(form, field string) string {
	if f.Form != form {
		return ""
	}
	if msg, ok := f.Errs[field]; ok {
		return msg
	}
	if f.Field == field {
		return f.Error
	}
	return ""
}

// FormError is the message of form when it is not about one field.
func (f fundForm) FormError(form string) string {
	if f.Form == form && f.Error != "" && f.Field == "" {
		return f.Error
	}
	return ""
}

// Value is what was typed in field of form, or def.
func (f fundForm) Value(form, field, def string) string {
	if f.Form == form && f.Typed != nil {
		return f.Typed.Get(field)
	}
	return def
}

// fundRefused turns a refusal of form into what the page shows, and the status
// to answer; internal errors go to the error page.
func (u *UI) fundRefused(c echo.Context, form string, err error) (fundForm, int, error) {
	code := apperr.CodeOf(err)
	if code == apperr.Internal {
		return fundForm{}, 0, err
	}
	typed, _ := c.FormParams()
	field := apperr.FieldOf(err)
	if code == apperr.InsufficientFunds {
		field = ""
	}
	f := fundForm{Form: form, Field: field, Error: u.fundMessage(lang(c), err), Typed: typed}
	// Every field the domain names gets its own message, at once.
	var ae *apperr.Error
	if errors.As(err, &ae) {
		if fields, _ := ae.Fields["fields"].([]string); len(fields) > 1 {
			f.Errs = map[string]string{}
			for _, name := range fields {
				f.Errs[name] = u.fundMessage(lang(c), ae.With("field", name))
			}
		}
	}
	return f, apperr.HTTPStatus(code), nil
}

// fundMessage is what to show in l next to a fund form that err refused:
// the fund's own message for the code and field (fund.form.<code>.<field>,
// fund.form.<code>), else the one every form uses. A refusal for lack of
// money says how much there is.
func (u *UI) fundMessage(l string, err error) string {
	code := apperr.CodeOf(err)
	var ae *apperr.Error
	if code == apperr.InsufficientFunds && errors.As(err, &ae) {
		if avail, ok := ae.Fields["available"]; ok {
			return fmt.Sprintf(u.cat.T(l, "fund.form.insufficient_funds"), formatEuro(toCents(avail), l))
		}
	}
	keys := []string{"fund.form." + string(code)}
	if f := apperr.FieldOf(err); f != "" {
		keys = append([]string{"fund.form." + string(code) + "." + f}, keys...)
	}
	for _, k := range keys {
		if msg := u.cat.T(l, k); msg != k {
			return msg
		}
	}
	return u.formMessage(l, err)
}

// toCents reads an amount from an error's details (a number, however it
// was decoded).
func toCents(v any) int64 {
	switch n := v.(type) {
	case int64:
		return n
	case int:
		return int64(n)
	case float64:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return 0
}

// done redirects to path telling the page what succeeded.
func done(c echo.Context, path, key string) error {
	sep := "?"
	if u, err := url.Parse(path); err == nil && u.RawQuery != "" {
		sep = "&"
	}
	return c.Redirect(http.StatusSeeOther, path+sep+"fatto="+url.QueryEscape(key))
}

// doneKey is the message key a redirect carried, if it is one of ours.
func doneKey(c echo.Context) string {
	k := c.QueryParam("fatto")
	if len(k) > 0 && len(k) < 80 {
		return "fund.done." + k
	}
	return ""
}

// parseAmount reads a euro amount typed in field.
func parseAmount(c echo.Context, field string) (int64, error) {
	cents, ok := parseEuroText(c.FormValue(field))
	if !ok {
		return 0, apperr.New(apperr.Invalid, "not an amount").With("field", field)
	}
	return cents, nil
}

// fundHome is where the fund's staff start: the links their roles use.
func (u *UI) fundHome(c echo.Context) error {
	p := CurrentPrincipal(c)
	return u.r.render(c, http.StatusOK, "fund_home", u.page(c, struct{ Manager, Approver, Worker bool }{
		p.Has(auth.RoleFundManager), p.Has(auth.RoleFundApprover), p.Has(auth.RoleCaseWorker)}))
}

type envelopesPage struct {
	fundForm
	Envelopes []fund.Envelope
	Missing   []fund.Theme // themes without an envelope yet
	Manager   bool
	Pool      int64
}

func (u *UI) fundEnvelopes(c echo.Context) error {
	return u.renderEnvelopes(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderEnvelopes(c echo.Context, status int, f fundForm) error {
	ctx := c.Request().Context()
	p := CurrentPrincipal(c)
	list, err := u.deps.Fund.Envelopes(ctx, p)
	if err != nil {
		return err
	}
	page := envelopesPage{fundForm: f, Envelopes: list, Manager: p.Has(auth.RoleFundManager)}
	have := map[fund.Theme]bool{}
	for _, e := range list {
		have[e.Theme] = true
	}
	for _, t := range fund.Themes {
		if !have[t] {
			page.Missing = append(page.Missing, t)
		}
	}
	if page.Manager {
		pool, err := u.deps.Fund.Pool(ctx, p)
		if err != nil {
			return err
		}
		page.Pool = pool.Available
	}
	return u.r.render(c, status, "fund_envelopes", u.page(c, page))
}

func (u *UI) fundSetEnvelope(c echo.Context) error {
	theme := c.Param("theme")
	cap, err := parseAmount(c, "yearly_cap")
	if err == nil {
		_, err = u.deps.Fund.SetEnvelope(c.Request().Context(), CurrentPrincipal(c), fund.Theme(theme), cap)
	}
	if err != nil {
		f, status, err := u.fundRefused(c, "cap-"+theme, err)
		if err != nil {
			return err
		}
		return u.renderEnvelopes(c, status, f)
	}
	return done(c, "/fondo/buste", "envelope_saved")
}

func (u *UI) fundEarmark(c echo.Context) error {
	theme := c.Param("theme")
	ctx := c.Request().Context()
	amount, err := parseAmount(c, "amount")
	if err == nil {
		err = untilSettled(ctx, func() error {
			_, err := u.deps.Fund.Earmark(ctx, CurrentPrincipal(c), fund.Theme(theme), amount, c.FormValue(formKeyField))
			return err
		})
	}
	if err != nil {
		f, status, err := u.fundRefused(c, "earmark-"+theme, err)
		if err != nil {
			return err
		}
		return u.renderEnvelopes(c, status, f)
	}
	return done(c, "/fondo/buste", "earmarked")
}

type donationsPage struct {
	fundForm
	Funds     []fund.FundRef
	Donations []fund.Donation
}

func (u *UI) companyDonations(c echo.Context) error {
	return u.renderDonations(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

func (u *UI) renderDonations(c echo.Context, status int, f fundForm) error {
	ctx := c.Request().Context()
	funds, err := u.deps.Fund.Funds(ctx)
	if err != nil {
		return err
	}
	list, err := u.deps.Fund.Donations(ctx, CurrentPrincipal(c))
	if err != nil {
		return err
	}
	return u.r.render(c, status, "fund_donations", u.page(c, donationsPage{fundForm: f, Funds: funds, Donations: list}))
}

func (u *UI) companyDonate(c echo.Context) error {
	ctx := c.Request().Context()
	amount, amountErr := parseAmount(c, "amount")
	fundID, fundErr := uuid.Parse(c.FormValue("fund"))
	if fundErr != nil {
		fundErr = apperr.New(apperr.Invalid, "choose a fund").With("field", "fund")
	}
	err := apperr.AllInvalid(fundErr, amountErr)
	if err == nil {
		err = untilSettled(ctx, func() error {
			_, err := u.deps.Fund.Donate(ctx, CurrentPrincipal(c), fundID, amount, c.FormValue(formKeyField))
			return err
		})
	}
	if err != nil {
		f, status, err := u.fundRefused(c, "donate", err)
		if err != nil {
			return err
		}
		return u.renderDonations(c, status, f)
	}
	return done(c, "/azienda/fondo", "donated")
}
