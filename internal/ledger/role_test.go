package ledger_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Logged in as the app's role (as serve and worker are), the ledger can be
// written but not rewritten: no update, delete or truncate of its rows, no
// floor changed, a status changed only through the audited function.
func TestAppRoleCannotRewriteLedger(t *testing.T) {
	setup, app := chartWithApp(t)
	w := setup.wallet(1)

	c := &chart{t: t, ctx: setup.ctx, db: app}
	var user string
	c.ok(app.Get(&user, `SELECT current_user`))
	if user != dbtest.AppRole {
		t.Fatalf("connected as %q, want %s", user, dbtest.AppRole)
	}
	// The app's everyday writes, sealing and checkpoints all work.
	c.topUp("t", 100_00)
	exp := time.Now().Add(time.Hour)
	c.allocate("a", w, 50_00, &exp)
	h, err := ledger.Hold(c.ctx, app, ledger.HoldRequest{ExpiresAt: exp,
		Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 5_00}}}})
	c.ok(err)
	_, err = ledger.Capture(c.ctx, app, ledger.CaptureRequest{Key: "c", HoldID: h.TxID})
	c.ok(err)
	c.sealAll()
	_, err = ledger.PublishCheckpoint(c.ctx, app, testKeys(t, "ledger.test"), "", time.Hour)
	c.ok(err)
	c.verify()

	for _, stmt := range []string{
		`UPDATE ledger_entries SET amount = amount * 2`,
		`DELETE FROM ledger_entries`,
		`TRUNCATE ledger_entries`,
		`UPDATE ledger_transactions SET reverses_id = NULL`,
		`DELETE FROM ledger_transactions`,
		`TRUNCATE ledger_transactions`,
		`UPDATE ledger_lot_moves SET amount = 1`,
		`DELETE FROM ledger_lots`,
		`TRUNCATE ledger_lots`,
		`DELETE FROM ledger_balances`,
		`UPDATE ledger_log SET tx_id = 1`,
		`DELETE FROM ledger_log_hashes`,
		`TRUNCATE ledger_log`,
		`DELETE FROM ledger_checkpoints`,
		`DELETE FROM ledger_log_head`,
		`UPDATE ledger_accounts SET floor = -1000000 WHERE path = '` + w + `'`,
		`UPDATE ledger_accounts SET floor = NULL WHERE path = '` + budget + `'`,
		`UPDATE ledger_accounts SET status = 'frozen' WHERE path = '` + w + `'`,
		`DELETE FROM ledger_accounts`,
		`UPDATE ledger_split_policies SET fund_bps = 0`,
		`INSERT INTO ledger_account_changes (account_id, field, actor, reason) VALUES (1, 'floor', 'x', 'y')`,
	} {
		if _, err := app.Exec(stmt); err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("as the app role, %q: %v, want permission denied", stmt, err)
		}
	}

	// A status changes through the audited function, which says who and why.
	wantCode(t, ledger.SetAccountStatus(c.ctx, app, w, ledger.StatusFrozen, "", ""), apperr.Invalid)
	c.ok(ledger.SetAccountStatus(c.ctx, app, w, ledger.StatusFrozen, "admin:7", "reported stolen"))
	_, err = ledger.Post(c.ctx, app, ledger.Request{Key: "frozen", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1}}})
	if err == nil {
		t.Fatal("a frozen wallet was debited")
	}
	var changes []struct{ Field, Old, New, Actor, Reason string }
	c.ok(app.Select(&changes, `SELECT field, old_value AS old, new_value AS new, actor, reason
		FROM ledger_account_changes ORDER BY id`))
	if len(changes) != 1 || changes[0] != (struct{ Field, Old, New, Actor, Reason string }{"status", "open", "frozen", "admin:7", "reported stolen"}) {
		t.Fatalf("recorded changes %+v", changes)
	}
	wantCode(t, ledger.SetAccountStatus(c.ctx, app, "employee:nobody:wallet", ledger.StatusOpen, "admin:7", "x"), apperr.NotFound)
	c.verify()
}

// chartWithApp is a chart on a new database, written as its owner, and a
// connection to that database as the app's role.
func chartWithApp(t *testing.T) (*chart, *sqlx.DB) {
	t.Helper()
	url := dbtest.New(t)
	owner, err := db.Open(context.Background(), url, 5)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { owner.Close() })
	return chartOn(t, owner), dbtest.OpenApp(t, url)
}
