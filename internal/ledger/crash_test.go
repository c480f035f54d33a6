package ledger_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// The database server crashes under load and comes back: every client
// retries its writes (redemptions, and bookings: a hold and its capture)
// with the same keys until they are acknowledged, and
// afterwards each key has exactly one transaction, no acknowledged write is
// missing, the money adds up and verify passes. The server is a private
// cluster of its own (durable: fsync on), stopped the way a crash does.
func TestServerCrashUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a PostgreSQL cluster of its own")
	}
	pgsh, err := filepath.Abs("../../scripts/pg.sh")
	if err != nil {
		t.Fatal(err)
	}
	name := fmt.Sprintf("crash-%d", os.Getpid())
	port := freePort(t)
	pg := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("bash", append([]string{pgsh}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("pg.sh %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	url := pg("start", name, port)
	t.Cleanup(func() { pg("reset", name) })

	ctx := context.Background()
	dbx, err := db.Open(ctx, url, 24)
	if err != nil {
		t.Fatal(err)
	}
	defer dbx.Close()
	if err := db.Migrate(ctx, dbx.DB); err != nil {
		t.Fatal(err)
	}
	c := chartOn(t, dbx)
	const clients, each, gross = 12, 40, int64(1_00)
	wallets := make([]string, clients)
	c.topUp("t", clients*each*gross)
	for i := range wallets {
		wallets[i] = c.wallet(i)
		c.allocate(fmt.Sprintf("a%d", i), wallets[i], each*gross, nil)
	}
	b := ledger.NewBatcher(dbx, ledger.BatcherOptions{MaxBatch: 8, Writers: 2})
	defer b.Close()

	var acked, failures atomic.Int64
	var wg sync.WaitGroup
	for g := 0; g < clients; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				req := ledger.Request{Key: fmt.Sprintf("c%d-%d", g, i), Kind: "redemption", Split: &ledger.Split{
					Policy: policy, From: wallets[g], Gross: gross, Provider: payable, Fund: pool, Fees: fees}}
				deadline := time.Now().Add(60 * time.Second)
				expires := deadline.Add(time.Hour).Truncate(time.Second) // a retry is the same request
				for {
					var err error
					switch i % 4 {
					case 0: // some alone, as a domain would inside its transaction
						_, err = ledger.Post(ctx, dbx, req)
					case 1: // some booked and validated: a hold, then its capture (set-based batches)
						var h ledger.Result
						h, err = b.Hold(ctx, ledger.HoldRequest{ExpiresAt: expires, Request: ledger.Request{
							Key: req.Key + "-hold", Kind: "booking", Postings: []ledger.Posting{{From: wallets[g], To: payable, Amount: gross}}}})
						if err == nil {
							_, err = b.Capture(ctx, ledger.CaptureRequest{Key: req.Key, HoldID: h.TxID, Split: req.Split})
						}
					default:
						_, err = b.Post(ctx, req)
					}
					if err == nil {
						acked.Add(1)
						break
					}
					failures.Add(1) // the server is down or restarting: retry, same key
					if time.Now().After(deadline) {
						t.Errorf("%s: still failing after 60 s: %v", req.Key, err)
						return
					}
					time.Sleep(50 * time.Millisecond)
				}
			}
		}(g)
	}
	for started := time.Now(); acked.Load() < clients*each/4; { // crash in the middle of the load
		if time.Since(started) > 30*time.Second {
			t.Fatalf("only %d writes in 30 s before the crash", acked.Load())
		}
		time.Sleep(5 * time.Millisecond)
	}
	pg("crash", name)
	time.Sleep(300 * time.Millisecond)
	pg("start", name, port)
	wg.Wait()
	if t.Failed() {
		return
	}
	t.Logf("%d writes acknowledged, %d attempts failed while the server was down", acked.Load(), failures.Load())
	if failures.Load() == 0 {
		t.Fatal("no write failed: the crash happened outside the load")
	}

	var txs, keys int
	c.ok(dbx.Get(&txs, `SELECT count(*) FROM ledger_transactions WHERE kind IN ('redemption', 'capture')`))
	c.ok(dbx.Get(&keys, `SELECT count(DISTINCT idempotency_key) FROM ledger_transactions WHERE kind IN ('redemption', 'capture')`))
	if txs != clients*each || keys != clients*each {
		t.Fatalf("%d redemptions under %d keys, want %d", txs, keys, clients*each)
	}
	var holds, captured int
	c.ok(dbx.Get(&holds, `SELECT count(*) FROM ledger_transactions WHERE kind = 'booking'`))
	c.ok(dbx.Get(&captured, `SELECT count(*) FROM ledger_transactions WHERE kind = 'booking' AND status = 'captured'`))
	if holds != clients*each/4 || captured != holds {
		t.Fatalf("%d holds, %d captured; want %d, all captured", holds, captured, clients*each/4)
	}
	for _, w := range wallets {
		c.wantAvailable(w, 0)
	}
	c.wantAvailable(payable, clients*each*80)
	c.wantAvailable(pool, clients*each*15)
	c.wantAvailable(fees, clients*each*5)
	c.verify()
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}
