package ledger_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// A batch applies its requests in order, each against what the ones
// before it left: a refused request leaves no trace and does not stop the
// others, a repeated key replays, a lot created early in the batch can be
// spent later in it.
func TestPostBatch(t *testing.T) {
	c := newChart(t)
	w0, w1 := c.wallet(0), c.wallet(1)
	c.topUp("t", 100_00)
	far := time.Now().Add(30 * 24 * time.Hour)
	soon := time.Now().Add(24 * time.Hour)
	c.allocate("a0-late", w0, 5_00, &far, "sport")
	c.allocate("a0-soon", w0, 5_00, &soon, "sport")

	redeem := func(key string, gross int64) ledger.Request {
		return ledger.Request{Key: key, Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w0, Gross: gross,
			Category: "sport", Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "c1"}}}
	}
	reqs := []ledger.Request{
		redeem("r1", 6_00), // takes the 5,00 expiring soon first, then 1,00 of the other lot
		redeem("r2", 6_00), // 4,00 left: refused
		redeem("r1", 6_00), // the same request again: the same transaction
		redeem("r1", 7_00), // the same key for another request: conflict
		{Key: "x", Postings: []ledger.Posting{{From: w0, To: "provider:nobody:payable", Amount: 1}}},
		{Key: "alloc-w1", Kind: "allocation", Postings: []ledger.Posting{{From: budget, To: w1, Amount: 3_00,
			Lot: &ledger.LotSpec{Categories: []string{"culture"}}}}},
		{Key: "spend-w1", Postings: []ledger.Posting{{From: w1, To: payable, Amount: 2_00, Category: "culture"}}},
		{Key: "", Postings: []ledger.Posting{{From: w1, To: payable, Amount: 1}}}, // refused before it is sent
		{Key: "spend-w1-sport", Postings: []ledger.Posting{{From: w1, To: payable, Amount: 50, Category: "sport"}}},
	}
	out, err := ledger.PostBatch(c.ctx, c.db, reqs)
	c.ok(err)
	if len(out) != len(reqs) {
		t.Fatalf("%d outcomes for %d requests", len(out), len(reqs))
	}
	if out[0].Err != nil || out[0].TxID == 0 || out[0].Replayed {
		t.Fatalf("r1: %+v", out[0])
	}
	ae := wantCode(t, out[1].Err, apperr.InsufficientFunds)
	if ae.Fields["available"] != int64(4_00) || ae.Fields["required"] != int64(6_00) {
		t.Fatalf("r2 details = %v", ae.Fields)
	}
	if out[2].Err != nil || out[2].TxID != out[0].TxID || !out[2].Replayed {
		t.Fatalf("r1 again: %+v, want a replay of %d", out[2], out[0].TxID)
	}
	wantCode(t, out[3].Err, apperr.Conflict)
	wantCode(t, out[4].Err, apperr.NotFound)
	for _, i := range []int{5, 6} {
		if out[i].Err != nil {
			t.Fatalf("request %d: %v", i, out[i].Err)
		}
	}
	wantCode(t, out[7].Err, apperr.Invalid)
	wantCode(t, out[8].Err, apperr.InsufficientFunds) // w1's only lot is for culture

	c.wantAvailable(w0, 4_00)
	c.wantAvailable(w1, 1_00)
	c.wantAvailable(payable, 6_00*80/100+2_00)
	c.wantAvailable(pool, 6_00*15/100)
	c.wantAvailable(fees, 6_00*5/100)
	lots, err := ledger.Lots(c.ctx, c.db, w0)
	c.ok(err)
	if len(lots) != 1 || lots[0].Remaining != 4_00 || lots[0].ExpiresAt.Sub(far).Abs() > time.Millisecond {
		t.Fatalf("w0 lots = %+v, want 4,00 left of the later lot", lots)
	}
	moves, err := ledger.LotMoves(c.ctx, c.db, out[0].TxID)
	c.ok(err)
	if len(moves) != 2 || moves[0].Amount+moves[1].Amount != 6_00 {
		t.Fatalf("r1 lot moves = %+v", moves)
	}
	fund, err := ledger.Lots(c.ctx, c.db, pool)
	c.ok(err)
	if len(fund) != 1 || fund[0].Attrs["company"] != "c1" || fund[0].Attrs["policy"] != policy {
		t.Fatalf("fund lots = %+v, want one contributor lot of company c1 under policy %s", fund, policy)
	}
	var n int
	c.ok(c.db.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE idempotency_key IN ('r2', 'x', 'spend-w1-sport')`))
	if n != 0 {
		t.Fatalf("%d refused requests left a transaction", n)
	}
	c.verify()
}

// Many clients posting through one Batcher: every redemption lands once,
// retries replay, and the money adds up.
func TestBatcher(t *testing.T) {
	c := newChart(t)
	const nWallets, clients, each = 20, 24, 40
	c.dbResize(8)
	c.topUp("t", nWallets*1_000_00)
	paths := make([]string, nWallets)
	for i := range paths {
		paths[i] = c.wallet(i)
		c.allocate(fmt.Sprintf("a%d", i), paths[i], 1_000_00, nil)
	}
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 16, Writers: 3})
	defer b.Close()
	var wg sync.WaitGroup
	ids := make([][]int64, clients)
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				req := ledger.Request{Key: fmt.Sprintf("c%d-%d", g, i), Kind: "redemption", Split: &ledger.Split{
					Policy: policy, From: paths[(g+i)%nWallets], Gross: 1_00, Provider: payable, Fund: pool, Fees: fees}}
				r, err := b.Post(c.ctx, req)
				if err != nil {
					t.Error(err)
					return
				}
				if i%10 == 0 { // a client retrying after a lost answer
					again, err := b.Post(c.ctx, req)
					if err != nil || again.TxID != r.TxID || !again.Replayed {
						t.Errorf("retry of %s: %+v, %v; want a replay of %d", req.Key, again, err, r.TxID)
					}
				}
				ids[g] = append(ids[g], r.TxID)
			}
		}(g)
	}
	wg.Wait()
	seen := map[int64]bool{}
	for _, l := range ids {
		for _, id := range l {
			if seen[id] {
				t.Fatalf("transaction %d returned twice", id)
			}
			seen[id] = true
		}
	}
	if len(seen) != clients*each {
		t.Fatalf("%d transactions, want %d", len(seen), clients*each)
	}
	c.wantAvailable(payable, clients*each*80)
	c.wantAvailable(pool, clients*each*15)
	c.wantAvailable(fees, clients*each*5)
	c.verify()

	// A caller that has given up is not written.
	gone, cancel := context.WithCancel(c.ctx)
	cancel()
	if _, err := b.Post(gone, ledger.Request{Key: "gone", Postings: []ledger.Posting{{From: paths[0], To: payable, Amount: 1}}}); err == nil {
		t.Fatal("Post with a cancelled context succeeded")
	}
	var n int
	c.ok(c.db.Get(&n, `SELECT count(*) FROM ledger_transactions WHERE idempotency_key = 'gone'`))
	if n != 0 {
		t.Fatal("a cancelled request was written")
	}
}

// A request that breaks its whole batch (PostgreSQL cannot store "\u0000"
// in JSON) gets its own error; the requests batched with it are written.
func TestBatcherIsolatesABrokenRequest(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 100_00)
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 16, Writers: 1})
	defer b.Close()

	// Hold the budget's balance row so that the writer's first batch waits
	// on it; the requests sent meanwhile queue up into the next batch.
	hold, err := c.db.BeginTxx(c.ctx, nil)
	c.ok(err)
	_, err = hold.ExecContext(c.ctx, `SELECT 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		WHERE a.path = $1 FOR UPDATE`, budget)
	c.ok(err)
	type answer struct {
		i   int
		err error
	}
	answers := make(chan answer, 6)
	send := func(i int, ref string) {
		_, err := b.Post(c.ctx, ledger.Request{Key: fmt.Sprintf("r%d", i), Reference: ref,
			Postings: []ledger.Posting{{From: budget, To: payable, Amount: 1_00}}})
		answers <- answer{i, err}
	}
	go send(0, "first")
	time.Sleep(200 * time.Millisecond) // the writer is now waiting on the row
	for i := 1; i <= 4; i++ {
		go send(i, "fine")
	}
	go send(5, "broken \x00 reference")
	time.Sleep(200 * time.Millisecond)
	c.ok(hold.Rollback())

	for range 6 {
		a := <-answers
		if a.i == 5 {
			wantCode(t, a.err, apperr.Invalid)
			continue
		}
		if a.err != nil {
			t.Fatalf("request %d: %v", a.i, a.err)
		}
	}
	c.wantAvailable(payable, 5*1_00)
	c.verify()
}
