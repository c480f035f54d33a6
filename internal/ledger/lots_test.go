package ledger_test

import (
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Expired wallet lots are swept as the plan says: returned to the company,
// carried over into a new lot, or donated to the fund as a contributor lot.
// Nothing is spent from an expired lot meanwhile.
func TestExpiredLots(t *testing.T) {
	c := newChart(t)
	ws := []string{c.wallet(1), c.wallet(2), c.wallet(3)}
	c.topUp("t", 30_00)
	soon := time.Now().Add(1500 * time.Millisecond)
	later := time.Now().Add(48 * time.Hour)
	for i, w := range ws {
		c.allocate("soon-"+w, w, 5_00, &soon)
		c.allocate("later-"+w, w, 5_00, &later, "culture")
		_ = i
	}
	time.Sleep(time.Until(soon) + 100*time.Millisecond)
	// The expired lot cannot pay; the culture lot cannot pay for sport.
	_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "spend", Postings: []ledger.Posting{{From: ws[0], To: payable, Amount: 1_00, Category: "sport"}}})
	wantCode(t, err, apperr.InsufficientFunds)

	plan := map[string]ledger.Disposition{
		ws[0]: {Action: ledger.Return, To: budget},
		ws[1]: {Action: ledger.CarryOver, ExpiresAt: time.Now().Add(24 * time.Hour)},
		ws[2]: {Action: ledger.Donate, To: pool},
	}
	// A lot whose disposition fails is passed over, the others are swept
	// (with a limit of one, so the failing lot is also first in line).
	undecided := func(l ledger.Lot) (ledger.Disposition, error) {
		if l.Account == ws[0] {
			return ledger.Disposition{}, apperr.New(apperr.Invalid, "no plan")
		}
		return plan[l.Account], nil
	}
	for range 2 {
		n, err := ledger.SweepExpiredLots(c.ctx, c.db, 1, undecided)
		if n != 1 || err == nil || !strings.Contains(err.Error(), "no plan") {
			t.Fatalf("sweep with one undecided lot: %d, %v", n, err)
		}
	}
	n, err := ledger.SweepExpiredLots(c.ctx, c.db, 100, func(l ledger.Lot) (ledger.Disposition, error) { return plan[l.Account], nil })
	c.ok(err)
	if n != 1 {
		t.Fatalf("swept %d lots, want the one left", n)
	}
	// A second sweep finds nothing.
	if n, err := ledger.SweepExpiredLots(c.ctx, c.db, 100, nil); err != nil || n != 0 {
		t.Fatalf("second sweep: %d, %v", n, err)
	}
	c.wantAvailable(ws[0], 5_00)
	c.wantAvailable(budget, 5_00)
	c.wantAvailable(ws[1], 10_00)
	c.wantAvailable(ws[2], 5_00)
	c.wantAvailable(pool, 5_00)
	lots, err := ledger.Lots(c.ctx, c.db, ws[1])
	c.ok(err)
	if len(lots) != 2 || lots[0].ParentID == nil || lots[0].Remaining != 5_00 || !lots[0].ExpiresAt.After(time.Now()) {
		t.Fatalf("carried-over lots = %+v", lots)
	}
	// The carried-over lot pays for sport now.
	c.post(ledger.Request{Key: "spend-2", Postings: []ledger.Posting{{From: ws[1], To: payable, Amount: 5_00, Category: "sport"}}})
	poolLots, err := ledger.Lots(c.ctx, c.db, pool)
	c.ok(err)
	if len(poolLots) != 1 || poolLots[0].Attrs["company"] != "c1" || poolLots[0].Attrs["donated_from_lot"] == nil {
		t.Fatalf("donation lot = %+v", poolLots)
	}
	c.verify()
}

// Fund money keeps its contributors: redemptions credit the pool with
// contributor lots; earmarking, approval and disbursement move them along;
// the disbursement records whose money it spent.
func TestContributorLots(t *testing.T) {
	c := newChart(t)
	envelope := c.account(ledger.AccountSpec{Path: "fund:f1:envelope:housing", Kind: ledger.Liability, Floor: &zero, Lots: true}).Path
	committed := c.account(ledger.AccountSpec{Path: "fund:f1:committed", Kind: ledger.Liability, Floor: &zero, Lots: true}).Path
	c.topUp("t", 1000_00)
	for i, company := range []string{"acme", "globex"} {
		w := c.wallet(i)
		c.allocate("a"+w, w, 500_00, nil)
		c.post(ledger.Request{Key: "r" + w, Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w, Gross: 200_00,
			Provider: payable, Fund: pool, Fees: fees, FundAttrs: map[string]any{"company": company}}})
	}
	c.wantAvailable(pool, 60_00)
	c.post(ledger.Request{Key: "earmark", Postings: []ledger.Posting{{From: pool, To: envelope, Amount: 45_00}}})
	c.post(ledger.Request{Key: "approve", Postings: []ledger.Posting{{From: envelope, To: committed, Amount: 40_00}}})
	// Two approvals cannot overspend the envelope (floor 0).
	_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "approve-2", Postings: []ledger.Posting{{From: envelope, To: committed, Amount: 5_01}}})
	wantCode(t, err, apperr.InsufficientFunds)
	res := c.post(ledger.Request{Key: "disburse", Postings: []ledger.Posting{{From: committed, To: payable, Amount: 40_00}}})
	moves, err := ledger.LotMoves(c.ctx, c.db, res.TxID)
	c.ok(err)
	paid := map[any]int64{}
	for _, m := range moves {
		paid[m.Lot.Attrs["company"]] += m.Amount
	}
	// FIFO: acme's 30.00 first, then 10.00 of globex's.
	if paid["acme"] != 30_00 || paid["globex"] != 10_00 {
		t.Fatalf("disbursement paid by %v (moves %+v)", paid, moves)
	}
	c.verify()
}

// Balances at a past time and keyset pagination of entries.
func TestHistory(t *testing.T) {
	c := newChart(t)
	w := c.wallet(1)
	c.topUp("t", 100_00)
	var marks []time.Time
	for i := 0; i < 25; i++ {
		c.allocate("a"+string(rune('a'+i)), w, 1_00, nil)
		marks = append(marks, time.Now())
		time.Sleep(2 * time.Millisecond)
	}
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "h", Postings: []ledger.Posting{{From: w, To: payable, Amount: 3_00}}}})
	c.ok(err)
	held := time.Now()
	time.Sleep(2 * time.Millisecond)
	c.ok(ledger.Void(c.ctx, c.db, h.TxID))
	for i, at := range marks {
		b, err := ledger.BalanceAt(c.ctx, c.db, w, at)
		c.ok(err)
		if b.Posted != int64(i+1)*1_00 || b.PendingOut != 0 {
			t.Fatalf("balance at mark %d = %+v", i, b)
		}
	}
	b, err := ledger.BalanceAt(c.ctx, c.db, w, held)
	c.ok(err)
	if b.Posted != 25_00 || b.PendingOut != 3_00 || b.Available != 22_00 {
		t.Fatalf("balance while held = %+v", b)
	}
	if now, _ := ledger.BalanceAt(c.ctx, c.db, w, time.Now()); now.PendingOut != 0 || now.Posted != c.balance(w).Posted {
		t.Fatalf("balance now = %+v", now)
	}
	var all []ledger.Entry
	cursor := int64(0)
	for pages := 0; ; pages++ {
		page, next, err := ledger.Entries(c.ctx, c.db, w, cursor, 10)
		c.ok(err)
		all = append(all, page...)
		if next == 0 {
			if pages != 2 {
				t.Fatalf("%d pages, want 3", pages+1)
			}
			break
		}
		cursor = next
	}
	if len(all) != 26 || all[0].Status != "voided" || all[0].Delta != -3_00 || all[25].Delta != 1_00 {
		t.Fatalf("entries: %d, first %+v, last %+v", len(all), all[0], all[len(all)-1])
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID >= all[i-1].ID {
			t.Fatal("entries not newest first")
		}
	}
}
