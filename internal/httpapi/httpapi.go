// Package httpapi is the JSON API under /api/v1: code generated from
// openapi/openapi.yaml (api.gen.go, by `make generate`) plus hand-written
// handlers that only map a request to a domain call and its result to a
// response. Business rules and SQL live in the domain packages.
package httpapi

import (
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/plans"
	"github.com/reciproca/reciproca/internal/redemption"
)

// BasePath is where the API is mounted.
const BasePath = "/api/v1"

// Deps are the domain services the handlers call.
type Deps struct {
	DB       *sqlx.DB
	Version  string
	Identity *identity.Service
	Catalog  *catalog.Service
	// Redemption is booking, vouchers and validation.
	Redemption *redemption.Service
	Fund       *fund.Service
	// Plans is employees' HR data, welfare plans, allocations and wallets.
	Plans *plans.Service
	// Funding is company budgets and top-ups.
	Funding *funding.Service
	// StripeReturnURL is where Stripe sends a provider back after its
	// onboarding: a page of the web app, which the app wiring names (the
	// API knows no web routes).
	StripeReturnURL string
}

// Server implements StrictServerInterface. Each domain adds its handlers as
// an embedded struct in a file of its own, so the generated interface is met
// by composition.
type Server struct {
	metaHandlers
	identityHandlers
	catalogHandlers
	ledgerHandlers
	redemptionHandlers
	fundHandlers
	plansHandlers
	fundingHandlers
	sitesHandlers
}

// Register mounts the API on e: request validation against the spec, then
// the generated routes.
func Register(e *echo.Echo, deps Deps) error {
	gate, err := newGate()
	if err != nil {
		return err
	}
	g := e.Group(BasePath, gate)
	s := &Server{
		metaHandlers:       metaHandlers{version: deps.Version},
		identityHandlers:   identityHandlers{svc: deps.Identity},
		catalogHandlers:    catalogHandlers{svc: deps.Catalog, stripeReturnURL: deps.StripeReturnURL},
		ledgerHandlers:     ledgerHandlers{db: deps.DB},
		redemptionHandlers: redemptionHandlers{svc: deps.Redemption},
		fundHandlers:       fundHandlers{svc: deps.Fund},
		plansHandlers:      plansHandlers{svc: deps.Plans},
		fundingHandlers:    fundingHandlers{svc: deps.Funding},
		sitesHandlers:      sitesHandlers{svc: deps.Identity, places: deps.Catalog},
	}
	RegisterHandlers(g, NewStrictHandler(s, nil))
	// Anything else under the API prefix answers 404 in the error shape.
	g.Any("/*", func(c echo.Context) error { return errRouteNotFound })
	return nil
}
