package redemption_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/payments"
	"github.com/reciproca/reciproca/internal/redemption"
)

// A treasury move is a ledger transaction between the platform's Stripe
// balance and its bank account; the same key twice is one move, and the
// ledger never shows more leaving an account than it holds.
func TestTreasuryMovesAreLedgerTransactions(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	f.employee(1_000_00, nil) // the company's money reached the bank: platform:bank holds 1,000 euro
	move := func(dir string, cents int64, key string) (redemption.TreasuryMove, error) {
		return f.svc.RecordTreasuryMove(f.ctx, f.admin, redemption.TreasuryMoveInput{Direction: dir, AmountCents: cents,
			Reference: " CRO 0123 "}, key)
	}
	ae := wantCode(t, func() error { _, err := move(redemption.ToStripe, 1_000_01, "too-much"); return err }(), apperr.Invalid)
	if ae.Fields["available"] != int64(1_000_00) {
		t.Fatalf("a move larger than the bank's money: %v, want available 100000", ae.Fields)
	}
	first, err := move(redemption.ToStripe, 600_00, "k1")
	f.ok(err)
	again, err := move(redemption.ToStripe, 600_00, "k1")
	f.ok(err)
	if again.ID != first.ID || again.TxID != first.TxID || first.Reference != "CRO 0123" {
		t.Fatalf("the same key twice: %+v then %+v", first, again)
	}
	_, err = move(redemption.ToStripe, 500_00, "k1")
	wantCode(t, err, apperr.Conflict) // the key reused for another move
	_, err = move(redemption.ToBank, 250_00, "k2")
	f.ok(err)
	if s, b := f.available("platform:stripe"), f.available("platform:bank"); s != 350_00 || b != 650_00 {
		t.Fatalf("Stripe %d, bank %d cents; want 35000 and 65000", s, b)
	}
	for _, bad := range []redemption.TreasuryMoveInput{{Direction: "sideways", AmountCents: 1_00}, {Direction: redemption.ToBank},
		{Direction: redemption.ToBank, AmountCents: -5}} {
		_, err := f.svc.RecordTreasuryMove(f.ctx, f.admin, bad, "")
		wantCode(t, err, apperr.Invalid)
	}
	_, err = f.svc.RecordTreasuryMove(f.ctx, f.staff, redemption.TreasuryMoveInput{Direction: redemption.ToBank, AmountCents: 1_00}, "")
	wantCode(t, err, apperr.Forbidden)
	tr, err := f.svc.TreasuryNow(f.ctx, f.admin)
	f.ok(err)
	if len(tr.Moves) != 2 || tr.Moves[0].Direction != redemption.ToBank || tr.StripeCents != 350_00 || tr.BankCents != 650_00 {
		t.Fatalf("treasury: %+v", tr)
	}
	f.verifyLedger()
}

// Connect fees are booked once each, by Stripe's id, as a platform
// expense out of the Stripe balance, however often and however many
// workers ask; Stripe's other balance transactions are not fees.
func TestConnectFeesAreBookedOncePerStripeID(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	proxy := newStripeProxy(t)
	f.svc = redemption.New(f.db, redemption.Config{BaseURL: "https://x.test", Now: f.clock,
		StripeFees: payments.NewStripe("sk_test_123", proxy.URL)})
	n, err := f.svc.BookConnectFees(f.ctx) // stripe-mock's own list: a charge, not a fee
	f.ok(err)
	if n != 0 {
		t.Fatalf("%d fees booked from stripe-mock's charge", n)
	}
	at := time.Now().Add(-time.Hour).Unix()
	item := func(id, typ string, amount int64) string {
		return fmt.Sprintf(`{"id":%q,"object":"balance_transaction","type":%q,"amount":%d,"fee":0,"net":%d,"currency":"eur","created":%d,"description":"Connect (2026-11-01 - 2026-11-30): Active Account Billing"}`,
			id, typ, amount, amount, at)
	}
	proxy.set(func(p *stripeProxy) {
		p.balanceTx = `{"object":"list","url":"/v1/balance_transactions","has_more":false,"data":[` +
			item("txn_fee_1", "stripe_fee", -2_00) + "," + item("txn_fee_2", "stripe_fee", -25) + "," +
			item("txn_charge", "charge", 100_00) + "]}"
	})
	var wg sync.WaitGroup
	counts := make([]int, 4)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			if counts[i], err = f.svc.BookConnectFees(f.ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	booked := 0
	for _, c := range counts {
		booked += c
	}
	if n, err := f.svc.BookConnectFees(f.ctx); booked != 2 || n != 0 || err != nil {
		t.Fatalf("booked %d by four workers at once, then %d (%v); want 2, then 0", booked, n, err)
	}
	if got := f.available(redemption.ConnectFeesAccount); got != 2_25 {
		t.Fatalf("platform:connect-fees %d cents, want 225", got)
	}
	if got := f.available("platform:stripe"); got != -2_25 {
		t.Fatalf("platform:stripe %d cents, want -225 (nothing else moved it)", got)
	}
	tr, err := f.svc.TreasuryNow(f.ctx, f.admin)
	f.ok(err)
	if len(tr.ConnectFees) != 2 || tr.ConnectFees[0].Description == "" {
		t.Fatalf("Connect fees shown: %+v", tr.ConnectFees)
	}
	f.verifyLedger()
}
