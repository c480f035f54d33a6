package webui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The platform admin's treasury page: the money on the Stripe balance and
// on the bank account as the ledger has it, the moves between the two
// (the Stripe account uses manual payouts), and the Connect fees booked.

const treasuryDesk = "/admin/tesoreria"

func (u *UI) registerTreasury(e *echo.Echo) {
	admin := Roles(auth.RolePlatformAdmin)
	u.Handle(e, http.MethodGet, treasuryDesk, admin, u.treasuryPage)
	u.Handle(e, http.MethodPost, treasuryDesk, admin, u.treasuryMove)
}

// treasuryForm is the move form as typed.
type treasuryForm struct {
	Direction, Amount, Reference, Note string
}

type treasuryView struct {
	redemption.Treasury
	Form         treasuryForm
	Error, Field string
	Done         bool
}

func (u *UI) treasuryPage(c echo.Context) error {
	return u.renderTreasury(c, http.StatusOK, treasuryView{Done: c.QueryParam("fatto") == "1",
		Form: treasuryForm{Direction: redemption.ToBank}})
}

func (u *UI) renderTreasury(c echo.Context, status int, v treasuryView) error {
	t, err := u.deps.Redemption.TreasuryNow(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	v.Treasury = t
	return u.r.render(c, status, "redemption_treasury", u.page(c, v))
}

func (u *UI) treasuryMove(c echo.Context) error {
	l := lang(c)
	f := treasuryForm{Direction: c.FormValue("direction"), Amount: c.FormValue("amount"), Reference: c.FormValue("reference"),
		Note: c.FormValue("note")}
	refuse := func(field, msg string) error {
		return u.renderTreasury(c, http.StatusUnprocessableEntity, treasuryView{Form: f, Field: field, Error: msg})
	}
	cents, ok := parseEuroText(f.Amount)
	if !ok && euroTooLarge(f.Amount) {
		return refuse("amount", u.cat.T(l, "redemption.error.too_large"))
	}
	if !ok || cents <= 0 {
		return refuse("amount", u.cat.T(l, "redemption.treasury.bad_amount"))
	}
	_, err := u.deps.Redemption.RecordTreasuryMove(c.Request().Context(), CurrentPrincipal(c), redemption.TreasuryMoveInput{
		Direction: f.Direction, AmountCents: cents, Reference: f.Reference, Note: f.Note}, c.FormValue(formKeyField))
	var ae *apperr.Error
	if shownRefusal(err) && errors.As(err, &ae) {
		field, _ := ae.Fields["field"].(string)
		if reasonOf(err) == "more_than_held" {
			avail, _ := ae.Fields["available"].(int64)
			return refuse(field, u.cat.T(l, "redemption.error.more_than_held")+" "+formatEuro(avail, l)+".")
		}
		return refuse(field, u.redemptionMessage(l, err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, treasuryDesk+"?fatto=1")
}
