package payments_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/webhook"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/payments"
)

const platformSecret, connectSecret = "whsec_platform", "whsec_connect"

// inbox is an inbox on a fresh database whose account.updated handler
// records each effect in a table of its own, so that a test can count them.
type inbox struct {
	*payments.Inbox
	db   *sqlx.DB
	echo *echo.Echo
	// fail, when set, makes the handler fail after writing its effect.
	fail atomic.Pointer[error]
}

func newInbox(t *testing.T) *inbox {
	t.Helper()
	dbx := dbtest.Open(t)
	dbx.MustExec(`CREATE TABLE effects (event_id text NOT NULL, account text NOT NULL)`)
	in := &inbox{db: dbx, echo: echo.New()}
	in.Inbox = in.wire(dbx)
	return in
}

// wire builds an inbox on dbx with the test handler (a restarted process
// builds a new one on the same database).
func (in *inbox) wire(dbx *sqlx.DB) *payments.Inbox {
	ib := payments.NewInbox(dbx, platformSecret, connectSecret, nil)
	ib.On(payments.Connect, stripe.EventTypeAccountUpdated, func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
		if e.Account == "" {
			return apperr.New(apperr.Invalid, "no account")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO effects VALUES ($1, $2)`, e.ID, e.Account); err != nil {
			return err
		}
		if p := in.fail.Load(); p != nil {
			return *p
		}
		return nil
	})
	in.echo.POST("/webhooks/stripe", ib.Receive(payments.Platform))
	in.echo.POST("/webhooks/stripe/connect", ib.Receive(payments.Connect))
	return ib
}

// event is a Stripe event as JSON.
func event(id, typ, account string) string {
	acct := ""
	if account != "" {
		acct = fmt.Sprintf(`"account":%q,`, account)
	}
	return fmt.Sprintf(`{"id":%q,"object":"event","type":%q,%s"livemode":false,"created":%d,"api_version":"2023-10-16",
		"data":{"object":{"id":"acct_x","object":"account"}}}`, id, typ, acct, time.Now().Unix())
}

// deliver posts payload to path signed with secret, as Stripe does, and
// returns the status and body of the answer.
func (in *inbox) deliver(t *testing.T, path, secret, payload string) (int, string) {
	t.Helper()
	sp := webhook.GenerateTestSignedPayload(&webhook.UnsignedPayload{Payload: []byte(payload), Secret: secret, Timestamp: time.Now()})
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(string(sp.Payload)))
	req.Header.Set("Stripe-Signature", sp.Header)
	rec := httptest.NewRecorder()
	in.echo.ServeHTTP(rec, req)
	return rec.Code, rec.Body.String()
}

func (in *inbox) effects(t *testing.T, eventID string) int {
	t.Helper()
	var n int
	if err := in.db.Get(&n, `SELECT count(*) FROM effects WHERE event_id = $1`, eventID); err != nil {
		t.Fatal(err)
	}
	return n
}

type row struct {
	Endpoint  string  `db:"endpoint"`
	Account   *string `db:"account"`
	Livemode  bool    `db:"livemode"`
	Outcome   *string `db:"outcome"`
	Attempts  int     `db:"attempts"`
	LastError string  `db:"last_error"`
}

func (in *inbox) row(t *testing.T, id string) row {
	t.Helper()
	var r row
	if err := in.db.Get(&r, `SELECT endpoint, account, livemode, outcome, attempts, last_error FROM stripe_events WHERE id = $1`, id); err != nil {
		t.Fatalf("event %s: %v", id, err)
	}
	return r
}

// The same event delivered twice, and handled by two workers at once,
// has one effect; every verified event is stored with its account and
// livemode before the answer; an unknown type is stored as ignored.
func TestInboxHandlesEachEventOnce(t *testing.T) {
	in := newInbox(t)
	ctx := context.Background()
	payload := event("evt_twice", "account.updated", "acct_1")
	for i, want := range []string{"stored", "duplicate"} {
		if st, body := in.deliver(t, "/webhooks/stripe/connect", connectSecret, payload); st != 200 || !strings.Contains(body, want) {
			t.Fatalf("delivery %d: %d %s", i+1, st, body)
		}
	}
	r := in.row(t, "evt_twice")
	if r.Endpoint != "connect" || r.Account == nil || *r.Account != "acct_1" || r.Livemode || r.Outcome != nil {
		t.Fatalf("stored as %+v", r)
	}
	if n := in.effects(t, "evt_twice"); n != 0 {
		t.Fatalf("handled before the worker ran: %d effects", n)
	}
	var wg sync.WaitGroup
	var done atomic.Int64
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := in.HandlePending(ctx, 10)
			if err != nil {
				t.Error(err)
			}
			done.Add(int64(n))
		}()
	}
	wg.Wait()
	if done.Load() != 1 || in.effects(t, "evt_twice") != 1 {
		t.Fatalf("two workers handled %d, effects %d; want one", done.Load(), in.effects(t, "evt_twice"))
	}
	// Stripe retries a delivery it thinks failed: still one effect.
	in.deliver(t, "/webhooks/stripe/connect", connectSecret, payload)
	if n, _ := in.HandlePending(ctx, 10); n != 0 || in.effects(t, "evt_twice") != 1 {
		t.Fatalf("a late duplicate was handled again (%d)", n)
	}
	if o := in.row(t, "evt_twice").Outcome; o == nil || *o != "handled" {
		t.Fatalf("outcome %v", o)
	}

	// No handler for the type (or this type at the platform endpoint): stored, answered, ignored.
	for id, path := range map[string]string{"evt_unknown": "/webhooks/stripe/connect", "evt_platform": "/webhooks/stripe"} {
		secret := map[string]string{"evt_unknown": connectSecret, "evt_platform": platformSecret}[id]
		typ := map[string]string{"evt_unknown": "capability.updated", "evt_platform": "account.updated"}[id]
		if st, body := in.deliver(t, path, secret, event(id, typ, "")); st != 200 || !strings.Contains(body, "ignored") {
			t.Fatalf("%s: %d %s", id, st, body)
		}
		if r := in.row(t, id); r.Outcome == nil || *r.Outcome != "ignored" {
			t.Fatalf("%s stored as %+v", id, r)
		}
	}
	// Signed with the other endpoint's secret, or not at all: refused, not stored.
	if st, _ := in.deliver(t, "/webhooks/stripe/connect", platformSecret, event("evt_forged", "account.updated", "acct_1")); st != 400 {
		t.Fatalf("wrong secret answered %d", st)
	}
	var n int
	in.db.Get(&n, `SELECT count(*) FROM stripe_events WHERE id = 'evt_forged'`)
	if n != 0 {
		t.Fatal("an event with a wrong signature was stored")
	}
	if n, _ := in.Pending(ctx); n != 0 {
		t.Fatalf("pending = %d", n)
	}
}

// A failing handler leaves no effect and its event is retried later,
// while the events after it are handled in the same run; an invalid
// event is refused once and for all.
func TestInboxFailures(t *testing.T) {
	in := newInbox(t)
	ctx := context.Background()
	in.deliver(t, "/webhooks/stripe/connect", connectSecret, event("evt_fails", "account.updated", "acct_1"))
	in.deliver(t, "/webhooks/stripe/connect", connectSecret, event("evt_invalid", "account.updated", ""))
	down := errors.New("database of a neighbour down")
	in.fail.Store(&down)
	n, err := in.HandlePending(ctx, 10)
	if n != 1 || !errors.Is(err, down) {
		t.Fatalf("first run: %d handled, %v", n, err)
	}
	r := in.row(t, "evt_fails")
	if in.effects(t, "evt_fails") != 0 || r.Outcome != nil || r.Attempts != 1 || !strings.Contains(r.LastError, "neighbour") {
		t.Fatalf("failed event: %+v, %d effects", r, in.effects(t, "evt_fails"))
	}
	if r := in.row(t, "evt_invalid"); r.Outcome == nil || *r.Outcome != "refused" {
		t.Fatalf("invalid event: %+v", r)
	}
	in.fail.Store(nil)
	if n, _ := in.HandlePending(ctx, 10); n != 0 {
		t.Fatal("a failed event was retried before its time")
	}
	in.db.MustExec(`UPDATE stripe_events SET next_attempt_at = now() WHERE id = 'evt_fails'`) // its time has come
	if n, err := in.HandlePending(ctx, 10); n != 1 || err != nil || in.effects(t, "evt_fails") != 1 {
		t.Fatalf("retry: %d %v", n, err)
	}

	// The database is down while Stripe delivers: 500 (Stripe retries), nothing stored.
	closed := dbtest.Open(t)
	closed.Close()
	dead := &inbox{db: in.db, echo: echo.New()}
	dead.wire(closed)
	if st, _ := dead.deliver(t, "/webhooks/stripe/connect", connectSecret, event("evt_db_down", "account.updated", "acct_1")); st != 500 {
		t.Fatalf("database down answered %d, want 500", st)
	}
	var stored int
	in.db.Get(&stored, `SELECT count(*) FROM stripe_events WHERE id = 'evt_db_down'`)
	if stored != 0 {
		t.Fatal("half-written event")
	}
}

// A worker that dies while handling an event (its database session is
// cut after the effect was written, before commit) leaves the event
// stored and unhandled; after a restart it is handled once.
func TestInboxEventSurvivesACrash(t *testing.T) {
	in := newInbox(t)
	in.deliver(t, "/webhooks/stripe/connect", connectSecret, event("evt_crash", "account.updated", "acct_1"))
	// The dying process: its handler writes the effect, then its session is killed.
	crashing := payments.NewInbox(in.db, platformSecret, connectSecret, nil)
	crashing.On(payments.Connect, stripe.EventTypeAccountUpdated, func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO effects VALUES ($1, $2)`, e.ID, e.Account); err != nil {
			return err
		}
		var pid int
		if err := tx.GetContext(ctx, &pid, `SELECT pg_backend_pid()`); err != nil {
			return err
		}
		if _, err := in.db.Exec(`SELECT pg_terminate_backend($1)`, pid); err != nil {
			t.Fatal(err)
		}
		return nil
	})
	if n, err := crashing.HandlePending(context.Background(), 1); n != 0 || err == nil {
		t.Fatalf("the crashing worker reported %d handled, %v", n, err)
	}
	if in.effects(t, "evt_crash") != 0 {
		t.Fatal("the crashed transaction's effect is visible")
	}
	// The restarted process.
	restarted := payments.NewInbox(in.db, platformSecret, connectSecret, nil)
	restarted.On(payments.Connect, stripe.EventTypeAccountUpdated, func(ctx context.Context, tx *sqlx.Tx, e stripe.Event) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO effects VALUES ($1, $2)`, e.ID, e.Account)
		return err
	})
	for range 2 {
		restarted.HandlePending(context.Background(), 10)
	}
	if n := in.effects(t, "evt_crash"); n != 1 {
		t.Fatalf("after the restart: %d effects, want 1", n)
	}
}
