package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/httpapi"
)

type ctxKey int

const requestIDKey ctxKey = iota

// RequestIDFrom returns the id of the request ctx belongs to.
func RequestIDFrom(ctx context.Context) string {
	s, _ := ctx.Value(requestIDKey).(string)
	return s
}

// requestID gives every request an id: the caller's X-Request-Id when it is
// sane, else a new random one. It is echoed in the response and the logs.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if len(id) == 0 || len(id) > 64 {
			var b [12]byte
			_, _ = rand.Read(b[:])
			id = hex.EncodeToString(b[:])
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		c.SetRequest(c.Request().WithContext(context.WithValue(c.Request().Context(), requestIDKey, id)))
		return next(c)
	}
}

// recoverer turns a panic into an internal error with its stack in the log.
func recoverer(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				slog.ErrorContext(c.Request().Context(), "panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				err = fmt.Errorf("panic: %v", p)
			}
		}()
		return next(c)
	}
}

// hsts is the Strict-Transport-Security value sent when BASE_URL is https:
// browsers then refuse plain http to this host (and its subdomains) for a
// year, so a session cookie can never be sent or stripped in the clear.
const hsts = "max-age=31536000; includeSubDomains"

// secureHeaders sets the headers every response should carry. Every API
// answer is Cache-Control: no-store (tokens, personal data: no browser or
// proxy may keep a copy; web pages set it where they are rendered), and
// over https every answer carries HSTS.
func secureHeaders(https bool) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set("X-Content-Type-Options", "nosniff")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
			h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'")
			if https {
				h.Set("Strict-Transport-Security", hsts)
			}
			if p := c.Request().URL.Path; p == httpapi.BasePath || strings.HasPrefix(p, httpapi.BasePath+"/") {
				h.Set("Cache-Control", "no-store")
			}
			return next(c)
		}
	}
}

// bodyLimit refuses request bodies larger than n bytes.
func bodyLimit(n int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if c.Request().ContentLength > n {
				return echo.NewHTTPError(http.StatusRequestEntityTooLarge, fmt.Sprintf("request body larger than %d bytes", n))
			}
			c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, n)
			return next(c)
		}
	}
}

// clientIPExtractor finds the client's address (rate limits, the audit
// log): the last X-Forwarded-For hop not added by one of the trusted
// proxies when the request came through one, else the direct peer. With
// no trusted proxy configured the header is ignored altogether; loopback
// and private peers are not trusted by default, since anyone on the same
// network could claim any address.
func clientIPExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// clientIP records the caller's address in the request context for rate
// limits and the security audit log.
func clientIP(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.SetRequest(c.Request().WithContext(auth.WithClientIP(c.Request().Context(), c.RealIP())))
		return next(c)
	}
}
