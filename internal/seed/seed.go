// Package seed loads the demo data that `make run` shows: idempotently, so
// running it again changes nothing. Each data set is recorded by name in
// seed_runs and loaded in the same transaction that records it.
package seed

import (
	"context"
	"log/slog"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// Account is a demo sign-in, printed by `make run` and listed on the
// development accounts page.
type Account struct {
	Role         string
	Organisation string
	Email        string
	Password     string
	// TOTPSecret is set for accounts that sign in with a second factor; the
	// development accounts page shows its current code.
	TOTPSecret string
}

// DemoAccounts lists the demo sign-ins the data sets create.
func DemoAccounts() []Account {
	var out []Account
	for _, s := range sets {
		out = append(out, s.accounts...)
	}
	return out
}

// set is one named, idempotent piece of demo data.
type set struct {
	name     string
	accounts []Account
	load     func(ctx context.Context, tx *sqlx.Tx) error
	// loadDB, instead of load, runs services that open their own
	// transactions (bookings, payouts); the set is recorded once it
	// returns.
	loadDB func(ctx context.Context, dbx *sqlx.DB) error
}

// sets are loaded in order; later sets may rely on earlier ones
// (identity first, then catalog, ...).
var sets = []set{identitySet, catalogSet, labelSet, fundingSet, redemptionSet, fundSet, plansSet, redemptionDemoSet}

// Run loads every data set not loaded yet and returns how many it loaded.
func Run(ctx context.Context, dbx *sqlx.DB) (int, error) {
	loaded := 0
	for _, s := range sets {
		var done bool
		err := db.WithTx(ctx, dbx, func(tx *sqlx.Tx) error {
			// The row lock makes concurrent seeders wait rather than load twice.
			res, err := tx.ExecContext(ctx, `INSERT INTO seed_runs (name) VALUES ($1) ON CONFLICT DO NOTHING`, s.name)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				done = true
				return nil
			}
			if s.loadDB != nil {
				return s.loadDB(ctx, dbx)
			}
			return s.load(ctx, tx)
		})
		if err != nil {
			return loaded, err
		}
		if !done {
			loaded++
			slog.Info("demo data loaded", "set", s.name)
		}
	}
	return loaded, nil
}
