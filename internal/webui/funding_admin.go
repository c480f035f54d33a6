package webui

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/funding"
)

// The platform admin's reconciliation page and the contract end.

func (u *UI) registerFundingAdmin(e *echo.Echo) {
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, "/admin/ricariche/riconciliazione", admin, u.reconciliationPage)
	u.Handle(e, http.MethodPost, "/admin/ricariche/riconciliazione", admin, u.reconciliationPage)
	u.Handle(e, http.MethodPost, "/admin/ricariche/fine-contratto", admin, u.endContract)
	u.Handle(e, http.MethodGet, "/admin/ricariche/contabilita.csv", admin, u.accountingCSV)
	both := Roles(auth.RoleCompanyAdmin, auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, "/budget/chiusure/:id/estratto", both, u.contractEndStatement)
}

// reconView is the reconciliation page: the period asked for, the
// report, and an error about the period or the statement.
type reconView struct {
	From, To string
	Report   *funding.Reconciliation
	formError
}

// reconciliationPage shows the form and, once a period is given, the
// reconciliation; a POST also carries a bank statement (CSV) to match.
func (u *UI) reconciliationPage(c echo.Context) error {
	now := time.Now()
	v := reconView{From: c.FormValue("dal"), To: c.FormValue("al")}
	if v.From == "" && v.To == "" && c.Request().Method == http.MethodGet {
		v.From, v.To = now.AddDate(0, 0, -7).Format(time.DateOnly), now.AddDate(0, 0, 1).Format(time.DateOnly)
		return u.r.render(c, http.StatusOK, "funding_reconciliation", u.page(c, v))
	}
	lng := lang(c)
	// The period and the statement are both checked before refusing.
	v.Errors = fieldErrors{}
	from, err1 := time.Parse(time.DateOnly, v.From)
	to, err2 := time.Parse(time.DateOnly, v.To)
	if err1 != nil || err2 != nil {
		v.Errors["to"] = u.cat.T(lng, "funding.recon.period.invalid")
	}
	var lines []funding.StatementLine
	if fh, err := c.FormFile("estratto"); err == nil {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		data, err := io.ReadAll(io.LimitReader(f, 8<<20))
		f.Close()
		if err != nil {
			return err
		}
		if lines, err = funding.ParseStatement(data); err != nil {
			var ae *apperr.Error
			line := 0
			if errors.As(err, &ae) {
				line, _ = ae.Fields["line"].(int)
			}
			v.Errors["statement"] = fmt.Sprintf(u.cat.T(lng, "funding.recon.statement.invalid"), line)
		}
	}
	if len(v.Errors) > 0 {
		return u.r.render(c, http.StatusUnprocessableEntity, "funding_reconciliation", u.page(c, v))
	}
	r, err := u.deps.Funding.Reconcile(c.Request().Context(), CurrentPrincipal(c), from, to, lines)
	if apperr.Is(err, apperr.Invalid) {
		v.Errors["to"] = u.fundingMessage(lng, err)
		return u.r.render(c, http.StatusUnprocessableEntity, "funding_reconciliation", u.page(c, v))
	}
	if err != nil {
		return err
	}
	v.Report = &r
	return u.r.render(c, http.StatusOK, "funding_reconciliation", u.page(c, v))
}

func (u *UI) endContract(c echo.Context) error {
	form := map[string]string{"company_id": c.FormValue("company_id"), "iban": c.FormValue("iban"), "cro": c.FormValue("cro"),
		"value_date": c.FormValue("value_date"), "note": c.FormValue("note")}
	company, _ := uuid.Parse(form["company_id"])
	// A date the web cannot read goes to the service as none, so every
	// other field is checked too.
	typos := map[string]string{}
	vd, err := time.Parse(time.DateOnly, form["value_date"])
	if err != nil {
		typos["value_date"] = "funding.form.invalid.value_date"
	}
	ce, err := u.deps.Funding.EndContract(c.Request().Context(), CurrentPrincipal(c), funding.ContractEndInput{CompanyID: company,
		IBAN: form["iban"], CRO: form["cro"], ValueDate: vd, Note: form["note"]})
	if apperr.Is(err, apperr.Invalid) || apperr.Is(err, apperr.Conflict) {
		return u.renderDesk(c, http.StatusUnprocessableEntity, deskView{EndForm: form, formError: u.fundingRefused(lang(c), "end-", err, typos)})
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/admin/ricariche?fatto=chiuso&chiusura="+ce.ID.String())
}

func (u *UI) contractEndStatement(c echo.Context) error {
	return u.servePDF(c, "estratto-chiusura", u.deps.Funding.ContractEndStatement)
}

// accountingCSV downloads the accounting export of ?dal= to ?al= (default
// the last 30 days): top-ups, Stripe's fees, refunds and disputes, for the
// operator's accounting system, which issues the e-invoices.
func (u *UI) accountingCSV(c echo.Context) error {
	now := time.Now()
	from, to := now.AddDate(0, 0, -30), now.AddDate(0, 0, 1)
	var err error
	if v := c.QueryParam("dal"); v != "" {
		if from, err = time.Parse(time.DateOnly, v); err != nil {
			return apperr.New(apperr.Invalid, "not a date").With("field", "dal")
		}
	}
	if v := c.QueryParam("al"); v != "" {
		if to, err = time.Parse(time.DateOnly, v); err != nil {
			return apperr.New(apperr.Invalid, "not a date").With("field", "al")
		}
	}
	var b strings.Builder
	if err := u.deps.Funding.WriteAccountingCSV(c.Request().Context(), CurrentPrincipal(c), from, to, &b); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="contabilita-%s-%s.csv"`,
		from.Format(time.DateOnly), to.Format(time.DateOnly)))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}
