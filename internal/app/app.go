// Package app wires Reciproca together: configuration → database → domain
// services → HTTP (API and web). Tests start the whole app on 127.0.0.1:0
// with Start; cmd/reciproca calls Run.
package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/httpapi"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/payments"
	"github.com/reciproca/reciproca/internal/plans"
	"github.com/reciproca/reciproca/internal/redemption"
	"github.com/reciproca/reciproca/internal/webui"
	"github.com/reciproca/reciproca/internal/worker"
)

// Version is set at build time with -ldflags.
var Version = "dev"

// App is a running Reciproca: one HTTP server in front of one database.
type App struct {
	Config config.Config
	DB     *sqlx.DB
	Echo   *echo.Echo
	// Identity is sign-in and users; tests use it through identitytest.
	Identity *identity.Service
	// UI is the web app; tests read its route access declarations.
	UI *webui.UI
	// Catalog is providers, offerings and search.
	Catalog *catalog.Service
	// Redemption is booking, vouchers, validation and refunds.
	Redemption *redemption.Service
	// Fund is the inclusion fund.
	Fund *fund.Service
	// Plans is employees' HR data, welfare plans, allocations and wallets.
	Plans *plans.Service
	// Stripe is the webhook inbox; domains subscribe to events with On.
	Stripe *payments.Inbox
	// Funding is company top-ups (card, bank transfer), reconciliation and contract end.
	Funding *funding.Service
	// Worker runs the background jobs (in serve when Config.RunWorker).
	Worker *worker.Worker

	listener net.Listener
	server   *http.Server
	// operations are the routes registerOperations mounted ("METHOD /path").
	operations map[string]bool
}

// New binds the configured address (":0" picks a free port), connects to
// the database and builds every service and route; Serve then serves.
// When BaseURL is empty it becomes the address actually bound, which is
// what tests on 127.0.0.1:0 need for links in mails and redirects.
func New(ctx context.Context, cfg config.Config) (*App, error) {
	l, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return nil, err
	}
	if cfg.BaseURL == "" {
		cfg.BaseURL = "http://" + l.Addr().String()
	}
	if err := cfg.Validate(); err != nil {
		l.Close()
		return nil, err
	}
	a, err := open(ctx, cfg)
	if err != nil {
		l.Close()
		return nil, err
	}
	a.listener = l
	if err := a.routes(); err != nil {
		l.Close()
		a.DB.Close()
		return nil, err
	}
	a.server = &http.Server{
		Handler:           a.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	return a, nil
}

// open connects to the database and builds the domain services and the
// worker: everything but HTTP, which is all `reciproca worker` needs.
func open(ctx context.Context, cfg config.Config) (*App, error) {
	dbx, err := db.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	if err := checkDBRole(ctx, dbx, cfg); err != nil {
		dbx.Close()
		return nil, err
	}
	a := &App{Config: cfg, DB: dbx}
	if err := a.services(); err != nil {
		dbx.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) services() error {
	idcfg, err := identity.ConfigFrom(a.Config)
	if err != nil {
		return err
	}
	a.Identity = identity.New(a.DB, idcfg)
	stripeAPI := payments.NewStripe(a.Config.StripeSecretKey, a.Config.StripeAPIBase)
	a.Catalog = catalog.NewService(a.DB, stripeAPI, a.Identity)
	a.Redemption = redemption.New(a.DB, redemption.Config{BaseURL: a.Config.BaseURL, Transfers: stripeAPI, StripeFees: stripeAPI,
		SkipBalanceCheck: a.Config.Env != "production", // stripe-mock answers a zero balance
		Bank:             payoutBank(a.Config)})
	fcfg, err := fund.ConfigFrom(a.Config)
	if err != nil {
		return err
	}
	a.Fund = fund.New(a.DB, fcfg, a.Identity)
	a.Stripe = payments.NewInbox(a.DB, a.Config.StripeWebhookSecret, a.Config.StripeConnectWebhookSecret,
		func() { a.Worker.Wake(stripeEventsJob) })
	a.Stripe.OnAccountUpdated(func(ctx context.Context, tx *sqlx.Tx, s payments.AccountStatus) error {
		_, err := a.Catalog.ApplyAccountUpdate(ctx, tx, catalog.AccountUpdate(s))
		return err
	})
	a.Stripe.OnPayoutFailed(a.Redemption.RecordBankFailure)
	a.Plans = plans.New(a.DB, a.Config.BaseURL)
	a.Plans.RunAllocationsAtOnce()
	a.Plans.ResolveFundPool(a.Redemption.FundPool)
	a.Identity.SetEmployeeRecorder(a.Plans)
	a.Funding = funding.New(a.DB, stripeAPI, fundingSettings(a.Config))
	a.Funding.Subscribe(a.Stripe)
	a.Funding.MatchBankMoves(a.redemptionBankMoves)
	a.Worker, err = a.newWorker()
	return err
}

// redemptionBankMoves are redemption's moves of the platform's bank account
// (treasury, provider payout files and their returns), for funding's bank
// reconciliation.
func (a *App) redemptionBankMoves(ctx context.Context, start, end time.Time) ([]funding.BankMove, error) {
	moves, err := a.Redemption.BankMoves(ctx, start, end)
	out := make([]funding.BankMove, len(moves))
	for i, m := range moves {
		out[i] = funding.BankMove{Ref: m.Ref, Amount: m.Amount, Day: m.Day}
	}
	return out, err
}

// payoutBank is the platform's account SEPA payouts leave from: the one
// companies top up to, with demo holder and CUC outside production.
func payoutBank(cfg config.Config) redemption.Debtor {
	d := redemption.Debtor{CUC: cfg.Funding.CUC, Holder: cfg.Funding.AccountHolder, IBAN: fundingSettings(cfg).IBAN}
	if cfg.Env != "production" {
		d.CUC = cmp.Or(d.CUC, "RCPDEMO1")
		d.Holder = cmp.Or(d.Holder, "Reciproca S.r.l.")
	}
	return d
}

// fundingSettings are funding's defaults with what the operator set.
func fundingSettings(cfg config.Config) funding.Settings {
	s := funding.DefaultSettings(cfg.BaseURL)
	if cfg.Funding.ConfirmAboveCents > 0 {
		s.ConfirmAbove = cfg.Funding.ConfirmAboveCents
	}
	if cfg.Funding.IBAN != "" {
		s.IBAN = cfg.Funding.IBAN
	}
	return s
}

// RunWorker runs only the background worker until ctx ends: the
// `reciproca worker` command, any number of which may run.
func RunWorker(ctx context.Context, cfg config.Config) error {
	if err := cfg.Validate(); err != nil {
		return err
	}
	a, err := open(ctx, cfg)
	if err != nil {
		return err
	}
	defer a.DB.Close()
	return a.Worker.Run(ctx)
}

func (a *App) routes() error {
	e := echo.New()
	a.operations = map[string]bool{}
	e.HideBanner, e.HidePort = true, true
	e.IPExtractor = clientIPExtractor(a.Config.TrustedProxies)
	ui, err := webui.New(webui.Deps{Dev: a.Config.Development(), Version: Version, Identity: a.Identity, DB: a.DB, Catalog: a.Catalog,
		Fund: a.Fund, Redemption: a.Redemption, Plans: a.Plans, Funding: a.Funding})
	if err != nil {
		return fmt.Errorf("loading the web app: %w", err)
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		var he *echo.HTTPError
		if errors.As(err, &he) {
			msg, _ := he.Message.(string)
			err = apperr.FromStatus(he.Code, msg, he)
		}
		if strings.HasPrefix(c.Request().URL.Path, httpapi.BasePath+"/") || c.Request().URL.Path == httpapi.BasePath {
			httpapi.WriteError(c, err)
			return
		}
		ui.RenderError(c, err)
	}
	m := newMetrics(a.DB, a.Worker.Collector())
	e.Use(requestID, m.observe, recoverer, secureHeaders(strings.HasPrefix(a.Config.BaseURL, "https://")), bodyLimit(8<<20), textGuard, clientIP, authenticate(a.Identity))

	a.registerOperations(e, m)
	if err := httpapi.Register(e, httpapi.Deps{DB: a.DB, Version: Version, Identity: a.Identity,
		Catalog: a.Catalog, Redemption: a.Redemption, Fund: a.Fund, Plans: a.Plans, Funding: a.Funding, StripeReturnURL: a.Config.BaseURL + webui.StripeReturnPath}); err != nil {
		return fmt.Errorf("mounting the API: %w", err)
	}
	ui.Register(e)
	a.Echo, a.UI = e, ui
	return nil
}

// registerOperations mounts the routes for machines rather than people,
// outside the web app and the API: probes, metrics and webhooks. Probes
// are public; /metrics asks for METRICS_TOKEN as a bearer token when one
// is configured (production requires one); Stripe's webhooks are
// authenticated by their signature (payments.Inbox).
func (a *App) registerOperations(e *echo.Echo, m *metrics) {
	add := func(method, path string, h echo.HandlerFunc) {
		e.Add(method, path, h)
		a.operations[method+" "+path] = true
	}
	add(http.MethodGet, "/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	add(http.MethodGet, "/readyz", a.ready)
	add(http.MethodGet, "/metrics", metricsGuard(a.Config.MetricsToken, m.handler()))
	add(http.MethodPost, "/webhooks/stripe", a.Stripe.Receive(payments.Platform))
	add(http.MethodPost, "/webhooks/stripe/connect", a.Stripe.Receive(payments.Connect))
}

// IsOperation reports whether method and path is one of the routes
// registerOperations mounts (the authorization tests treat them as public).
func (a *App) IsOperation(method, path string) bool { return a.operations[method+" "+path] }

// ready answers 200 when the database answers and no migration is pending.
func (a *App) ready(c echo.Context) error {
	ctx, cancel := context.WithTimeout(c.Request().Context(), 2*time.Second)
	defer cancel()
	if err := a.DB.PingContext(ctx); err != nil {
		return c.String(http.StatusServiceUnavailable, "database unreachable\n")
	}
	current, err := db.MigrationsCurrent(ctx, a.DB.DB)
	if err != nil || !current {
		return c.String(http.StatusServiceUnavailable, "migrations pending\n")
	}
	return c.String(http.StatusOK, "ready\n")
}

// Addr is the address the app listens on, e.g. 127.0.0.1:41234.
func (a *App) Addr() string { return a.listener.Addr().String() }

// URL is the base URL of the listening app.
func (a *App) URL() string { return "http://" + a.Addr() }

// Serve serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to ShutdownTimeout) and
// closes the database pool.
func (a *App) Serve(ctx context.Context) error {
	// API requests check their token's revocation against a cache the
	// database's notices keep exact (one connection of its own).
	listenCtx, stopListening := context.WithCancel(ctx)
	defer stopListening()
	a.Identity.ListenForRevocations(listenCtx, a.Config.DatabaseURL)
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	// In development the background work runs here too (RunWorker).
	workerCtx, stopWorker := context.WithCancel(ctx)
	defer stopWorker()
	workerDone := make(chan struct{})
	go func() {
		defer close(workerDone)
		if a.Config.RunWorker {
			if err := a.Worker.Run(workerCtx); err != nil {
				slog.Error("worker stopped", "err", err)
			}
		}
	}()
	stop := func() {
		stopWorker()
		<-workerDone
		a.DB.Close()
	}
	select {
	case err := <-errc:
		stop()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err := a.server.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	stop()
	return err
}
