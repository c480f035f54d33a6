package webui

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

// Access declares who may open a web route. Every route is registered with
// one (UI.Handle): the authorization matrix test walks e.Routes() and fails
// on a route that declares nothing.
type Access struct {
	public bool
	roles  []auth.Role
}

// Public routes are open to anyone, signed in or not.
var Public = Access{public: true}

// SignedIn admits any signed-in person, whatever their role.
var SignedIn = Access{roles: auth.AllRoles}

// Roles admits signed-in people holding one of roles.
func Roles(roles ...auth.Role) Access { return Access{roles: roles} }

// IsPublic reports whether anyone may use the route.
func (a Access) IsPublic() bool { return a.public }

// Allows reports whether p may use the route.
func (a Access) Allows(p *auth.Principal) bool { return a.public || p.Has(a.roles...) }

// Handle registers h for method and path with its access declaration; the
// web's session rules (gate) and the check (RequireRoles) run before h.
func (u *UI) Handle(e *echo.Echo, method, path string, a Access, h echo.HandlerFunc) {
	if a.public {
		e.Add(method, path, h, u.gate)
	} else {
		e.Add(method, path, h, u.gate, RequireRoles(a.roles...))
	}
	u.access[method+" "+path] = a
}

// AccessOf returns the declaration of a registered route.
func (u *UI) AccessOf(method, path string) (Access, bool) {
	a, ok := u.access[method+" "+path]
	return a, ok
}

// CurrentPrincipal returns the signed-in person, or nil. app's
// authentication middleware finds them, for the web and the API alike.
func CurrentPrincipal(c echo.Context) *auth.Principal {
	return auth.PrincipalFrom(c.Request().Context())
}

// RequireRoles lets through signed-in people holding one of roles. Others
// are sent to the sign-in page (and back afterwards) when nobody is signed
// in, or shown "forbidden".
func RequireRoles(roles ...auth.Role) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			p := CurrentPrincipal(c)
			if p == nil {
				if c.Request().Method == http.MethodGet {
					return c.Redirect(http.StatusSeeOther, "/login?next="+url.QueryEscape(c.Request().URL.RequestURI()))
				}
				return apperr.New(apperr.Unauthorized, "sign in to continue")
			}
			if !p.Has(roles...) {
				return apperr.New(apperr.Forbidden, "your role does not allow this page")
			}
			return next(c)
		}
	}
}

// isAPI reports whether the request is for the JSON API.
func isAPI(c echo.Context) bool {
	p := c.Request().URL.Path
	return p == "/api/v1" || strings.HasPrefix(p, "/api/v1/")
}

// gate applies the web's rules to what app's authentication middleware
// found: an expired session's cookie is cleared (the person goes on as a
// visitor), and a person whose role needs a second factor they have not
// set up can only set it up (or sign out) until they do.
func (u *UI) gate(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		switch auth.RefusalFrom(c.Request().Context()) {
		case identity.ErrSessionExpired:
			u.clearSessionCookie(c)
		case identity.ErrSecondFactorSetup:
			switch path := c.Request().URL.Path; {
			case path == "/account/totp" || path == "/logout" || path == "/lang" || strings.HasPrefix(path, "/static/"):
			default:
				return c.Redirect(http.StatusSeeOther, "/account/totp")
			}
		}
		return next(c)
	}
}

// csrfField is the name of the hidden form field with the CSRF token.
const csrfField = "_csrf"

// csrf protects every state-changing request made with the browser's
// cookies: a double-submit token (cookie + hidden form field, or the
// X-CSRF-Token header for scripts), plus Sec-Fetch-Site checks in browsers
// that send it. Every web route is checked, whatever else the request
// carries: an Authorization header never switches the check off there.
// Only API calls that carry no session cookie, or that are judged by their
// Authorization header alone (app's authenticate then ignores the cookie),
// carry no ambient credentials and are exempt; so are Stripe's webhooks.
func (u *UI) csrf() echo.MiddlewareFunc {
	secure := u.deps.Identity != nil && u.deps.Identity.Config().SecureCookies
	return middleware.CSRFWithConfig(middleware.CSRFConfig{
		Skipper: func(c echo.Context) bool {
			// Webhooks carry no cookies; they are authenticated by signature.
			if strings.HasPrefix(c.Request().URL.Path, "/webhooks/") {
				return true
			}
			if isAPI(c) {
				if c.Request().Header.Get(echo.HeaderAuthorization) != "" {
					return true
				}
				_, err := c.Cookie(u.sessionCookieName())
				return err != nil
			}
			return false
		},
		TokenLookup:    "form:" + csrfField + ",header:" + echo.HeaderXCSRFToken,
		CookieName:     "csrf",
		CookiePath:     "/",
		CookieHTTPOnly: true,
		CookieSecure:   secure,
		CookieSameSite: http.SameSiteLaxMode,
		CookieMaxAge:   12 * 3600,
	})
}

// csrfToken is the token to put in forms.
func csrfToken(c echo.Context) string {
	s, _ := c.Get("csrf").(string)
	return s
}

func (u *UI) sessionCookieName() string {
	if u.deps.Identity == nil {
		return "session"
	}
	return u.deps.Identity.SessionCookie()
}

func (u *UI) setSessionCookie(c echo.Context, s *identity.Session) {
	c.SetCookie(&http.Cookie{Name: u.sessionCookieName(), Value: s.Token, Path: "/",
		MaxAge: int(u.deps.Identity.Config().SessionTTL.Seconds()), HttpOnly: true,
		Secure: u.deps.Identity.Config().SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (u *UI) clearSessionCookie(c echo.Context) {
	c.SetCookie(&http.Cookie{Name: u.sessionCookieName(), Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: u.deps.Identity.Config().SecureCookies, SameSite: http.SameSiteLaxMode})
}
