// Package apptest starts the whole Reciproca app for a test: a fresh
// migrated database, the real HTTP server on 127.0.0.1:0 with its worker
// running in-process, stripe-mock at STRIPE_API_BASE and Mailpit at
// SMTP_URL (scripts/test-env.sh sets both). It is stopped when the test ends.
package apptest

import (
	"context"
	"errors"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// Config returns a test configuration for the database at url (an owner's
// connection string, as dbtest.New gives): the app connects as the
// restricted role, as in production. Tests may change it before calling
// StartWith.
func Config(url string) config.Config {
	cfg := config.Config{
		Env:                        "test",
		Addr:                       "127.0.0.1:0",
		DatabaseURL:                dbtest.AppURL(url),
		MigrateDatabaseURL:         url,
		DBMaxConns:                 10,
		LogLevel:                   "warn",
		StripeSecretKey:            "sk_test_123",
		StripeAPIBase:              os.Getenv("STRIPE_API_BASE"),
		StripeWebhookSecret:        "whsec_test_secret",
		StripeConnectWebhookSecret: "whsec_test_connect_secret",
		ShutdownTimeout:            5 * time.Second,
		SMTPURL:                    os.Getenv("SMTP_URL"),
		MailFrom:                   "Reciproca <no-reply@reciproca.test>",
		RunWorker:                  true,
		Ledger:                     config.Ledger{SigningKey: config.DevLedgerKey, MaxSealLag: 15 * time.Minute},
	}
	if cfg.StripeAPIBase == "" {
		cfg.StripeAPIBase = "http://127.0.0.1:12111"
	}
	if cfg.SMTPURL == "" {
		cfg.SMTPURL = "smtp://127.0.0.1:1025"
	}
	return cfg
}

// Start starts the app on a fresh database and returns it.
func Start(t testing.TB) *app.App {
	t.Helper()
	return StartWith(t, Config(dbtest.New(t)))
}

// StartWith starts the app with cfg. An empty BaseURL becomes the real address.
func StartWith(t testing.TB, cfg config.Config) *app.App {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("starting app: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- a.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			t.Errorf("app stopped with error: %v", err)
		}
	})
	return a
}
