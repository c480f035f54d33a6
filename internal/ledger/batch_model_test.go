package ledger_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// bLot is a wallet lot in the batch model.
type bLot struct {
	seq       int // creation order: ids grow with it
	expires   *time.Time
	cats      []string
	remaining int64
}

// bModel is what a sequence of posted transactions should leave:
// balances on the normal side, each wallet's lots, what each key wrote.
type bModel struct {
	posted map[string]int64
	lots   map[string][]*bLot
	keys   map[string]bKey
	seq    int
}

type bKey struct {
	req ledger.Request
	id  int64 // 0 until the batch's answer names it
}

// spendable returns the lots a debit for cat may take, in spending order:
// earliest expiry first (none last), then oldest.
func (m *bModel) spendable(w, cat string) []*bLot {
	var out []*bLot
	for _, l := range m.lots[w] {
		if l.remaining > 0 && (cat == "" || len(l.cats) == 0 || slices.Contains(l.cats, cat)) {
			out = append(out, l)
		}
	}
	slices.SortStableFunc(out, func(a, b *bLot) int {
		switch {
		case a.expires == nil && b.expires == nil, a.expires != nil && b.expires != nil && a.expires.Equal(*b.expires):
			return a.seq - b.seq
		case a.expires == nil:
			return 1
		case b.expires == nil:
			return -1
		}
		return a.expires.Compare(*b.expires)
	})
	return out
}

// take consumes amount from w's lots for cat and returns the pieces taken,
// or false (and changes nothing) when they do not hold enough.
func (m *bModel) take(w, cat string, amount int64) ([]bLot, bool) {
	lots, have := m.spendable(w, cat), int64(0)
	for _, l := range lots {
		have += l.remaining
	}
	if have < amount {
		return nil, false
	}
	var taken []bLot
	for _, l := range lots {
		t := min(l.remaining, amount)
		l.remaining -= t
		amount -= t
		taken = append(taken, bLot{expires: l.expires, cats: l.cats, remaining: t})
		if amount == 0 {
			break
		}
	}
	return taken, true
}

func (m *bModel) addLot(w string, l bLot) {
	m.seq++
	l.seq = m.seq
	m.lots[w] = append(m.lots[w], &l)
}

// A seeded random sequence of batches (PostBatch) of allocations,
// category spends, redemptions split three ways, wallet-to-wallet moves,
// repeated keys and reused keys, checked batch by batch against a model
// that applies the same requests one after the other: every outcome,
// every balance and every wallet's lots in spending order. Requests of a
// batch see what the ones before them did: lots created earlier in the
// batch are spent later in it, a key written earlier is replayed.
// LEDGER_SEED=n replays a run.
func TestBatchModel(t *testing.T) {
	seed := modelSeed(t)
	t.Logf("batch model seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestBatchModel)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0xba7c4))
	c := newChart(t)
	wallets := []string{c.wallet(0), c.wallet(1), c.wallet(2)}
	all := append([]string{stripe, budget, payable, pool, fees}, wallets...)
	pol, err := ledger.PolicyAt(c.ctx, c.db, policy, time.Now())
	c.ok(err)
	m := &bModel{posted: map[string]int64{}, lots: map[string][]*bLot{}, keys: map[string]bKey{}}
	cats := []string{"", "sport", "culture"}
	soon, later := time.Now().Add(24*time.Hour).Truncate(time.Second), time.Now().Add(48*time.Hour).Truncate(time.Second)
	expiries := []*time.Time{nil, &soon, &later}
	// normal-side moves; the Stripe asset account grows with debits
	move := func(from, to string, amount int64) {
		m.posted[from] -= sideOf(from) * amount
		m.posted[to] += sideOf(to) * amount
	}
	floor := map[string]bool{budget: true, payable: true, pool: true}
	for _, w := range wallets {
		floor[w] = true
	}

	const batches = 60
	n := 0
	tally := map[string]int{}
	for b := 0; b < batches; b++ {
		size := 1 + rng.IntN(12)
		reqs := make([]ledger.Request, 0, size)
		var fresh []ledger.Request // this batch's new requests, which it may repeat
		for len(reqs) < size {
			n++
			key := fmt.Sprintf("k%d", n)
			amount := int64(rng.IntN(30_00) + 1)
			w, w2 := wallets[rng.IntN(len(wallets))], wallets[rng.IntN(len(wallets))]
			var req ledger.Request
			switch r := rng.IntN(100); {
			case r < 10:
				req = ledger.Request{Key: key, Kind: "topup", Postings: []ledger.Posting{{From: stripe, To: budget, Amount: amount * 4}}}
			case r < 30:
				spec := &ledger.LotSpec{ExpiresAt: expiries[rng.IntN(3)]}
				if cat := cats[rng.IntN(3)]; cat != "" {
					spec.Categories = []string{cat}
				}
				req = ledger.Request{Key: key, Kind: "allocation", Postings: []ledger.Posting{{From: budget, To: w, Amount: amount, Lot: spec}}}
			case r < 50:
				req = ledger.Request{Key: key, Kind: "spend", Postings: []ledger.Posting{{From: w, To: payable, Amount: amount, Category: cats[rng.IntN(3)]}}}
			case r < 70:
				req = ledger.Request{Key: key, Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w, Gross: amount,
					Category: cats[rng.IntN(3)], Provider: payable, Fund: pool, Fees: fees}}
			case r < 80 && w != w2:
				req = ledger.Request{Key: key, Kind: "gift", Postings: []ledger.Posting{{From: w, To: w2, Amount: amount}}}
			case r < 85 && len(fresh) > 0:
				req = fresh[rng.IntN(len(fresh))] // again, in the same batch
			case r < 90 && len(m.keys) > 0:
				req = m.anyKey(rng).req // the same request again
			case len(m.keys) > 0:
				req = m.anyKey(rng).req // the same key, another amount
				req.Postings = slices.Clone(req.Postings)
				if len(req.Postings) == 0 {
					s := *req.Split
					s.Gross++
					req.Split = &s
				} else {
					req.Postings[0].Amount++
				}
			default:
				continue
			}
			if req.Key == key {
				fresh = append(fresh, req)
			}
			reqs = append(reqs, req)
		}

		out, err := ledger.PostBatch(c.ctx, c.db, reqs)
		if err != nil {
			t.Fatalf("seed %d batch %d: %v", seed, b, err)
		}
		for i, req := range reqs {
			fail := func(format string, args ...any) {
				t.Helper()
				t.Fatalf("seed %d batch %d request %d (%s): %s", seed, b, i, req.Key, fmt.Sprintf(format, args...))
			}
			got := out[i]
			if k, ok := m.keys[req.Key]; ok {
				same, _ := req.JSON()
				orig, _ := k.req.JSON()
				if string(same) == string(orig) {
					if got.Err != nil || got.TxID != k.id || !got.Replayed {
						fail("a repeated request: %+v, want a replay of %d", got, k.id)
					}
					tally["replayed"]++
				} else {
					if !apperr.Is(got.Err, apperr.Conflict) {
						fail("a reused key: %+v, want conflict", got)
					}
					tally["conflict"]++
				}
				continue
			}
			ok := true
			switch {
			case req.Split != nil:
				s := req.Split
				if _, ok = m.take(s.From, s.Category, s.Gross); ok {
					sh := ledger.SplitAmount(s.Gross, pol)
					move(s.From, payable, sh.Provider)
					move(s.From, pool, sh.Fund)
					move(s.From, fees, sh.Fee)
				}
			default:
				p := req.Postings[0]
				switch {
				case floor[p.From] && m.posted[p.From] < p.Amount:
					ok = false
				case slices.Contains(wallets, p.From):
					taken, enough := m.take(p.From, p.Category, p.Amount)
					if ok = enough; ok && slices.Contains(wallets, p.To) {
						for _, l := range taken { // the credit moves along the lots the source gave
							m.addLot(p.To, l)
						}
					}
				case slices.Contains(wallets, p.To):
					m.addLot(p.To, bLot{expires: p.Lot.ExpiresAt, cats: p.Lot.Categories, remaining: p.Amount})
				}
				if ok {
					move(p.From, p.To, p.Amount)
				}
			}
			if !ok {
				if !apperr.Is(got.Err, apperr.InsufficientFunds) {
					fail("%+v, want insufficient_funds", got)
				}
				tally["insufficient_funds"]++
				continue
			}
			if got.Err != nil || got.TxID == 0 || got.Replayed {
				fail("%+v, want a new transaction", got)
			}
			m.keys[req.Key] = bKey{req: req, id: got.TxID}
			tally["written"]++
		}
		for _, p := range all {
			if bal := c.balance(p); bal.Posted != m.posted[p] {
				t.Fatalf("seed %d after batch %d: %s posted %d, model %d", seed, b, p, bal.Posted, m.posted[p])
			}
		}
		for _, w := range wallets {
			lots, err := ledger.Lots(c.ctx, c.db, w)
			c.ok(err)
			var got, want []int64
			for _, l := range lots {
				got = append(got, l.Remaining)
			}
			for _, l := range m.spendable(w, "") {
				want = append(want, l.remaining)
			}
			if !slices.Equal(got, want) {
				t.Fatalf("seed %d after batch %d: %s lots %v, model %v", seed, b, w, got, want)
			}
		}
	}
	t.Logf("%d requests in %d batches: %v", n, batches, tally)
	if tally["written"] < n/3 || tally["insufficient_funds"] == 0 || tally["replayed"] == 0 || tally["conflict"] == 0 {
		t.Fatalf("too little of each happened: %v", tally)
	}
	c.verify()
}

// anyKey picks a written key at random, in a stable order so that a seed
// replays.
func (m *bModel) anyKey(rng *rand.Rand) bKey {
	keys := make([]string, 0, len(m.keys))
	for k := range m.keys {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return m.keys[keys[rng.IntN(len(keys))]]
}
