package webui

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/fund"
)

// The data-subject requests page (fund managers): a person who was helped
// asks for their data (GDPR art. 15 and 20) or to be forgotten (art. 17).
// The manager finds them by the pseudonym the case worker gives, downloads
// everything the fund holds about them, or erases their identity.

const rightsPath = "/fondo/richieste"

func (u *UI) registerFundRights(e *echo.Echo) {
	u.Handle(e, http.MethodGet, rightsPath, fundManagers, u.fundRights)
	u.Handle(e, http.MethodGet, rightsPath+"/:id/dati", fundManagers, u.fundRightsExport)
	u.Handle(e, http.MethodPost, rightsPath+"/:id/cancella", fundManagers, u.fundRightsErase)
}

type rightsPage struct {
	fundForm
	Pseudonym   string
	Beneficiary *fund.BeneficiaryRef
	// CanExport: the working session's purpose is a data subject's request,
	// which an export needs.
	CanExport bool
	// PurposeLink changes the session's purpose and comes back here.
	PurposeLink string
}

func (u *UI) fundRights(c echo.Context) error {
	return u.renderRights(c, http.StatusOK, fundForm{Done: doneKey(c)})
}

// rightsURL is the page showing the beneficiary with pseudonym.
func rightsURL(pseudonym string) string {
	return rightsPath + "?pseudonimo=" + url.QueryEscape(pseudonym)
}

func (u *UI) renderRights(c echo.Context, status int, f fundForm) error {
	ctx := c.Request().Context()
	page := rightsPage{fundForm: f, Pseudonym: strings.TrimSpace(c.QueryParam("pseudonimo"))}
	if page.Pseudonym != "" {
		b, err := u.deps.Fund.FindBeneficiary(ctx, CurrentPrincipal(c), page.Pseudonym)
		switch {
		case apperr.Is(err, apperr.NotFound):
			page.fundForm = fundForm{Form: "find", Field: "pseudonym", Error: u.fundMessage(lang(c), err)}
			status = http.StatusNotFound
		case err != nil:
			return err
		default:
			page.Beneficiary = &b
			page.Pseudonym = b.Pseudonym
		}
	}
	r, _, err := u.fundReader(c)
	if err != nil {
		return err
	}
	page.CanExport = r.Purpose == fund.PurposeDataRequest
	page.PurposeLink = "/fondo/scopo?next=" + url.QueryEscape(rightsURL(page.Pseudonym))
	return u.r.render(c, status, "fund_rights", u.page(c, page))
}

// fundRightsExport downloads everything the fund holds about one
// beneficiary as JSON, logged as an export with the session's purpose.
func (u *UI) fundRightsExport(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "beneficiary not found")
	}
	r, _, err := u.fundReader(c)
	if err != nil {
		return err
	}
	if r.Purpose != fund.PurposeDataRequest {
		// Say why first; the purpose page brings the manager back.
		return c.Redirect(http.StatusSeeOther, "/fondo/scopo?next="+url.QueryEscape(c.Request().URL.RequestURI()))
	}
	out, err := u.deps.Fund.ExportBeneficiary(c.Request().Context(), r, id)
	if err != nil {
		return err
	}
	body, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		return err
	}
	h := c.Response().Header()
	h.Set("Content-Disposition", `attachment; filename="dati-`+out.Pseudonym+`.json"`)
	h.Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "application/json; charset=utf-8", body)
}

// fundRightsErase erases a beneficiary's identity after the manager
// confirms and says why; a refusal shows every problem at once.
func (u *UI) fundRightsErase(c echo.Context) error {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return apperr.New(apperr.NotFound, "beneficiary not found")
	}
	pseudonym := c.FormValue("pseudonym")
	c.QueryParams().Set("pseudonimo", pseudonym)
	typed, _ := c.FormParams()
	errs := map[string]string{}
	l := lang(c)
	if c.FormValue("confirm") != "yes" {
		errs["confirm"] = u.cat.T(l, "fund.rights.erase.confirm_needed")
	}
	reason := strings.TrimSpace(c.FormValue("reason"))
	if n := len([]rune(reason)); n < 5 || n > 500 {
		errs["reason"] = u.cat.T(l, "fund.rights.erase.reason_needed")
	}
	if len(errs) > 0 {
		return u.renderRights(c, http.StatusBadRequest, fundForm{Form: "erase", Errs: errs, Typed: typed})
	}
	ctx := c.Request().Context()
	if err := u.deps.Fund.EraseIdentity(ctx, CurrentPrincipal(c), id, reason); err != nil {
		// The same form sent twice: the first one erased it.
		if b, ferr := u.deps.Fund.FindBeneficiary(ctx, CurrentPrincipal(c), pseudonym); apperr.Is(err, apperr.NotFound) && ferr == nil && b.ID == id && b.ErasedAt != nil {
			return done(c, rightsURL(b.Pseudonym), "identity_erased")
		}
		f, status, ferr := u.fundRefused(c, "erase", err)
		if ferr != nil {
			return ferr
		}
		return u.renderRights(c, status, f)
	}
	return done(c, rightsURL(pseudonym), "identity_erased")
}
