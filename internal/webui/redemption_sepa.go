package webui

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The platform admin's SEPA desk for provider payouts: the payouts
// waiting for a bank transfer, the files (download, executed, a returned
// transfer), and the provider's own bank account on its payouts page.

const sepaDesk = "/admin/pagamenti-erogatori"

func (u *UI) registerPayoutSEPA(e *echo.Echo) {
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, sepaDesk, admin, u.sepaDesk)
	u.Handle(e, http.MethodPost, sepaDesk, admin, u.sepaExport)
	u.Handle(e, http.MethodGet, sepaDesk+"/:id", admin, u.sepaBatch)
	u.Handle(e, http.MethodGet, sepaDesk+"/:id/file", admin, u.sepaFile)
	u.Handle(e, http.MethodPost, sepaDesk+"/:id/eseguito", admin, u.sepaConfirm)
	u.Handle(e, http.MethodPost, sepaDesk+"/:id/resi/:payout", admin, u.sepaReturn)
	u.Handle(e, http.MethodPost, "/erogatore/pagamenti/conto", Roles(auth.RoleProviderStaff), u.bankAccountSave)
}

type sepaDeskView struct {
	Waiting     []redemption.SEPAPayout
	Batches     []redemption.PayoutBatch
	ExecutionOn string
	Error       string
}

func (u *UI) sepaDesk(c echo.Context) error {
	return u.renderSEPADesk(c, http.StatusOK, time.Now().AddDate(0, 0, 1).Format(time.DateOnly), "")
}

func (u *UI) renderSEPADesk(c echo.Context, status int, executionOn, errMsg string) error {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	v := sepaDeskView{ExecutionOn: executionOn, Error: errMsg}
	var err error
	if v.Waiting, err = u.deps.Redemption.WaitingSEPA(ctx, p); err != nil {
		return err
	}
	if v.Batches, err = u.deps.Redemption.PayoutBatches(ctx, p); err != nil {
		return err
	}
	return u.r.render(c, status, "redemption_sepa", u.page(c, v))
}

func (u *UI) sepaExport(c echo.Context) error {
	day := c.FormValue("execution_on")
	on, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return u.renderSEPADesk(c, http.StatusUnprocessableEntity, day, u.cat.T(lang(c), "redemption.sepa.execution_on"))
	}
	b, err := u.deps.Redemption.ExportPayouts(c.Request().Context(), CurrentPrincipal(c), on, c.FormValue(formKeyField))
	if shownRefusal(err) {
		return u.renderSEPADesk(c, http.StatusUnprocessableEntity, day, u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, sepaDesk+"/"+b.ID.String())
}

func batchID(c echo.Context) (uuid.UUID, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return id, apperr.New(apperr.NotFound, "payout file not found")
	}
	return id, nil
}

func (u *UI) sepaBatch(c echo.Context) error {
	return u.renderSEPABatch(c, http.StatusOK, c.QueryParam("fatto"), "")
}

func (u *UI) renderSEPABatch(c echo.Context, status int, done, errMsg string) error {
	id, err := batchID(c)
	if err != nil {
		return err
	}
	b, err := u.deps.Redemption.PayoutBatch(c.Request().Context(), CurrentPrincipal(c), id)
	if err != nil {
		return err
	}
	if done != "" {
		done = "redemption.sepa.done." + done
	}
	return u.r.render(c, status, "redemption_sepa_batch", u.page(c, struct {
		Batch       redemption.PayoutBatch
		Done, Error string
	}{b, done, errMsg}))
}

func (u *UI) sepaFile(c echo.Context) error {
	id, err := batchID(c)
	if err != nil {
		return err
	}
	name, x, err := u.deps.Redemption.PayoutBatchFile(c.Request().Context(), CurrentPrincipal(c), id)
	if shownRefusal(err) {
		return u.renderSEPABatch(c, http.StatusUnprocessableEntity, "", u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	c.Response().Header().Set(echo.HeaderContentDisposition, `attachment; filename="`+name+`"`)
	return c.Blob(http.StatusOK, "application/xml", x)
}

func (u *UI) sepaConfirm(c echo.Context) error {
	id, err := batchID(c)
	if err != nil {
		return err
	}
	_, err = u.deps.Redemption.ConfirmPayoutBatch(c.Request().Context(), CurrentPrincipal(c), id)
	return u.afterSEPA(c, id, "executed", err)
}

func (u *UI) sepaReturn(c echo.Context) error {
	id, err := batchID(c)
	if err != nil {
		return err
	}
	po, err := uuid.Parse(c.Param("payout"))
	if err != nil {
		return apperr.New(apperr.NotFound, "payout not found")
	}
	_, err = u.deps.Redemption.ReturnPayout(c.Request().Context(), CurrentPrincipal(c), po, c.FormValue("reason"))
	return u.afterSEPA(c, id, "returned", err)
}

// afterSEPA shows a refusal on the file's page, or goes back to it.
func (u *UI) afterSEPA(c echo.Context, id uuid.UUID, done string, err error) error {
	if shownRefusal(err) {
		return u.renderSEPABatch(c, http.StatusUnprocessableEntity, "", u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, sepaDesk+"/"+id.String()+"?fatto="+done)
}

func (u *UI) bankAccountSave(c echo.Context) error {
	_, err := u.deps.Redemption.SetBankAccount(c.Request().Context(), CurrentPrincipal(c), c.FormValue("holder"), c.FormValue("iban"))
	if shownRefusal(err) {
		return u.renderPayouts(c, http.StatusUnprocessableEntity, "", u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore/pagamenti?conto=1")
}
