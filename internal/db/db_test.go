package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// Two transactions that lock the same rows in opposite order deadlock;
// PostgreSQL aborts one, and WithTx must retry it so both transfers land.
func TestWithTxRetriesDeadlocks(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	mustExec(t, dbx, `CREATE TABLE acct (id int PRIMARY KEY, n int NOT NULL)`)
	mustExec(t, dbx, `INSERT INTO acct VALUES (1, 0), (2, 0)`)

	var barrier sync.WaitGroup
	barrier.Add(2)
	move := func(from, to int) error {
		attempt := 0
		return db.WithTx(ctx, dbx, func(tx *sqlx.Tx) error {
			attempt++
			if _, err := tx.Exec(`UPDATE acct SET n = n + 1 WHERE id = $1`, from); err != nil {
				return err
			}
			if attempt == 1 { // both hold their first lock before taking the second
				barrier.Done()
				barrier.Wait()
			}
			_, err := tx.Exec(`UPDATE acct SET n = n + 1 WHERE id = $1`, to)
			return err
		})
	}
	errs := make(chan error, 2)
	go func() { errs <- move(1, 2) }()
	go func() { errs <- move(2, 1) }()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatalf("transfer failed instead of being retried: %v", err)
		}
	}
	var total int
	if err := dbx.Get(&total, `SELECT sum(n) FROM acct`); err != nil {
		t.Fatal(err)
	}
	if total != 4 {
		t.Fatalf("sum = %d, want 4: a transfer was lost or applied twice", total)
	}
}

func TestWithTxRollsBackOnError(t *testing.T) {
	dbx := dbtest.Open(t)
	mustExec(t, dbx, `CREATE TABLE note (s text)`)
	boom := errors.New("boom")
	err := db.WithTx(context.Background(), dbx, func(tx *sqlx.Tx) error {
		if _, err := tx.Exec(`INSERT INTO note VALUES ('half')`); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want boom", err)
	}
	var n int
	_ = dbx.Get(&n, `SELECT count(*) FROM note`)
	if n != 0 {
		t.Fatal("a failed transaction left a row behind")
	}
}

func TestMapError(t *testing.T) {
	dbx := dbtest.Open(t)
	mustExec(t, dbx, `CREATE TABLE thing (id int PRIMARY KEY, n int CHECK (n >= 0))`)
	mustExec(t, dbx, `INSERT INTO thing VALUES (1, 1)`)
	_, dup := dbx.Exec(`INSERT INTO thing VALUES (1, 1)`)
	_, neg := dbx.Exec(`INSERT INTO thing VALUES (2, -1)`)
	noRows := dbx.QueryRow(`SELECT id FROM thing WHERE id = 9`).Scan(new(int))
	cases := []struct {
		err  error
		want apperr.Code
	}{
		{dup, apperr.Conflict},
		{neg, apperr.Invalid},
		{noRows, apperr.NotFound},
		{sql.ErrConnDone, apperr.Internal},
	}
	for _, c := range cases {
		if got := apperr.CodeOf(db.MapError(c.err, "thing")); got != c.want {
			t.Errorf("MapError(%v) = %s, want %s", c.err, got, c.want)
		}
	}
	if !db.IsUniqueViolation(dup, "thing_pkey") || db.IsUniqueViolation(neg, "") {
		t.Error("IsUniqueViolation misclassifies")
	}
}

// Every migration must roll back and apply again cleanly.
func TestMigrationsDownAndUp(t *testing.T) {
	server := dbtest.ServerURL(t)
	admin, err := db.Open(context.Background(), server, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := fmt.Sprintf("migrate_roundtrip_%d", os.Getpid())
	mustExec(t, admin, `DROP DATABASE IF EXISTS `+name)
	mustExec(t, admin, `CREATE DATABASE `+name)
	t.Cleanup(func() { admin.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`) })

	dbx, err := db.Open(context.Background(), dbtest.URLFor(server, name), 2)
	if err != nil {
		t.Fatal(err)
	}
	defer dbx.Close()
	ctx := context.Background()
	for round := 1; round <= 2; round++ {
		if err := db.Migrate(ctx, dbx.DB); err != nil {
			t.Fatalf("round %d up: %v", round, err)
		}
		if ok, err := db.MigrationsCurrent(ctx, dbx.DB); err != nil || !ok {
			t.Fatalf("round %d: migrations not current after up (%v)", round, err)
		}
		if err := db.Migrate(ctx, dbx.DB); err != nil { // idempotent
			t.Fatalf("round %d second up: %v", round, err)
		}
		if n := ledgerFunctions(t, dbx); n == 0 {
			t.Fatalf("round %d: no ledger functions after up", round)
		}
		if err := db.MigrateReset(ctx, dbx.DB); err != nil {
			t.Fatalf("round %d down: %v", round, err)
		}
		if ok, _ := db.MigrationsCurrent(ctx, dbx.DB); ok {
			t.Fatalf("round %d: migrations current after rolling everything back", round)
		}
		if n := ledgerFunctions(t, dbx); n != 0 {
			t.Fatalf("round %d: %d ledger functions left after rolling everything back", round, n)
		}
	}
}

// The ledger engine (internal/ledger/sql) is installed as exactly what its
// files define: a function it no longer defines is dropped, one whose
// definition changed is replaced, and an installed, current engine is left
// alone by the next migrate.
func TestMigrateInstallsTheLedgerEngineAsItsFilesSay(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	var applied time.Time
	if err := dbx.Get(&applied, `SELECT applied_at FROM schema_engines WHERE name = 'ledger'`); err != nil {
		t.Fatalf("engine not recorded: %v", err)
	}
	if err := db.Migrate(ctx, dbx.DB); err != nil {
		t.Fatal(err)
	}
	var again time.Time
	if err := dbx.Get(&again, `SELECT applied_at FROM schema_engines WHERE name = 'ledger'`); err != nil || !again.Equal(applied) {
		t.Fatalf("a current engine was installed again (%v, %v)", again, err)
	}

	// An older install: a function since removed, one since changed.
	mustExec(t, dbx, `CREATE FUNCTION ledger_removed_long_ago() RETURNS int LANGUAGE sql AS 'SELECT 1'`)
	mustExec(t, dbx, `CREATE OR REPLACE FUNCTION ledger_raise(p_code text, p_message text, p_detail jsonb DEFAULT '{}')
		RETURNS void LANGUAGE sql AS 'SELECT'`)
	mustExec(t, dbx, `UPDATE schema_engines SET hash = 'old' WHERE name = 'ledger'`)
	if ok, err := db.MigrationsCurrent(ctx, dbx.DB); err != nil || ok {
		t.Fatalf("a stale engine counts as current (%v)", err)
	}
	if err := db.Migrate(ctx, dbx.DB); err != nil {
		t.Fatal(err)
	}
	var left int
	if err := dbx.Get(&left, `SELECT count(*) FROM pg_proc WHERE proname = 'ledger_removed_long_ago'`); err != nil || left != 0 {
		t.Fatalf("a function the engine no longer defines is still there (%d, %v)", left, err)
	}
	_, err := dbx.Exec(`SELECT ledger_raise('RL003', 'boom')`)
	var pe *pq.Error
	if !errors.As(err, &pe) || pe.Code != "RL003" {
		t.Fatalf("ledger_raise was not replaced by its file's version: %v", err)
	}
	if ok, err := db.MigrationsCurrent(ctx, dbx.DB); err != nil || !ok {
		t.Fatalf("engine not current after migrate (%v)", err)
	}
	// the triggers came back with their function
	var triggers int
	if err := dbx.Get(&triggers, `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'ledger\_%' AND NOT tgisinternal`); err != nil || triggers < 6 {
		t.Fatalf("ledger triggers after reinstall: %d (%v)", triggers, err)
	}
}

func ledgerFunctions(t *testing.T, dbx *sqlx.DB) int {
	t.Helper()
	var n int
	if err := dbx.Get(&n, `SELECT count(*) FROM pg_proc WHERE proname LIKE 'ledger\_%'`); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustExec(t *testing.T, dbx *sqlx.DB, q string) {
	t.Helper()
	if _, err := dbx.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}
