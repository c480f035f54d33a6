package funding_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/payments"
)

const webhookSecret = "whsec_funding_test"

// env is funding on a fresh database, as the app runs it: the app's
// database role, the payments inbox behind its real webhook route, and
// stripe-mock behind a proxy that counts our calls.
type env struct {
	t      testing.TB
	db     *sqlx.DB // the app's role
	owner  *sqlx.DB // the schema's owner: ledger verify
	svc    *funding.Service
	inbox  *payments.Inbox
	echo   *echo.Echo
	stripe *stripeProxy
	admin  *auth.Principal // a company admin
}

func newEnv(t testing.TB) *env {
	t.Helper()
	url := dbtest.New(t)
	e := &env{t: t, db: dbtest.OpenApp(t, url), echo: echo.New(), stripe: newStripeProxy(t)}
	var err error
	if e.owner, err = sqlx.Open("postgres", url); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.owner.Close() })
	s := funding.DefaultSettings("http://reciproca.test")
	e.svc = funding.New(e.db, payments.NewStripe("sk_test_123", e.stripe.URL), s)
	e.inbox = payments.NewInbox(e.db, webhookSecret, "whsec_connect_unused", nil)
	e.svc.Subscribe(e.inbox)
	e.echo.POST("/webhooks/stripe", e.inbox.Receive(payments.Platform))
	e.admin = e.companyAdmin("Officine di prova S.p.A.")
	return e
}

// companyAdmin creates a company and its admin, and returns the admin.
func (e *env) companyAdmin(name string) *auth.Principal {
	e.t.Helper()
	p := &auth.Principal{OrgKind: auth.OrgCompany, Roles: []auth.Role{auth.RoleCompanyAdmin}, Name: "HR"}
	if err := e.db.Get(&p.OrgID, `INSERT INTO organisations (kind, name) VALUES ('company', $1) RETURNING id`, name); err != nil {
		e.t.Fatal(err)
	}
	p.Email = fmt.Sprintf("hr.%s@test.example", p.OrgID.String()[:8])
	if err := e.db.Get(&p.UserID, `INSERT INTO users (organisation_id, email, name, status) VALUES ($1, $2, 'HR', 'active') RETURNING id`,
		p.OrgID, p.Email); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// platformAdmin creates a platform admin (in one platform organisation).
func (e *env) platformAdmin() *auth.Principal {
	e.t.Helper()
	p := &auth.Principal{OrgKind: auth.OrgPlatform, Roles: []auth.Role{auth.RolePlatformAdmin}, Name: "Admin"}
	err := e.db.Get(&p.OrgID, `SELECT id FROM organisations WHERE kind = 'platform' LIMIT 1`)
	if err != nil {
		if err := e.db.Get(&p.OrgID, `INSERT INTO organisations (kind, name) VALUES ('platform', 'Reciproca') RETURNING id`); err != nil {
			e.t.Fatal(err)
		}
	}
	p.Email = "admin." + uuid.NewString()[:8] + "@test.example"
	if err := e.db.Get(&p.UserID, `INSERT INTO users (organisation_id, email, name, status) VALUES ($1, $2, 'Admin', 'active') RETURNING id`,
		p.OrgID, p.Email); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// cardTopUp asks for a card top-up of amount cents.
func (e *env) cardTopUp(p *auth.Principal, amount int64) funding.TopUp {
	e.t.Helper()
	tu, err := e.svc.RequestTopUp(context.Background(), p, funding.TopUpRequest{Channel: funding.Card, Amount: amount}, uuid.NewString())
	if err != nil {
		e.t.Fatalf("card top-up: %v", err)
	}
	return tu
}

// signedAt signs payload as Stripe does, at a given time with a given secret.
func signedAt(payload []byte, secret string, at time.Time) (body []byte, header string) {
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: payload, Secret: secret, Timestamp: at})
	return sp.Payload, sp.Header
}

// post delivers a body with a Stripe-Signature header to the webhook route.
func (e *env) post(body []byte, header string) (int, string) {
	req := httptest.NewRequest(http.MethodPost, "/webhooks/stripe", strings.NewReader(string(body)))
	req.Header.Set("Stripe-Signature", header)
	rec := httptest.NewRecorder()
	e.echo.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

// deliver signs and delivers an event now; it must be accepted.
func (e *env) deliver(ev []byte) string {
	e.t.Helper()
	st, body := e.post(signedAt(ev, webhookSecret, time.Now()))
	if st != http.StatusOK {
		e.t.Fatalf("delivery answered %d %s", st, body)
	}
	return body
}

// handle runs the inbox as the worker does, and makes every retried event
// due again first (as if its pause had passed).
func (e *env) handle() int {
	e.t.Helper()
	e.db.MustExec(`UPDATE stripe_events SET next_attempt_at = now() WHERE processed_at IS NULL`)
	n, _ := e.inbox.HandlePending(context.Background(), 100)
	return n
}

// event is a Stripe event of typ about obj.
func event(typ string, obj map[string]any) []byte {
	b, _ := json.Marshal(map[string]any{"id": "evt_" + strings.ReplaceAll(uuid.NewString(), "-", ""), "object": "event",
		"type": typ, "livemode": false, "created": time.Now().Unix(), "api_version": "2023-10-16",
		"data": map[string]any{"object": obj}})
	return b
}

// session is the Checkout Session Stripe sends about top-up t.
func session(t funding.TopUp, paymentStatus string) map[string]any {
	return map[string]any{"id": "cs_test_" + t.ID.String()[:8], "object": "checkout.session", "mode": "payment",
		"client_reference_id": t.ID.String(), "metadata": map[string]string{"topup_id": t.ID.String()},
		"payment_status": paymentStatus, "amount_total": t.Amount, "currency": "eur", "payment_intent": pi(t)}
}

func pi(t funding.TopUp) string { return "pi_" + strings.ReplaceAll(t.ID.String(), "-", "")[:20] }

// charge is the charge of top-up t with amountRefunded refunded so far.
func charge(t funding.TopUp, amountRefunded int64) map[string]any {
	return map[string]any{"id": "ch_" + t.ID.String()[:8], "object": "charge", "amount": t.Amount, "currency": "eur",
		"amount_refunded": amountRefunded, "refunded": amountRefunded == t.Amount, "payment_intent": pi(t),
		"metadata": map[string]string{"topup_id": t.ID.String()}}
}

// dispute is a dispute on top-up t's payment with Stripe's fee.
func dispute(t funding.TopUp, amount, fee int64, status string) map[string]any {
	return map[string]any{"id": "dp_" + t.ID.String()[:8], "object": "dispute", "amount": amount, "currency": "eur",
		"charge": "ch_" + t.ID.String()[:8], "payment_intent": pi(t), "status": status, "metadata": map[string]string{},
		"balance_transactions": []map[string]any{{"id": "txn_" + uuid.NewString()[:8], "object": "balance_transaction",
			"amount": -amount - fee, "fee": fee, "net": -amount - fee, "type": "adjustment"}}}
}

// balance is an account's available balance (0 for an account not opened yet).
func (e *env) balance(path string) int64 {
	e.t.Helper()
	b, err := ledger.GetBalance(context.Background(), e.db, path)
	if err != nil {
		if strings.Contains(err.Error(), "not_found") {
			return 0
		}
		e.t.Fatal(err)
	}
	return b.Available
}

// verify runs every ledger invariant.
func (e *env) verify() {
	e.t.Helper()
	rep, err := ledger.VerifyWith(context.Background(), e.owner, ledger.VerifyOptions{MaxSealLag: time.Hour})
	if err != nil {
		e.t.Fatal(err)
	}
	if !rep.OK {
		var sb strings.Builder
		rep.Write(&sb)
		e.t.Fatalf("ledger verify failed:\n%s", sb.String())
	}
}

func (e *env) topUp(id uuid.UUID) funding.TopUp {
	e.t.Helper()
	tu, err := e.svc.TopUp(context.Background(), e.admin, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return tu
}

// stripeProxy stands in front of stripe-mock and counts our calls by
// "METHOD path" (stripe-mock keeps no state and ignores idempotency keys,
// so only counting tells how many sessions we asked for). down makes it
// answer 503 as Stripe does when it fails; fee, when set, is the fee of the
// balance transaction a payment is read with (stripe-mock's is always 0).
type stripeProxy struct {
	*httptest.Server
	mu    sync.Mutex
	calls map[string]int
	down  atomic.Bool
	fee   atomic.Int64
}

func newStripeProxy(t testing.TB) *stripeProxy {
	t.Helper()
	base := os.Getenv("STRIPE_API_BASE")
	if base == "" {
		base = "http://127.0.0.1:12111"
	}
	target, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	p := &stripeProxy{calls: map[string]int{}}
	rp := &httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		r.SetURL(target)
		r.Out.Header.Del("Accept-Encoding") // answers it can read
	}}
	rp.ModifyResponse = func(res *http.Response) error {
		fee := p.fee.Load()
		if fee == 0 || !strings.HasPrefix(res.Request.URL.Path, "/v1/payment_intents/") {
			return nil
		}
		b, err := io.ReadAll(res.Body)
		if err != nil {
			return err
		}
		b = feeRe.ReplaceAll(b, []byte(fmt.Sprintf(`"fee":%d`, fee)))
		res.Body = io.NopCloser(strings.NewReader(string(b)))
		res.ContentLength = int64(len(b))
		res.Header.Del("Content-Length")
		return nil
	}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.calls[r.Method+" "+r.URL.Path]++
		p.mu.Unlock()
		if p.down.Load() {
			http.Error(w, `{"error":{"type":"api_error","message":"down"}}`, http.StatusServiceUnavailable)
			return
		}
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(p.Close)
	return p
}

// feeRe finds a balance transaction's fee, pretty-printed or not.
var feeRe = regexp.MustCompile(`"fee":\s*0\b`)

func (p *stripeProxy) count(call string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.calls[call]
}
