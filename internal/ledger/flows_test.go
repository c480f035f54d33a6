package ledger_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
)

// The money flows of the product, end to end, with the balances a user sees.
func TestFlows(t *testing.T) {
	c := newChart(t)
	w := c.wallet(1)
	c.topUp("topup-1", 100_00)
	c.wantAvailable(budget, 100_00)
	c.wantAvailable(stripe, 100_00) // an asset grows with debits

	far := time.Now().Add(365 * 24 * time.Hour)
	near := time.Now().Add(30 * 24 * time.Hour)
	c.allocate("alloc-1", w, 50_00, &far, "sport")
	c.allocate("alloc-2", w, 30_00, &near)
	c.wantAvailable(budget, 20_00)
	c.wantAvailable(w, 80_00)

	// A redemption of 40.01 split 15% fund, 5% fee, remainder to provider;
	// lots consumed earliest expiry first (the 30.00 any-category lot).
	res := c.post(ledger.Request{Key: "redeem-1", Kind: "redemption", Split: &ledger.Split{Policy: policy, From: w,
		Gross: 40_01, Category: "sport", Provider: payable, Fund: pool, Fees: fees,
		FundAttrs: map[string]any{"company": "c1"}}})
	c.wantAvailable(w, 39_99)
	c.wantAvailable(payable, 32_01)
	c.wantAvailable(pool, 6_00)
	c.wantAvailable(fees, 2_00)
	tx, err := ledger.GetTransaction(c.ctx, c.db, res.TxID)
	c.ok(err)
	if len(tx.Entries) != 4 || tx.PolicyID == nil || string(tx.Split) == "" {
		t.Fatalf("redemption transaction = %+v", tx)
	}
	lots, err := ledger.Lots(c.ctx, c.db, w)
	c.ok(err)
	if len(lots) != 1 || lots[0].Remaining != 39_99 || lots[0].Categories[0] != "sport" {
		t.Fatalf("wallet lots after redemption = %+v", lots)
	}
	poolLots, err := ledger.Lots(c.ctx, c.db, pool)
	c.ok(err)
	if len(poolLots) != 1 || poolLots[0].Attrs["company"] != "c1" || poolLots[0].Attrs["policy_version"] != float64(1) {
		t.Fatalf("pool contributor lots = %+v", poolLots)
	}

	// Booking: a hold reserves 20.00; a partial capture of 15.00 with the
	// split; the rest comes back to the wallet.
	hold, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "book-1", Postings: []ledger.Posting{{From: w, To: payable, Amount: 20_00, Category: "sport"}}}})
	c.ok(err)
	b := c.balance(w)
	if b.Posted != 39_99 || b.PendingOut != 20_00 || b.Available != 19_99 {
		t.Fatalf("wallet during hold = %+v", b)
	}
	if got := c.balance(payable); got.PendingIn != 20_00 || got.Available != 32_01 {
		t.Fatalf("payable during hold = %+v", got)
	}
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "validate-1", HoldID: hold.TxID,
		Split: &ledger.Split{Policy: policy, From: w, Gross: 15_00, Provider: payable, Fund: pool, Fees: fees}})
	c.ok(err)
	b = c.balance(w)
	if b.Posted != 24_99 || b.PendingOut != 0 || b.Available != 24_99 {
		t.Fatalf("wallet after capture = %+v", b)
	}
	c.wantAvailable(payable, 32_01+12_00)
	c.wantAvailable(pool, 6_00+2_25)
	c.wantAvailable(fees, 2_00+75)

	// A second resolution of the same hold is a conflict.
	ae := wantCode(t, ledger.Void(c.ctx, c.db, hold.TxID), apperr.Conflict)
	if ae.Fields["status"] != "captured" {
		t.Fatalf("conflict details = %v", ae.Fields)
	}

	// A cancelled booking: hold then void; everything comes back.
	hold2, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{
		Key: "book-2", Postings: []ledger.Posting{{From: w, To: payable, Amount: 24_99}}}})
	c.ok(err)
	c.wantAvailable(w, 0)
	c.ok(ledger.Void(c.ctx, c.db, hold2.TxID))
	c.wantAvailable(w, 24_99)

	// Refund after validation: a partial reversal of the redemption puts
	// 10.00 back from the provider, into the lots it was taken from.
	rev, err := ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund-1", TransactionID: res.TxID,
		Postings: []ledger.Posting{{From: w, To: payable, Amount: 10_00}}})
	c.ok(err)
	c.wantAvailable(w, 34_99)
	c.wantAvailable(payable, 34_01)
	rtx, err := ledger.GetTransaction(c.ctx, c.db, rev.TxID)
	c.ok(err)
	if rtx.ReversesID == nil || *rtx.ReversesID != res.TxID {
		t.Fatalf("reversal not linked: %+v", rtx)
	}
	// Reversing more than the original moved is refused.
	_, err = ledger.Reverse(c.ctx, c.db, ledger.ReverseRequest{Key: "refund-2", TransactionID: res.TxID,
		Postings: []ledger.Posting{{From: w, To: payable, Amount: 22_02}}})
	wantCode(t, err, apperr.Invalid)
	c.wantAvailable(w, 34_99)

	// Provider payout.
	c.post(ledger.Request{Key: "payout-1", Kind: "payout", Postings: []ledger.Posting{{From: payable, To: stripe, Amount: 34_01}}})
	c.wantAvailable(payable, 0)
	c.verify()
}

func TestErrorsChangeNothing(t *testing.T) {
	c := newChart(t)
	w := c.wallet(1)
	c.topUp("topup", 10_00)
	c.allocate("alloc", w, 10_00, nil, "food")

	_, err := ledger.Post(c.ctx, c.db, ledger.Request{Key: "x1", Postings: []ledger.Posting{{From: w, To: "provider:nobody:payable", Amount: 1}}})
	if ae := wantCode(t, err, apperr.NotFound); ae.Fields["account"] != "provider:nobody:payable" {
		t.Fatalf("unknown account details = %v", ae.Fields)
	}
	_, err = ledger.Post(c.ctx, c.db, ledger.Request{Key: "x2", Postings: []ledger.Posting{{From: w, To: payable, Amount: 10_01}}})
	ae := wantCode(t, err, apperr.InsufficientFunds)
	if ae.Fields["available"] != int64(10_00) || ae.Fields["required"] != int64(10_01) || ae.Fields["account"] != w {
		t.Fatalf("insufficient funds details = %v", ae.Fields)
	}
	// The lot is for food: sport cannot be paid from it.
	_, err = ledger.Post(c.ctx, c.db, ledger.Request{Key: "x3", Postings: []ledger.Posting{{From: w, To: payable, Amount: 5_00, Category: "sport"}}})
	ae = wantCode(t, err, apperr.InsufficientFunds)
	if ae.Fields["available"] != int64(0) {
		t.Fatalf("category details = %v", ae.Fields)
	}
	for _, r := range []ledger.Request{
		{Key: "", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1}}},
		{Key: "x4", Postings: []ledger.Posting{{From: w, To: w, Amount: 1}}},
		{Key: "x5", Postings: []ledger.Posting{{From: w, To: payable, Amount: 0}}},
		{Key: "x6"},
	} {
		_, err = ledger.Post(c.ctx, c.db, r)
		wantCode(t, err, apperr.Invalid)
	}
	// Frozen accounts take no postings.
	c.ok(ledger.SetAccountStatus(c.ctx, c.db, w, ledger.StatusFrozen, "admin:1", "suspected fraud"))
	_, err = ledger.Post(c.ctx, c.db, ledger.Request{Key: "x7", Postings: []ledger.Posting{{From: w, To: payable, Amount: 1}}})
	wantCode(t, err, apperr.Conflict)
	// A split needs a policy in force.
	c.ok(ledger.SetAccountStatus(c.ctx, c.db, w, ledger.StatusOpen, "admin:1", "cleared"))
	_, err = ledger.Post(c.ctx, c.db, ledger.Request{Key: "x8", Split: &ledger.Split{Policy: "nope", From: w, Gross: 1, Provider: payable, Fund: pool, Fees: fees}})
	wantCode(t, err, apperr.NotFound)
	// Accounts are explicit and their settings fixed.
	_, err = ledger.CreateAccount(c.ctx, c.db, ledger.AccountSpec{Path: w, Kind: ledger.Liability})
	wantCode(t, err, apperr.Conflict)
	c.wantAvailable(w, 10_00)
	c.wantAvailable(payable, 0)
	var n int
	c.ok(c.db.Get(&n, `SELECT count(*) FROM ledger_transactions`))
	if n != 2 {
		t.Fatalf("%d transactions after failed writes, want 2", n)
	}
	// A capture by an unknown policy is refused and leaves the hold pending.
	h, err := ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "h1", Postings: []ledger.Posting{{From: w, To: payable, Amount: 4_00, Category: "food"}}}})
	c.ok(err)
	_, err = ledger.Capture(c.ctx, c.db, ledger.CaptureRequest{Key: "c1", HoldID: h.TxID,
		Split: &ledger.Split{Policy: "nope", From: w, Gross: 4_00, Provider: payable, Fund: pool, Fees: fees, Category: "food"}})
	wantCode(t, err, apperr.NotFound)
	c.ok(ledger.Void(c.ctx, c.db, h.TxID))
	c.wantAvailable(w, 10_00)
	c.verify()
}

func TestIdempotency(t *testing.T) {
	c := newChart(t)
	r := ledger.Request{Key: "topup-42", Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 5_00}}}
	first := c.post(r)
	again := c.post(r)
	if again.TxID != first.TxID || !again.Replayed || first.Replayed {
		t.Fatalf("retry = %+v, first = %+v", again, first)
	}
	r.Postings[0].Amount = 6_00
	_, err := ledger.Post(c.ctx, c.db, r)
	if ae := wantCode(t, err, apperr.Conflict); ae.Fields["transaction_id"] != first.TxID {
		t.Fatalf("conflict details = %v", ae.Fields)
	}
	c.wantAvailable(budget, 5_00)
	// The same key for a different operation is a different request too.
	_, err = ledger.Hold(c.ctx, c.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour),
		Request: ledger.Request{Key: "topup-42", Postings: []ledger.Posting{{From: stripe, To: budget, Amount: 5_00}}}})
	wantCode(t, err, apperr.Conflict)
	c.verify()
}
