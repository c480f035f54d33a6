package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// setBased writes reqs as one set-based batch and returns the outcomes.
func (c *chart) setBased(reqs ...any) []ledger.Outcome {
	c.t.Helper()
	out, err := ledger.WriteSetBased(c.ctx, c.db, reqs)
	c.ok(err)
	return out
}

func wantOutcome(t *testing.T, what string, o ledger.Outcome, code apperr.Code) {
	t.Helper()
	if code == "" && o.Err != nil || code != "" && !apperr.Is(o.Err, code) {
		t.Fatalf("%s: %v, want %q", what, o.Err, code)
	}
}

// The hardening rules hold in a set-based batch as they do on the
// locking path: a capture pays only the hold's parties; the floor counts
// pending holds, also those placed earlier in the same batch; a hold
// resolves once, also within one batch; a hold placed before its lots
// expired is captured after, and a void gives an expired lot its money
// back; the audit log covers what the batch wrote.
func TestSetBasedHoldRules(t *testing.T) {
	c := newChart(t)
	w, other := c.wallet(0), c.wallet(1)
	c.topUp("t", 100_000)
	c.allocate("a", w, 5_000, nil, "sport")
	hold := func(key string, amount int64) ledger.HoldRequest {
		return ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
			Key: key, Postings: []ledger.Posting{{From: w, To: payable, Amount: amount, Category: "sport"}}}}
	}

	// the floor counts the batch's own holds
	out := c.setBased(hold("h1", 2_000), hold("h2", 2_500),
		ledger.Request{Key: "p1", Postings: []ledger.Posting{{From: w, To: payable, Amount: 600}}})
	wantOutcome(t, "h1", out[0], "")
	wantOutcome(t, "h2", out[1], "")
	wantOutcome(t, "p1 beyond what the holds left", out[2], apperr.InsufficientFunds)
	c.wantAvailable(w, 500)
	h1, h2 := out[0].TxID, out[1].TxID

	// a capture pays only the hold's parties; refused ones leave it pending
	out = c.setBased(
		ledger.CaptureRequest{Key: "c1", HoldID: h1, Postings: []ledger.Posting{{From: w, To: other, Amount: 1_500}}},
		ledger.CaptureRequest{Key: "c2", HoldID: h1, Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000,
			Provider: payable, Fund: other, Fees: fees}},
		ledger.CaptureRequest{Key: "c3", HoldID: h1, Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000,
			Provider: other, Fund: pool, Fees: fees}},
		ledger.CaptureRequest{Key: "c4", HoldID: h1, Postings: []ledger.Posting{{From: w, To: payable, Amount: 2_001}}},
		ledger.CaptureRequest{Key: "c5", HoldID: h1, Split: &ledger.Split{Policy: policy, From: w, Gross: 2_000,
			Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "c1"}}},
		// resolved once: the second capture and the void in the batch are conflicts
		ledger.CaptureRequest{Key: "c6", HoldID: h1},
		ledger.VoidRequest{HoldID: h1},
		// the other hold: captured in part, the rest released
		ledger.CaptureRequest{Key: "c7", HoldID: h2, Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_000}}},
		ledger.VoidRequest{HoldID: h2},
	)
	for i, code := range []apperr.Code{apperr.Invalid, apperr.Invalid, apperr.Invalid, apperr.Invalid, "",
		apperr.Conflict, apperr.Conflict, "", apperr.Conflict} {
		wantOutcome(t, fmt.Sprint("request ", i), out[i], code)
	}
	c.wantAvailable(other, 0)
	c.wantAvailable(pool, 300)
	c.wantAvailable(w, 2_000)
	if b := c.balance(w); b.PendingOut != 0 || b.Posted != 2_000 {
		t.Fatalf("wallet %+v, want 2,000 posted and nothing pending", b)
	}
	if b := c.balance(payable); b.PendingIn != 0 || b.Posted != 1_600+1_000 {
		t.Fatalf("payable %+v, want 2,600 posted and nothing pending", b)
	}
	for _, id := range []int64{h1, h2} {
		tx, err := ledger.GetTransaction(c.ctx, c.db, id)
		c.ok(err)
		if tx.Status != "captured" {
			t.Fatalf("hold %d is %s, want captured", id, tx.Status)
		}
	}

	// a hold placed before its lot expired: captured after, or voided
	// (the money goes back to the expired lot, for the sweep)
	soon := time.Now().Add(600 * time.Millisecond)
	c.allocate("b", other, 3_000, &soon)
	out = c.setBased(
		ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: "h3",
			Postings: []ledger.Posting{{From: other, To: payable, Amount: 1_000}}}},
		ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: "h4",
			Postings: []ledger.Posting{{From: other, To: payable, Amount: 2_000}}}},
		ledger.HoldRequest{ExpiresAt: time.Now().Add(-time.Minute), Request: ledger.Request{Key: "h5",
			Postings: []ledger.Posting{{From: other, To: payable, Amount: 1}}}},
	)
	wantOutcome(t, "h3", out[0], "")
	wantOutcome(t, "h4", out[1], "")
	wantOutcome(t, "a hold already expired", out[2], apperr.Invalid)
	time.Sleep(time.Until(soon) + 50*time.Millisecond)
	out = c.setBased(ledger.CaptureRequest{Key: "c8", HoldID: out[0].TxID}, ledger.VoidRequest{HoldID: out[1].TxID},
		ledger.Request{Key: "p2", Postings: []ledger.Posting{{From: other, To: payable, Amount: 1}}})
	wantOutcome(t, "capture after the lot expired", out[0], "")
	wantOutcome(t, "void after the lot expired", out[1], "")
	wantOutcome(t, "spending the expired lot", out[2], apperr.InsufficientFunds)
	var rem int64
	c.ok(c.db.Get(&rem, `SELECT remaining FROM ledger_lots WHERE expires_at IS NOT NULL`))
	if rem != 2_000 {
		t.Fatalf("the expired lot holds %d, want the 2,000 the void gave back", rem)
	}
	c.sealAll()
	c.verify()
}

// Captures and voids of the same holds race through every path at once:
// set-based batches (a capture, a void, or both of one hold in one
// batch), the Batcher, the plain functions. Each hold resolves exactly
// once, the money moves once, and verify passes.
func TestSetBasedCaptureRacesVoid(t *testing.T) {
	c := newChart(t)
	c.dbResize(40)
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 16, Writers: 2})
	defer b.Close()
	const nHolds, contenders, amount = 16, 7, 10_00
	c.topUp("t", nHolds*amount)
	type hold struct {
		id, wins, taken atomic.Int64
		w               string
	}
	holds := make([]*hold, nHolds)
	for i := range holds {
		h := &hold{w: c.wallet(i)}
		c.allocate(fmt.Sprintf("a%d", i), h.w, amount, nil, "sport")
		r, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
			Key: fmt.Sprintf("h%d", i), Postings: []ledger.Posting{{From: h.w, To: payable, Amount: amount, Category: "sport"}}}})
		c.ok(err)
		h.id.Store(r.TxID)
		holds[i] = h
	}
	var wg sync.WaitGroup
	for i, h := range holds {
		for k := 0; k < contenders; k++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(rand.IntN(200)) * time.Millisecond)
				id := h.id.Load()
				key := fmt.Sprintf("r%d-%d", i, k)
				split := &ledger.Split{Policy: policy, From: h.w, Gross: amount - int64(k), Category: "sport",
					Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "c1"}}
				capture := ledger.CaptureRequest{Key: key, HoldID: id, Split: split}
				var outs []ledger.Outcome
				var err error
				switch k {
				case 0:
					outs, err = ledger.WriteSetBased(c.ctx, c.db, []any{capture})
				case 1:
					outs, err = ledger.WriteSetBased(c.ctx, c.db, []any{ledger.VoidRequest{HoldID: id}})
				case 2:
					outs, err = ledger.WriteSetBased(c.ctx, c.db, []any{ledger.VoidRequest{HoldID: id}, capture})
				case 3:
					_, err = b.Capture(c.ctx, capture)
					outs = []ledger.Outcome{{Err: err}}
				case 4:
					err = b.Void(c.ctx, id)
					outs = []ledger.Outcome{{Err: err}}
				case 5:
					_, err = ledger.Capture(c.ctx, c.db, capture)
					outs = []ledger.Outcome{{Err: err}}
				default:
					err = ledger.Void(c.ctx, c.db, id)
					outs = []ledger.Outcome{{Err: err}}
				}
				if err != nil && !apperr.Is(err, apperr.Conflict) {
					t.Errorf("hold %d, contender %d: %v", i, k, err)
					return
				}
				for n, o := range outs {
					switch {
					case o.Err == nil:
						h.wins.Add(1)
						if k != 1 && k != 4 && k != 6 && !(k == 2 && n == 0) {
							h.taken.Store(split.Gross)
						}
					case !apperr.Is(o.Err, apperr.Conflict):
						t.Errorf("hold %d, contender %d: %v", i, k, o.Err)
					}
				}
			}()
		}
	}
	wg.Wait()
	var spent int64
	for i, h := range holds {
		tx, err := ledger.GetTransaction(c.ctx, c.db, h.id.Load())
		c.ok(err)
		if h.wins.Load() != 1 || tx.Status == "pending" {
			t.Fatalf("hold %d is %s after %d wins", i, tx.Status, h.wins.Load())
		}
		if (tx.Status == "captured") != (h.taken.Load() > 0) {
			t.Fatalf("hold %d is %s; a capture won: %v", i, tx.Status, h.taken.Load() > 0)
		}
		spent += h.taken.Load()
		c.wantAvailable(h.w, amount-h.taken.Load())
		if p := c.balance(h.w).PendingOut; p != 0 {
			t.Fatalf("hold %d left %d pending", i, p)
		}
	}
	got := c.balance(payable).Posted + c.balance(pool).Posted + c.balance(fees).Posted
	if got != spent || c.balance(payable).PendingIn != 0 {
		t.Fatalf("payable + pool + fees = %d (payable pending %d), the captures took %d", got, c.balance(payable).PendingIn, spent)
	}
	c.verify()
}
