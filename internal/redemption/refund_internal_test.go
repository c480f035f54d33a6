package redemption

import (
	"math/rand/v2"
	"testing"

	"github.com/reciproca/reciproca/internal/ledger"
)

// Any sequence of refunds of any split: each refund's parts are ≥ 0 and
// sum to it, no party ever gives back more than it got, and the whole
// amount gives back exactly the split.
func TestRefundPartsProperties(t *testing.T) {
	seed := rand.Uint64()
	rng := rand.New(rand.NewPCG(seed, 1))
	for range 20000 {
		gross := 1 + rng.Int64N(5000)
		pol := ledger.SplitPolicy{FundBps: rng.IntN(3000), FeeBps: rng.IntN(3000), RemainderTo: []string{"provider", "fund", "fee"}[rng.IntN(3)]}
		orig := ledger.SplitAmount(gross, pol)
		var done ledger.Shares
		var total int64
		for total < gross {
			r := 1 + rng.Int64N(min(gross-total, 1+rng.Int64N(gross)))
			total += r
			p := refundParts(orig, gross, total, done)
			if p.Provider < 0 || p.Fund < 0 || p.Fee < 0 || p.Provider+p.Fund+p.Fee != r {
				t.Fatalf("seed %d: refund %d of %+v (gross %d, before %+v) = %+v", seed, r, orig, gross, done, p)
			}
			done.Provider, done.Fund, done.Fee = done.Provider+p.Provider, done.Fund+p.Fund, done.Fee+p.Fee
			if done.Provider > orig.Provider || done.Fund > orig.Fund || done.Fee > orig.Fee {
				t.Fatalf("seed %d: refunds %+v exceed the split %+v", seed, done, orig)
			}
		}
		if done != orig {
			t.Fatalf("seed %d: full refund %+v, split %+v", seed, done, orig)
		}
	}
}

// A code with any single character changed, or two neighbours swapped,
// fails its check.
func TestCodeCatchesTypos(t *testing.T) {
	for range 2000 {
		c := newCode()
		if got, err := ParseCode(FormatCode(c)); err != nil || got != c {
			t.Fatalf("%s does not parse: %v", c, err)
		}
		for i := range len(c) {
			for _, r := range codeAlphabet {
				if byte(r) == c[i] {
					continue
				}
				typo := c[:i] + string(r) + c[i+1:]
				if _, err := ParseCode(typo); err == nil {
					t.Fatalf("%s accepted for %s", typo, c)
				}
			}
			if i+1 < len(c) && c[i] != c[i+1] {
				swapped := c[:i] + string(c[i+1]) + string(c[i]) + c[i+2:]
				if _, err := ParseCode(swapped); err == nil {
					t.Fatalf("%s (swapped) accepted for %s", swapped, c)
				}
			}
		}
	}
	if _, err := ParseCode("oil-" + "abc-def"); err == nil {
		t.Fatal("a malformed code was accepted")
	}
}
