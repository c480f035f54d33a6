// Package apperr is the one application error type of Reciproca.
//
// Every domain package returns *apperr.Error for anything a caller may act on;
// the HTTP edge maps the stable Code to a status in one table (see
// httpapi) and never shows the message of an internal error.
package apperr

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
)

// Code is a stable, machine-readable error class. Clients switch on it.
type Code string

// The codes. Keep the list short: a new code is an API change.
const (
	Invalid           Code = "invalid"
	NotFound          Code = "not_found"
	Conflict          Code = "conflict"
	Unauthorized      Code = "unauthorized"
	Forbidden         Code = "forbidden"
	InsufficientFunds Code = "insufficient_funds"
	RateLimited       Code = "rate_limited"
	// Unavailable: a service we depend on (Stripe) is down or refused;
	// nothing changed and the same request may succeed later.
	Unavailable Code = "unavailable"
	Internal    Code = "internal"
)

// Error is an application error: a code, a message a person can read, and
// optional structured fields (e.g. the offending field, or available and
// required amounts for insufficient_funds).
type Error struct {
	Code    Code           `json:"code"`
	Message string         `json:"message"`
	Fields  map[string]any `json:"details,omitempty"`
	// Err is the cause, kept for logs; never shown to clients.
	Err error `json:"-"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// New returns an error with a code and a formatted message.
func New(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// With returns a copy of e with one more detail field.
func (e *Error) With(key string, value any) *Error {
	c := *e
	c.Fields = make(map[string]any, len(e.Fields)+1)
	for k, v := range e.Fields {
		c.Fields[k] = v
	}
	c.Fields[key] = value
	return &c
}

// Wrap marks err as internal: logged at the edge, shown as a generic message.
func Wrap(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	var ae *Error
	if errors.As(err, &ae) {
		return err
	}
	return &Error{Code: Internal, Message: fmt.Sprintf(format, args...), Err: err}
}

// CodeOf returns the code of err: Internal for any error that is not an *Error.
func CodeOf(err error) Code {
	var ae *Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err == nil {
		return ""
	}
	return Internal
}

// Is reports whether err carries code.
func Is(err error, code Code) bool { return err != nil && CodeOf(err) == code }

// AllInvalid joins the checks of a form's fields into one error naming
// every field at fault (its "fields" detail) and the first as "field",
// with that check's message and details, so a form can mark them all at
// once; nil when every check passed (nil). A check that names several
// fields itself counts for each; checks that are not *Error are left out.
func AllInvalid(checks ...error) error {
	var first *Error
	var fields []string
	for _, err := range checks {
		var ae *Error
		if err == nil || !errors.As(err, &ae) {
			continue
		}
		if first == nil {
			first = ae
		}
		these, _ := ae.Fields["fields"].([]string)
		if len(these) == 0 {
			these = []string{FieldOf(err)}
		}
		for _, f := range these {
			if !slices.Contains(fields, f) {
				fields = append(fields, f)
			}
		}
	}
	if first == nil {
		return nil
	}
	return first.With("fields", fields)
}

// FieldOf returns the input field an error is about (its "field" detail,
// set by the domains' validation), or "".
func FieldOf(err error) string {
	var ae *Error
	if errors.As(err, &ae) {
		f, _ := ae.Fields["field"].(string)
		return f
	}
	return ""
}

// FromStatus is the error for a status the HTTP framework answered by
// itself (a malformed body, an unknown route, a wrong method, a body too
// large), so that it reaches people like any other error: the one mapping
// of those statuses, for the API and the web alike. message, when the
// status is a caller's mistake, says what was wrong; cause is kept for the
// log.
func FromStatus(status int, message string, cause error) *Error {
	e := &Error{Code: Internal, Err: cause}
	switch status {
	case http.StatusBadRequest, http.StatusUnsupportedMediaType, http.StatusRequestEntityTooLarge:
		e.Code, e.Message = Invalid, message
		if e.Message == "" {
			e.Message = "malformed request"
		}
	case http.StatusNotFound:
		e.Code, e.Message = NotFound, "not found"
	case http.StatusMethodNotAllowed:
		e.Code, e.Message = NotFound, "method not allowed on this route"
	case http.StatusUnauthorized:
		e.Code, e.Message = Unauthorized, "authentication required"
	case http.StatusForbidden:
		e.Code, e.Message = Forbidden, "not allowed"
	case http.StatusTooManyRequests:
		e.Code, e.Message = RateLimited, "too many requests"
	}
	return e
}

// HTTPStatus maps a code to its HTTP status: the one table of the project.
func HTTPStatus(code Code) int {
	switch code {
	case Invalid:
		return http.StatusBadRequest
	case NotFound:
		return http.StatusNotFound
	case Conflict:
		return http.StatusConflict
	case Unauthorized:
		return http.StatusUnauthorized
	case Forbidden:
		return http.StatusForbidden
	case InsufficientFunds:
		return http.StatusUnprocessableEntity
	case RateLimited:
		return http.StatusTooManyRequests
	case Unavailable:
		return http.StatusServiceUnavailable
	default:
		return http.StatusInternalServerError
	}
}
