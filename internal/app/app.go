// Package app wires Reciproca together: configuration → database → domain
// services → HTTP (API and web). Tests start the whole app on 127.0.0.1:0
// with Start; cmd/reciproca calls Run.
package app

import (
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

	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/httpapi"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/webui"
)

// Version is set at build time with -ldflags.
var Version = "dev"

// App is a running Reciproca: one HTTP server in front of one database.
type App struct {
	Config config.Config
	DB     *sqlx.DB
	Echo   *echo.Echo

	listener net.Listener
	server   *http.Server
}

// New connects to the database and builds every route. It does not listen.
func New(ctx context.Context, cfg config.Config) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	dbx, err := db.Open(ctx, cfg.DatabaseURL, cfg.DBMaxConns)
	if err != nil {
		return nil, fmt.Errorf("connecting to the database: %w", err)
	}
	a := &App{Config: cfg, DB: dbx}
	if err := a.routes(); err != nil {
		dbx.Close()
		return nil, err
	}
	return a, nil
}

func (a *App) routes() error {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	ui, err := webui.New(webui.Deps{Dev: a.Config.Development(), Version: Version})
	if err != nil {
		return fmt.Errorf("loading the web app: %w", err)
	}
	e.HTTPErrorHandler = func(err error, c echo.Context) {
		if strings.HasPrefix(c.Request().URL.Path, httpapi.BasePath+"/") || c.Request().URL.Path == httpapi.BasePath {
			httpapi.WriteError(c, err)
			return
		}
		ui.RenderError(c, err)
	}
	m := newMetrics(a.DB)
	e.Use(requestID, m.observe, recoverer, secureHeaders, bodyLimit(8<<20))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok\n") })
	e.GET("/readyz", a.ready)
	e.GET("/metrics", m.handler())

	if err := httpapi.Register(e, httpapi.Deps{DB: a.DB, Version: Version}); err != nil {
		return fmt.Errorf("mounting the API: %w", err)
	}
	ui.Register(e)
	a.Echo = e
	return nil
}

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

// Listen binds the configured address (":0" picks a free port).
func (a *App) Listen() error {
	l, err := net.Listen("tcp", a.Config.Addr)
	if err != nil {
		return err
	}
	a.listener = l
	a.server = &http.Server{
		Handler:           a.Echo,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(slog.Default().Handler(), slog.LevelWarn),
	}
	return nil
}

// Addr is the address the app listens on, e.g. 127.0.0.1:41234.
func (a *App) Addr() string { return a.listener.Addr().String() }

// URL is the base URL of the listening app.
func (a *App) URL() string { return "http://" + a.Addr() }

// Serve serves until ctx is cancelled, then shuts down gracefully: it stops
// accepting, lets requests in flight finish (up to ShutdownTimeout) and
// closes the database pool.
func (a *App) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() { errc <- a.server.Serve(a.listener) }()
	// The ledger's hash chain is sealed in the background, off the write path.
	sealCtx, stopSealer := context.WithCancel(ctx)
	defer stopSealer()
	go ledger.RunSealer(sealCtx, a.DB, 5*time.Second)
	select {
	case err := <-errc:
		stopSealer()
		a.DB.Close()
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), a.Config.ShutdownTimeout)
	defer cancel()
	err := a.server.Shutdown(sctx)
	if e := <-errc; e != nil && !errors.Is(e, http.ErrServerClosed) {
		err = errors.Join(err, e)
	}
	stopSealer()
	a.DB.Close()
	return err
}
