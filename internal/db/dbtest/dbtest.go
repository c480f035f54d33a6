// Package dbtest gives each test its own PostgreSQL database, cloned from a
// template that has every migration applied.
//
// The server comes from TEST_DATABASE_URL (or DATABASE_URL); `make test`
// starts a private cluster and sets it. Without one, tests that need a
// database fail with a message that says so — CI must never skip them.
package dbtest

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

var (
	templateOnce sync.Once
	templateName string
	templateErr  error
	counter      atomic.Int64
)

// ServerURL is the admin connection string of the test server.
func ServerURL(t testing.TB) string {
	t.Helper()
	for _, k := range []string{"TEST_DATABASE_URL", "DATABASE_URL"} {
		if v := os.Getenv(k); v != "" {
			return v
		}
	}
	t.Fatal("no test database: run `make test`, or set TEST_DATABASE_URL to a PostgreSQL server")
	return ""
}

// New creates a fresh, fully migrated database for this test, dropped when
// the test ends, and returns its connection string.
func New(t testing.TB) string {
	t.Helper()
	server := ServerURL(t)
	templateOnce.Do(func() { templateName, templateErr = ensureTemplate(server) })
	if templateErr != nil {
		t.Fatalf("preparing template database: %v", templateErr)
	}
	name := fmt.Sprintf("t_%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, counter.Add(1))
	admin := mustOpen(t, server)
	defer admin.Close()
	if _, err := admin.Exec(fmt.Sprintf(`CREATE DATABASE %s TEMPLATE %s`, name, templateName)); err != nil {
		t.Fatalf("creating test database: %v", err)
	}
	t.Cleanup(func() {
		a, err := sqlx.Open("postgres", server)
		if err != nil {
			return
		}
		defer a.Close()
		_, _ = a.Exec(fmt.Sprintf(`DROP DATABASE IF EXISTS %s WITH (FORCE)`, name))
	})
	return URLFor(server, name)
}

// Open is New plus a connection pool closed when the test ends.
func Open(t testing.TB) *sqlx.DB {
	t.Helper()
	dbx := mustOpen(t, New(t))
	t.Cleanup(func() { dbx.Close() })
	return dbx
}

func mustOpen(t testing.TB, url string) *sqlx.DB {
	t.Helper()
	dbx, err := db.Open(context.Background(), url, 20)
	if err != nil {
		t.Fatalf("connecting to test database: %v", err)
	}
	return dbx
}

// ensureTemplate creates (once per migration set, across processes) a
// template database named after the hash of the schema (migrations and SQL
// engines), so a changed migration or function never meets a stale template.
func ensureTemplate(server string) (string, error) {
	hash, err := db.SchemaHash()
	if err != nil {
		return "", err
	}
	name := "tpl_" + hash[:16]
	ctx := context.Background()
	admin, err := db.Open(ctx, server, 2)
	if err != nil {
		return "", err
	}
	defer admin.Close()
	conn, err := admin.Connx(ctx)
	if err != nil {
		return "", err
	}
	defer conn.Close()
	// Test packages run as parallel processes: one builds, the others wait.
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		return "", err
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(4242)`)
	var exists bool
	if err := conn.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1 AND datistemplate)`, name); err != nil {
		return "", err
	}
	if exists {
		return name, nil
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`DROP DATABASE IF EXISTS %s`, name)); err != nil {
		return "", err
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`CREATE DATABASE %s`, name)); err != nil {
		return "", err
	}
	tpl, err := db.Open(ctx, URLFor(server, name), 2)
	if err != nil {
		return "", err
	}
	if err := db.Migrate(ctx, tpl.DB); err != nil {
		tpl.Close()
		return "", err
	}
	tpl.Close()
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(`ALTER DATABASE %s WITH is_template true`, name)); err != nil {
		return "", err
	}
	return name, nil
}

// AppRole is the restricted role the app connects as (migrations 00100 and
// 00112): it cannot rewrite the ledger.
const AppRole = "reciproca_app"

// AppURL is the connection string raw with the app's role as its user, as
// serve and worker connect. The test cluster trusts local connections, so
// the role needs no password; another server (TEST_DATABASE_URL) must let
// it log in too.
func AppURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw + " user=" + AppRole
	}
	u.User = url.User(AppRole)
	return u.String()
}

// OpenApp opens a pool on the database at raw as the app's role, closed
// when the test ends.
func OpenApp(t testing.TB, raw string) *sqlx.DB {
	t.Helper()
	dbx := mustOpen(t, AppURL(raw))
	t.Cleanup(func() { dbx.Close() })
	return dbx
}

// URLFor returns the connection string raw pointed at database name.
func URLFor(raw, name string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme == "" {
		return raw + " dbname=" + name
	}
	u.Path = "/" + name
	return u.String()
}
