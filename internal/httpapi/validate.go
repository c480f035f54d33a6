package httpapi

import (
	"errors"
	"fmt"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
)

// newGate returns the middleware every API request passes before a handler
// sees it: find the operation in the spec (else 404), check who may call it
// (401/403, see access.go), then validate the request against the spec (400).
func newGate() (echo.MiddlewareFunc, error) {
	spec, err := GetSwagger()
	if err != nil {
		return nil, err
	}
	access, err := accessRules(spec)
	if err != nil {
		return nil, err
	}
	spec.Servers = openapi3.Servers{{URL: BasePath}}
	router, err := gorillamux.NewRouter(spec)
	if err != nil {
		return nil, err
	}
	opts := &openapi3filter.Options{
		AuthenticationFunc: openapi3filter.NoopAuthenticationFunc,
		MultiError:         false,
	}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			route, params, err := router.FindRoute(req)
			if err != nil {
				if errors.Is(err, routers.ErrMethodNotAllowed) {
					return apperr.New(apperr.NotFound, "method %s not allowed on this route", req.Method)
				}
				return errRouteNotFound
			}
			if err := access.check(c, route); err != nil {
				return err
			}
			// check may have replaced the request (to drop a refused caller
			// from its context): validate that one, so the body it restores after
			// reading is the body the handler reads.
			req = c.Request()
			in := &openapi3filter.RequestValidationInput{
				Request: req, PathParams: params, Route: route, Options: opts,
			}
			if err := openapi3filter.ValidateRequest(req.Context(), in); err != nil {
				return validationError(err)
			}
			return next(c)
		}
	}, nil
}

// validationError explains a spec violation in one sentence, naming the
// parameter or body field at fault.
func validationError(err error) error {
	var re *openapi3filter.RequestError
	if errors.As(err, &re) {
		e := &apperr.Error{Code: apperr.Invalid, Err: err}
		var se *openapi3.SchemaError
		switch {
		case re.Parameter != nil:
			e.Message = fmt.Sprintf("parameter %q: %s", re.Parameter.Name, reason(re))
			e.Fields = map[string]any{"field": re.Parameter.Name}
		case errors.As(re.Err, &se):
			field := strings.Join(se.JSONPointer(), ".")
			e.Message = "request body: " + se.Reason
			if field != "" {
				e.Message = fmt.Sprintf("request body field %q: %s", field, se.Reason)
				e.Fields = map[string]any{"field": field}
			}
		default:
			e.Message = "request body: " + reason(re)
		}
		return e
	}
	var se *openapi3filter.SecurityRequirementsError
	if errors.As(err, &se) {
		return apperr.New(apperr.Unauthorized, "authentication required")
	}
	return &apperr.Error{Code: apperr.Invalid, Message: "invalid request", Err: err}
}

func reason(re *openapi3filter.RequestError) string {
	if re.Reason != "" {
		return re.Reason
	}
	if re.Err != nil {
		msg := re.Err.Error()
		if i := strings.Index(msg, "\n"); i > 0 {
			msg = msg[:i]
		}
		return msg
	}
	return "invalid"
}
