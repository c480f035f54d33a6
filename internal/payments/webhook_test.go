package payments

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/apperr"
)

func deliver(t *testing.T, w *Webhooks, secret, payload string, at time.Time) int {
	t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: secret, Timestamp: at})
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(string(sp.Payload)))
	req.Header.Set("Stripe-Signature", sp.Header)
	rec := httptest.NewRecorder()
	c := echo.New().NewContext(req, rec)
	if err := w.Handle(c); err != nil {
		return http.StatusInternalServerError
	}
	return rec.Code
}

// Each verified event reaches the handler of its type once; unknown types
// are acknowledged and ignored; a refused event is 400 (Stripe stops), a
// failing handler 500 (Stripe retries); unsigned events reach nobody.
func TestWebhookDispatch(t *testing.T) {
	w := NewWebhooks("whsec_x")
	var got []AccountStatus
	fail := error(nil)
	w.OnAccountUpdated(func(ctx context.Context, s AccountStatus) error {
		if fail != nil {
			return fail
		}
		got = append(got, s)
		return nil
	})
	now := time.Now()
	acct := `{"id":"evt_1","object":"event","type":"account.updated","created":` + itoa(now.Unix()) +
		`,"data":{"object":{"id":"acct_9","object":"account","details_submitted":true,"charges_enabled":false,"payouts_enabled":true}}}`
	if st := deliver(t, w, "whsec_x", acct, now); st != 200 || len(got) != 1 {
		t.Fatalf("account.updated: %d, %d calls", st, len(got))
	}
	if s := got[0]; s.AccountID != "acct_9" || !s.DetailsSubmitted || s.ChargesEnabled || !s.PayoutsEnabled || s.At.Unix() != now.Unix() {
		t.Fatalf("status passed on: %+v", s)
	}
	other := `{"id":"evt_2","object":"event","type":"payment_intent.succeeded","created":1,"data":{"object":{"id":"pi_1","object":"payment_intent"}}}`
	if st := deliver(t, w, "whsec_x", other, now); st != 200 || len(got) != 1 {
		t.Fatalf("unhandled type: %d, %d calls", st, len(got))
	}
	if st := deliver(t, w, "whsec_wrong", acct, now); st != 400 || len(got) != 1 {
		t.Fatalf("wrong secret: %d, %d calls", st, len(got))
	}
	noAccount := `{"id":"evt_3","object":"event","type":"account.updated","created":1,"data":{"object":{"object":"account"}}}`
	if st := deliver(t, w, "whsec_x", noAccount, now); st != 400 {
		t.Fatalf("event without an account: %d", st)
	}
	fail = apperr.New(apperr.Internal, "database down")
	if st := deliver(t, w, "whsec_x", acct, now); st != 500 {
		t.Fatalf("failing handler: %d, want 500 so that Stripe retries", st)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("a second handler for one type was accepted")
		}
	}()
	w.On(stripe.EventTypeAccountUpdated, func(context.Context, stripe.Event) error { return nil })
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
