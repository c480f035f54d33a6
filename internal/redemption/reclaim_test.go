package redemption_test

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
	"github.com/reciproca/reciproca/internal/redemption"
)

// reversals is how many reversal keys and requests reached Stripe.
func (p *stripeProxy) reversalCounts() (keys, requests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.reversals {
		keys++
		requests += n
	}
	return keys, requests
}

func (f *fixture) paidOut() redemption.Payout {
	f.t.Helper()
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	if n, err := f.svc.PayPending(f.ctx, 10); err != nil || n != 1 {
		f.t.Fatalf("paying out: %d %v", n, err)
	}
	return po
}

// A provider's own bank payout fails after our transfer: the failure is
// recorded once (the event again changes nothing), the worker reverses
// that much of the transfer once, and the money is owed on the payable
// again.
func TestBankPayoutFailure(t *testing.T) {
	f, proxy := payoutFixture(t, 2)
	f.paidOut()
	failure := payments.PayoutFailure{AccountID: "acct_test_payout", PayoutID: "po_test_1", Amount: 30_00, Code: "account_closed",
		Message: "The bank account has been closed", At: time.Now()}
	for range 2 {
		f.ok(db.WithTx(f.ctx, f.db, func(tx *sqlx.Tx) error { return f.svc.RecordBankFailure(f.ctx, tx, failure) }))
	}
	stranger := failure
	stranger.AccountID, stranger.PayoutID = "acct_nobody", "po_test_2"
	err := db.WithTx(f.ctx, f.db, func(tx *sqlx.Tx) error { return f.svc.RecordBankFailure(f.ctx, tx, stranger) })
	wantCode(t, err, apperr.Invalid)

	list, err := f.svc.BankFailures(f.ctx, f.staff)
	f.ok(err)
	if len(list) != 1 || list[0].Amount != 30_00 || list[0].ResolvedAt != nil {
		t.Fatalf("failures = %+v", list)
	}
	for range 2 {
		_, err := f.svc.ReclaimDue(f.ctx)
		f.ok(err)
	}
	if keys, reqs := proxy.reversalCounts(); keys != 1 || reqs != 1 {
		t.Fatalf("%d reversal keys, %d requests", keys, reqs)
	}
	list, err = f.svc.BankFailures(f.ctx, f.staff)
	f.ok(err)
	if list[0].Reclaimed != 30_00 || list[0].ResolvedAt == nil || f.payable().Available != 30_00 {
		t.Fatalf("after the reversal: %+v, payable %+v", list[0], f.payable())
	}
	f.verifyLedger()
}

// A refund of a voucher already paid out is advanced from the
// receivable; payouts net it first, and what none netted within 60 days
// is reversed from the provider's transfer, once.
func TestRefundAfterPayoutReclaimedAfter60Days(t *testing.T) {
	f, proxy := payoutFixture(t, 3)
	f.paidOut()
	var used []string
	f.ok(f.db.Select(&used, `SELECT id FROM vouchers WHERE provider_id = $1 AND status = 'validated' ORDER BY id`, f.staff.OrgID))
	refund := func(i int, key string) {
		t.Helper()
		_, err := f.svc.Refund(f.ctx, f.staff, uuid.MustParse(used[i]), redemption.RefundInput{AmountCents: 25_00, Reason: "Lezione annullata"}, key)
		f.ok(err)
	}
	refund(0, "r0")
	receivable := func() int64 {
		b, err := ledger.GetBalance(f.ctx, f.db, redemption.ReceivablePath(f.staff.OrgID))
		f.ok(err)
		return b.Posted
	}
	if receivable() != 21_25 {
		t.Fatalf("receivable after the refund = %d", receivable())
	}
	n, err := f.svc.ReclaimDue(f.ctx)
	f.ok(err)
	if keys, _ := proxy.reversalCounts(); n != 0 || keys != 0 {
		t.Fatalf("reclaimed before 60 days: %d", n)
	}
	f.setClock(time.Now().Add(61 * 24 * time.Hour))
	for range 2 {
		_, err = f.svc.ReclaimDue(f.ctx)
		f.ok(err)
	}
	if keys, reqs := proxy.reversalCounts(); keys != 1 || reqs != 1 || receivable() != 0 {
		t.Fatalf("after 60 days: %d reversal keys, %d requests, receivable %d", keys, reqs, receivable())
	}
	f.verifyLedger()
}

// payout.failed arrives signed on the Connect endpoint; the provider sees
// it on the payouts page.
func TestBankPayoutFailureShown(t *testing.T) {
	w := newAppWorld(t)
	account := "acct_shown_" + strings.ReplaceAll(w.staff.Principal().OrgID.String(), "-", "")[:8]
	_, err := w.a.DB.Exec(`UPDATE providers SET stripe_account_id = $2 WHERE organisation_id = $1`, w.staff.Principal().OrgID, account)
	if err != nil {
		t.Fatal(err)
	}
	id := "evt_payout_failed_" + account
	payload := []byte(fmt.Sprintf(`{"id":%q,"object":"event","type":"payout.failed","account":%q,"created":%d,"api_version":"2023-10-16",
		"livemode":false,"data":{"object":{"id":"po_shown","object":"payout","amount":4250,"currency":"eur","status":"failed",
		"failure_code":"account_closed","failure_message":"The bank account has been closed"}}}`, id, account, time.Now().Unix()))
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: "whsec_test_connect_secret", Timestamp: time.Now()})
	req, _ := http.NewRequest("POST", w.a.URL()+"/webhooks/stripe/connect", bytes.NewReader(sp.Payload))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Stripe-Signature", sp.Header)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("delivery: %d", res.StatusCode)
	}
	staff := w.k.Browser(w.a.URL(), w.staff)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		_, page := staff.Get("/erogatore/pagamenti")
		if strings.Contains(excerpt(page, `id="bank-failures"`), "€ 42,50") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the failed bank payout is not on the payouts page: %s", excerpt(page, "bank-failures"))
		}
	}
}
