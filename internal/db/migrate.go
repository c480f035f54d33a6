package db

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/reciproca/reciproca/migrations"
)

// provider serialises concurrent migrators with a session advisory lock and
// accepts migrations numbered below the newest applied one, since each
// domain owns its own block of numbers.
func provider(sqlDB *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker()
	if err != nil {
		return nil, err
	}
	return goose.NewProvider(goose.DialectPostgres, sqlDB, migrations.FS,
		goose.WithSessionLocker(locker), goose.WithAllowOutofOrder(true))
}

// Migrate applies every pending migration. It is safe to run concurrently
// from several processes: goose serialises them with an advisory lock.
func Migrate(ctx context.Context, sqlDB *sql.DB) error {
	p, err := provider(sqlDB)
	if err != nil {
		return err
	}
	res, err := p.Up(ctx)
	for _, r := range res {
		slog.Debug("migration applied", "version", r.Source.Version, "file", r.Source.Path)
	}
	return err
}

// MigrateDown rolls back the most recent migration.
func MigrateDown(ctx context.Context, sqlDB *sql.DB) error {
	p, err := provider(sqlDB)
	if err != nil {
		return err
	}
	_, err = p.Down(ctx)
	return err
}

// MigrateReset rolls back every migration.
func MigrateReset(ctx context.Context, sqlDB *sql.DB) error {
	p, err := provider(sqlDB)
	if err != nil {
		return err
	}
	_, err = p.DownTo(ctx, 0)
	return err
}

// MigrationStatus writes one line per migration: version, state, file.
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
	return nil
}

// MigrationsCurrent reports whether no migration is pending; /readyz uses it.
func MigrationsCurrent(ctx context.Context, sqlDB *sql.DB) (bool, error) {
	p, err := provider(sqlDB)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	return !pending, err
}
