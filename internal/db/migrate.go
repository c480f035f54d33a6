package db

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"io/fs"
	"log/slog"
	"strings"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/reciproca/reciproca/migrations"
)

// provider accepts migrations numbered below the newest applied one, since
// each domain owns its own block of numbers. It takes no lock of its own:
// locked holds goose's lock around the migrations and the engines.
func provider(sqlDB *sql.DB) (*goose.Provider, error) {
	return goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS, goose.WithAllowOutofOrder(true))
}

// locked runs fn holding goose's own advisory lock (so that a migrator of
// an older build, which takes it through goose, and this one exclude each
// other) on a connection of its own, which fn gets for the engines; goose
// runs the migrations on another connection of the pool.
func locked(ctx context.Context, sqlDB *sql.DB, fn func(conn *sql.Conn) error) (err error) {
	if sqlDB.Stats().MaxOpenConnections == 1 {
		return errors.New("migrations need a pool of at least 2 connections")
	}
	conn, err := sqlDB.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lock.DefaultLockID); err != nil {
		return err
	}
	defer func() {
		_, uerr := conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lock.DefaultLockID)
		err = errors.Join(err, uerr)
	}()
	return fn(conn)
}

// Migrate applies every pending migration, then installs the SQL engines
// whose files changed. It is safe to run concurrently from several
// processes: they take turns on one advisory lock.
func Migrate(ctx context.Context, sqlDB *sql.DB) error {
	return locked(ctx, sqlDB, func(conn *sql.Conn) error {
		p, err := provider(sqlDB)
		if err != nil {
			return err
		}
		res, err := p.Up(ctx)
		for _, r := range res {
			slog.Debug("migration applied", "version", r.Source.Version, "file", r.Source.Path)
		}
		if err != nil {
			return err
		}
		return syncEngines(ctx, conn)
	})
}

// MigrateDown rolls back the most recent migration (and removes an engine
// whose tables it dropped).
func MigrateDown(ctx context.Context, sqlDB *sql.DB) error {
	return locked(ctx, sqlDB, func(conn *sql.Conn) error {
		p, err := provider(sqlDB)
		if err != nil {
			return err
		}
		if _, err := p.Down(ctx); err != nil {
			return err
		}
		return syncEngines(ctx, conn)
	})
}

// MigrateReset rolls back every migration and removes every engine.
func MigrateReset(ctx context.Context, sqlDB *sql.DB) error {
	return locked(ctx, sqlDB, func(conn *sql.Conn) error {
		p, err := provider(sqlDB)
		if err != nil {
			return err
		}
		if _, err := p.DownTo(ctx, 0); err != nil {
			return err
		}
		return syncEngines(ctx, conn)
	})
}

// MigrationStatus writes one line per migration (version, state, file) and
// one per engine.
func MigrationStatus(ctx context.Context, sqlDB *sql.DB, w io.Writer) error {
	p, err := provider(sqlDB)
	if err != nil {
		return err
	}
	st, err := p.Status(ctx)
	if err != nil {
		return err
	}
	for _, s := range st {
		applied := "pending"
		if s.State == goose.StateApplied {
			applied = "applied " + s.AppliedAt.Format("2006-01-02 15:04:05")
		}
		fmt.Fprintf(w, "%05d  %-28s  %s\n", s.Source.Version, applied, s.Source.Path)
	}
	for _, e := range migrations.Engines {
		state, err := engineState(ctx, sqlDB, e)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "engine %-6s %s\n", e.Name, state)
	}
	return nil
}

// MigrationsCurrent reports whether no migration is pending and every
// engine is installed as its files say; /readyz uses it.
func MigrationsCurrent(ctx context.Context, sqlDB *sql.DB) (bool, error) {
	p, err := provider(sqlDB)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil || pending {
		return false, err
	}
	for _, e := range migrations.Engines {
		state, err := engineState(ctx, sqlDB, e)
		if err != nil || state != "current" {
			return false, err
		}
	}
	return true, nil
}

// SchemaHash identifies the whole schema, migrations and engines, so that
// a database built from it (the tests' template) is never used stale.
func SchemaHash() (string, error) {
	h := sha256.New()
	if err := hashFiles(h, migrations.FS); err != nil {
		return "", err
	}
	for _, e := range migrations.Engines {
		h.Write([]byte("engine:" + e.Name))
		if err := hashFiles(h, e.FS); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

func hashFiles(h hash.Hash, fsys fs.FS) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(p, ".sql") {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		h.Write([]byte(p))
		h.Write(b)
		return err
	})
}

func engineHash(e migrations.Engine) (string, error) {
	h := sha256.New()
	err := hashFiles(h, e.FS)
	return hex.EncodeToString(h.Sum(nil)), err
}

// engineState is "current", "stale" (installed from other files),
// "missing" or "not applicable" (its tables do not exist).
func engineState(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, e migrations.Engine) (string, error) {
	want, err := engineHash(e)
	if err != nil {
		return "", err
	}
	var applicable, recorded bool
	err = q.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL, to_regclass('schema_engines') IS NOT NULL`,
		e.Requires).Scan(&applicable, &recorded)
	var installed sql.NullString
	if err == nil && recorded {
		err = q.QueryRowContext(ctx, `SELECT hash FROM schema_engines WHERE name = $1`, e.Name).Scan(&installed)
		if errors.Is(err, sql.ErrNoRows) {
			err = nil
		}
	}
	switch {
	case err != nil:
		return "", err
	case !applicable:
		return "not applicable", nil
	case !installed.Valid:
		return "missing", nil
	case installed.String != want:
		return "stale", nil
	}
	return "current", nil
}

// syncEngines installs each engine whose files changed, in one
// transaction per engine: every function and trigger named with its prefix
// is dropped (so that nothing it no longer defines lingers, and a changed
// signature needs no hand-written DROP), then its files run in name
// order. An engine whose tables are gone is only dropped.
func syncEngines(ctx context.Context, conn *sql.Conn) error {
	for _, e := range migrations.Engines {
		state, err := engineState(ctx, conn, e)
		if err != nil {
			return err
		}
		if state == "current" {
			continue
		}
		if err := installEngine(ctx, conn, e, state != "not applicable"); err != nil {
			return fmt.Errorf("installing the %s engine: %w", e.Name, err)
		}
	}
	return nil
}

func installEngine(ctx context.Context, conn *sql.Conn, e migrations.Engine, apply bool) error {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	pattern := strings.ReplaceAll(e.Prefix, "_", `\_`) + "%"
	rows, err := tx.QueryContext(ctx, `
		SELECT format('DROP TRIGGER %I ON %s', t.tgname, t.tgrelid::regclass)
		FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid
		WHERE NOT t.tgisinternal AND p.pronamespace = current_schema()::regnamespace AND p.proname LIKE $1
		UNION ALL
		SELECT * FROM (SELECT format('DROP FUNCTION %s', p.oid::regprocedure)
		               FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace AND p.proname LIKE $1
		               ORDER BY p.oid) f`, pattern)
	if err != nil {
		return err
	}
	var drops []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		drops = append(drops, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, s := range drops {
		if _, err := tx.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	var recorded bool
	if err := tx.QueryRowContext(ctx, `SELECT to_regclass('schema_engines') IS NOT NULL`).Scan(&recorded); err != nil {
		return err
	}
	if recorded {
		if _, err := tx.ExecContext(ctx, `DELETE FROM schema_engines WHERE name = $1`, e.Name); err != nil {
			return err
		}
	}
	if apply && recorded {
		files, err := fs.Glob(e.FS, "*.sql") // sorted by name
		if err != nil {
			return err
		}
		// As pg_dump does: a function may use one defined in a later file.
		if _, err := tx.ExecContext(ctx, `SET LOCAL check_function_bodies = off`); err != nil {
			return err
		}
		for _, f := range files {
			body, err := fs.ReadFile(e.FS, f)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, string(body)); err != nil {
				return fmt.Errorf("%s: %w", f, err)
			}
		}
		h, err := engineHash(e)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_engines (name, hash) VALUES ($1, $2)`, e.Name, h); err != nil {
			return err
		}
	}
	return tx.Commit()
}
