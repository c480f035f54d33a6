package ledger_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/ledger"
)

// redeem posts a redemption of gross from w, the fund's part attributed to
// company.
func (c *chart) redeem(key, w, company string, gross int64, eff *time.Time) ledger.Result {
	c.t.Helper()
	return c.post(ledger.Request{Key: key, Kind: "redemption", EffectiveAt: eff, Split: &ledger.Split{Policy: policy,
		From: w, Gross: gross, Provider: payable, Fund: pool, Fees: fees,
		FundAttrs: map[string]any{"company": company, "redemption": key}}})
}

func (c *chart) lots(path string) []ledger.Lot {
	c.t.Helper()
	ls, err := ledger.Lots(c.ctx, c.db, path)
	c.ok(err)
	return ls
}

func romeDay(t time.Time) string {
	rome, _ := time.LoadLocation("Europe/Rome")
	return t.In(rome).Format("2006-01-02")
}

// The fund's contributions are grouped: one lot per company, policy version
// and day (and shard), grown by each later contribution with a lot move
// that its own transaction records; attribution by company survives
// refunds and earmarks, and verify proves it.
func TestContributionsGrowADayLotPerCompany(t *testing.T) {
	c := newChart(t)
	c.db.SetMaxOpenConns(1) // one backend: one shard of the pool, so one lot per group
	c.account(ledger.AccountSpec{Path: "platform:loss", Kind: ledger.Expense})
	envelope := c.account(ledger.AccountSpec{Path: "fund:f1:envelope:housing", Kind: ledger.Liability, Floor: &zero, Lots: true}).Path
	c.topUp("t", 1_000_000)
	w := c.wallet(0)
	c.allocate("a", w, 500_000, nil)

	// 15% of 10,000 is 1,500 for the fund
	a1 := c.redeem("a1", w, "acme", 10_000, nil)
	a2 := c.redeem("a2", w, "acme", 10_000, nil)
	c.redeem("a3", w, "acme", 10_000, nil)
	c.redeem("g1", w, "globex", 10_000, nil)
	byCompany := map[string]ledger.Lot{}
	for _, l := range c.lots(pool) {
		co, _ := l.Attrs["company"].(string)
		if _, dup := byCompany[co]; dup {
			t.Fatalf("two lots for %s on one day and shard: %+v", co, c.lots(pool))
		}
		byCompany[co] = l
	}
	acme := byCompany["acme"]
	if len(byCompany) != 2 || acme.Amount != 1_500 || acme.Grown != 3_000 || acme.Remaining != 4_500 ||
		byCompany["globex"].Remaining != 1_500 || byCompany["globex"].Grown != 0 {
		t.Fatalf("pool lots = %+v, want acme 1500 + grown 3000, globex 1500", c.lots(pool))
	}
	if acme.TxID != a1.TxID || acme.Group == "" || acme.Attrs["day"] != romeDay(time.Now()) ||
		acme.Attrs["policy"] != policy || acme.Attrs["policy_version"] != float64(1) || acme.Attrs["redemption"] != nil {
		t.Fatalf("acme's day lot = %+v, want created by a1, of today, policy %s v1, no per-redemption attributes", acme, policy)
	}
	moves, err := ledger.LotMoves(c.ctx, c.db, a2.TxID)
	c.ok(err)
	var grew bool
	for _, m := range moves {
		if m.LotID == acme.ID {
			grew = m.Amount == -1_500 && m.Against == nil
		}
	}
	if !grew {
		t.Fatalf("a2's lot moves = %+v, want a growth of acme's lot by 1500", moves)
	}
	tx, err := ledger.GetTransaction(c.ctx, c.db, a2.TxID)
	c.ok(err)
	if !strings.Contains(string(tx.Split), `"redemption": "a2"`) {
		t.Fatalf("a2's split = %s, want the caller's fund attributes recorded on the transaction", tx.Split)
	}

	// a backdated redemption goes to the lot of its own day
	if y := time.Now().Add(-24 * time.Hour); romeDay(y)[:4] == romeDay(time.Now())[:4] {
		c.redeem("a-yesterday", w, "acme", 10_000, &y)
		days := map[string]bool{}
		for _, l := range c.lots(pool) {
			if l.Attrs["company"] == "acme" {
				days[l.Attrs["day"].(string)] = true
			}
		}
		if !days[romeDay(y)] || !days[romeDay(time.Now())] {
			t.Fatalf("acme's lots are of days %v, want today and yesterday", days)
		}
	}

	// refunding a2 takes acme's money back from acme's day lot
	_, err = ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund-a2", TransactionID: a2.TxID})
	c.ok(err)
	for _, l := range c.lots(pool) {
		if l.ID == acme.ID && l.Remaining != 3_000 {
			t.Fatalf("after refunding a2, acme's day lot holds %d, want 3000", l.Remaining)
		}
		if l.Attrs["company"] == "globex" && l.Remaining != 1_500 {
			t.Fatalf("refunding acme's redemption took globex's money: %+v", l)
		}
	}
	// the fund earmarks everything: each company's money moves along
	c.post(ledger.Request{Key: "earmark", Postings: []ledger.Posting{{From: pool, To: envelope, Amount: c.balance(pool).Available}}})
	c.db.SetMaxOpenConns(20) // verify reads on two connections
	perCompany := map[string]int64{}
	for _, l := range c.lots(envelope) {
		perCompany[l.Attrs["company"].(string)] += l.Remaining
	}
	if perCompany["globex"] != 1_500 || perCompany["acme"] != c.balance(envelope).Available-1_500 {
		t.Fatalf("the envelope's lots by company = %v, want globex 1500 and the rest acme's", perCompany)
	}
	c.verify()
	c.sealAll()
	c.verify()

	// grown changes only with remaining, by the same amount
	if _, err := c.db.Exec(`UPDATE ledger_lots SET grown = grown + 1 WHERE id = $1`, acme.ID); err == nil {
		t.Fatal("a day lot's grown changed on its own")
	}
	// a consistent-looking growth that no transaction made: verify sees it
	_, err = c.db.Exec(`UPDATE ledger_lots SET grown = grown + 100, remaining = remaining + 100 WHERE id = $1`, acme.ID)
	c.ok(err)
	rep, err := ledger.Verify(c.ctx, c.db)
	c.ok(err)
	if failed(rep, "attribution") <= 0 {
		t.Fatalf("verify did not notice a day lot grown without a move: %+v", rep.Checks)
	}
}

// Redemptions of one company from many clients at once all land, each in
// a day lot of the shard its write took, and verify holds: grouping adds
// no contention to the sharded pool.
func TestConcurrentContributionsOfOneCompany(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 100_000_000)
	const clients, each = 16, 10
	ws := make([]string, clients)
	for i := range ws {
		ws[i] = c.wallet(i)
		c.allocate(fmt.Sprintf("a%d", i), ws[i], 1_000_000, nil)
	}
	b := ledger.NewBatcher(c.db, ledger.BatcherOptions{})
	defer b.Close()
	var wg sync.WaitGroup
	errs := make(chan error, clients*each)
	for i := 0; i < clients; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < each; j++ {
				r := ledger.Request{Key: fmt.Sprintf("r%d-%d", i, j), Kind: "redemption", Split: &ledger.Split{Policy: policy,
					From: ws[i], Gross: 1_000, Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": "acme"}}}
				var err error
				if j%2 == 0 {
					_, err = b.Post(c.ctx, r)
				} else {
					_, err = ledger.Post(c.ctx, c.db, r)
				}
				errs <- err
			}
		}(i)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		c.ok(err)
	}
	lots := c.lots(pool)
	var sum int64
	for _, l := range lots {
		sum += l.Remaining
	}
	if sum != clients*each*150 || len(lots) > 8 {
		t.Fatalf("%d pool lots holding %d, want at most one per shard (8) holding %d", len(lots), sum, clients*each*150)
	}
	c.verify()
}

// A batch reads an account's first lots in spending order, not all of
// them; a debit only later lots can pay still goes through.
func TestADebitOnlyLateLotsCanPay(t *testing.T) {
	c := newChart(t)
	c.topUp("t", 1_000_000)
	w := c.wallet(0)
	exp := time.Now().Add(time.Hour)
	for i := 0; i < 80; i++ { // early-expiring lots for sport only
		c.allocate(fmt.Sprintf("sport%d", i), w, 100, &exp, "sport")
	}
	c.allocate("culture", w, 5_000, nil, "culture")
	c.post(ledger.Request{Key: "theatre", Postings: []ledger.Posting{{From: w, To: payable, Amount: 5_000, Category: "culture"}}})
	// and one batch that takes almost all the sport lots and then the rest
	out, err := ledger.PostBatch(c.ctx, c.db, []ledger.Request{
		{Key: "gym", Postings: []ledger.Posting{{From: w, To: payable, Amount: 7_000, Category: "sport"}}},
		{Key: "pool", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1_000, Category: "sport"}}},
		{Key: "too-much", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1, Category: "sport"}}},
	})
	c.ok(err)
	if out[0].Err != nil || out[1].Err != nil || out[2].Err == nil {
		t.Fatalf("batch outcomes = %+v, want the first two written and the third refused", out)
	}
	c.wantAvailable(w, 0)
	c.verify()
}
