package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Expiry is judged by the clock at the moment of the write, not by the
// start of the caller's database transaction: inside a long transaction an
// expired lot cannot be spent, nor an expired hold captured.
func TestExpiryIsJudgedWhenTheWriteHappens(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	soon := time.Now().Add(time.Second)
	c.allocate("a", w, 5_000, &soon)
	far := time.Now().Add(time.Hour)
	c.allocate("b", wallet(0), 1_000, &far)
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: soon, Request: ledger.Request{Key: "h",
		Postings: []ledger.Posting{{From: budget, To: payable, Amount: 100}}}})
	c.ok(err)

	long := func() *sqlx.Tx { // a transaction whose now() is fixed from here
		tx, err := c.db.BeginTxx(c.ctx, nil)
		c.ok(err)
		t.Cleanup(func() { tx.Rollback() })
		var began time.Time
		c.ok(tx.Get(&began, `SELECT now()`))
		return tx
	}
	tx1, tx2 := long(), long()
	time.Sleep(time.Until(soon) + 50*time.Millisecond)

	_, err = ledger.Post(c.ctx, tx1, ledger.Request{Key: "spend", Postings: []ledger.Posting{{From: w, To: payable, Amount: 3_000}}})
	e := wantCode(t, err, apperr.InsufficientFunds)
	if e.Fields["available"] != int64(1_000) {
		t.Errorf("spendable credit reported %v, want the unexpired 1000", e.Fields["available"])
	}
	_, err = ledger.Capture(c.ctx, tx2, ledger.CaptureRequest{Key: "cap", HoldID: h.TxID})
	wantCode(t, err, apperr.Conflict)
	c.ok(tx1.Rollback())
	c.ok(tx2.Rollback())

	// A write records the instant it was judged at.
	res := c.post(ledger.Request{Key: "late", Postings: []ledger.Posting{{From: w, To: payable, Amount: 500}}})
	var at time.Time
	c.ok(c.db.Get(&at, `SELECT written_at FROM ledger_transactions WHERE id = $1`, res.TxID))
	if at.Before(soon) {
		t.Errorf("written_at %v is before the lot expiry it was judged against", at)
	}
	c.verify()
}

// A hold placed in time may be captured after the lots it reserved have
// expired, until its own expiry (a December booking for a January
// service); a hold whose own expiry is already past is refused.
func TestAHoldKeepsItsLotsPastTheirExpiry(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	soon := time.Now().Add(400 * time.Millisecond)
	c.allocate("a", w, 2_000, &soon)
	_, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(-time.Minute), Request: ledger.Request{
		Key: "past", Postings: []ledger.Posting{{From: w, To: payable, Amount: 500}}}})
	wantCode(t, err, apperr.Invalid)
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_500}}}})
	c.ok(err)
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "cap", HoldID: h.TxID})
	c.ok(err)
	c.wantAvailable(payable, 1_500)
	c.verify()
}

// A true retry never conflicts: the same instant written in another time
// zone, or read back from PostgreSQL (microseconds), is the same request.
func TestARetryWithTheSameInstantReplays(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 10_000)
	rome, err := time.LoadLocation("Europe/Rome")
	c.ok(err)
	at := time.Now().Add(-time.Hour).Round(time.Second).Add(123456789 * time.Nanosecond).In(rome)
	req := func(when time.Time) ledger.Request {
		return ledger.Request{Key: "backdated", EffectiveAt: &when,
			Postings: []ledger.Posting{{From: budget, To: payable, Amount: 700}}}
	}
	first := c.post(req(at))
	var stored time.Time
	c.ok(c.db.Get(&stored, `SELECT effective_at FROM ledger_transactions WHERE id = $1`, first.TxID))
	for _, when := range []time.Time{at.UTC(), stored, stored.In(rome)} {
		res, err := ledger.Post(c.ctx, c.db, req(when))
		if err != nil || !res.Replayed || res.TxID != first.TxID {
			t.Fatalf("retry with %v: %+v, %v; want a replay of %d", when, res, err, first.TxID)
		}
	}
	c.wantAvailable(payable, 700)
}

// Two different keys never collide: a key that is not valid UTF-8 is
// refused, rather than turned into U+FFFD and matched with another.
func TestKeysAreValidUTF8(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 10_000)
	for _, k := range []string{"topup-\xff", "topup-\xfe"} {
		_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: k, Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 100}}})
		wantCode(t, err, apperr.Invalid)
	}
	c.wantAvailable(budget, 10_000)
}

// No transaction without entries: postings that cancel out, in the batch
// and on the locking path, and a reversal that nets to nothing, are
// refused and write nothing.
func TestPostingsThatCancelOutAreRefused(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 10_000)
	cancel := []ledger.Posting{{From: budget, To: payable, Amount: 300}, {From: payable, To: budget, Amount: 300}}
	_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "p", Postings: cancel})
	wantCode(t, err, apperr.Invalid)
	_, err = ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "h", Postings: cancel}})
	wantCode(t, err, apperr.Invalid)
	orig := c.post(ledger.Request{Key: "o", Postings: []ledger.Posting{{From: budget, To: payable, Amount: 500}}})
	_, err = ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "r", TransactionID: orig.TxID, Postings: cancel})
	wantCode(t, err, apperr.Invalid)
	var n int
	c.ok(c.db.Get(&n, `SELECT count(*) FROM ledger_transactions`))
	if n != 2 {
		t.Errorf("%d transactions, want the top-up and the original only", n)
	}
	c.verify()
}

// Lot remainders always equal the wallet's balance: a reversal whose
// postings both credit and debit a wallet (a partial refund that nets out)
// is refused rather than creating lots at the gross credit.
func TestAReversalThatNetsOnAWalletIsRefused(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	c.allocate("a", w, 3_000, nil)
	orig := c.post(ledger.Request{Key: "spend", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_000}}})
	_, err := ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "r", TransactionID: orig.TxID, Postings: []ledger.Posting{
		{From: w, To: payable, Amount: 600}, {From: payable, To: w, Amount: 200}}})
	wantCode(t, err, apperr.Invalid)
	c.wantAvailable(w, 2_000)
	c.verify()
}

// A refused request is not remembered under its key: after money arrives,
// a retry of a request refused for insufficient funds succeeds.
func TestARefusedRequestCanBeRetried(t *testing.T) {
	c := newChart(t)
	req := ledger.Request{Key: "redeem", Postings: []ledger.Posting{{From: budget, To: payable, Amount: 800}}}
	_, err := ledger.Post(c.ctx, c.db, req)
	wantCode(t, err, apperr.InsufficientFunds)
	hold := ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: "book",
		Postings: []ledger.Posting{{From: budget, To: payable, Amount: 200}}}}
	_, err = ledger.Hold(c.ctx, c.db, hold)
	wantCode(t, err, apperr.InsufficientFunds)
	c.topUp("t", 1_000)
	if res, err := ledger.Post(c.ctx, c.db, req); err != nil || res.Replayed {
		t.Fatalf("retry after the top-up: %+v, %v; want a new transaction", res, err)
	}
	if res, err := ledger.Hold(c.ctx, c.db, hold); err != nil || res.Replayed {
		t.Fatalf("hold retried after the top-up: %+v, %v; want a new hold", res, err)
	}
	c.wantAvailable(budget, 0)
}

// Backdating is bounded: at most 7 days, never into an earlier tax year;
// within the bounds the split policy of that date applies.
func TestBackdatingIsBounded(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 100_000)
	c.allocate("a", w, 50_000, nil)
	_, err := ledger.CreatePolicy(c.ctx, c.db, ledger.SplitPolicy{Name: policy, ValidFrom: time.Now().Add(-24 * time.Hour),
		FundBps: 3000, FeeBps: 500, RemainderTo: ledger.ToProvider})
	c.ok(err)
	split := func(key string, at time.Time) (ledger.Result, error) {
		return ledger.Post(c.ctx, c.db, ledger.Request{Key: key, EffectiveAt: &at, Split: &ledger.Split{Policy: policy,
			From: w, Gross: 1_000, Provider: payable, Fund: pool, Fees: fees}})
	}
	_, err = split("eight-days", time.Now().Add(-8*24*time.Hour))
	wantCode(t, err, apperr.Invalid)
	_, err = ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "old-hold", EffectiveAt: ptr(time.Now().Add(-30 * 24 * time.Hour)), Postings: []ledger.Posting{{From: w, To: payable, Amount: 1}}}})
	wantCode(t, err, apperr.Invalid)
	twoDays := time.Now().Add(-48 * time.Hour)
	if twoDays.Year() == time.Now().Year() {
		res, err := split("two-days", twoDays)
		c.ok(err)
		tx, err := ledger.GetTransaction(c.ctx, c.db, res.TxID)
		c.ok(err)
		if got := string(tx.Split); !strings.Contains(got, `"version": 1`) {
			t.Errorf("a transaction effective two days ago used %s, want the policy version of that date", got)
		}
	}
	// the tax year, judged in Italian time
	var refusal *string
	c.ok(c.db.Get(&refusal, `SELECT ledger_check_effective('2026-12-31 23:30+01', '2027-01-02 09:00+01', true, NULL, NULL)->>'message'`))
	if refusal == nil {
		t.Error("an effective time in the previous tax year was accepted")
	}
	c.ok(c.db.Get(&refusal, `SELECT ledger_check_effective('2027-01-01 00:30+01', '2027-01-02 09:00+01', true, NULL, NULL)->>'message'`))
	if refusal != nil {
		t.Errorf("a day back within the tax year was refused: %s", *refusal)
	}
	c.verify()
}

// Contention is never a user-visible error: 64 clients spending from one
// wallet that has enough money all succeed, one post at a time and
// through the Batcher, and inside their own transactions.
func TestContentionIsNeverAnError(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 1_000_000)
	c.allocate("a", w, 1_000_000, nil)
	bat := ledger.NewBatcher(c.db, ledger.BatcherOptions{})
	defer bat.Close()
	const clients, each = 64, 3
	var wg sync.WaitGroup
	errs := make(chan error, clients*each*3)
	for g := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				r := ledger.Request{Key: fmt.Sprintf("single-%d-%d", g, i), Postings: []ledger.Posting{{From: w, To: payable, Amount: 10}}}
				if _, err := ledger.Post(c.ctx, c.db, r); err != nil {
					errs <- fmt.Errorf("single: %w", err)
				}
				r.Key = fmt.Sprintf("batched-%d-%d", g, i)
				if _, err := bat.Post(c.ctx, r); err != nil {
					errs <- fmt.Errorf("batcher: %w", err)
				}
				r.Key = fmt.Sprintf("in-tx-%d-%d", g, i)
				if err := db.WithTx(c.ctx, c.db, func(tx *sqlx.Tx) error {
					_, err := ledger.Post(c.ctx, tx, r)
					return err
				}); err != nil {
					errs <- fmt.Errorf("in a transaction: %w", err)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	n := 0
	for err := range errs {
		if n++; n <= 5 {
			t.Error(err)
		}
	}
	if n > 0 {
		t.Fatalf("%d of %d writes failed", n, clients*each*3)
	}
	c.wantAvailable(payable, clients*each*3*10)
	c.verify()
}

func ptr[T any](v T) *T { return &v }

// The expiry sweep disposes of every expired euro: money a voided hold
// puts back into an already swept lot is disposed of by the next sweep
// (its key is not the earlier disposal's), and a lot that cannot be
// disposed of does not hold up the others.
func TestTheSweepDisposesOfEveryExpiredEuro(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	soon := time.Now().Add(500 * time.Millisecond)
	c.allocate("a", w, 600, &soon)
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 300}}}})
	c.ok(err)
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	back := func(ledger.Lot) (ledger.Disposition, error) {
		return ledger.Disposition{Action: ledger.Return, To: budget}, nil
	}
	if n, err := ledger.SweepExpiredLots(c.ctx, c.db, 10, back); err != nil || n != 1 {
		t.Fatalf("first sweep: %d, %v", n, err)
	}
	c.ok(ledger.Void(c.ctx, c.db, h.TxID)) // 300 back into the expired lot
	if n, err := ledger.SweepExpiredLots(c.ctx, c.db, 10, back); err != nil || n != 1 {
		t.Fatalf("sweep after the void: %d, %v", n, err)
	}
	c.wantAvailable(w, 0)
	c.wantAvailable(budget, 10_000)
	if n, err := ledger.SweepExpiredLots(c.ctx, c.db, 10, back); err != nil || n != 0 {
		t.Fatalf("a third sweep found %d (%v)", n, err)
	}

	// three more expired lots; the first cannot be disposed of
	var ws []string
	for i := 1; i <= 3; i++ {
		ws = append(ws, c.wallet(i))
		c.allocate(fmt.Sprintf("b%d", i), ws[i-1], 100, &soon) // already expired: allocations may create them
	}
	stuck := fmt.Errorf("no plan for this lot")
	decide := func(l ledger.Lot) (ledger.Disposition, error) {
		if l.Account == ws[0] {
			return ledger.Disposition{}, stuck
		}
		return ledger.Disposition{Action: ledger.Return, To: budget}, nil
	}
	n, err := ledger.SweepExpiredLots(c.ctx, c.db, 2, decide)
	if n != 2 || !errors.Is(err, stuck) {
		t.Fatalf("sweep past a stuck lot: %d, %v; want 2 and the stuck lot's error", n, err)
	}
	c.wantAvailable(ws[1], 0)
	c.wantAvailable(ws[2], 0)
	c.wantAvailable(ws[0], 100)
	c.verify()
}

// No caller can bypass expiry or categories: a request naming lots
// (only_lots, the sweep's power) is written as if it did not; each
// consumption records what it paid for, and the verifier checks it against
// the lot's categories.
func TestOnlyTheSweepTakesExpiredLots(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	soon := time.Now().Add(300 * time.Millisecond)
	lot := c.allocate("a", w, 1_000, &soon)
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	var lotID int64
	c.ok(c.db.Get(&lotID, `SELECT id FROM ledger_lots WHERE tx_id = $1`, lot.TxID))
	for _, fn := range []string{"ledger_post", "ledger_post_batch"} {
		body := fmt.Sprintf(`{"key":"sneak-%s","postings":[{"from":%q,"to":%q,"amount":500,"only_lots":[%d]}]}`, fn, w, payable, lotID)
		if fn == "ledger_post_batch" {
			body = "[" + body + "]"
		}
		var out string
		err := c.db.Get(&out, `SELECT `+fn+`($1::jsonb)::text`, body)
		if err == nil && !strings.Contains(out, "RL001") {
			t.Fatalf("%s took an expired lot it named: %s", fn, out)
		}
	}
	c.wantAvailable(w, 1_000)

	w1 := c.wallet(1)
	c.allocate("b", w1, 1_000, nil, "sport")
	_, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "h", Postings: []ledger.Posting{{From: w1, To: payable, Amount: 400, Category: "sport"}}}})
	c.ok(err)
	c.post(ledger.Request{Key: "p", Postings: []ledger.Posting{{From: w1, To: payable, Amount: 100, Category: "sport"}}})
	var cats []string
	c.ok(c.db.Select(&cats, `SELECT m.category FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
		JOIN ledger_accounts a ON a.id = l.account_id WHERE a.path = $1 AND m.amount > 0 ORDER BY m.tx_id`, w1))
	if len(cats) != 2 || cats[0] != "sport" || cats[1] != "sport" {
		t.Fatalf("consumptions recorded %v, want the hold's and the post's category", cats)
	}
	c.verify()
	// Had the lot been for culture only, the verifier would say so.
	tamper(t, c.db, `UPDATE ledger_lots SET categories = '{culture}'
		WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = '`+w1+`')`)
	rep, err := ledger.Verify(c.ctx, c.db)
	c.ok(err)
	if rep.OK {
		t.Fatal("verify passed with consumptions outside their lot's categories")
	}
}

// tamper changes ledger rows behind the ledger's back, as a superuser who
// switches the guarding triggers off would.
func tamper(t *testing.T, dbx *sqlx.DB, q string) {
	t.Helper()
	conn, err := dbx.Connx(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, s := range []string{`SET session_replication_role = replica`, q, `SET session_replication_role = DEFAULT`} {
		if _, err := conn.ExecContext(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

// A capture pays only the hold's own parties: not another employee's
// wallet, directly or as a split's fund part.
func TestACapturePaysOnlyTheHoldsParties(t *testing.T) {
	c := newChart(t)
	w, other := c.wallet(0), c.wallet(1)
	c.topUp("t", 10_000)
	c.allocate("a", w, 5_000, nil, "sport")
	hold := func(key string) int64 {
		h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
			Key: key, Postings: []ledger.Posting{{From: w, To: payable, Amount: 2_000, Category: "sport"}}}})
		c.ok(err)
		return h.TxID
	}
	h := hold("h1")
	_, err := ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "c1", HoldID: h,
		Postings: []ledger.Posting{{From: w, To: other, Amount: 1_500}}})
	wantCode(t, err, apperr.Invalid)
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "c2", HoldID: h,
		Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000, Provider: payable, Fund: other, Fees: fees}})
	wantCode(t, err, apperr.Invalid)
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "c3", HoldID: h,
		Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000, Provider: other, Fund: pool, Fees: fees}})
	wantCode(t, err, apperr.Invalid)
	c.wantAvailable(other, 0)
	// the hold is still pending and captures normally
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "c4", HoldID: h,
		Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000, Provider: payable, Fund: pool, Fees: fees}})
	c.ok(err)
	c.wantAvailable(pool, 300)
	c.verify()
}

// Lot rows are immutable except their remainder: neither a contributor
// lot's company nor a wallet lot's expiry or categories can be changed, nor
// a lot deleted; and the audit log covers lots and lot moves, so changing
// one behind the triggers' back breaks it.
func TestLotsAreImmutableButForTheirRemainder(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	later := time.Now().Add(time.Hour)
	c.allocate("a", w, 5_000, &later, "sport")
	c.post(ledger.Request{Key: "r", Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w, Gross: 1_000,
		Category: "sport", Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "acme"}}})
	for _, q := range []string{
		`UPDATE ledger_lots SET attrs = attrs || '{"company": "globex"}' WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = '` + pool + `')`,
		`UPDATE ledger_lots SET expires_at = expires_at + interval '1 year' WHERE expires_at IS NOT NULL`,
		`UPDATE ledger_lots SET categories = '{}' WHERE categories <> '{}'`,
		`UPDATE ledger_lots SET amount = amount + 1`,
		`DELETE FROM ledger_lots`,
	} {
		_, err := c.db.Exec(q)
		wantCode(t, mapped(err), apperr.Forbidden)
	}
	// the remainder alone may change (what the write functions do)
	_, err := c.db.Exec(`UPDATE ledger_lots SET remaining = remaining WHERE true`)
	c.ok(err)
	c.sealAll()
	c.verify()
	tamper(t, c.db, `UPDATE ledger_lots SET attrs = attrs || '{"company": "globex"}'
		WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = '`+pool+`')`)
	wantLogBroken(t, c)
}

// A lot move changed behind the triggers' back breaks the log too.
func TestTheLogCoversLotMoves(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	c.allocate("a", w, 5_000, nil, "sport", "culture")
	c.post(ledger.Request{Key: "p", Postings: []ledger.Posting{{From: w, To: payable, Amount: 700, Category: "sport"}}})
	c.sealAll()
	c.verify()
	tamper(t, c.db, `UPDATE ledger_lot_moves SET category = 'culture' WHERE category = 'sport'`)
	wantLogBroken(t, c)
}

func wantLogBroken(t *testing.T, c *chart) {
	t.Helper()
	rep, err := ledger.Verify(c.ctx, c.db)
	c.ok(err)
	if failed(rep, "log") <= 0 {
		t.Fatalf("the audit log did not notice: %+v", rep.Checks)
	}
}

// mapped is how the ledger reports a database error to its callers.
func mapped(err error) error {
	var pe *pq.Error
	if errors.As(err, &pe) && pe.Code == "RL005" {
		return apperr.New(apperr.Forbidden, "%s", pe.Message)
	}
	return err
}

// One stuck transaction cannot stall the Batcher: while a domain
// transaction holds a wallet's row, writes that do not touch that wallet
// go through (even with a single writer), and the blocked one lands once
// the row is free.
func TestAStuckTransactionDoesNotStallTheBatcher(t *testing.T) {
	c := newChart(t)
	w := c.wallet(0)
	c.topUp("t", 10_000)
	c.allocate("a", w, 1_000, nil)
	stuck, err := c.db.BeginTxx(c.ctx, nil)
	c.ok(err)
	defer stuck.Rollback()
	_, err = stuck.Exec(`SELECT 1 FROM ledger_balances WHERE account_id = (SELECT id FROM ledger_accounts WHERE path = $1) FOR UPDATE`, w)
	c.ok(err)

	bat := ledger.NewBatcher(c.db, ledger.BatcherOptions{Writers: 1, LockTimeout: 100 * time.Millisecond})
	defer bat.Close()
	blocked := make(chan error, 1)
	go func() {
		_, err := bat.Post(c.ctx, ledger.Request{Key: "blocked", Postings: []ledger.Posting{{From: w, To: payable, Amount: 100}}})
		blocked <- err
	}()
	time.Sleep(50 * time.Millisecond) // the blocked request's batch is waiting for the row
	ctx, cancel := context.WithTimeout(c.ctx, 2*time.Second)
	defer cancel()
	for i := range 3 {
		if _, err := bat.Post(ctx, ledger.Request{Key: fmt.Sprintf("topup-%d", i),
			Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 10}}}); err != nil {
			t.Fatalf("an unrelated top-up while a row is held: %v", err)
		}
	}
	select {
	case err := <-blocked:
		t.Fatalf("the blocked request returned while its row was held: %v", err)
	default:
	}
	c.ok(stuck.Rollback())
	select {
	case err := <-blocked:
		c.ok(err)
	case <-time.After(5 * time.Second):
		t.Fatal("the blocked request did not land after the row was freed")
	}
	c.wantAvailable(payable, 100)
	c.verify()
}

// Refunds give back the same company's money and always succeed for the
// employee: a refund takes the fund's share from the company it came from
// (another of its lots when its own was spent), never from another
// company's; what the fund has already spent goes to platform:loss.
func TestARefundTakesBackTheSameCompanysMoney(t *testing.T) {
	c := newChart(t)
	loss := c.account(ledger.AccountSpec{Path: "platform:loss", Kind: ledger.Expense}).Path
	envelope := c.account(ledger.AccountSpec{Path: "fund:f1:envelope:housing", Kind: ledger.Liability, Floor: &zero, Lots: true}).Path
	c.topUp("t", 100_000)
	redeem := func(key, w, company string) int64 {
		return c.post(ledger.Request{Key: key, Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w, Gross: 10_000,
			Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": company}}}).TxID
	}
	wa, wb := c.wallet(0), c.wallet(1)
	c.allocate("a", wa, 30_000, nil)
	c.allocate("b", wb, 30_000, nil)
	a1 := redeem("a1", wa, "acme") // pool: acme 1500
	redeem("b1", wb, "globex")     // pool: globex 1500
	a2 := redeem("a2", wa, "acme") // pool: acme 1500
	// the fund earmarks 1500: acme's first lot
	c.post(ledger.Request{Key: "earmark", Postings: []ledger.Posting{{From: pool, To: envelope, Amount: 1_500}}})
	companyLeft := func(company string) int64 {
		var n int64
		c.ok(c.db.Get(&n, `SELECT coalesce(sum(remaining), 0) FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
			WHERE a.path = $1 AND l.attrs->>'company' = $2`, pool, company))
		return n
	}
	// refunding a1: its own lot is spent; acme's other lot pays, not globex's
	_, err := ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund-a1", TransactionID: a1})
	c.ok(err)
	if companyLeft("globex") != 1_500 || companyLeft("acme") != 0 {
		t.Fatalf("after refunding a1: globex %d (want 1500), acme %d (want 0)", companyLeft("globex"), companyLeft("acme"))
	}
	// refunding a2: acme has nothing left in the pool; the employee still
	// gets the whole gross back, and the fund's share is written off
	_, err = ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund-a2", TransactionID: a2})
	c.ok(err)
	if companyLeft("globex") != 1_500 {
		t.Fatalf("globex's contribution was used for acme's refund: %d left", companyLeft("globex"))
	}
	c.wantAvailable(wa, 30_000)
	if b := c.balance(loss); b.Posted != 1_500 {
		t.Fatalf("platform:loss = %+v, want the 1500 the fund had spent", b)
	}
	c.verify()
}
