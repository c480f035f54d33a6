// Package webui serves the server-rendered web application: Italian by
// default, English on request, usable without JavaScript. Handlers only map
// a request to domain calls and a template; templates, catalogues and
// assets live in the top-level web/ folder.
package webui

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/plans"
	"github.com/reciproca/reciproca/internal/redemption"
	"github.com/reciproca/reciproca/internal/seed"
	"github.com/reciproca/reciproca/web"
)

// langCookie remembers the language a person chose.
const langCookie = "lang"

// Deps are what the web app needs from the rest of the program.
type Deps struct {
	Dev      bool
	Version  string
	Identity *identity.Service
	// DB is read by development-only pages (the dev mail page).
	DB *sqlx.DB
	// Catalog serves the catalogue pages and the provider dashboard.
	Catalog *catalog.Service
	// Fund serves the inclusion fund's pages.
	Fund *fund.Service
	// Redemption serves booking, the vouchers and the provider's validation.
	Redemption *redemption.Service
	// Plans serves the wallet and HR's plans and employees pages.
	Plans *plans.Service
	// Funding serves the budget and top-up pages.
	Funding *funding.Service
}

// UI is the web application.
type UI struct {
	deps   Deps
	cat    Catalogue
	r      *renderer
	access map[string]Access // "METHOD /path" → who may use it
	// homeLinks are what the home pages offer, by role (addHome).
	homeLinks []homeLink
}

// New loads catalogues and templates; a broken template fails start-up.
func New(deps Deps) (*UI, error) {
	cat, err := LoadCatalogue(web.FS)
	if err != nil {
		return nil, err
	}
	r, err := newRenderer(web.FS, cat)
	if err != nil {
		return nil, err
	}
	return &UI{deps: deps, cat: cat, r: r, access: map[string]Access{}}, nil
}

// Register mounts the web routes on e, each with its access declaration,
// behind CSRF protection.
func (u *UI) Register(e *echo.Echo) {
	e.Use(u.csrf())
	u.Handle(e, http.MethodGet, "/", Public, u.home)
	u.Handle(e, http.MethodGet, homePath, SignedIn, u.homeFor)
	u.Handle(e, http.MethodGet, "/lang", Public, u.switchLang)
	u.Handle(e, http.MethodGet, "/static/*", Public, staticHandler(web.FS))
	if u.deps.Dev {
		u.Handle(e, http.MethodGet, "/dev/accounts", Public, u.devAccounts)
	}
	u.registerIdentity(e)
	u.registerCatalog(e)
	u.registerSites(e)
	u.registerFund(e)
	u.registerRedemption(e)
	u.registerPlans(e)
	u.registerFunding(e)
	u.addOtherDomainsHome()
}

// lang is the language of this request: the cookie, else Italian.
func lang(c echo.Context) string {
	if ck, err := c.Cookie(langCookie); err == nil {
		for _, l := range Languages {
			if ck.Value == l {
				return l
			}
		}
	}
	return Languages[0]
}

func (u *UI) page(c echo.Context, data any) Page {
	l := lang(c)
	other := "en"
	if l == "en" {
		other = "it"
	}
	return Page{Lang: l, OtherLang: other, Path: c.Request().URL.RequestURI(), Dev: u.deps.Dev, Version: u.deps.Version,
		User: CurrentPrincipal(c), CSRF: csrfToken(c), Data: data}
}

// homeRoles are the kinds of user the home page speaks to, in order.
var homeRoles = []string{"employee", "company", "provider", "fund", "public"}

func (u *UI) home(c echo.Context) error {
	return u.r.render(c, http.StatusOK, "home", u.page(c, struct{ Roles []string }{homeRoles}))
}

// switchLang sets the language cookie and goes back where the person was.
// Only local paths are accepted as destinations, never another site.
func (u *UI) switchLang(c echo.Context) error {
	to := c.QueryParam("to")
	valid := false
	for _, l := range Languages {
		valid = valid || to == l
	}
	if !valid {
		return apperr.New(apperr.Invalid, "unknown language")
	}
	c.SetCookie(&http.Cookie{Name: langCookie, Value: to, Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.Scheme() == "https"})
	return c.Redirect(http.StatusSeeOther, localPath(c.QueryParam("back")))
}

// localPath returns back if it is a path on this site, else "/".
func localPath(back string) string {
	u, err := url.Parse(back)
	if err != nil || back == "" || u.IsAbs() || u.Host != "" || !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") || strings.Contains(back, `\`) {
		return "/"
	}
	return back
}

func (u *UI) devAccounts(c echo.Context) error {
	type account struct {
		seed.Account
		Code string // current second-factor code, for accounts that have one
	}
	var accounts []account
	for _, a := range seed.DemoAccounts() {
		acc := account{Account: a}
		if a.TOTPSecret != "" {
			acc.Code = identity.TOTPCode(a.TOTPSecret, time.Now())
		}
		accounts = append(accounts, acc)
	}
	return u.r.render(c, http.StatusOK, "dev_accounts", u.page(c, struct{ Accounts []account }{accounts}))
}

// RenderError shows err as a page in the person's language. Internal
// errors are logged once here, with the request id shown to the person.
// (The framework's own errors arrive already mapped: app's error handler
// passes them through apperr.FromStatus.)
func (u *UI) RenderError(c echo.Context, err error) {
	code := apperr.CodeOf(err)
	status := apperr.HTTPStatus(code)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if status >= 500 {
		slog.ErrorContext(c.Request().Context(), "internal error", "err", err,
			"method", c.Request().Method, "path", c.Request().URL.Path)
	}
	if c.Response().Committed {
		return
	}
	key := "error." + string(code)
	if code == apperr.InsufficientFunds || code == apperr.Conflict {
		key = "error.invalid"
	}
	data := struct{ Title, Text, RequestID, Field string }{key + ".title", key + ".text", rid, ""}
	if code == apperr.Invalid {
		data.Field = apperr.FieldOf(err) // e.g. a form field with bytes that are not text
	}
	if rerr := u.r.render(c, status, "error", u.page(c, data)); rerr != nil {
		slog.Error("rendering error page", "err", rerr)
		_ = c.String(status, http.StatusText(status))
	}
}
