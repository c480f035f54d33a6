package webui

import (
	"fmt"
	"net/http"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
	"github.com/reciproca/reciproca/internal/redemption"
)

// registerPayouts mounts the provider's payouts and statements.
func (u *UI) registerPayouts(e *echo.Echo) {
	staff := Roles(auth.RoleProviderStaff)
	u.Handle(e, http.MethodGet, "/erogatore/pagamenti", staff, u.payouts)
	u.Handle(e, http.MethodPost, "/erogatore/pagamenti", staff, u.payoutRequest)
	u.Handle(e, http.MethodGet, "/erogatore/pagamenti/:id", staff, u.payoutStatement)
	u.Handle(e, http.MethodGet, "/erogatore/pagamenti/:id/csv", staff, u.payoutStatementCSV)
	u.registerPayoutSEPA(e)
	u.registerTreasury(e)
}

func (u *UI) payouts(c echo.Context) error {
	notice := ""
	switch {
	case c.QueryParam("richiesto") == "1":
		notice = "redemption.payouts.requested"
	case c.QueryParam("conto") == "1":
		notice = "redemption.payouts.account_saved"
	}
	return u.renderPayouts(c, http.StatusOK, notice, "")
}

func (u *UI) renderPayouts(c echo.Context, status int, notice, errMsg string) error {
	ctx, p := c.Request().Context(), CurrentPrincipal(c)
	list, err := u.deps.Redemption.Payouts(ctx, p)
	if err != nil {
		return err
	}
	owed, err := u.deps.Redemption.Owed(ctx, p)
	if err != nil {
		return err
	}
	account, err := u.deps.Redemption.BankAccount(ctx, p)
	if err != nil {
		return err
	}
	failures, err := u.deps.Redemption.BankFailures(ctx, p)
	if err != nil {
		return err
	}
	return u.r.render(c, status, "redemption_payouts", u.page(c, struct {
		Payouts       []redemption.Payout
		Failures      []redemption.BankFailure
		Owed, Minimum int64
		Account       *redemption.BankAccount
		Notice, Error string
	}{list, failures, owed, u.deps.Redemption.Config().MinPayoutCents, account, notice, errMsg}))
}

func (u *UI) payoutRequest(c echo.Context) error {
	_, err := u.deps.Redemption.RequestPayout(c.Request().Context(), CurrentPrincipal(c))
	if shownRefusal(err) {
		return u.renderPayouts(c, http.StatusUnprocessableEntity, "", u.redemptionMessage(lang(c), err))
	}
	if err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, "/erogatore/pagamenti?richiesto=1")
}

func (u *UI) statement(c echo.Context) (redemption.Statement, error) {
	id, err := uuid.Parse(c.Param("id"))
	if err != nil {
		return redemption.Statement{}, apperr.New(apperr.NotFound, "payout not found")
	}
	return u.deps.Redemption.PayoutStatement(c.Request().Context(), CurrentPrincipal(c), id)
}

func (u *UI) payoutStatement(c echo.Context) error {
	st, err := u.statement(c)
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "redemption_statement", u.page(c, st))
}

// payoutStatementCSV is the statement as a spreadsheet: one row per
// voucher, amounts in euro with a decimal comma (Italian Excel).
func (u *UI) payoutStatementCSV(c echo.Context) error {
	st, err := u.statement(c)
	if err != nil {
		return err
	}
	l := lang(c)
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="pagamento-%s.csv"`, st.Payout.CreatedAt.In(italianTime).Format("2006-01-02")))
	c.Response().WriteHeader(http.StatusOK)
	w := csvfile.NewWriter(c.Response())
	money := func(v int64) string { return formatEuroPlain(v, l) }
	_ = w.Write(u.cat.T(l, "redemption.voucher.code"), u.cat.T(l, "redemption.voucher.service"), u.cat.T(l, "redemption.payouts.date"),
		u.cat.T(l, "redemption.payouts.gross"), u.cat.T(l, "redemption.payouts.fund"), u.cat.T(l, "redemption.payouts.pledge"),
		u.cat.T(l, "redemption.payouts.fee"), u.cat.T(l, "redemption.voucher.refunded"))
	for _, v := range st.Vouchers {
		var fund, fee int64
		if v.FundCents != nil {
			fund = *v.FundCents
		}
		if v.FeeCents != nil {
			fee = *v.FeeCents
		}
		_ = w.Write(v.DisplayCode(), v.OfferingTitle, formatTime(v.ResolvedAt, dateLayout(l)), money(v.AmountCents), money(fund),
			money(v.PledgeCents), money(fee), money(v.RefundedCents))
	}
	_ = w.Write(u.cat.T(l, "redemption.payouts.total"), "", "", money(st.Gross), money(st.Fund), money(st.Pledge), money(st.Fee), money(st.Refunded))
	return w.Flush()
}

// formatEuroPlain writes cents as a number for spreadsheets: "1234,50"
// in Italian, "1234.50" in English.
func formatEuroPlain(cents int64, lang string) string {
	sign := ""
	if cents < 0 {
		sign, cents = "-", -cents
	}
	sep := ","
	if lang == "en" {
		sep = "."
	}
	return fmt.Sprintf("%s%d%s%02d", sign, cents/100, sep, cents%100)
}
