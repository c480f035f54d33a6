package funding_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/payments"
)

const sessions = "POST /v1/checkout/sessions"

// A card top-up: our record, one Checkout Session however often the
// request is retried, and the budget credited once, only by the verified
// event, whatever Stripe sends after it.
func TestCardTopUpIsCreditedOnceByTheWebhook(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := uuid.NewString()
	req := funding.TopUpRequest{Channel: funding.Card, Amount: 500_00}
	first, err := e.svc.RequestTopUp(ctx, e.admin, req, key)
	if err != nil {
		t.Fatal(err)
	}
	if first.Status != funding.Open || first.CheckoutURL == nil || *first.CheckoutURL == "" {
		t.Fatalf("top-up after request: %+v", first)
	}
	again, err := e.svc.RequestTopUp(ctx, e.admin, req, key)
	if err != nil || again.ID != first.ID {
		t.Fatalf("retry: %v, id %s vs %s", err, again.ID, first.ID)
	}
	if n := e.stripe.count(sessions); n != 1 {
		t.Fatalf("a retried request made %d Checkout Sessions, want 1", n)
	}
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 0 {
		t.Fatalf("budget before payment: %d", b)
	}
	// Stripe's page came back, but no event yet: nothing is credited.
	if tu := e.topUp(first.ID); tu.Status != funding.Open || tu.Settled() {
		t.Fatalf("before the event: %s", tu.Status)
	}

	paid := event("checkout.session.completed", session(first, "paid"))
	e.deliver(paid)
	if body := e.deliver(paid); !strings.Contains(body, "duplicate") {
		t.Fatalf("second delivery of one event: %s", body)
	}
	e.handle()
	// Stripe also sends the same news under other event ids, and late ones.
	e.deliver(event("checkout.session.async_payment_succeeded", session(first, "paid")))
	e.deliver(event("checkout.session.completed", session(first, "paid")))
	e.deliver(event("checkout.session.expired", session(first, "unpaid")))
	e.deliver(event("checkout.session.async_payment_failed", session(first, "unpaid")))
	e.handle()
	tu := e.topUp(first.ID)
	if tu.Status != funding.Paid || tu.Credited != 500_00 || !tu.Settled() {
		t.Fatalf("after the events: %+v", tu)
	}
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 500_00 {
		t.Fatalf("budget %d, want 50000", b)
	}
	if b := e.balance(funding.StripeAccount); b != 500_00 {
		t.Fatalf("platform:stripe %d", b)
	}
	e.verify()
}

// Stripe's fee is read from the payment's balance transaction and booked
// as the platform's expense: the company keeps what it paid, and
// platform:stripe is what Stripe holds.
func TestStripeFeeIsBookedFromTheBalanceTransaction(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tu := e.cardTopUp(e.admin, 1000_00)
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle()
	e.stripe.fee.Store(1_65)
	for range 2 { // a second run finds nothing due
		if _, err := e.svc.BookStripeFees(ctx, 10); err != nil {
			t.Fatal(err)
		}
	}
	if n := e.stripe.count("GET /v1/payment_intents/" + pi(tu)); n != 1 {
		t.Fatalf("read the payment %d times", n)
	}
	if got := e.topUp(tu.ID).Fee; got == nil || *got != 1_65 {
		t.Fatalf("fee %v", *got)
	}
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 1000_00 {
		t.Fatalf("budget %d: the company must get what it paid", b)
	}
	if s, f := e.balance(funding.StripeAccount), e.balance(funding.StripeFeesAccount); s != 1000_00-1_65 || f != 1_65 {
		t.Fatalf("platform:stripe %d, stripe-fees %d", s, f)
	}
	if n, _ := e.svc.FeesDue(ctx); n != 0 {
		t.Fatalf("fees due %d", n)
	}
	e.verify()
}

// Only events signed with our secret, recently, are believed: a forged
// body, another secret or a stale signature answers 400 and stores
// nothing; a replayed event is a duplicate; an event about no top-up of
// ours is stored, answered 200 and credits nothing.
func TestWebhookSignatures(t *testing.T) {
	e := newEnv(t)
	tu := e.cardTopUp(e.admin, 200_00)
	paid := event("checkout.session.completed", session(tu, "paid"))

	body, header := signedAt(paid, webhookSecret, time.Now())
	forged := []byte(strings.Replace(string(body), `"amount_total":20000`, `"amount_total":2000000`, 1))
	if string(forged) == string(body) {
		t.Fatal("the forgery changed nothing")
	}
	cases := map[string]func() (int, string){
		"forged":       func() (int, string) { return e.post(forged, header) },
		"wrong secret": func() (int, string) { return e.post(signedAt(paid, "whsec_someone_else", time.Now())) },
		"stale":        func() (int, string) { return e.post(signedAt(paid, webhookSecret, time.Now().Add(-10*time.Minute))) },
		"unsigned":     func() (int, string) { return e.post(paid, "") },
	}
	for name, try := range cases {
		if st, b := try(); st != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, st, b)
		}
	}
	var stored int
	e.db.Get(&stored, `SELECT count(*) FROM stripe_events`)
	if stored != 0 || e.handle() != 0 {
		t.Fatalf("refused deliveries left %d events", stored)
	}

	// Replayed: the same signed delivery again, later.
	if st, b := e.post(body, header); st != 200 || !strings.Contains(b, "stored") {
		t.Fatalf("genuine: %d %s", st, b)
	}
	if st, b := e.post(body, header); st != 200 || !strings.Contains(b, "duplicate") {
		t.Fatalf("replayed: %d %s", st, b)
	}
	e.handle()
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 200_00 {
		t.Fatalf("budget %d", b)
	}

	// Unknown top-up: stored, 200, refused, nothing credited.
	ghost := funding.TopUp{ID: uuid.New(), Amount: 999_00}
	e.deliver(event("checkout.session.completed", session(ghost, "paid")))
	e.deliver(event("checkout.session.completed", map[string]any{"id": "cs_other", "object": "checkout.session",
		"client_reference_id": "not-ours", "payment_status": "paid", "amount_total": 5, "currency": "eur"}))
	e.handle()
	var refused int
	e.db.Get(&refused, `SELECT count(*) FROM stripe_events WHERE outcome = 'refused'`)
	if refused != 2 {
		t.Fatalf("%d events refused, want 2", refused)
	}
	if b := e.balance(funding.StripeAccount); b != 200_00 {
		t.Fatalf("platform:stripe %d: an unknown top-up was credited", b)
	}
	// Paid a different amount than we asked for: refused, not credited.
	odd := e.cardTopUp(e.admin, 300_00)
	s := session(odd, "paid")
	s["amount_total"] = 1
	e.deliver(event("checkout.session.completed", s))
	e.handle()
	if tu := e.topUp(odd.ID); tu.Status == funding.Paid || tu.Credited != 0 {
		t.Fatalf("a mismatched amount was credited: %+v", tu)
	}
	e.verify()
}

// Twenty deliveries of one event at once, and twenty different events all
// saying "paid", credit once.
func TestConcurrentDeliveriesCreditOnce(t *testing.T) {
	e := newEnv(t)
	tu := e.cardTopUp(e.admin, 750_00)
	paid := event("checkout.session.completed", session(tu, "paid"))
	var wg sync.WaitGroup
	codes := make(chan int, 40)
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev := paid
			if i%2 == 1 { // Stripe's own duplicates carry new event ids
				ev = event("checkout.session.async_payment_succeeded", session(tu, "paid"))
			}
			st, _ := e.post(signedAt(ev, webhookSecret, time.Now()))
			codes <- st
		}()
	}
	wg.Wait()
	close(codes)
	for st := range codes {
		if st != 200 {
			t.Fatalf("a delivery answered %d", st)
		}
	}
	var workers sync.WaitGroup
	for range 4 {
		workers.Add(1)
		go func() { defer workers.Done(); _, _ = e.inbox.HandlePending(context.Background(), 100) }()
	}
	workers.Wait()
	e.handle()
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 750_00 {
		t.Fatalf("budget %d after 40 deliveries, want one credit of 75000", b)
	}
	var credits int
	e.db.Get(&credits, `SELECT count(*) FROM ledger_transactions WHERE kind = 'topup' AND reference = $1`, tu.ID.String())
	if credits != 1 {
		t.Fatalf("%d credit transactions", credits)
	}
	e.verify()
}

// A bad amount is refused naming the field, and changes nothing.
func TestTopUpAmounts(t *testing.T) {
	e := newEnv(t)
	lim := e.svc.Settings()
	for _, c := range []struct {
		ch     funding.Channel
		amount int64
	}{{funding.Card, 0}, {funding.Card, -5}, {funding.Card, lim.CardMin - 1}, {funding.Card, lim.CardMax + 1},
		{funding.Bank, lim.BankMax + 1}, {funding.Bank, lim.BankMin - 1}} {
		_, err := e.svc.RequestTopUp(context.Background(), e.admin, funding.TopUpRequest{Channel: c.ch, Amount: c.amount}, "")
		if !apperr.Is(err, apperr.Invalid) || apperr.FieldOf(err) != "amount_cents" {
			t.Errorf("%s %d: %v", c.ch, c.amount, err)
		}
	}
	_, err := e.svc.RequestTopUp(context.Background(), e.admin, funding.TopUpRequest{Channel: "cash", Amount: 100_00}, "")
	if apperr.FieldOf(err) != "channel" {
		t.Errorf("channel: %v", err)
	}
	for _, amount := range []int64{lim.CardMin, lim.CardMax} {
		if _, err := e.svc.RequestTopUp(context.Background(), e.admin, funding.TopUpRequest{Channel: funding.Card, Amount: amount}, ""); err != nil {
			t.Errorf("limit %d refused: %v", amount, err)
		}
	}
	var n int
	e.db.Get(&n, `SELECT count(*) FROM funding_topups`)
	if n != 2 || e.stripe.count(sessions) != 2 {
		t.Fatalf("%d top-ups, %d sessions", n, e.stripe.count(sessions))
	}
	// An employee, or another company's admin, cannot see or make top-ups.
	emp := *e.admin
	emp.Roles = nil
	if _, err := e.svc.RequestTopUp(context.Background(), &emp, funding.TopUpRequest{Channel: funding.Card, Amount: 100_00}, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("employee: %v", err)
	}
	list, _ := e.svc.TopUps(context.Background(), e.admin, uuid.Nil, 0)
	other := e.companyAdmin("Altra S.r.l.")
	if _, err := e.svc.TopUp(context.Background(), other, list[0].ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another company's top-up: %v", err)
	}
}

// Stripe down: the request fails as unavailable with nothing lost; the
// retry with the same key, once Stripe is back, makes the one session.
func TestStripeDownThenRetry(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	key := uuid.NewString()
	req := funding.TopUpRequest{Channel: funding.Card, Amount: 100_00}
	e.stripe.down.Store(true)
	if _, err := e.svc.RequestTopUp(ctx, e.admin, req, key); !apperr.Is(err, apperr.Unavailable) {
		t.Fatalf("Stripe down: %v", err)
	}
	e.stripe.down.Store(false)
	tu, err := e.svc.RequestTopUp(ctx, e.admin, req, key)
	if err != nil || tu.Status != funding.Open {
		t.Fatalf("retry: %v %+v", err, tu)
	}
	if _, err := e.svc.RequestTopUp(ctx, e.admin, req, key); err != nil {
		t.Fatal(err)
	}
	var n int
	e.db.Get(&n, `SELECT count(*) FROM funding_topups`)
	if n != 1 {
		t.Fatalf("%d top-ups", n)
	}
}

// The database down while Stripe delivers: 500, so Stripe delivers again,
// and nothing is half-written; the redelivery then credits once.
func TestWebhookWithTheDatabaseDown(t *testing.T) {
	e := newEnv(t)
	tu := e.cardTopUp(e.admin, 100_00)
	paid := event("checkout.session.completed", session(tu, "paid"))
	closed := dbtest.OpenApp(t, dbtest.New(t))
	closed.Close()
	down := payments.NewInbox(closed, webhookSecret, "whsec_connect_unused", nil)
	funding.New(closed, nil, e.svc.Settings()).Subscribe(down)
	ec := echo.New()
	ec.POST("/webhooks/stripe", down.Receive(payments.Platform))
	body, header := signedAt(paid, webhookSecret, time.Now())
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(string(body)))
	req.Header.Set("Stripe-Signature", header)
	rec := httptest.NewRecorder()
	ec.ServeHTTP(rec, req)
	if rec.Code < 500 {
		t.Fatalf("database down answered %d", rec.Code)
	}
	var n int
	e.db.Get(&n, `SELECT count(*) FROM stripe_events`)
	if n != 0 || e.balance(funding.StripeAccount) != 0 {
		t.Fatal("half-written")
	}
	e.deliver(paid) // Stripe's retry, to a healthy server
	e.handle()
	if b := e.balance(funding.BudgetAccount(e.admin.OrgID)); b != 100_00 {
		t.Fatalf("budget %d", b)
	}
}
