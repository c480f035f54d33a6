package ledger_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/ledger"
)

// The worker's metrics count what each ledger job has left to do: unsealed
// transactions, expired holds, expired lots; each drops to zero once the
// job has run.
func TestBacklogs(t *testing.T) {
	c := newChart(t)
	count := func(f func() (int, error)) int {
		t.Helper()
		n, err := f()
		c.ok(err)
		return n
	}
	unsealed := func() (int, error) { return ledger.Unsealed(c.ctx, c.db) }
	holds := func() (int, error) { return ledger.ExpiredHolds(c.ctx, c.db) }
	lots := func() (int, error) { return ledger.ExpiredLots(c.ctx, c.db) }

	c.topUp("t", 10_00)
	// Far enough that a loaded machine still counts before the expiry.
	soon := time.Now().Add(2 * time.Second)
	w := c.wallet(1)
	c.allocate("a", w, 5_00, &soon)
	_, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: budget, To: payable, Amount: 1_00}}},
		ExpiresAt: soon})
	c.ok(err)
	if n := count(unsealed); n != 3 {
		t.Fatalf("unsealed = %d, want 3", n)
	}
	if h, l := count(holds), count(lots); (h != 0 || l != 0) && time.Now().Before(soon) {
		t.Fatal("holds or lots counted as expired before their time")
	}
	c.sealAll()
	time.Sleep(time.Until(soon) + 100*time.Millisecond)
	if count(unsealed) != 0 || count(holds) != 1 || count(lots) != 1 {
		t.Fatalf("after sealing and expiry: unsealed %d, holds %d, lots %d", count(unsealed), count(holds), count(lots))
	}
	if n, err := ledger.ExpireHolds(c.ctx, c.db, 10); n != 1 || err != nil {
		t.Fatalf("expire holds: %d %v", n, err)
	}
	// the expiry is a release transaction of its own, for the sealer
	if count(holds) != 0 || count(unsealed) != 1 {
		t.Fatalf("after expiring: holds %d, unsealed %d (want 0 and the release)", count(holds), count(unsealed))
	}
	c.sealAll()
	if count(unsealed) != 0 {
		t.Fatalf("after sealing the release: unsealed %d", count(unsealed))
	}
}
