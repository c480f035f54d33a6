package ledger_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// model is the in-memory ledger the randomized test checks the real one
// against: balances on the normal side, holds, and what each key wrote.
type model struct {
	posted, out, in map[string]int64
	floor           map[string]bool // floor 0
	holds           []*mHold
	txs             []*mTx // posted transfers and captures, reversible
	keys            []mKey
}

type mHold struct {
	id, amount int64
	from, to   string
	status     string
	expired    bool // its expiry time has passed
}

type mTx struct {
	id, amount, reversed int64
	from, to             string
}

type mKey struct {
	req ledger.Request
	id  int64
}

// writer is how the model test writes: the plain functions (plain) or a
// ledger.Batcher.
type writer interface {
	Post(context.Context, ledger.Request) (ledger.Result, error)
	Hold(context.Context, ledger.HoldRequest) (ledger.Result, error)
	Capture(context.Context, ledger.CaptureRequest) (ledger.Result, error)
	Void(context.Context, int64) error
	Reverse(context.Context, ledger.ReverseRequest) (ledger.Result, error)
}

// plain writes by ledger.Post, ledger.Hold, ... on ext.
type plain struct{ ext sqlx.ExtContext }

func (p plain) Post(ctx context.Context, r ledger.Request) (ledger.Result, error) {
	return ledger.Post(ctx, p.ext, r)
}

func (p plain) Hold(ctx context.Context, r ledger.HoldRequest) (ledger.Result, error) {
	return ledger.Hold(ctx, p.ext, r)
}

func (p plain) Capture(ctx context.Context, r ledger.CaptureRequest) (ledger.Result, error) {
	return ledger.Capture(ctx, p.ext, r)
}

func (p plain) Void(ctx context.Context, id int64) error { return ledger.Void(ctx, p.ext, id) }

func (p plain) Reverse(ctx context.Context, r ledger.ReverseRequest) (ledger.Result, error) {
	return ledger.Reverse(ctx, p.ext, r)
}

func (m *model) avail(p string) int64 { return m.posted[p] - m.out[p] }

// move applies a posting; the asset account grows with debits.
func (m *model) move(from, to string, amount int64) {
	m.posted[from] += sideOf(from) * -amount
	m.posted[to] += sideOf(to) * amount
}

func sideOf(p string) int64 {
	if p == stripe {
		return -1
	}
	return 1
}

func modelSeed(t *testing.T) uint64 {
	if s := os.Getenv("LEDGER_SEED"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("LEDGER_SEED: %v", err)
		}
		return n
	}
	return uint64(time.Now().UnixNano())
}

// A seeded random sequence of post / hold / capture / void / expire /
// reverse / duplicate-same-key / duplicate-different-body, and the shapes
// the ledger refuses (postings that cancel out, reversals that net on a
// wallet, captures to other accounts, backdating beyond a week) and
// expire → void-restore → sweep cycles of wallet lots, checked step by step
// against the model, and by verify (lots sum to balances, every
// consumption respected its lot's expiry and categories). The seed is
// printed; LEDGER_SEED=n replays a run.
func TestModel(t *testing.T) {
	seed := modelSeed(t)
	t.Logf("model seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestModel)", seed, seed)
	c := newChart(t)
	runModel(t, c, plain{c.db}, seed, 400, nil)
}

// runModel runs steps of the model test, writing through wr (until f's
// deadline, when f is given: then every database call goes through
// f.retry).
func runModel(t *testing.T, c *chart, wr writer, seed uint64, steps int, f *faults) {
	rng := rand.New(rand.NewPCG(seed, 0x5eed))
	wallets := []string{c.wallet(0), c.wallet(1), c.wallet(2), c.wallet(3)}
	all := append([]string{stripe, budget, payable, pool, fees}, wallets...)
	m := &model{posted: map[string]int64{}, out: map[string]int64{}, in: map[string]int64{},
		floor: map[string]bool{budget: true, payable: true, pool: true}}
	for _, w := range wallets {
		m.floor[w] = true
	}
	pick := func(xs []string) string { return xs[rng.IntN(len(xs))] }
	cycles := 0
	for step := 0; step < steps && !f.over(); step++ {
		fail := func(format string, args ...any) {
			t.Helper()
			t.Fatalf("seed %d step %d: %s", seed, step, fmt.Sprintf(format, args...))
		}
		key := fmt.Sprintf("k%d", step)
		amount := int64(rng.IntN(40_00) + 1)
		expectFunds := func(from string, amount int64, err error) bool {
			t.Helper()
			if m.floor[from] && m.avail(from) < amount {
				if !apperr.Is(err, apperr.InsufficientFunds) {
					fail("%s has %d, moving %d: got %v, want insufficient_funds", from, m.avail(from), amount, err)
				}
				return false
			}
			if err != nil {
				fail("moving %d from %s (available %d): %v", amount, from, m.avail(from), err)
			}
			return true
		}
		var op string
		switch r := rng.IntN(110); {
		case r < 10:
			op = "topup"
			req := ledger.Request{Key: key, Postings: []ledger.Posting{{From: stripe, To: budget, Amount: amount * 3}}}
			res, err := retry(f, func() (ledger.Result, error) { return wr.Post(c.ctx, req) })
			if expectFunds(stripe, amount*3, err) {
				m.move(stripe, budget, amount*3)
				m.keys = append(m.keys, mKey{req, res.TxID})
			}
		case r < 30:
			op = "post"
			from, to := pick([]string{budget, budget, wallets[0], wallets[1], wallets[2], wallets[3]}), pick(append([]string{payable}, wallets...))
			if from == to {
				to = payable
			}
			req := ledger.Request{Key: key, Postings: []ledger.Posting{{From: from, To: to, Amount: amount}}}
			res, err := retry(f, func() (ledger.Result, error) { return wr.Post(c.ctx, req) })
			if expectFunds(from, amount, err) {
				m.move(from, to, amount)
				m.txs = append(m.txs, &mTx{id: res.TxID, amount: amount, from: from, to: to})
				m.keys = append(m.keys, mKey{req, res.TxID})
			}
		case r < 45:
			op = "hold"
			from := pick(wallets)
			exp := time.Now().Add(time.Hour)
			expired := rng.IntN(4) == 0
			if expired { // placed in time, then left to expire
				exp = time.Now().Add(200 * time.Millisecond)
			}
			if rng.IntN(10) == 0 { // a hold whose own expiry is already past is refused
				_, err := retry(f, func() (ledger.Result, error) {
					return wr.Hold(c.ctx, ledger.HoldRequest{ExpiresAt: time.Now().Add(-time.Second),
						Request: ledger.Request{Key: key, Postings: []ledger.Posting{{From: from, To: payable, Amount: amount}}}})
				})
				if !apperr.Is(err, apperr.Invalid) {
					fail("hold expiring in the past: %v, want invalid", err)
				}
				break
			}
			res, err := retry(f, func() (ledger.Result, error) {
				return wr.Hold(c.ctx, ledger.HoldRequest{ExpiresAt: exp, Request: ledger.Request{Key: key,
					Postings: []ledger.Posting{{From: from, To: payable, Amount: amount}}}})
			})
			if expired {
				if apperr.Is(err, apperr.Invalid) && !time.Now().Before(exp) {
					break // the write came after the hold's expiry (a loaded machine): refused, nothing changed
				}
				time.Sleep(time.Until(exp) + 5*time.Millisecond)
			}
			if expectFunds(from, amount, err) {
				m.out[from] += amount
				m.in[payable] += amount
				m.holds = append(m.holds, &mHold{id: res.TxID, amount: amount, from: from, to: payable, status: "pending", expired: expired})
			}
		case r < 60 && len(m.holds) > 0:
			op = "capture"
			h := m.holds[rng.IntN(len(m.holds))]
			part := h.amount
			req := ledger.CaptureRequest{Key: key, HoldID: h.id}
			if rng.IntN(2) == 0 {
				part = int64(rng.IntN(int(h.amount))) + 1
				req.Postings = []ledger.Posting{{From: h.from, To: h.to, Amount: part}}
			}
			res, err := retry(f, func() (ledger.Result, error) { return wr.Capture(c.ctx, req) })
			if h.status != "pending" || h.expired {
				if !apperr.Is(err, apperr.Conflict) {
					fail("capture of %s hold (expired %v): %v, want conflict", h.status, h.expired, err)
				}
				break
			}
			if err != nil {
				fail("capture: %v", err)
			}
			h.status = "captured"
			m.out[h.from] -= h.amount
			m.in[h.to] -= h.amount
			m.move(h.from, h.to, part)
			m.txs = append(m.txs, &mTx{id: res.TxID, amount: part, from: h.from, to: h.to})
		case r < 70 && len(m.holds) > 0:
			op = "void"
			h := m.holds[rng.IntN(len(m.holds))]
			err := retryVoid(f, func() error { return wr.Void(c.ctx, h.id) })
			if h.status != "pending" {
				if !apperr.Is(err, apperr.Conflict) && !(f != nil && err == nil) { // (a lost attempt: retryVoid)
					fail("void of %s hold: %v, want conflict", h.status, err)
				}
				break
			}
			if err != nil {
				fail("void: %v", err)
			}
			h.status = "voided"
			m.out[h.from] -= h.amount
			m.in[h.to] -= h.amount
		case r < 75:
			op = "expire"
			n, err := ledger.ExpireHolds(c.ctx, c.db, 1000)
			for f != nil && err != nil && f.lost(err) { // a killed backend: sweep again until a run completes
				var more int
				more, err = ledger.ExpireHolds(c.ctx, c.db, 1000)
				n += more
			}
			if err != nil {
				fail("expire: %v", err)
			}
			want := 0
			for _, h := range m.holds {
				if h.status == "pending" && h.expired {
					h.status = "expired"
					m.out[h.from] -= h.amount
					m.in[h.to] -= h.amount
					want++
				}
			}
			if n != want && f == nil { // (under faults a run killed after a commit undercounts)
				fail("expired %d holds, want %d", n, want)
			}
		case r < 85 && len(m.txs) > 0:
			op = "reverse"
			o := m.txs[rng.IntN(len(m.txs))]
			part := int64(rng.IntN(int(o.amount))) + 1
			req := ledger.ReverseRequest{Key: key, TransactionID: o.id,
				Postings: []ledger.Posting{{From: o.from, To: o.to, Amount: part}}}
			if rng.IntN(3) == 0 {
				req.Postings, part = nil, o.amount
			}
			_, err := retry(f, func() (ledger.Result, error) { return wr.Reverse(c.ctx, req) })
			if o.reversed+part > o.amount {
				if !apperr.Is(err, apperr.Invalid) {
					fail("reversing %d of %d (already %d): %v, want invalid", part, o.amount, o.reversed, err)
				}
				break
			}
			if expectFunds(o.to, part, err) {
				m.move(o.to, o.from, part)
				o.reversed += part
			}
		case r >= 100 && r < 102:
			op = "cancel-out"
			_, err := retry(f, func() (ledger.Result, error) {
				return wr.Post(c.ctx, ledger.Request{Key: key, Postings: []ledger.Posting{
					{From: budget, To: payable, Amount: amount}, {From: payable, To: budget, Amount: amount}}})
			})
			if !apperr.Is(err, apperr.Invalid) {
				fail("postings that cancel out: %v, want invalid", err)
			}
		case r >= 102 && r < 104 && len(m.holds) > 0:
			op = "capture-elsewhere"
			h := m.holds[rng.IntN(len(m.holds))]
			other := wallets[0]
			if other == h.from {
				other = wallets[1]
			}
			_, err := retry(f, func() (ledger.Result, error) {
				return wr.Capture(c.ctx, ledger.CaptureRequest{Key: key, HoldID: h.id,
					Postings: []ledger.Posting{{From: h.from, To: other, Amount: 1}}})
			})
			want := apperr.Invalid
			if h.status != "pending" || h.expired {
				want = apperr.Conflict
			}
			if !apperr.Is(err, want) {
				fail("capture of %s hold to %s: %v, want %s", h.status, other, err, want)
			}
		case r >= 104 && r < 106 && len(m.txs) > 0:
			op = "net-reversal"
			o := m.txs[rng.IntN(len(m.txs))]
			if !strings.HasSuffix(o.from, ":wallet") && !strings.HasSuffix(o.to, ":wallet") {
				break
			}
			_, err := retry(f, func() (ledger.Result, error) {
				return wr.Reverse(c.ctx, ledger.ReverseRequest{Key: key, TransactionID: o.id, Postings: []ledger.Posting{
					{From: o.from, To: o.to, Amount: 2}, {From: o.to, To: o.from, Amount: 1}}})
			})
			if !apperr.Is(err, apperr.Invalid) {
				fail("a reversal netting on a wallet: %v, want invalid", err)
			}
		case r >= 106 && r < 108:
			op = "backdated"
			long := time.Now().Add(-8 * 24 * time.Hour)
			_, err := retry(f, func() (ledger.Result, error) {
				return wr.Post(c.ctx, ledger.Request{Key: key + "-long", EffectiveAt: &long,
					Postings: []ledger.Posting{{From: budget, To: payable, Amount: amount}}})
			})
			if !apperr.Is(err, apperr.Invalid) {
				fail("backdated 8 days: %v, want invalid", err)
			}
			short := time.Now().Add(-2 * time.Hour)
			req := ledger.Request{Key: key, EffectiveAt: &short, Postings: []ledger.Posting{{From: budget, To: payable, Amount: amount}}}
			res, err := retry(f, func() (ledger.Result, error) { return wr.Post(c.ctx, req) })
			if expectFunds(budget, amount, err) {
				m.move(budget, payable, amount)
				m.txs = append(m.txs, &mTx{id: res.TxID, amount: amount, from: budget, to: payable})
				m.keys = append(m.keys, mKey{req, res.TxID})
			}
		case r >= 108 && m.avail(budget) >= amount && cycles < 3:
			// a wallet lot expires with part of it held; swept; the hold
			// is voided, which puts money back into the expired lot; the
			// next sweep takes that too
			op = "expire-void-sweep"
			cycles++
			w := pick(wallets)
			held := amount/2 + 1
			exp := time.Now().Add(400 * time.Millisecond)
			_, err := retry(f, func() (ledger.Result, error) {
				return wr.Post(c.ctx, ledger.Request{Key: key + "-lot", Postings: []ledger.Posting{{From: budget, To: w,
					Amount: amount, Lot: &ledger.LotSpec{ExpiresAt: &exp}}}})
			})
			if err != nil {
				fail("allocating an expiring lot: %v", err)
			}
			m.move(budget, w, amount)
			h, err := retry(f, func() (ledger.Result, error) {
				return wr.Hold(c.ctx, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
					Key: key + "-hold", Postings: []ledger.Posting{{From: w, To: payable, Amount: held}}}})
			})
			if err != nil {
				fail("holding on an expiring lot: %v", err)
			}
			time.Sleep(time.Until(exp) + 20*time.Millisecond)
			sweep := func(want int64) {
				t.Helper()
				n, err := retry(f, func() (int, error) {
					return ledger.SweepExpiredLots(c.ctx, c.db, 10, func(ledger.Lot) (ledger.Disposition, error) {
						return ledger.Disposition{Action: ledger.Return, To: budget}, nil
					})
				})
				if err != nil || (n != 1 && f == nil) {
					fail("sweep: %d, %v", n, err)
				}
				m.move(w, budget, want)
			}
			sweep(amount - held)
			if err := retryVoid(f, func() error { return wr.Void(c.ctx, h.TxID) }); err != nil {
				fail("void: %v", err)
			}
			sweep(held)
		case r < 93 && len(m.keys) > 0:
			op = "duplicate"
			k := m.keys[rng.IntN(len(m.keys))]
			res, err := retry(f, func() (ledger.Result, error) { return wr.Post(c.ctx, k.req) })
			if err != nil || res.TxID != k.id || !res.Replayed {
				fail("replaying key %s: %+v, %v; want transaction %d replayed", k.req.Key, res, err, k.id)
			}
		case len(m.keys) > 0:
			op = "duplicate-different"
			k := m.keys[rng.IntN(len(m.keys))]
			req := k.req
			req.Postings = []ledger.Posting{req.Postings[0]}
			req.Postings[0].Amount++
			_, err := retry(f, func() (ledger.Result, error) { return wr.Post(c.ctx, req) })
			if !apperr.Is(err, apperr.Conflict) {
				fail("key %s with another body: %v, want conflict", k.req.Key, err)
			}
		}
		for _, p := range all {
			b, err := retry(f, func() (ledger.Balance, error) { return ledger.GetBalance(c.ctx, c.db, p) })
			if err != nil {
				fail("balance of %s: %v", p, err)
			}
			if b.Posted != m.posted[p] || b.PendingOut != m.out[p] || b.PendingIn != m.in[p] {
				fail("after %s: %s = posted %d out %d in %d; model says %d %d %d", op, p,
					b.Posted, b.PendingOut, b.PendingIn, m.posted[p], m.out[p], m.in[p])
			}
		}
	}
	f.stop()
	c.verify()
}
