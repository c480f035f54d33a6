// Command reciproca is the whole Reciproca service in one binary.
//
//	reciproca serve                    serve the web app and the API
//	reciproca worker                   run the background jobs (mail, expiry, sealing, webhooks)
//	reciproca migrate up|down|status   manage the database schema
//	reciproca seed                     load the demo data (idempotent)
//	reciproca ledger verify|seal|prove|checkpoint|keygen|close-period|grant-backdate
//	                                   check the ledger / its audit log (see ledger.go)
//	reciproca version                  print the version
//
// Configuration comes from environment variables (see README).
package main

import (
	"context"
	"crypto/ed25519"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/seed"
)

const usage = `usage: reciproca <command>

commands:
  serve                    serve the web app and the API on $PORT (and the worker, unless RUN_WORKER=false)
  worker                   run the background jobs; any number may run side by side
  migrate up|down|status   apply, roll back one, or list migrations
  seed                     load the demo data (safe to run again)
  keygen                   print a new JWT signing key (and its public key)
  ledger verify [--root CHECKPOINT]
                           check every ledger invariant and the audit log; exit 1 on a violation.
                           CHECKPOINT (a file of signed checkpoints such as $LEDGER_ROOTS_FILE, - for
                           stdin, or the text itself): the log must extend each
  ledger seal              append what is waiting to the ledger's audit log
  ledger prove TX          print the inclusion proof (JSON) of transaction TX in the audit log
  ledger checkpoint        seal, then sign, record and print the log's checkpoint (and append it
                           to $LEDGER_ROOTS_FILE)
  ledger keygen [NAME]     print a new LEDGER_SIGNING_KEY and its verifier key
  ledger close-period THROUGH ACTOR REASON
                           close the ledger through THROUGH (a date: its end, Italian time; or
                           RFC 3339): nothing may take effect then or before; recorded with ACTOR, REASON
  ledger grant-backdate KEY EARLIEST ACTOR REASON
                           let the transaction under idempotency key KEY take effect as early as
                           EARLIEST (more than 7 days back; never in a closed period or an earlier tax year)
  version                  print the version
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout)
	stop()
	if errors.Is(err, errUsage) {
		fmt.Fprint(os.Stderr, usage)
		os.Exit(2)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "reciproca:", err)
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

func run(ctx context.Context, args []string, out io.Writer) error {
	if len(args) == 0 {
		return errUsage
	}
	if args[0] == "keygen" {
		return keygen(out)
	}
	if len(args) >= 2 && args[0] == "ledger" && args[1] == "keygen" {
		return ledgerKeygen(args[2:], out)
	}
	if args[0] == "version" {
		fmt.Fprintln(out, "reciproca", app.Version)
		return nil
	}
	cfg, err := config.FromEnv()
	if err != nil {
		return err
	}
	setupLogging(cfg)
	switch args[0] {
	case "serve":
		return serve(ctx, cfg, out)
	case "worker":
		slog.Info("worker running", "env", cfg.Env, "version", app.Version)
		if err := app.RunWorker(ctx, cfg); err != nil {
			return err
		}
		slog.Info("worker stopped cleanly")
		return nil
	case "migrate":
		if len(args) != 2 {
			return errUsage
		}
		return migrate(ctx, cfg, args[1], out)
	case "ledger":
		if len(args) < 2 {
			return errUsage
		}
		return ledgerCmd(ctx, cfg, args[1], args[2:], out)
	case "seed":
		dbx, err := db.Open(ctx, cfg.DatabaseURL, 2)
		if err != nil {
			return err
		}
		defer dbx.Close()
		n, err := seed.Run(ctx, dbx)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "demo data: %d set(s) loaded\n", n)
		return nil
	}
	return errUsage
}

func setupLogging(cfg config.Config) {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	slog.SetDefault(slog.New(app.NewLogHandler(os.Stderr, level)))
}

func serve(ctx context.Context, cfg config.Config, out io.Writer) error {
	a, err := app.New(ctx, cfg)
	if err != nil {
		return err
	}
	slog.Info("serving", "addr", a.Addr(), "env", cfg.Env, "version", app.Version)
	fmt.Fprintf(out, "\nReciproca is running at %s  (Ctrl-C to stop)\n", cfg.BaseURL)
	if accounts := seed.DemoAccounts(); cfg.Development() && len(accounts) > 0 {
		fmt.Fprintf(out, "\nDemo sign-ins (also at %s/dev/accounts):\n", cfg.BaseURL)
		for _, acc := range accounts {
			totp := ""
			if acc.TOTPSecret != "" {
				totp = "  + 2FA code from /dev/accounts (secret " + acc.TOTPSecret + ")"
			}
			fmt.Fprintf(out, "  %-16s %-34s %-40s %s%s\n", acc.Role, acc.Organisation, acc.Email, acc.Password, totp)
		}
	}
	fmt.Fprintln(out)
	if err := a.Serve(ctx); err != nil {
		return err
	}
	slog.Info("stopped cleanly")
	return nil
}

func migrate(ctx context.Context, cfg config.Config, cmd string, out io.Writer) error {
	dbx, err := db.Open(ctx, cfg.MigrateDatabaseURL, 2)
	if err != nil {
		return err
	}
	defer dbx.Close()
	switch cmd {
	case "up":
		if err := db.Migrate(ctx, dbx.DB); err != nil {
			return err
		}
		fmt.Fprintln(out, "migrations: up to date")
		return nil
	case "down":
		return db.MigrateDown(ctx, dbx.DB)
	case "status":
		return db.MigrationStatus(ctx, dbx.DB, out)
	}
	return errUsage
}

// keygen prints a fresh Ed25519 key for JWT_SIGNING_KEY and its public
// half, to keep in JWT_VERIFY_KEYS during the next rotation.
func keygen(out io.Writer) error {
	key := identity.GenerateKey()
	priv, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return err
	}
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "# JWT_SIGNING_KEY (key id %s)\n", identity.KeyID(key.Public().(ed25519.PublicKey)))
	_ = pem.Encode(out, &pem.Block{Type: "PRIVATE KEY", Bytes: priv})
	fmt.Fprintln(out, "# its public key, for JWT_VERIFY_KEYS after the next rotation")
	return pem.Encode(out, &pem.Block{Type: "PUBLIC KEY", Bytes: pub})
}
