package httpapi

import (
	"errors"
	"log/slog"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
)

var errRouteNotFound = apperr.New(apperr.NotFound, "no such API route")

// ErrorOf turns any error a handler returned into the one error shape and
// its HTTP status. Internal errors get a generic message; their cause is
// for the log only.
func ErrorOf(err error) (int, Error) {
	var he *echo.HTTPError
	if errors.As(err, &he) {
		err = fromEchoError(he)
	}
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		ae = &apperr.Error{Code: apperr.Internal, Err: err}
	}
	body := Error{Code: ErrorCode(ae.Code), Message: ae.Message}
	if ae.Code == apperr.Internal {
		body.Message = "internal error: please try again later, quoting the request id"
	} else if len(ae.Fields) > 0 {
		d := map[string]any(ae.Fields)
		body.Details = &d
	}
	return apperr.HTTPStatus(ae.Code), body
}

// fromEchoError maps echo's own errors (bad JSON bodies, unknown routes,
// wrong methods) to application errors.
func fromEchoError(he *echo.HTTPError) error {
	msg, _ := he.Message.(string)
	switch he.Code {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		if msg == "" {
			msg = "malformed request"
		}
		return &apperr.Error{Code: apperr.Invalid, Message: msg, Err: he}
	case http.StatusNotFound:
		return errRouteNotFound
	case http.StatusMethodNotAllowed:
		return apperr.New(apperr.NotFound, "method not allowed on this route")
	case http.StatusUnauthorized:
		return apperr.New(apperr.Unauthorized, "authentication required")
	case http.StatusForbidden:
		return apperr.New(apperr.Forbidden, "not allowed")
	case http.StatusTooManyRequests:
		return apperr.New(apperr.RateLimited, "too many requests")
	}
	return &apperr.Error{Code: apperr.Internal, Err: he}
}

// WriteError writes err as JSON. Internal errors are logged once, here.
func WriteError(c echo.Context, err error) {
	status, body := ErrorOf(err)
	rid := c.Response().Header().Get(echo.HeaderXRequestID)
	if rid != "" {
		body.RequestId = &rid
	}
	if status >= 500 {
		slog.ErrorContext(c.Request().Context(), "internal error", "err", err,
			"method", c.Request().Method, "path", c.Request().URL.Path)
	}
	if c.Response().Committed {
		return
	}
	if c.Request().Method == http.MethodHead {
		_ = c.NoContent(status)
		return
	}
	_ = c.JSON(status, body)
}
