package funding_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// api calls the running app's API as a token's holder.
type api struct {
	t     *testing.T
	base  string
	token string
}

func (c api) do(method, path, key string, body any) (int, map[string]any, []byte) {
	c.t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	default:
		raw, _ := json.Marshal(b)
		r = bytes.NewReader(raw)
	}
	req, _ := http.NewRequest(method, c.base+"/api/v1"+path, r)
	req.Header.Set("Authorization", "Bearer "+c.token)
	if r != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return res.StatusCode, m, raw
}

// Through the API, as a company admin: a card top-up (one Checkout
// Session for a retried request), bad amounts named, the signed webhook
// handled by the app's own worker, then the budget, its movements and the
// receipt; another company sees none of it.
func TestCardTopUpThroughTheAPI(t *testing.T) {
	proxy := newStripeProxy(t)
	cfg := apptest.Config(dbtest.New(t))
	cfg.StripeAPIBase = proxy.URL
	a := apptest.StartWith(t, cfg)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	c := api{t: t, base: a.URL(), token: k.Token(hr)}

	key := uuid.NewString()
	st, first, raw := c.do("POST", "/funding/topups", key, map[string]any{"channel": "card", "amount_cents": 500_00})
	if st != 201 || first["checkout_url"] == nil || first["status"] != "open" {
		t.Fatalf("top-up: %d %s", st, raw)
	}
	if st, again, _ := c.do("POST", "/funding/topups", key, map[string]any{"channel": "card", "amount_cents": 500_00}); st != 201 || again["id"] != first["id"] {
		t.Fatalf("retry: %d %v", st, again)
	}
	if n := proxy.count(sessions); n != 1 {
		t.Fatalf("%d Checkout Sessions for one retried request", n)
	}
	for _, body := range []string{`{"channel":"card","amount_cents":0}`, `{"channel":"card","amount_cents":-100}`,
		`{"channel":"card","amount_cents":100.5}`, `{"channel":"card","amount_cents":99999999999}`, `{"channel":"card","amount_cents":"10"}`} {
		st, e, _ := c.do("POST", "/funding/topups", "", body)
		if d, _ := e["details"].(map[string]any); st != 400 || d["field"] != "amount_cents" {
			t.Errorf("%s: %d %v", body, st, e)
		}
	}

	id := first["id"].(string)
	tu := funding.TopUp{ID: uuid.MustParse(id), Amount: 500_00}
	payload, header := signedAt(event("checkout.session.completed", session(tu, "paid")), cfg.StripeWebhookSecret, time.Now())
	req, _ := http.NewRequest("POST", a.URL()+"/webhooks/stripe", bytes.NewReader(payload))
	req.Header.Set("Stripe-Signature", header)
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("webhook: %v %v", err, res)
	}
	res.Body.Close()
	deadline := time.Now().Add(15 * time.Second)
	for {
		_, got, _ := c.do("GET", "/funding/topups/"+id, "", nil)
		if got["status"] == "paid" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the worker did not handle the event: %v", got)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st, b, raw := c.do("GET", "/funding/budget", "", nil); st != 200 || b["available_cents"] != float64(500_00) {
		t.Fatalf("budget: %d %s", st, raw)
	}
	st, page, raw := c.do("GET", "/funding/budget/movements", "", nil)
	items, _ := page["items"].([]any)
	if st != 200 || len(items) != 1 || items[0].(map[string]any)["amount_cents"] != float64(500_00) {
		t.Fatalf("movements: %d %s", st, raw)
	}
	if st, _, pdf := c.do("GET", "/funding/topups/"+id+"/receipt", "", nil); st != 200 || !bytes.HasPrefix(pdf, []byte("%PDF-")) ||
		!bytes.Contains(pdf, []byte(id)) {
		t.Fatalf("receipt: %d %.80q", st, pdf)
	}

	other := api{t: t, base: a.URL(), token: k.Token(k.As(auth.OrgCompany, auth.RoleCompanyAdmin))}
	for _, path := range []string{"/funding/topups/" + id, "/funding/topups/" + id + "/receipt"} {
		if st, _, _ := other.do("GET", path, "", nil); st != 404 {
			t.Errorf("another company's %s: %d", path, st)
		}
	}
	if st, b, _ := other.do("GET", "/funding/budget?company_id="+hr.Org.ID.String(), "", nil); st != 404 {
		t.Errorf("another company's budget: %d %v", st, b)
	}
}
