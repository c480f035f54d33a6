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
// for the log only. (The framework's own errors arrive already mapped:
// app's error handler passes them through apperr.FromStatus.)
func ErrorOf(err error) (int, Error) {
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
