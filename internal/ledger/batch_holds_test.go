package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

const (
	bank        = "platform:bank"
	noisePayee  = "provider:noise:payable"
	noiseClient = 4
)

// noise keeps a Batcher busy with holds, captures, voids and posts on
// accounts of its own (wallets 10 and up, paid from platform:bank), so
// that the requests of a test share their batches with others. It stops
// when ctx ends and returns how many requests it wrote.
func noise(t *testing.T, c *chart, ctx context.Context, b *ledger.Batcher) func() int64 {
	t.Helper()
	c.account(ledger.AccountSpec{Path: bank, Kind: ledger.Asset})
	c.account(ledger.AccountSpec{Path: noisePayee, Kind: ledger.Liability, Floor: &zero})
	var wallets []string
	for i := 10; i < 10+2*noiseClient; i++ {
		w := c.wallet(i)
		wallets = append(wallets, w)
		c.post(ledger.Request{Key: "noise-fund-" + w, Postings: []ledger.Posting{{From: bank, To: w, Amount: 1_000_000_00}}})
	}
	var wg sync.WaitGroup
	var n atomic.Int64
	for g := 0; g < noiseClient; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(g), 7))
			for i := 0; ctx.Err() == nil; i++ {
				key := fmt.Sprintf("noise-%d-%d", g, i)
				w := wallets[rng.IntN(len(wallets))]
				h, err := b.Hold(ctx, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: key,
					Postings: []ledger.Posting{{From: w, To: noisePayee, Amount: int64(1 + rng.IntN(100))}}}})
				if err == nil {
					switch rng.IntN(3) {
					case 0:
						err = b.Void(ctx, h.TxID)
					case 1:
						_, err = b.Capture(ctx, ledger.CaptureRequest{Key: key + "-cap", HoldID: h.TxID})
					default:
						_, err = b.Post(ctx, ledger.Request{Key: key + "-post", Postings: []ledger.Posting{{From: bank, To: w, Amount: 5}}})
					}
				}
				if err != nil && ctx.Err() == nil {
					t.Errorf("noise: %v", err)
					return
				}
				n.Add(1)
			}
		}(g)
	}
	return func() int64 { wg.Wait(); return n.Load() }
}

// The model test written through a Batcher while other clients keep it
// busy: its holds, captures, voids, reversals and posts go in batches with
// other requests (ledger_write_batch, ledger_post_batch) and must agree
// with the model step by step, as on the plain path, and verify.
func TestModelThroughTheBatcher(t *testing.T) {
	seed := modelSeed(t)
	t.Logf("model seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestModelThroughTheBatcher)", seed, seed)
	c := newChart(t)
	c.dbResize(20)
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 16, Writers: 2})
	defer b.Close()
	ctx, cancel := context.WithCancel(c.ctx)
	wait := noise(t, c, ctx, b)
	runModel(t, c, b, seed, 300, nil)
	cancel()
	if n := wait(); n < 50 {
		t.Fatalf("the noise wrote only %d requests", n)
	}
	c.verify()
}

// Holds resolved by everyone at once: for each hold, captures (in full,
// and with a split) and voids through the Batcher and through the plain
// functions, while the hold's expiry comes and sweepers expire what they
// find. Every hold resolves exactly once (one capture, one void or its
// expiry; every other attempt is a conflict), the money moves once, and
// verify passes.
func TestBatchedHoldsResolveOnce(t *testing.T) {
	c := newChart(t)
	c.dbResize(60)
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 16, Writers: 2})
	defer b.Close()
	const nHolds, contenders, amount = 24, 8, 10_00
	c.topUp("t", nHolds*amount)
	type hold struct {
		id, wins, captured, voided, gross atomic.Int64
		w                                 string
	}
	holds := make([]*hold, nHolds)
	for i := range holds {
		w := c.wallet(i)
		c.allocate(fmt.Sprintf("a%d", i), w, amount, nil, "sport")
		// some expire while they are being resolved
		exp := time.Now().Add(time.Hour)
		if i%3 == 0 {
			exp = time.Now().Add(time.Duration(150+10*i) * time.Millisecond)
		}
		r, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: exp, Request: ledger.Request{Key: fmt.Sprintf("h%d", i),
			Postings: []ledger.Posting{{From: w, To: payable, Amount: amount, Category: "sport"}}}})
		c.ok(err)
		holds[i] = &hold{w: w}
		holds[i].id.Store(r.TxID)
	}
	ctx, cancel := context.WithCancel(c.ctx)
	defer cancel()
	var sweepers sync.WaitGroup
	var expired atomic.Int64
	for s := 0; s < 2; s++ {
		sweepers.Add(1)
		go func() {
			defer sweepers.Done()
			for ctx.Err() == nil {
				n, err := ledger.ExpireHolds(c.ctx, c.db, 100)
				if err != nil {
					t.Errorf("expire: %v", err)
					return
				}
				expired.Add(int64(n))
				time.Sleep(5 * time.Millisecond)
			}
		}()
	}
	var wg sync.WaitGroup
	for i, h := range holds {
		for k := 0; k < contenders; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				delay := time.Duration(rand.IntN(400)) * time.Millisecond
				if i%6 == 0 {
					// half the short-lived holds surely expire before anyone
					// resolves them: on a quiet machine every contender could
					// otherwise beat every expiry, and the race would be one-sided
					delay += 500 * time.Millisecond
				}
				time.Sleep(delay)
				id := h.id.Load()
				key := fmt.Sprintf("r%d-%d", i, k)
				split := &ledger.Split{Policy: policy, From: h.w, Gross: amount - int64(k), Category: "sport",
					Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "c1"}}
				var err error
				var gross int64
				switch k % 4 {
				case 0:
					_, err = b.Capture(c.ctx, ledger.CaptureRequest{Key: key, HoldID: id, Split: split})
					gross = split.Gross
				case 1:
					_, err = b.Capture(c.ctx, ledger.CaptureRequest{Key: key, HoldID: id})
					gross = amount
				case 2:
					err = b.Void(c.ctx, id)
				default:
					if k%8 == 3 {
						_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: key, HoldID: id, Split: split})
						gross = split.Gross
					} else {
						err = ledger.Void(c.ctx, c.db, id)
					}
				}
				switch {
				case err == nil && gross > 0:
					h.wins.Add(1)
					h.captured.Add(1)
					h.gross.Store(gross)
				case err == nil:
					h.wins.Add(1)
					h.voided.Add(1)
				case apperr.Is(err, apperr.Conflict):
				default:
					t.Errorf("hold %d, contender %d: %v", i, k, err)
				}
			}()
		}
	}
	wg.Wait()
	time.Sleep(100 * time.Millisecond)
	cancel()
	sweepers.Wait()
	n, err := ledger.ExpireHolds(c.ctx, c.db, 100)
	c.ok(err)
	expired.Add(int64(n))

	var wins, captured int64
	var spent int64
	for i, h := range holds {
		tx, err := ledger.GetTransaction(c.ctx, c.db, h.id.Load())
		c.ok(err)
		switch {
		case tx.Status == "expired" && h.wins.Load() == 0:
		case tx.Status == "captured" && h.wins.Load() == 1 && h.captured.Load() == 1:
			captured++
			spent += h.gross.Load()
			c.wantAvailable(h.w, amount-h.gross.Load())
		case tx.Status == "voided" && h.wins.Load() == 1 && h.voided.Load() == 1:
			c.wantAvailable(h.w, amount)
		default:
			t.Fatalf("hold %d is %s after %d wins (%d captures, %d voids)", i, tx.Status, h.wins.Load(), h.captured.Load(), h.voided.Load())
		}
		wins += h.wins.Load()
	}
	if wins+expired.Load() != nHolds {
		t.Fatalf("%d wins and %d expiries for %d holds", wins, expired.Load(), nHolds)
	}
	if captured == 0 || expired.Load() == 0 || wins == captured {
		t.Fatalf("the race was one-sided: %d captured, %d voided, %d expired", captured, wins-captured, expired.Load())
	}
	// what the captures took left the wallets and reached the provider,
	// the fund and the fees, nothing more
	got := c.balance(payable).Posted + c.balance(pool).Posted + c.balance(fees).Posted
	if got != spent {
		t.Fatalf("payable + pool + fees = %d, the captures took %d", got, spent)
	}
	t.Logf("%d holds: %d captured, %d voided, %d expired", nHolds, captured, wins-captured, expired.Load())
	c.verify()
}
