package webui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/identity"
)

// registerIdentity mounts sign-in, sign-out and the account pages.
func (u *UI) registerIdentity(e *echo.Echo) {
	if u.deps.Identity == nil {
		return
	}
	u.Handle(e, http.MethodGet, "/login", Public, u.loginPage)
	u.Handle(e, http.MethodPost, "/login", Public, u.login)
	u.Handle(e, http.MethodPost, "/logout", Public, u.logout)
	u.Handle(e, http.MethodGet, "/account", SignedIn, u.account)
}

// loginForm is what the sign-in page shows.
type loginForm struct {
	Email     string
	Next      string
	NeedTOTP  bool
	SignedOut bool
	Error     string // message key
}

func (u *UI) loginPage(c echo.Context) error {
	if CurrentPrincipal(c) != nil {
		return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("next")))
	}
	return u.r.render(c, http.StatusOK, "login", u.page(c, loginForm{Next: localPath(c.QueryParam("next")), SignedOut: c.QueryParam("out") == "1"}))
}

func (u *UI) login(c echo.Context) error {
	f := loginForm{Email: c.FormValue("email"), Next: localPath(c.FormValue("next"))}
	ctx := c.Request().Context()
	sess, err := u.deps.Identity.SignIn(ctx, identity.Credentials{
		Email: f.Email, Password: c.FormValue("password"), TOTP: c.FormValue("totp")})
	if err != nil {
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Code == apperr.Internal {
			return err
		}
		status := apperr.HTTPStatus(ae.Code)
		switch {
		case ae.Fields["totp_required"] == true:
			f.NeedTOTP, f.Error = true, "identity.login.totp_required"
		case ae.Code == apperr.RateLimited:
			f.Error = "identity.login.locked"
		default:
			f.NeedTOTP = c.FormValue("totp") != ""
			f.Error = "identity.login.failed"
		}
		return u.r.render(c, status, "login", u.page(c, f))
	}
	u.setSessionCookie(c, sess)
	if sess.NeedsTOTPSetup {
		return c.Redirect(http.StatusSeeOther, "/account/totp")
	}
	return c.Redirect(http.StatusSeeOther, f.Next)
}

func (u *UI) logout(c echo.Context) error {
	if ck, err := c.Cookie(u.sessionCookieName()); err == nil && ck.Value != "" {
		if err := u.deps.Identity.SignOut(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	u.clearSessionCookie(c)
	return c.Redirect(http.StatusSeeOther, "/login?out=1")
}

func (u *UI) account(c echo.Context) error {
	me, err := u.deps.Identity.Me(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	return u.r.render(c, http.StatusOK, "account", u.page(c, me))
}
