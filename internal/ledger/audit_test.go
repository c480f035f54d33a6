package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/ledger"
)

// Split exactness: for many random amounts and policies the parts sum to
// the gross, each part is within a cent or two of its exact share, the
// remainder lands on the stated party, and the SQL write path computes the
// same parts as SplitAmount.
func TestSplitExactness(t *testing.T) {
	c := newChart(t)
	seed := uint64(time.Now().UnixNano())
	t.Logf("split seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 7))
	parties := []string{ledger.ToProvider, ledger.ToFund, ledger.ToFee}
	type sample struct {
		gross int64
		p     ledger.SplitPolicy
	}
	var samples []sample
	for i := 0; i < 20000; i++ {
		fund := rng.IntN(10001)
		p := ledger.SplitPolicy{FundBps: fund, FeeBps: rng.IntN(10001 - fund), RemainderTo: parties[rng.IntN(3)]}
		gross := rng.Int64N(ledger.MaxAmount) + 1
		if i%2 == 0 {
			gross = rng.Int64N(100_00) + 1 // everyday amounts
		}
		samples = append(samples, sample{gross, p})
		s := ledger.SplitAmount(gross, p)
		if s.Provider+s.Fund+s.Fee != gross || s.Provider < 0 || s.Fund < 0 || s.Fee < 0 {
			t.Fatalf("seed %d: split of %d by %+v = %+v", seed, gross, p, s)
		}
		exact := func(bps int) int64 { return gross * int64(bps) / 10000 }
		for _, part := range []struct {
			name      string
			got, want int64
		}{{ledger.ToFund, s.Fund, exact(p.FundBps)}, {ledger.ToFee, s.Fee, exact(p.FeeBps)},
			{ledger.ToProvider, s.Provider, exact(10000 - p.FundBps - p.FeeBps)}} {
			extra := part.got - part.want
			if extra < 0 || extra > 2 || (extra > 0 && part.name != p.RemainderTo) {
				t.Fatalf("seed %d: split of %d by %+v: %s gets %d, exact share %d", seed, gross, p, part.name, part.got, part.want)
			}
		}
	}
	// The same samples through the SQL function, in one query.
	var gross, fundBps, feeBps []int64
	var rem []string
	for _, s := range samples {
		gross, fundBps, feeBps, rem = append(gross, s.gross), append(fundBps, int64(s.p.FundBps)), append(feeBps, int64(s.p.FeeBps)), append(rem, s.p.RemainderTo)
	}
	var parts []struct{ Provider, Fund, Fee int64 }
	q, args, err := sqlx.In(`SELECT (x).provider, (x).fund, (x).fee FROM (
		SELECT ledger_split_parts(g, f::int, e::int, r) AS x, o
		FROM unnest(?::bigint[], ?::bigint[], ?::bigint[], ?::text[]) WITH ORDINALITY AS u(g, f, e, r, o)) s ORDER BY o`,
		pgArray(gross), pgArray(fundBps), pgArray(feeBps), pgTextArray(rem))
	c.ok(err)
	c.ok(c.db.Select(&parts, c.db.Rebind(q), args...))
	for i, s := range samples {
		want := ledger.SplitAmount(s.gross, s.p)
		if parts[i].Provider != want.Provider || parts[i].Fund != want.Fund || parts[i].Fee != want.Fee {
			t.Fatalf("seed %d: SQL split of %d by %+v = %+v, Go %+v", seed, s.gross, s.p, parts[i], want)
		}
	}
	// And one split transaction records its policy version and parts.
	w := c.wallet(1)
	c.topUp("t", 100_00)
	c.allocate("a", w, 100_00, nil)
	_, err = ledger.CreatePolicy(c.ctx, c.db, ledger.SplitPolicy{Name: policy, ValidFrom: time.Now().Add(-time.Minute),
		FundBps: 1000, FeeBps: 333, RemainderTo: ledger.ToFund})
	c.ok(err)
	res := c.post(ledger.Request{Key: "r", Split: &ledger.Split{Policy: policy, From: w, Gross: 99_99, Provider: payable, Fund: pool, Fees: fees}})
	tx, err := ledger.GetTransaction(c.ctx, c.db, res.TxID)
	c.ok(err)
	if !strings.Contains(string(tx.Split), `"version": 2`) {
		t.Fatalf("split transaction records %s, want version 2", tx.Split)
	}
	want := ledger.SplitAmount(99_99, ledger.SplitPolicy{FundBps: 1000, FeeBps: 333, RemainderTo: ledger.ToFund})
	c.wantAvailable(pool, want.Fund)
	c.wantAvailable(fees, want.Fee)
	c.wantAvailable(payable, want.Provider)
	c.verify()
}

func pgArray(xs []int64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprint(x)
	}
	return "{" + strings.Join(parts, ",") + "}"
}

func pgTextArray(xs []string) string { return "{" + strings.Join(xs, ",") + "}" }

// The application's role cannot rewrite history; not even a superuser can
// without disabling the trigger, and then the verifier sees it.
func TestImmutability(t *testing.T) {
	c := newChart(t)
	w := c.wallet(1)
	c.topUp("t", 10_00)
	c.allocate("a", w, 10_00, nil)
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_00}}}})
	c.ok(err)

	asApp := func(stmt string) error {
		tx, err := c.db.Beginx()
		c.ok(err)
		defer tx.Rollback()
		if _, err := tx.Exec(`SET LOCAL ROLE reciproca_app`); err != nil {
			t.Fatal(err)
		}
		_, err = tx.Exec(stmt)
		return err
	}
	for _, stmt := range []string{
		`UPDATE ledger_entries SET amount = amount * 2`,
		`DELETE FROM ledger_entries`,
		`UPDATE ledger_transactions SET reference = 'rewritten'`,
		`DELETE FROM ledger_transactions`,
		`TRUNCATE ledger_entries`,
		`DELETE FROM ledger_lot_moves`,
		`DELETE FROM ledger_log`,
		`UPDATE ledger_log_hashes SET hash = ''`,
		`DELETE FROM ledger_checkpoints`,
		`TRUNCATE ledger_log`,
		`TRUNCATE ledger_lots`,
	} {
		err := asApp(stmt)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("as the app role, %q: %v, want permission denied", stmt, err)
		}
	}
	// The app role does write the ledger: post, hold, capture.
	tx, err := c.db.Beginx()
	c.ok(err)
	_, err = tx.Exec(`SET LOCAL ROLE reciproca_app`)
	c.ok(err)
	_, err = ledger.Capture(c.ctx, tx, ledger.CaptureRequest{Key: "cap", HoldID: h.TxID})
	c.ok(err)
	_, err = ledger.Post(c.ctx, tx, ledger.Request{Key: "p", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_00}}})
	c.ok(err)
	c.ok(tx.Commit())

	// The trigger refuses even the owner; no ledger table can be truncated.
	for _, table := range []string{"ledger_accounts", "ledger_balances", "ledger_split_policies", "ledger_transactions",
		"ledger_entries", "ledger_lots", "ledger_lot_moves", "ledger_log", "ledger_log_hashes", "ledger_log_head",
		"ledger_checkpoints"} {
		if _, err := c.db.Exec(`TRUNCATE ` + table + ` CASCADE`); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("as the owner, TRUNCATE %s: %v, want refused by the trigger", table, err)
		}
	}
	for _, stmt := range []string{`UPDATE ledger_entries SET amount = amount * 2`, `DELETE FROM ledger_transactions`,
		`UPDATE ledger_transactions SET status = 'pending', resolved_at = NULL WHERE id = ` + fmt.Sprint(h.TxID)} {
		if _, err := c.db.Exec(stmt); err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("as the owner, %q: %v, want refused by the trigger", stmt, err)
		}
	}
	c.sealAll()
	c.verify()

	// Tampering behind the trigger's back breaks the chain and the sums.
	_, err = c.db.Exec(`ALTER TABLE ledger_transactions DISABLE TRIGGER ledger_transactions_immutable;
		UPDATE ledger_transactions SET reference = 'forged' WHERE id = ` + fmt.Sprint(h.TxID) + `;
		ALTER TABLE ledger_transactions ENABLE TRIGGER ledger_transactions_immutable`)
	c.ok(err)
	rep, err := ledger.Verify(c.ctx, c.db)
	c.ok(err)
	if rep.OK || failed(rep, "log") == 0 {
		t.Fatalf("verify after tampering with a sealed transaction: %+v", rep)
	}
}

func failed(r ledger.Report, name string) int64 {
	for _, c := range r.Checks {
		if c.Name == name {
			return c.Violations
		}
	}
	return -1
}

// The verifier finds each kind of damage.
func TestVerifyFindsDamage(t *testing.T) {
	for _, tc := range []struct{ check, damage string }{
		{"materialised", `UPDATE ledger_balances SET posted = posted + 1 WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = 'company:c1:budget')`},
		{"lots", `UPDATE ledger_lots SET remaining = remaining - 1 WHERE remaining > 0`},
		{"balanced", `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_immutable; UPDATE ledger_entries SET amount = amount - 1 WHERE id = 1`},
		{"immutability", `ALTER TABLE ledger_entries DISABLE TRIGGER ledger_entries_immutable`},
		{"floors", `UPDATE ledger_balances SET pending_out = pending_out + 100000 WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = 'company:c1:budget')`},
	} {
		t.Run(tc.check, func(t *testing.T) {
			c := newChart(t)
			w := c.wallet(1)
			c.topUp("t", 10_00)
			c.allocate("a", w, 5_00, nil)
			c.verify()
			_, err := c.db.Exec(tc.damage)
			c.ok(err)
			rep, err := ledger.Verify(c.ctx, c.db)
			c.ok(err)
			if rep.OK || failed(rep, tc.check) <= 0 {
				t.Fatalf("damage %q not reported by %s: %+v", tc.damage, tc.check, rep.Checks)
			}
		})
	}
}

// Every immutable field is in the audit log's leaves: changing any of them
// behind the triggers' back, after sealing, is reported. The first case is
// the one a '|'-joined digest that dropped NULLs missed: a refund's
// reverses_id moved into policy_id, which made the refunded redemption
// refundable again.
func TestLeavesCoverEveryImmutableField(t *testing.T) {
	for _, tc := range []struct{ name, table, damage string }{
		{"reverses_id into policy_id", "ledger_transactions",
			`UPDATE ledger_transactions SET policy_id = reverses_id, reverses_id = NULL WHERE reverses_id IS NOT NULL`},
		{"kind", "ledger_transactions", `UPDATE ledger_transactions SET kind = 'topup' WHERE kind = 'allocation'`},
		{"reference", "ledger_transactions", `UPDATE ledger_transactions SET reference = 'other' WHERE kind = 'allocation'`},
		{"effective_at", "ledger_transactions", `UPDATE ledger_transactions SET effective_at = effective_at - interval '1 day' WHERE kind = 'allocation'`},
		{"hold expiry", "ledger_transactions", `UPDATE ledger_transactions SET expires_at = expires_at + interval '1 year' WHERE expires_at IS NOT NULL`},
		{"metadata", "ledger_transactions", `UPDATE ledger_transactions SET metadata = '{"x": 1}' WHERE kind = 'allocation'`},
		{"entry effective_at", "ledger_entries", `UPDATE ledger_entries SET effective_at = effective_at + interval '1 second' WHERE id = (SELECT min(id) FROM ledger_entries)`},
		{"entry account", "ledger_entries", `UPDATE ledger_entries SET account_id = (SELECT id FROM ledger_accounts WHERE path = 'employee:e2:wallet') WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = 'employee:e1:wallet') AND amount > 0`},
		{"lot expiry", "ledger_lots", `UPDATE ledger_lots SET expires_at = expires_at + interval '1 year'`},
		{"lot categories", "ledger_lots", `UPDATE ledger_lots SET categories = '{}'`},
		{"lot owner", "ledger_lots", `UPDATE ledger_lots SET attrs = '{"company": "c2"}'`},
		{"lot move", "ledger_lot_moves", `UPDATE ledger_lot_moves SET amount = amount + 1 WHERE amount > 0`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newChart(t)
			w := c.wallet(1)
			c.wallet(2)
			c.topUp("t", 100_00)
			exp := time.Now().Add(24 * time.Hour)
			c.allocate("a", w, 50_00, &exp, "childcare")
			red := c.post(ledger.Request{Key: "r", Split: &ledger.Split{Policy: policy, From: w, Gross: 20_00,
				Provider: payable, Fund: pool, Fees: fees, Category: "childcare"}})
			_, err := ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund", TransactionID: red.TxID,
				Postings: []ledger.Posting{{From: w, To: payable, Amount: 5_00}}})
			c.ok(err)
			_, err = ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
				Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_00}}}})
			c.ok(err)
			c.sealAll()
			c.verify()
			_, err = c.db.Exec(`ALTER TABLE ` + tc.table + ` DISABLE TRIGGER USER; ` + tc.damage +
				`; ALTER TABLE ` + tc.table + ` ENABLE TRIGGER USER`)
			c.ok(err)
			rep, err := ledger.Verify(c.ctx, c.db)
			c.ok(err)
			if failed(rep, "log") <= 0 {
				t.Fatalf("%s changed after sealing, and the log did not notice (log violations %d)", tc.name, failed(rep, "log"))
			}
		})
	}
}
