package ledger_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Each hold and each lot consumption records the tax bucket it was for
// (an offering's category can change bucket later); the request's
// buckets must agree per account; verify and the audit log cover them.
func TestConsumptionsRecordTheirTaxBucket(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 100_000)
	w := c.wallet(0)
	exp := time.Now().Add(time.Hour)
	c.allocate("a", w, 50_000, nil, "sport", "culture")
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: exp, Request: ledger.Request{Key: "h",
		Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_000, Category: "sport", TaxBucket: "art51_c2_f_bis"}}}})
	c.ok(err)
	r := c.post(ledger.Request{Key: "r", Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000,
		Category: "culture", TaxBucket: "art51_c2_f", Provider: payable, Fund: pool, Fees: fees}})
	for tx, want := range map[int64][2]string{h.TxID: {"sport", "art51_c2_f_bis"}, r.TxID: {"culture", "art51_c2_f"}} {
		moves, err := ledger.LotMoves(c.ctx, c.db, tx)
		c.ok(err)
		var consumed int
		for _, m := range moves {
			if m.Amount > 0 {
				consumed++
				if m.Category != want[0] || m.TaxBucket != want[1] {
					t.Fatalf("transaction %d consumed %+v, want category %s, tax bucket %s", tx, m, want[0], want[1])
				}
			}
		}
		if consumed == 0 {
			t.Fatalf("transaction %d consumed no lot: %+v", tx, moves)
		}
	}
	// refused: a bucket without its category, an ill-formed one, two buckets for one account
	for _, p := range [][]ledger.Posting{
		{{From: w, To: payable, Amount: 1, TaxBucket: "art51_c2_f"}},
		{{From: w, To: payable, Amount: 1, Category: "sport", TaxBucket: "Art 51!"}},
		{{From: w, To: payable, Amount: 1, Category: "sport", TaxBucket: "art51_c2_f"},
			{From: w, To: budget, Amount: 1, Category: "sport", TaxBucket: "art51_c2_f_bis"}},
	} {
		_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "bad", Postings: p})
		wantCode(t, err, apperr.Invalid)
		out, err := ledger.PostBatch(c.ctx, c.db, []ledger.Request{{Key: "bad", Postings: p}})
		if err == nil {
			err = out[0].Err
		}
		wantCode(t, err, apperr.Invalid)
	}
	c.sealAll()
	c.verify()
	tamper(t, c.db, `UPDATE ledger_lot_moves SET tax_bucket = 'art51_c3_fringe' WHERE tax_bucket = 'art51_c2_f'`)
	wantLogBroken(t, c)
}

// A platform admin closes a period: nothing takes effect in it
// afterwards, backdated or not. Backdating beyond 7 days needs the admin's
// explicit permission for that one transaction, and even then never into
// a closed period nor across 31 December into the previous tax year.
func TestClosedPeriodsAndBackdatingPermission(t *testing.T) {
	c, app := chartWithApp(t)
	c.topUp("t", 100_000)
	now := time.Now()
	rome, _ := time.LoadLocation("Europe/Rome")
	thisYear := time.Date(now.In(rome).Year(), 1, 1, 0, 0, 0, 0, rome)
	topUp := func(key string, eff time.Time) error {
		_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: key, Kind: "topup", EffectiveAt: &eff,
			Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 100}}})
		return err
	}
	if now.Sub(thisYear) > 13*24*time.Hour { // far enough into the year to backdate 12 days in it
		tenDays := now.Add(-10 * 24 * time.Hour)
		wantCode(t, topUp("late-transfer", tenDays), apperr.Invalid)
		c.ok(ledger.GrantBackdate(c.ctx, c.db, "late-transfer", now.Add(-12*24*time.Hour), "admin@reciproca", "bank value date"))
		c.ok(ledger.GrantBackdate(c.ctx, c.db, "late-transfer", now.Add(-12*24*time.Hour), "admin@reciproca", "retried"))
		wantCode(t, ledger.GrantBackdate(c.ctx, c.db, "late-transfer", now.Add(-20*24*time.Hour), "admin@reciproca", "more"),
			apperr.Conflict)
		c.ok(topUp("late-transfer", tenDays))
		wantCode(t, topUp("another-transfer", tenDays), apperr.Invalid) // the permission is for one transaction
	}
	// never across 31 December, permission or not
	lastYear := thisYear.Add(-time.Hour)
	c.ok(ledger.GrantBackdate(c.ctx, c.db, "last-year", lastYear.Add(-time.Hour), "admin@reciproca", "try"))
	wantCode(t, topUp("last-year", lastYear), apperr.Invalid)
	wantCode(t, ledger.GrantBackdate(c.ctx, c.db, "k", now, "", ""), apperr.Invalid)

	// close through an instant two days ago (within this year when possible)
	through := now.Add(-48 * time.Hour)
	_, err := ledger.ClosePeriod(c.ctx, c.db, now.Add(time.Hour), "admin@reciproca", "the future")
	wantCode(t, err, apperr.Invalid)
	closed, err := ledger.ClosePeriod(c.ctx, c.db, through, "admin@reciproca", "November closed")
	c.ok(err)
	if got, err := ledger.ClosedThrough(c.ctx, c.db); err != nil || got == nil || !got.Equal(closed) {
		t.Fatalf("closed through %v (%v), want %v", got, err, closed)
	}
	// an earlier close does not reopen anything
	if again, err := ledger.ClosePeriod(c.ctx, c.db, through.Add(-time.Hour), "admin@reciproca", "older"); err != nil || !again.Equal(closed) {
		t.Fatalf("closing an earlier instant: %v, %v; want it to stay closed through %v", again, err, closed)
	}
	inside := through.Add(-time.Minute)
	c.ok(ledger.GrantBackdate(c.ctx, c.db, "inside", inside, "admin@reciproca", "even with permission"))
	wantCode(t, topUp("inside", inside), apperr.Invalid)
	out, err := ledger.PostBatch(c.ctx, c.db, []ledger.Request{{Key: "inside-batch", EffectiveAt: &inside,
		Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 100}}}})
	c.ok(err)
	wantCode(t, out[0].Err, apperr.Invalid)
	c.ok(topUp("after", through.Add(time.Hour)))
	c.post(ledger.Request{Key: "now", Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 100}}})
	c.verify()

	// the app role records closes and permissions only through the audited functions
	for _, q := range []string{
		`INSERT INTO ledger_closed_periods (through, actor, reason) VALUES (now(), 'x', 'y')`,
		`DELETE FROM ledger_closed_periods`,
		`INSERT INTO ledger_backdate_grants (key, earliest, actor, reason) VALUES ('z', now() - interval '1 year', 'x', 'y')`,
	} {
		if _, err := app.Exec(q); err == nil {
			t.Fatalf("the app role could run %s", q)
		}
	}
	_, err = ledger.ClosePeriod(c.ctx, app, through.Add(time.Minute), "admin@reciproca", "as the app")
	c.ok(err)
}

// A void and a hold's expiry are transactions of their own (a release of
// the hold), so the lot moves that give the hold's lots back are in the
// audit log: changing one afterwards breaks the log.
func TestReleasesAreInTheAuditLog(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 100_000)
	w := c.wallet(0)
	c.allocate("a", w, 10_000, nil)
	hold := func(key string, exp time.Time) int64 {
		h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: exp, Request: ledger.Request{Key: key,
			Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_000}}}})
		c.ok(err)
		return h.TxID
	}
	voided := hold("h1", time.Now().Add(time.Hour))
	expiring := hold("h2", time.Now().Add(300*time.Millisecond))
	c.ok(ledger.Void(c.ctx, c.db, voided))
	wantCode(t, ledger.Void(c.ctx, c.db, voided), apperr.Conflict)
	time.Sleep(400 * time.Millisecond)
	n, err := ledger.ExpireHolds(c.ctx, c.db, 10)
	c.ok(err)
	if n != 1 {
		t.Fatalf("expired %d holds, want 1", n)
	}
	c.wantAvailable(w, 10_000)
	for hold, kind := range map[int64]string{voided: "hold_release.voided", expiring: "hold_release.expired"} {
		var release int64
		c.ok(c.db.Get(&release, `SELECT id FROM ledger_transactions WHERE hold_id = $1 AND kind = $2`, hold, kind))
		moves, err := ledger.LotMoves(c.ctx, c.db, release)
		c.ok(err)
		if len(moves) != 1 || moves[0].Amount != -1_000 || moves[0].Against == nil || *moves[0].Against != hold {
			t.Fatalf("%s of hold %d moved %+v, want 1000 given back against the hold", kind, hold, moves)
		}
	}
	wantCode(t, func() error {
		_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "fake", Kind: "hold_release.voided",
			Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 1}}})
		return err
	}(), apperr.Invalid)
	c.sealAll()
	c.verify()
	tamper(t, c.db, `UPDATE ledger_lot_moves SET amount = -999 WHERE amount = -1000`)
	wantLogBroken(t, c)
}
