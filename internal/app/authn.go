package app

import (
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

var errBadAuthorization = apperr.New(apperr.Unauthorized, "the Authorization header must be: Bearer <access token>")

// authenticate is the one place where a request's credentials become a
// caller, for the API and the web alike: an Authorization: Bearer access
// token, else the browser session cookie (never both: a request with an
// Authorization header is judged by it alone, which is also why the CSRF
// check may skip it). identity decides whether a token or a session holds.
//
// A credential that holds puts its auth.Principal in the request context.
// One that does not is recorded with auth.WithRefusal and the request goes
// on anonymous; the API answers the refusal on protected operations, the
// web app clears an expired cookie. A session whose holder must still set
// up a second factor carries both its principal and the refusal
// identity.ErrSecondFactorSetup: the web app lets them set it up, the API
// refuses them.
func authenticate(id *identity.Service) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			ctx := req.Context()
			var p *auth.Principal
			var refused error
			if h := req.Header.Get(echo.HeaderAuthorization); h != "" {
				scheme, tok, ok := strings.Cut(h, " ")
				if tok = strings.TrimSpace(tok); !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
					refused = errBadAuthorization
				} else {
					p, refused = id.VerifyAccessToken(ctx, tok)
				}
			} else if ck, err := c.Cookie(id.SessionCookie()); err == nil && ck.Value != "" {
				sess, err := id.SessionOf(ctx, ck.Value)
				switch {
				case err != nil:
					return err
				case sess == nil:
					refused = identity.ErrSessionExpired
				default:
					p = sess.Principal
					if sess.NeedsTOTPSetup {
						refused = identity.ErrSecondFactorSetup
					}
				}
			}
			if p != nil {
				ctx = auth.WithPrincipal(ctx, p)
			}
			if refused != nil {
				ctx = auth.WithRefusal(ctx, refused)
			}
			c.SetRequest(req.WithContext(ctx))
			return next(c)
		}
	}
}
