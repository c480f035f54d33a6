package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
)

// sModel is what posts, holds, captures and voids on a few wallets should
// leave: each wallet's posted and pending_out, lots and entries, the
// payee's posted and pending_in, and the holds.
type sModel struct {
	lots       map[string][]*bLot
	posted     map[string]int64 // wallets, payable, pool, fees
	pendingOut map[string]int64
	pendingIn  int64 // the payable's
	entries    map[string][]int64
	holds      []*sHold
	seq        int
}

type sHold struct {
	id     int64
	w      string
	amount int64
	takes  []sTake
	status string
}

type sTake struct {
	lot *bLot
	amt int64
}

// take consumes amount from w's lots for cat in spending order, or
// returns false (and changes nothing).
func (m *sModel) take(w, cat string, amount int64) ([]sTake, bool) {
	bm := bModel{lots: m.lots}
	lots, have := bm.spendable(w, cat), int64(0)
	for _, l := range lots {
		have += l.remaining
	}
	if have < amount || m.posted[w]-m.pendingOut[w] < amount {
		return nil, false
	}
	var taken []sTake
	for _, l := range lots {
		t := min(l.remaining, amount)
		l.remaining -= t
		amount -= t
		taken = append(taken, sTake{l, t})
		if amount == 0 {
			break
		}
	}
	return taken, true
}

// release gives back n of what hold h took, latest expiry first (none
// first), then newest lot first.
func (h *sHold) release(n int64) {
	takes := slices.Clone(h.takes)
	slices.SortFunc(takes, func(a, b sTake) int {
		switch {
		case a.lot.expires == nil && b.lot.expires == nil, a.lot.expires != nil && b.lot.expires != nil && a.lot.expires.Equal(*b.lot.expires):
			return b.lot.seq - a.lot.seq
		case a.lot.expires == nil:
			return -1
		case b.lot.expires == nil:
			return 1
		}
		return b.lot.expires.Compare(*a.lot.expires)
	})
	for _, t := range takes {
		g := min(t.amt, n)
		t.lot.remaining += g
		n -= g
	}
}

// Random mixes of posts, holds, captures (in full, in part, with a split,
// more than held) and voids of the same few wallets, written through a
// Batcher with one writer: each round's requests are queued at once, so
// they share batches (the set-based ledger_post_batch) in the order they
// came, and several in a batch touch the same wallet or resolve the same
// hold. Every outcome, and after every round every balance, pending
// amount, lot and entry, must be what the model says; verify passes.
//
// The same run written one set-based batch per round (WriteSetBased), where
// a batch that fails as a whole is the test's failure rather than the
// Batcher's cue to write its requests one by one; and so again inside a
// caller's transaction (the batch's locking mode).
func TestSetBasedModelThroughTheBatcher(t *testing.T) {
	t.Run("batcher", func(t *testing.T) {
		c := newChart(t)
		b := ledger.NewBatcher(c.db, ledger.BatcherOptions{MaxBatch: 8, Writers: 1})
		defer b.Close()
		runSetBasedModel(t, c, func(reqs []any) []ledger.Outcome { return b.SubmitAll(c.ctx, reqs) })
	})
	t.Run("one batch per round", func(t *testing.T) {
		c := newChart(t)
		runSetBasedModel(t, c, func(reqs []any) []ledger.Outcome { return c.setBased(reqs...) })
	})
	t.Run("one batch per round in a transaction", func(t *testing.T) {
		// inside a caller's transaction the batch runs in its locking mode:
		// it locks the holds it resolves and every balance row it names first
		c := newChart(t)
		runSetBasedModel(t, c, func(reqs []any) []ledger.Outcome {
			var out []ledger.Outcome
			c.ok(db.WithTx(c.ctx, c.db, func(tx *sqlx.Tx) error {
				var err error
				out, err = ledger.WriteSetBased(c.ctx, tx, reqs)
				return err
			}))
			return out
		})
	})
}

func runSetBasedModel(t *testing.T, c *chart, write func([]any) []ledger.Outcome) {
	seed := modelSeed(t)
	t.Logf("model seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestSetBasedModelThroughTheBatcher)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 15))
	c.account(ledger.AccountSpec{Path: bank, Kind: ledger.Asset})
	wallets := []string{c.wallet(1), c.wallet(2), c.wallet(3)}
	base := time.Now().Add(48 * time.Hour).Truncate(time.Second)
	exps := []*time.Time{nil, ptr(base), ptr(base.Add(time.Hour)), ptr(base.Add(2 * time.Hour))}
	catSets := [][]string{nil, {"sport"}, {"culture"}, {"culture", "sport"}}
	cats := []string{"", "sport", "culture"}
	m := &sModel{lots: map[string][]*bLot{}, posted: map[string]int64{}, pendingOut: map[string]int64{}, entries: map[string][]int64{}}
	pol, err := ledger.PolicyAt(c.ctx, c.db, policy, time.Now())
	c.ok(err)
	type done struct {
		req any
		id  int64
	}
	var written []done // requests that wrote a transaction, for replays

	var ok, refused, replays int
	for round := 0; round < 70; round++ {
		n := 1 + rng.IntN(10)
		reqs := make([]any, 0, n)
		// what each request should do, applied to the model in order
		expect := make([]func(ledger.Outcome), 0, n)
		for i := 0; i < n; i++ {
			key := fmt.Sprintf("r%d-%d", round, i)
			w := wallets[rng.IntN(len(wallets))]
			amount := int64(1 + rng.IntN(60))
			cat := cats[rng.IntN(len(cats))]
			var pick *sHold
			if len(m.holds) > 0 {
				pick = m.holds[rng.IntN(len(m.holds))]
			}
			switch x := rng.IntN(100); {
			case x < 22: // a top-up: a new lot
				lot := &ledger.LotSpec{ExpiresAt: exps[rng.IntN(len(exps))], Categories: catSets[rng.IntN(len(catSets))]}
				r := ledger.Request{Key: key, Postings: []ledger.Posting{{From: bank, To: w, Amount: amount * 2, Lot: lot}}}
				reqs = append(reqs, r)
				expect = append(expect, func(o ledger.Outcome) {
					m.seq++
					m.lots[w] = append(m.lots[w], &bLot{seq: m.seq, expires: lot.ExpiresAt, cats: lot.Categories, remaining: amount * 2})
					m.posted[w] += amount * 2
					m.entries[w] = append(m.entries[w], amount*2)
					want(t, key, o, nil)
					written = append(written, done{r, o.TxID})
				})
			case x < 35: // a spend
				r := ledger.Request{Key: key, Postings: []ledger.Posting{{From: w, To: payable, Amount: amount, Category: cat}}}
				reqs = append(reqs, r)
				expect = append(expect, func(o ledger.Outcome) {
					if _, fits := m.take(w, cat, amount); !fits {
						want(t, key, o, ptr(apperr.InsufficientFunds))
						return
					}
					m.posted[w] -= amount
					m.posted[payable] += amount
					m.entries[w] = append(m.entries[w], -amount)
					want(t, key, o, nil)
					written = append(written, done{r, o.TxID})
				})
			case x < 60: // a hold
				r := ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: key,
					Postings: []ledger.Posting{{From: w, To: payable, Amount: amount, Category: cat}}}}
				reqs = append(reqs, r)
				expect = append(expect, func(o ledger.Outcome) {
					takes, fits := m.take(w, cat, amount)
					if !fits {
						want(t, key, o, ptr(apperr.InsufficientFunds))
						return
					}
					m.pendingOut[w] += amount
					m.pendingIn += amount
					m.entries[w] = append(m.entries[w], -amount)
					want(t, key, o, nil)
					m.holds = append(m.holds, &sHold{id: o.TxID, w: w, amount: amount, takes: takes, status: "pending"})
					written = append(written, done{r, o.TxID})
				})
			case x < 80 && pick != nil: // a capture: in full, in part, by a split, or more than held
				h := pick
				r := ledger.CaptureRequest{Key: key, HoldID: h.id}
				taken, tooMuch := h.amount, false
				switch rng.IntN(4) {
				case 1:
					taken = 1 + rng.Int64N(h.amount+2)
					tooMuch = taken > h.amount
					r.Postings = []ledger.Posting{{From: h.w, To: payable, Amount: taken}}
				case 2:
					taken = 1 + rng.Int64N(h.amount)
					r.Split = &ledger.Split{Policy: policy, From: h.w, Gross: taken, Category: "sport",
						Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "c1"}}
				}
				reqs = append(reqs, r)
				expect = append(expect, func(o ledger.Outcome) {
					switch {
					case h.status != "pending":
						want(t, key, o, ptr(apperr.Conflict))
						return
					case tooMuch:
						want(t, key, o, ptr(apperr.Invalid))
						return
					}
					h.status = "captured"
					h.release(h.amount - taken)
					m.posted[h.w] -= taken
					m.pendingOut[h.w] -= h.amount
					m.pendingIn -= h.amount
					m.entries[h.w] = append(m.entries[h.w], -taken)
					if r.Split != nil {
						s := ledger.SplitAmount(taken, pol)
						m.posted[payable] += s.Provider
						m.posted[pool] += s.Fund
						m.posted[fees] += s.Fee
					} else {
						m.posted[payable] += taken
					}
					want(t, key, o, nil)
					written = append(written, done{r, o.TxID})
				})
			case x < 92 && pick != nil: // a void
				h := pick
				reqs = append(reqs, ledger.VoidRequest{HoldID: h.id})
				expect = append(expect, func(o ledger.Outcome) {
					if h.status != "pending" {
						want(t, key, o, ptr(apperr.Conflict))
						return
					}
					h.status = "voided"
					h.release(h.amount)
					m.pendingOut[h.w] -= h.amount
					m.pendingIn -= h.amount
					want(t, key, o, nil)
				})
			case len(written) > 0: // a retry of a request written before: the same transaction
				d := written[rng.IntN(len(written))]
				reqs = append(reqs, d.req)
				expect = append(expect, func(o ledger.Outcome) {
					if o.Err != nil || !o.Replayed || o.TxID != d.id {
						t.Fatalf("%s: retry of a written request = %+v, %v; want a replay of %d", key, o.Result, o.Err, d.id)
					}
					replays++
				})
			default:
				i-- // nothing to resolve or retry yet
			}
		}
		outs := write(reqs)
		for i, o := range outs {
			expect[i](o)
			if o.Err == nil {
				ok++
			} else {
				refused++
			}
		}
		m.holds = slices.DeleteFunc(m.holds, func(h *sHold) bool { return h.status != "pending" && rng.IntN(3) == 0 })
		if os.Getenv("LEDGER_DEBUG") != "" {
			for i, r := range reqs {
				t.Logf("round %d: %+v -> %+v %v", round, r, outs[i].Result, outs[i].Err)
			}
		}
		m.check(t, c, wallets)
	}
	if ok < 150 || refused < 20 || replays < 5 {
		t.Fatalf("a one-sided run: %d written, %d refused, %d replays", ok, refused, replays)
	}
	t.Logf("%d written, %d refused, %d replays", ok, refused, replays)
	c.verify()
}

// want checks an outcome: written, or refused with code.
func want(t *testing.T, key string, o ledger.Outcome, code *apperr.Code) {
	t.Helper()
	switch {
	case code == nil && o.Err != nil:
		t.Fatalf("%s: %v, want it written", key, o.Err)
	case code != nil && !apperr.Is(o.Err, *code):
		t.Fatalf("%s: %+v, %v; want %s", key, o.Result, o.Err, *code)
	case code == nil && o.Replayed:
		t.Fatalf("%s: replayed, want a new transaction", key)
	}
}

// check compares the ledger with the model: balances, pending amounts,
// live lots in spending order, entries.
func (m *sModel) check(t *testing.T, c *chart, wallets []string) {
	t.Helper()
	for _, w := range wallets {
		bal := c.balance(w)
		if bal.Posted != m.posted[w] || bal.PendingOut != m.pendingOut[w] {
			t.Fatalf("%s: posted %d, pending_out %d; the model has %d, %d", w, bal.Posted, bal.PendingOut, m.posted[w], m.pendingOut[w])
		}
		lots, err := ledger.Lots(c.ctx, c.db, w)
		c.ok(err)
		var got, exp []string
		for _, l := range lots {
			got = append(got, fmt.Sprint(unix(l.ExpiresAt), l.Categories, l.Remaining))
		}
		for _, l := range (&bModel{lots: m.lots}).spendable(w, "") {
			exp = append(exp, fmt.Sprint(unix(l.expires), l.cats, l.remaining))
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: lots\n%v\nthe model has\n%v", w, got, exp)
		}
		var amounts []int64
		c.ok(c.db.Select(&amounts, `SELECT e.amount FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
			WHERE a.path = $1 ORDER BY e.amount`, w))
		exp2 := slices.Clone(m.entries[w])
		slices.Sort(exp2)
		if !slices.Equal(amounts, exp2) && len(amounts)+len(exp2) > 0 {
			t.Fatalf("%s: entries %v, the model has %v", w, amounts, exp2)
		}
	}
	for _, a := range []string{payable, pool, fees} {
		if got := c.balance(a).Posted; got != m.posted[a] {
			t.Fatalf("%s: posted %d, the model has %d", a, got, m.posted[a])
		}
	}
	if got := c.balance(payable).PendingIn; got != m.pendingIn {
		t.Fatalf("%s: pending_in %d, the model has %d", payable, got, m.pendingIn)
	}
}

// unix is an expiry as a number to compare (0: none).
func unix(t *time.Time) int64 {
	if t == nil {
		return 0
	}
	return t.Unix()
}
