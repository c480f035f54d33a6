package webui

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
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
	u.Handle(e, http.MethodGet, "/login/unlock", Public, u.unlockPage)
	u.Handle(e, http.MethodPost, "/login/unlock", Public, u.unlock)
	u.Handle(e, http.MethodGet, "/account", SignedIn, u.account)
	u.Handle(e, http.MethodPost, "/account/password", SignedIn, u.changePassword)
	u.Handle(e, http.MethodGet, "/account/totp", SignedIn, u.totpPage)
	u.Handle(e, http.MethodPost, "/account/totp", SignedIn, u.totpConfirm)
	u.Handle(e, http.MethodGet, "/invite", Public, u.invitePage)
	u.Handle(e, http.MethodPost, "/invite", Public, u.acceptInvite)
	u.Handle(e, http.MethodGet, "/password/forgot", Public, u.forgotPage)
	u.Handle(e, http.MethodPost, "/password/forgot", Public, u.forgot)
	u.Handle(e, http.MethodGet, "/password/reset", Public, u.resetPage)
	u.Handle(e, http.MethodPost, "/password/reset", Public, u.reset)

	admins := Roles(auth.AdminRoles...)
	u.Handle(e, http.MethodGet, "/users", admins, u.users)
	u.Handle(e, http.MethodPost, "/users/invite", admins, u.inviteUser)
	u.Handle(e, http.MethodPost, "/users/import", admins, u.importUsers)
	u.Handle(e, http.MethodGet, "/users/import/:id", admins, u.importStatus)
	u.Handle(e, http.MethodGet, "/users/:id", admins, u.user)
	u.Handle(e, http.MethodPost, "/users/:id/roles", admins, u.updateRoles)
	u.Handle(e, http.MethodPost, "/users/:id/status", admins, u.updateStatus)
	u.Handle(e, http.MethodGet, "/admin/audit", Roles(auth.RolePlatformAdmin), u.auditLog)
	u.Handle(e, http.MethodGet, "/admin/organisations", Roles(auth.RolePlatformAdmin), u.organisations)
	u.Handle(e, http.MethodPost, "/admin/organisations", Roles(auth.RolePlatformAdmin), u.createOrganisation)
	u.Handle(e, http.MethodGet, "/admin/organisations/:id", Roles(auth.RolePlatformAdmin), u.organisation)
	u.Handle(e, http.MethodPost, "/admin/organisations/:id/invite", Roles(auth.RolePlatformAdmin), u.inviteIntoOrganisation)
	if u.deps.Dev {
		u.Handle(e, http.MethodGet, "/dev/mail", Public, u.devMail)
	}
	u.addHome("/users", "home.link.users", "home.link.users.text", auth.RoleCompanyAdmin, auth.RoleProviderStaff, auth.RoleFundManager)
	u.addHome("/admin/organisations", "identity.orgs.title", "home.link.orgs.text", auth.RolePlatformAdmin)
	u.addHome("/admin/audit", "identity.audit.title", "home.link.audit.text", auth.RolePlatformAdmin)
	u.addHome("/account", "identity.account.title", "home.link.account.text", auth.AllRoles...)
}

// nextPage is where to go after signing in: next when it is a path on
// this site, else the person's home page.
func nextPage(next string) string {
	if next == "" {
		return homePath
	}
	return localPath(next)
}

// loginForm is what the sign-in page shows. With NeedTOTP it is the
// second step: the password was right, and the page asks calmly for the
// code, carrying what was typed (the page is never cached: no-store).
type loginForm struct {
	Email     string
	Password  string // the second step's, sent again with the code
	Next      string
	NeedTOTP  bool
	Notice    string // message key
	Error     string // shown above the form, in the person's language
	CodeError string // the second step's: shown next to the code
}

func (u *UI) loginPage(c echo.Context) error {
	if CurrentPrincipal(c) != nil {
		return c.Redirect(http.StatusSeeOther, nextPage(c.QueryParam("next")))
	}
	f := loginForm{Next: nextPage(c.QueryParam("next"))}
	for param, key := range map[string]string{"out": "identity.logout.done", "welcome": "identity.login.welcome", "reset": "identity.login.reset_done",
		"unlocked": "identity.login.unlocked"} {
		if c.QueryParam(param) == "1" {
			f.Notice = key
		}
	}
	return u.r.render(c, http.StatusOK, "login", u.page(c, f))
}

func (u *UI) login(c echo.Context) error {
	f := loginForm{Email: c.FormValue("email"), Next: nextPage(c.FormValue("next"))}
	ctx := c.Request().Context()
	cr := identity.Credentials{Email: f.Email, Password: c.FormValue("password"), TOTP: c.FormValue("totp")}
	if ck, err := c.Cookie(u.deviceCookieName()); err == nil {
		cr.Device = ck.Value
	}
	sess, err := u.deps.Identity.SignIn(ctx, cr)
	if err != nil {
		code := apperr.CodeOf(err)
		if code == apperr.Internal {
			return err
		}
		switch {
		case errors.Is(err, identity.ErrSecondFactorRequired):
			// Not a mistake: the second step, asked for calmly.
			f.NeedTOTP, f.Password = true, cr.Password
			return u.r.render(c, http.StatusOK, "login", u.page(c, f))
		case code == apperr.RateLimited:
			f.Error = u.cat.T(lang(c), "identity.login.locked")
		case c.FormValue("step") == "code":
			// A wrong code: the same step again, the message by the code.
			f.NeedTOTP, f.Password, f.CodeError = true, cr.Password, u.cat.T(lang(c), "identity.login.code_wrong")
		default:
			f.Error = u.cat.T(lang(c), "identity.login.failed")
		}
		return u.r.render(c, apperr.HTTPStatus(code), "login", u.page(c, f))
	}
	// A session this browser had before is ended, not left behind.
	if ck, err := c.Cookie(u.sessionCookieName()); err == nil && ck.Value != "" {
		if err := u.deps.Identity.SignOut(ctx, ck.Value); err != nil {
			return err
		}
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

// accountPage is the profile with its forms.
type accountPage struct {
	Me      *identity.Me
	Error   string      // above the password form: a refusal about no field
	Errors  fieldErrors // next to the password form's fields
	Changed bool
	// Site is where the person works, to pick (nil: their organisation
	// records no sites); SiteSaved and SiteError are the picker's answer.
	Site      *sitePicker
	SiteSaved bool
	SiteError string
}

func (u *UI) account(c echo.Context) error {
	return u.renderAccount(c, http.StatusOK, accountPage{Changed: c.QueryParam("changed") == "1", SiteSaved: c.QueryParam("sede") == "1"})
}

func (u *UI) renderAccount(c echo.Context, status int, data accountPage) error {
	me, err := u.deps.Identity.Me(c.Request().Context(), CurrentPrincipal(c))
	if err != nil {
		return err
	}
	data.Me = me
	if data.Site, err = u.sitePickerFor(c, me.UserID, "/account/sede"); err != nil {
		return err
	}
	if data.Site != nil {
		data.Site.Error = data.SiteError
	}
	return u.r.render(c, status, "account", u.page(c, data))
}

func (u *UI) changePassword(c echo.Context) error {
	// This browser stays signed in; every other sign-in ends.
	var keep string
	if ck, err := c.Cookie(u.sessionCookieName()); err == nil {
		keep = ck.Value
	}
	err := u.deps.Identity.ChangePassword(c.Request().Context(), CurrentPrincipal(c), c.FormValue("current_password"), c.FormValue("password"), keep)
	if err != nil {
		status, msg, ferr := u.formError(c, err)
		if ferr != nil {
			return ferr
		}
		data := accountPage{Errors: u.fieldErrors(lang(c), err)}
		if len(data.Errors) == 0 {
			data.Error = msg
		}
		return u.renderAccount(c, status, data)
	}
	return c.Redirect(http.StatusSeeOther, "/account?changed=1")
}

// formError turns a domain error into a status and a message to show next
// to a form (formMessage). Internal errors are returned for the error page.
func (u *UI) formError(c echo.Context, err error) (int, string, error) {
	code := apperr.CodeOf(err)
	if code == apperr.Internal {
		return 0, "", err
	}
	return apperr.HTTPStatus(code), u.formMessage(lang(c), err), nil
}

// formMessage is what to show in lang next to a form that err refused. The
// one key scheme is form.<code>.<field>.<reason> (the field the error is
// about and, when the domain gives one, its "reason" detail), else
// form.<code>.<field>, else form.<code>, else the text of the code's error
// page: people read their language, never the API's English message.
func (u *UI) formMessage(lang string, err error) string {
	code := apperr.CodeOf(err)
	keys := []string{"form." + string(code), "error." + string(code) + ".text"}
	if f := apperr.FieldOf(err); f != "" {
		keys = append([]string{"form." + string(code) + "." + f}, keys...)
		if r := reasonOf(err); r != "" {
			keys = append([]string{"form." + string(code) + "." + f + "." + r}, keys...)
		}
	}
	if k := formKeyMessage(err); k != "" {
		keys = append([]string{k}, keys...)
	}
	for _, k := range keys {
		if msg := u.cat.T(lang, k); msg != k {
			return msg
		}
	}
	return u.cat.T(lang, "error.invalid.text")
}

// deviceCookieName is the cookie of a browser trusted through an unlock
// link (identity.Unlock); like the session cookie it carries the __Host-
// prefix over https.
func (u *UI) deviceCookieName() string {
	if u.deps.Identity.Config().SecureCookies {
		return "__Host-device"
	}
	return "device"
}

// unlockPage is where the mailed unlock link lands: a button, so that a
// mail scanner following the link spends nothing.
func (u *UI) unlockPage(c echo.Context) error {
	return u.r.render(c, http.StatusOK, "unlock", u.page(c, tokenForm{Token: c.QueryParam("token")}))
}

// unlock spends the link, trusts this browser for sign-in and goes to the
// sign-in page.
func (u *UI) unlock(c echo.Context) error {
	device, err := u.deps.Identity.Unlock(c.Request().Context(), c.FormValue("token"))
	if apperr.CodeOf(err) == apperr.NotFound {
		return u.r.render(c, http.StatusNotFound, "unlock", u.page(c, tokenForm{Dead: true}))
	}
	if err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: u.deviceCookieName(), Value: device, Path: "/", MaxAge: int(identity.TrustedDeviceTTL.Seconds()),
		HttpOnly: true, Secure: u.deps.Identity.Config().SecureCookies, SameSite: http.SameSiteLaxMode})
	return c.Redirect(http.StatusSeeOther, "/login?unlocked=1")
}

// reasonOf returns the "reason" detail of err, or "".
func reasonOf(err error) string {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		r, _ := ae.Fields["reason"].(string)
		return r
	}
	return ""
}
