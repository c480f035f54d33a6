package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// A Jepsen-style bank: 32 clients move money among 100 wallets (floor 0)
// and a few hot accounts, alone or batched (ledger.Batcher), while readers
// take snapshots. Every snapshot sums
// to the constant total and shows no balance below its floor; verify
// passes at the end.
func TestBank(t *testing.T) {
	c := newChart(t)
	const nWallets, clients, perClient, initial = 100, 32, 60, 10_00
	c.dbResize(clients + 8)
	c.topUp("seed", nWallets*initial)
	paths := make([]string, nWallets)
	for i := range paths {
		paths[i] = c.wallet(i)
		c.allocate(fmt.Sprintf("seed-%d", i), paths[i], initial, nil)
	}
	// The money of the game: wallets + payable + pool + fees + budget.
	game := append([]string{payable, pool, fees, budget}, paths...)
	total := sumAvailable(t, c.ctx, c.db, game)

	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	batcher := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 8, Writers: 2})
	defer batcher.Close()
	var wg, readers sync.WaitGroup
	var ok, refused, snapshots atomic.Int64
	seed := time.Now().UnixNano()
	t.Logf("bank seed %d", seed)
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(seed), uint64(g)))
			for i := 0; i < perClient; i++ {
				key := fmt.Sprintf("c%d-%d", g, i)
				from, to := paths[rng.IntN(nWallets)], paths[rng.IntN(nWallets)]
				amount := int64(rng.IntN(6_00) + 1)
				var err error
				switch op := rng.IntN(10); {
				case op < 2:
					// money comes back to wallets: the game keeps going
					_, err = ledger.Post(ctx, c.db, ledger.Request{Key: key, Postings: []ledger.Posting{{From: payable, To: to, Amount: amount * 2}}})
				case op < 5 && from != to && g%2 == 1:
					// batched with other clients' transfers
					_, err = batcher.Post(ctx, ledger.Request{Key: key, Postings: []ledger.Posting{{From: from, To: to, Amount: amount}}})
				case op < 5 && from != to:
					_, err = ledger.Post(ctx, c.db, ledger.Request{Key: key, Postings: []ledger.Posting{{From: from, To: to, Amount: amount}}})
				case op < 8:
					_, err = ledger.Post(ctx, c.db, ledger.Request{Key: key, Split: &ledger.Split{Policy: policy, From: from,
						Gross: amount, Provider: payable, Fund: pool, Fees: fees}})
				default:
					// A hold captured in part, inside a domain transaction.
					err = db.WithTx(ctx, c.db, func(tx *sqlx.Tx) error {
						h, err := ledger.Hold(ctx, tx, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
							Request: ledger.Request{Key: key, Postings: []ledger.Posting{{From: from, To: payable, Amount: amount}}}})
						if err != nil {
							return err
						}
						_, err = ledger.Capture(ctx, tx, ledger.CaptureRequest{Key: key + "-cap", HoldID: h.TxID,
							Split: &ledger.Split{Policy: policy, From: from, Gross: amount/2 + 1, Provider: payable, Fund: pool, Fees: fees}})
						return err
					})
				}
				switch {
				case err == nil:
					ok.Add(1)
				case apperr.Is(err, apperr.InsufficientFunds):
					refused.Add(1)
				default:
					t.Errorf("client %d op %d: %v", g, i, err)
					return
				}
			}
		}(g)
	}
	for r := 0; r < 3; r++ {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for ctx.Err() == nil {
				snapshot(t, ctx, c.db, game, total)
				snapshots.Add(1)
			}
		}()
	}
	wg.Wait()
	cancel()
	readers.Wait()
	t.Logf("%d transfers, %d refused for funds, %d snapshots", ok.Load(), refused.Load(), snapshots.Load())
	if ok.Load() < clients*perClient/2 || snapshots.Load() == 0 {
		t.Fatalf("too little happened: %d ok, %d snapshots", ok.Load(), snapshots.Load())
	}
	if got := sumAvailable(t, c.ctx, c.db, game); got != total {
		t.Fatalf("total = %d, want %d", got, total)
	}
	c.verify()
}

func (c *chart) dbResize(n int) { c.db.SetMaxOpenConns(n); c.db.SetMaxIdleConns(n) }

func sumAvailable(t testing.TB, ctx context.Context, q sqlx.QueryerContext, paths []string) int64 {
	t.Helper()
	var total int64
	for _, p := range paths {
		b, err := ledger.GetBalance(ctx, q, p)
		if err != nil {
			t.Fatal(err)
		}
		total += b.Posted + b.PendingIn
	}
	return total
}

// snapshot reads every balance in one repeatable-read transaction.
func snapshot(t testing.TB, ctx context.Context, dbx *sqlx.DB, paths []string, total int64) {
	tx, err := dbx.BeginTxx(ctx, nil)
	if err != nil {
		return
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET TRANSACTION ISOLATION LEVEL REPEATABLE READ`); err != nil {
		return
	}
	var sum int64
	for _, p := range paths {
		b, err := ledger.GetBalance(ctx, tx, p)
		if err != nil {
			if ctx.Err() == nil {
				t.Error(err)
			}
			return
		}
		if b.Floor != nil && b.Available < *b.Floor {
			t.Errorf("snapshot: %s available %d below floor %d", p, b.Available, *b.Floor)
		}
		sum += b.Posted + b.PendingIn
	}
	if sum != total {
		t.Errorf("snapshot sums to %d, want %d", sum, total)
	}
}

// 100 concurrent captures and voids of one hold: exactly one wins, the
// others get a conflict, and the money moved once.
func TestHoldResolvesOnce(t *testing.T) {
	c := newChart(t)
	c.dbResize(50)
	w := c.wallet(1)
	c.topUp("t", 50_00)
	c.allocate("a", w, 50_00, nil)
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 40_00}}}})
	c.ok(err)
	var wins, conflicts, captures atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < 100; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			var err error
			if i%2 == 0 {
				_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: fmt.Sprintf("cap-%d", i), HoldID: h.TxID})
				if err == nil {
					captures.Add(1)
				}
			} else {
				err = ledger.Void(c.ctx, c.db, h.TxID)
			}
			switch {
			case err == nil:
				wins.Add(1)
			case apperr.Is(err, apperr.Conflict):
				conflicts.Add(1)
			default:
				t.Error(err)
			}
		}(i)
	}
	close(start)
	wg.Wait()
	if wins.Load() != 1 || conflicts.Load() != 99 {
		t.Fatalf("%d winners, %d conflicts; want 1 and 99", wins.Load(), conflicts.Load())
	}
	if captures.Load() == 1 {
		c.wantAvailable(w, 10_00)
		c.wantAvailable(payable, 40_00)
	} else {
		c.wantAvailable(w, 50_00)
		c.wantAvailable(payable, 0)
	}
	c.verify()
}

// 50 concurrent writes with one idempotency key: one transaction, every
// caller gets its id.
func TestOneKeyOneTransaction(t *testing.T) {
	c := newChart(t)
	c.dbResize(50)
	// half of the writers alone, half through a Batcher (several writers, so
	// that batches race each other too)
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 4, Writers: 4})
	defer b.Close()
	var wg sync.WaitGroup
	ids := make([]int64, 50)
	start := make(chan struct{})
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req := ledger.Request{Key: "webhook-evt-1", Kind: "topup",
				Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 7_77}}}
			post := ledger.Post
			if i%2 == 1 {
				post = func(ctx context.Context, _ sqlx.ExtContext, r ledger.Request) (ledger.Result, error) {
					return b.Post(ctx, r)
				}
			}
			r, err := post(c.ctx, c.db, req)
			if err != nil {
				t.Error(err)
			}
			ids[i] = r.TxID
		}(i)
	}
	close(start)
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] || id == 0 {
			t.Fatalf("ids = %v", ids)
		}
	}
	c.wantAvailable(budget, 7_77)
	c.verify()
}

// A backend killed in the middle of a ledger transaction leaves nothing
// behind; the retry with the same key writes it exactly once.
func TestBackendKilledMidTransaction(t *testing.T) {
	c := newChart(t)
	w := c.wallet(1)
	c.topUp("t", 10_00)
	req := ledger.Request{Key: "alloc-killed", Postings: []ledger.Posting{{From: budget, To: w, Amount: 4_00}}}

	tx, err := c.db.BeginTxx(c.ctx, nil)
	c.ok(err)
	var pid int
	c.ok(tx.GetContext(c.ctx, &pid, `SELECT pg_backend_pid()`))
	_, err = ledger.Post(c.ctx, tx, req)
	c.ok(err)
	// The domain's own work would go here; the backend dies before COMMIT.
	var killed bool
	c.ok(c.db.Get(&killed, `SELECT pg_terminate_backend($1)`, pid))
	if !killed {
		t.Fatal("backend not terminated")
	}
	if err := tx.Commit(); err == nil {
		t.Fatal("commit on a killed backend succeeded")
	}
	c.wantAvailable(w, 0)
	c.wantAvailable(budget, 10_00)

	// Killed while the statement itself runs: a lock makes it wait, then dies.
	blocker, err := c.db.BeginTxx(c.ctx, nil)
	c.ok(err)
	_, err = blocker.Exec(`SELECT 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
		WHERE a.path = $1 FOR UPDATE`, budget)
	c.ok(err)
	conn, err := c.db.Connx(c.ctx)
	c.ok(err)
	c.ok(conn.GetContext(c.ctx, &pid, `SELECT pg_backend_pid()`))
	done := make(chan error, 1)
	ctx2, err := conn.BeginTxx(c.ctx, nil)
	c.ok(err)
	go func() {
		_, err := ledger.Post(c.ctx, ctx2, req)
		if err == nil {
			err = ctx2.Commit()
		}
		done <- err
	}()
	waitForLockWait(t, c, pid)
	c.ok(c.db.Get(&killed, `SELECT pg_terminate_backend($1)`, pid))
	if err := <-done; err == nil {
		t.Fatal("a post on a killed backend succeeded")
	}
	_ = ctx2.Rollback()
	conn.Close()
	c.ok(blocker.Rollback())
	c.wantAvailable(w, 0)

	first, err := ledger.Post(c.ctx, c.db, req)
	c.ok(err)
	again, err := ledger.Post(c.ctx, c.db, req)
	c.ok(err)
	if first.Replayed || !again.Replayed || again.TxID != first.TxID {
		t.Fatalf("retries = %+v, %+v", first, again)
	}
	c.wantAvailable(w, 4_00)
	c.wantAvailable(budget, 6_00)
	c.verify()
}

func waitForLockWait(t *testing.T, c *chart, pid int) {
	t.Helper()
	for i := 0; i < 500; i++ {
		var waiting bool
		c.ok(c.db.Get(&waiting, `SELECT coalesce(wait_event_type = 'Lock', false) FROM pg_stat_activity WHERE pid = $1`, pid))
		if waiting {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the ledger call never waited for the lock")
}
