package app

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/config"
)

// checkDBRole makes sure the app does not connect as a role that could
// rewrite the ledger (a superuser, or the owner of its tables): the
// ledger's immutability rests on the app running as reciproca_app, with
// migrations alone running as the owner (MIGRATE_DATABASE_URL). Production
// refuses to start; elsewhere it is a warning.
func checkDBRole(ctx context.Context, dbx *sqlx.DB, cfg config.Config) error {
	var user string
	var privileged bool
	err := dbx.QueryRowxContext(ctx, `SELECT current_user::text, r.rolsuper
		OR coalesce(has_table_privilege(to_regclass('ledger_entries'), 'UPDATE'), false)
		FROM pg_roles r WHERE r.rolname = current_user`).Scan(&user, &privileged)
	if err != nil || !privileged {
		return err
	}
	msg := fmt.Sprintf("DATABASE_URL connects as %q, which can rewrite the ledger: connect as reciproca_app "+
		"(and run migrations with MIGRATE_DATABASE_URL)", user)
	if cfg.Env == "production" {
		return fmt.Errorf("%s", msg)
	}
	slog.WarnContext(ctx, msg)
	return nil
}
