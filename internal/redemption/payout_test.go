package redemption_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
	"github.com/reciproca/reciproca/internal/redemption"
)

// stripeProxy stands in front of stripe-mock and records what reaches
// Stripe: transfer requests by idempotency key. It answers the balance
// itself (stripe-mock's is always zero) and can fail or cut requests.
type stripeProxy struct {
	*httptest.Server
	mu        sync.Mutex
	transfers map[string]int // idempotency key → requests
	reversals map[string]int // idempotency key → transfer reversal requests
	balance   int64          // available EUR cents
	status    int            // answer transfers with this status instead (0: forward)
	afterSend func()         // called once a transfer reached stripe-mock
	balanceTx string         // answer the balance transactions list with this JSON instead (empty: forward)
}

func newStripeProxy(t *testing.T) *stripeProxy {
	base := os.Getenv("STRIPE_API_BASE")
	if base == "" {
		base = "http://127.0.0.1:12111"
	}
	target, _ := url.Parse(base)
	p := &stripeProxy{transfers: map[string]int{}, reversals: map[string]int{}, balance: 1_000_000_00}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		status, bal, after, btx := p.status, p.balance, p.afterSend, p.balanceTx
		p.mu.Unlock()
		switch {
		case r.URL.Path == "/v1/balance_transactions" && btx != "":
			fmt.Fprint(w, btx)
			return
		case r.URL.Path == "/v1/balance":
			fmt.Fprintf(w, `{"object":"balance","livemode":false,"available":[{"amount":%d,"currency":"eur"}],"pending":[]}`, bal)
			return
		case r.URL.Path == "/v1/transfers" && status != 0:
			w.WriteHeader(status)
			fmt.Fprint(w, `{"error":{"type":"invalid_request_error","message":"refused by the test"}}`)
			return
		}
		req, _ := http.NewRequestWithContext(r.Context(), r.Method, target.String()+r.URL.RequestURI(), r.Body)
		req.Header = r.Header.Clone()
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer res.Body.Close()
		if strings.HasSuffix(r.URL.Path, "/reversals") {
			p.mu.Lock()
			p.reversals[r.Header.Get("Idempotency-Key")]++
			p.mu.Unlock()
		}
		if r.URL.Path == "/v1/transfers" {
			p.mu.Lock()
			p.transfers[r.Header.Get("Idempotency-Key")]++
			p.mu.Unlock()
			if after != nil {
				after()
			}
		}
		w.WriteHeader(res.StatusCode)
		_, _ = io.Copy(w, res.Body)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *stripeProxy) set(f func(p *stripeProxy)) {
	p.mu.Lock()
	f(p)
	p.mu.Unlock()
}

func (p *stripeProxy) counts() (keys, requests int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range p.transfers {
		keys++
		requests += n
	}
	return keys, requests
}

// payoutFixture is a fixture whose provider has a Stripe account that
// receives transfers, a proxy in front of stripe-mock, and n validated
// vouchers of 25 euro (21.25 to the provider each).
func payoutFixture(t *testing.T, n int) (*fixture, *stripeProxy) {
	f := newFixture(t)
	proxy := newStripeProxy(t)
	f.svc = redemption.New(f.db, redemption.Config{BaseURL: "https://x.test", Now: f.clock, MinPayoutCents: 10_00,
		Transfers: payments.NewStripe("sk_test_123", proxy.URL)})
	_, err := f.db.Exec(`UPDATE providers SET stripe_account_id = 'acct_test_payout', stripe_payouts_enabled = true
		WHERE organisation_id = $1`, f.staff.OrgID)
	f.ok(err)
	big, slot := f.slotOffering(f.staff, "Piscina libera", "sport", 25_00, f.slotAt, 50)
	for range n {
		f.setClock(f.slotAt.AddDate(0, 0, -1))
		v, err := f.book(f.employee(25_00, nil), big, 1, &slot)
		f.ok(err)
		f.onSlotDay()
		_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
		f.ok(err)
	}
	return f, proxy
}

func (f *fixture) payable() ledger.Balance {
	b, err := ledger.GetBalance(f.ctx, f.db, redemption.PayablePath(f.staff.OrgID))
	f.ok(err)
	return b
}

// A provider asks for its payout: a hold on its payable at once, then the
// worker's Stripe transfer captures it; the statement lists the vouchers.
func TestPayout(t *testing.T) {
	f, proxy := payoutFixture(t, 2)
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	if po.AmountCents != 42_50 || po.Method != redemption.PayoutStripe || f.payable().Available != 0 {
		t.Fatalf("payout %+v, payable %+v", po, f.payable())
	}
	_, err = f.svc.RequestPayout(f.ctx, f.staff)
	wantCode(t, err, apperr.Conflict)
	n, err := f.svc.PayPending(f.ctx, 10)
	f.ok(err)
	list, err := f.svc.Payouts(f.ctx, f.staff)
	f.ok(err)
	if n != 1 || list[0].Status != redemption.PayoutPaid || list[0].StripeTransferID == nil || f.payable().Posted != 0 {
		t.Fatalf("after the worker: %d paid, %+v, payable %+v", n, list[0], f.payable())
	}
	if keys, reqs := proxy.counts(); keys != 1 || reqs != 1 {
		t.Fatalf("%d transfer keys, %d requests", keys, reqs)
	}
	st, err := f.svc.PayoutStatement(f.ctx, f.staff, po.ID)
	f.ok(err)
	if len(st.Vouchers) != 2 || st.Gross != 50_00 || st.Fund != 5_00 || st.Fee != 2_50 || st.Net != 42_50 {
		t.Fatalf("statement %+v", st)
	}
	// Below the minimum (nothing owed now) nothing is created.
	_, err = f.svc.RequestPayout(f.ctx, f.staff)
	wantCode(t, err, apperr.Invalid)
	f.verifyLedger()
}

// The worker dies after Stripe took the transfer but before the ledger
// heard of it; the next run (after the lease) repeats the transfer with
// the same idempotency key: one transfer at Stripe, one ledger capture.
func TestPayoutKilledMidTransfer(t *testing.T) {
	f, proxy := payoutFixture(t, 1)
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	ctx, kill := context.WithCancel(f.ctx)
	proxy.set(func(p *stripeProxy) { p.afterSend = kill })
	if _, err := f.svc.PayPending(ctx, 10); err == nil {
		t.Fatal("the killed run reported no error")
	}
	if f.payable().PendingOut != 21_25 {
		t.Fatalf("after the kill the payable is %+v, want the payout still held", f.payable())
	}
	proxy.set(func(p *stripeProxy) { p.afterSend = nil })
	_, err = f.db.Exec(`UPDATE provider_payouts SET next_attempt_at = now() WHERE id = $1`, po.ID) // the lease ran out
	f.ok(err)
	n, err := f.svc.PayPending(f.ctx, 10)
	f.ok(err)
	var captures int
	f.ok(f.db.Get(&captures, `SELECT count(*) FROM ledger_transactions WHERE hold_id = $1`, po.HoldID))
	keys, reqs := proxy.counts()
	if n != 1 || keys != 1 || reqs < 2 || captures != 1 || f.payable().Posted != 0 {
		t.Fatalf("paid %d: %d keys over %d requests, %d captures, payable %+v", n, keys, reqs, captures, f.payable())
	}
	f.verifyLedger()
}

// Stripe down: the payout stays queued and the ledger shows nothing paid;
// a balance that does not cover it waits too; Stripe refusing the
// transfer fails the payout and gives the money back to the payable.
func TestPayoutFailures(t *testing.T) {
	f, proxy := payoutFixture(t, 1)
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	retry := func() {
		_, err := f.db.Exec(`UPDATE provider_payouts SET next_attempt_at = now() WHERE id = $1`, po.ID)
		f.ok(err)
	}
	status := func() (st, lastErr string) {
		f.ok(f.db.QueryRow(`SELECT status, last_error FROM provider_payouts WHERE id = $1`, po.ID).Scan(&st, &lastErr))
		return
	}
	proxy.set(func(p *stripeProxy) { p.status = http.StatusServiceUnavailable })
	if _, err := f.svc.PayPending(f.ctx, 10); err == nil {
		t.Fatal("Stripe down reported no error")
	}
	if st, _ := status(); st != redemption.PayoutQueued || f.payable().Posted != 21_25 || f.payable().PendingOut != 21_25 {
		t.Fatalf("Stripe down: %s, payable %+v", st, f.payable())
	}
	proxy.set(func(p *stripeProxy) { p.status, p.balance = 0, 10_00 })
	retry()
	_, _ = f.svc.PayPending(f.ctx, 10)
	if st, e := status(); st != redemption.PayoutQueued || e == "" {
		t.Fatalf("short balance: %s %q", st, e)
	}
	proxy.set(func(p *stripeProxy) { p.status, p.balance = http.StatusBadRequest, 1_000_00 })
	retry()
	_, _ = f.svc.PayPending(f.ctx, 10)
	if st, _ := status(); st != redemption.PayoutFailed || f.payable().Available != 21_25 {
		t.Fatalf("refused: %s, payable %+v", st, f.payable())
	}
	if keys, _ := proxy.counts(); keys != 0 {
		t.Fatalf("%d transfers reached Stripe", keys)
	}
	f.verifyLedger()
}

// A refund of a voucher whose money was already paid out goes through:
// the provider's part is advanced and netted against its next payout.
func TestRefundAfterPayoutNets(t *testing.T) {
	f, _ := payoutFixture(t, 2)
	_, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	_, err = f.svc.PayPending(f.ctx, 10)
	f.ok(err)
	var paid redemption.Voucher
	f.ok(f.db.Get(&paid.ID, `SELECT id FROM vouchers WHERE status = 'validated' LIMIT 1`))
	r, err := f.svc.Refund(f.ctx, f.staff, paid.ID, redemption.RefundInput{AmountCents: 10_00, Reason: "Lezione annullata"}, "")
	f.ok(err)
	if r.ProviderCents != 8_50 {
		t.Fatalf("refund split %+v", r)
	}
	// One more validated voucher, then the next payout nets the refund.
	big, slot := f.slotOffering(f.staff, "Nuoto libero", "sport", 25_00, f.slotAt, 5)
	f.setClock(f.slotAt.AddDate(0, 0, -1))
	v, err := f.book(f.employee(25_00, nil), big, 1, &slot)
	f.ok(err)
	f.onSlotDay()
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	f.ok(err)
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	if po.AmountCents != 21_25-8_50 {
		t.Fatalf("next payout %d, want 21_25 less the refunded 8_50", po.AmountCents)
	}
	owed, err := ledger.GetBalance(f.ctx, f.db, redemption.ReceivablePath(f.staff.OrgID))
	f.ok(err)
	if owed.Posted != 0 {
		t.Fatalf("receivable after netting %+v", owed)
	}
	f.verifyLedger()
}
