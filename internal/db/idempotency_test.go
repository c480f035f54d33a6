package db_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// booking is a request with a timestamp, as a client sends it.
type booking struct {
	Slot     time.Time `json:"slot"`
	Places   int       `json:"places"`
	Customer string    `json:"customer"`
}

type receipt struct {
	ID     int    `json:"id"`
	Detail string `json:"detail"`
}

// idemFixture is a table of effects and a function that makes one.
type idemFixture struct {
	dbx  *sqlx.DB
	runs atomic.Int64
}

func newIdemFixture(t *testing.T) *idemFixture {
	f := &idemFixture{dbx: dbtest.Open(t)}
	mustExec(t, f.dbx, `CREATE TABLE effect (id serial PRIMARY KEY, detail text NOT NULL)`)
	return f
}

// book records one effect for req under key and returns the receipt.
func (f *idemFixture) book(scope db.Scope, key string, req booking) (receipt, bool, error) {
	var out receipt
	replayed, err := db.Idempotent(context.Background(), f.dbx, scope, key, req, &out, func(tx *sqlx.Tx) error {
		f.runs.Add(1)
		out.Detail = req.Customer + " " + req.Slot.UTC().Format(time.RFC3339)
		return tx.Get(&out.ID, `INSERT INTO effect (detail) VALUES ($1) RETURNING id`, out.Detail)
	})
	return out, replayed, err
}

func (f *idemFixture) effects(t *testing.T) int {
	t.Helper()
	var n int
	if err := f.dbx.Get(&n, `SELECT count(*) FROM effect`); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestIdempotentReplaysTheSameRequest(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	rome, _ := time.LoadLocation("Europe/Rome")
	scope := db.Scope{Caller: uuid.New(), Operation: "test.book"}
	slot := time.Date(2026, 3, 1, 9, 30, 0, 0, rome)
	first, replayed, err := f.book(scope, "k1", booking{Slot: slot, Places: 2, Customer: "Anna"})
	if err != nil || replayed {
		t.Fatalf("first call: %v, replayed %v", err, replayed)
	}
	// The same request from a client in UTC, with nanoseconds PostgreSQL
	// would not keep: the same request, answered as the first time.
	again, replayed, err := f.book(scope, "k1", booking{Slot: slot.UTC().Add(300 * time.Nanosecond), Places: 2, Customer: "Anna"})
	if err != nil || !replayed || again != first {
		t.Fatalf("retry: %+v replayed %v err %v, want %+v replayed", again, replayed, err, first)
	}
	if n := f.effects(t); n != 1 || f.runs.Load() != 1 {
		t.Fatalf("%d effects, %d runs after a retry; want 1 and 1", n, f.runs.Load())
	}
	// Another request under the key: refused, nothing done.
	_, _, err = f.book(scope, "k1", booking{Slot: slot, Places: 3, Customer: "Anna"})
	if !db.KeyReused(err) || apperr.HTTPStatus(apperr.CodeOf(err)) != 409 {
		t.Fatalf("key reused for another request: %v, want 409 reused", err)
	}
	// The same key for another operation of the same caller is another key.
	other := db.Scope{Caller: scope.Caller, Operation: "test.other"}
	if _, replayed, err := f.book(other, "k1", booking{Slot: slot, Places: 3, Customer: "Anna"}); err != nil || replayed {
		t.Fatalf("same key, other operation: %v replayed %v", err, replayed)
	}
	if n := f.effects(t); n != 2 {
		t.Fatalf("%d effects, want 2", n)
	}
}

// Two callers with one key each get their own effect and their own answer.
func TestIdempotentKeysBelongToTheCaller(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	slot := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	a, _, errA := f.book(db.Scope{Caller: uuid.New(), Operation: "test.book"}, "shared", booking{Slot: slot, Customer: "Anna"})
	b, replayed, errB := f.book(db.Scope{Caller: uuid.New(), Operation: "test.book"}, "shared", booking{Slot: slot, Customer: "Bruno"})
	if errA != nil || errB != nil || replayed || a.ID == b.ID || !strings.HasPrefix(b.Detail, "Bruno") {
		t.Fatalf("two callers, one key: %+v %+v (%v %v, replayed %v)", a, b, errA, errB, replayed)
	}
}

// A refusal is not remembered: once its cause is gone, a retry with the
// same key succeeds.
func TestIdempotentForgetsRefusals(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	scope := db.Scope{Caller: uuid.New(), Operation: "test.pay"}
	funds := 0
	pay := func() (receipt, error) {
		var out receipt
		_, err := db.Idempotent(context.Background(), f.dbx, scope, "pay-1", map[string]int{"amount": 500}, &out, func(tx *sqlx.Tx) error {
			if _, err := tx.Exec(`INSERT INTO effect (detail) VALUES ('attempt')`); err != nil {
				return err
			}
			if funds < 500 {
				return apperr.New(apperr.InsufficientFunds, "insufficient funds")
			}
			return tx.Get(&out.ID, `SELECT max(id) FROM effect`)
		})
		return out, err
	}
	if _, err := pay(); !apperr.Is(err, apperr.InsufficientFunds) {
		t.Fatalf("first payment: %v, want insufficient_funds", err)
	}
	if n := f.effects(t); n != 0 {
		t.Fatalf("a refused request left %d effects", n)
	}
	funds = 1000
	r, err := pay()
	if err != nil || r.ID == 0 {
		t.Fatalf("retry after the top-up: %+v %v, want success", r, err)
	}
	if again, err := pay(); err != nil || again != r {
		t.Fatalf("third call: %+v %v, want the replay %+v", again, err, r)
	}
}

// A duplicate that arrives while the first request is still running gets
// 409 in progress at once, without waiting for it; after the first commits,
// the duplicate replays its answer.
func TestIdempotentConcurrentDuplicateIsInProgress(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	scope := db.Scope{Caller: uuid.New(), Operation: "test.book"}
	req := booking{Slot: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC), Customer: "Anna"}
	inside, release := make(chan struct{}), make(chan struct{})
	firstDone := make(chan error)
	var first receipt
	go func() {
		_, err := db.Idempotent(context.Background(), f.dbx, scope, "slow", req, &first, func(tx *sqlx.Tx) error {
			if err := tx.Get(&first.ID, `INSERT INTO effect (detail) VALUES ('slow') RETURNING id`); err != nil {
				return err
			}
			close(inside)
			<-release
			return nil
		})
		firstDone <- err
	}()
	<-inside
	start := time.Now()
	_, _, err := f.book(scope, "slow", req)
	if !db.KeyInProgress(err) || apperr.HTTPStatus(apperr.CodeOf(err)) != 409 {
		t.Fatalf("duplicate during the first: %v, want 409 in progress", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the duplicate waited %v for the first", d)
	}
	close(release)
	if err := <-firstDone; err != nil {
		t.Fatal(err)
	}
	var again receipt
	replayed, err := db.Idempotent(context.Background(), f.dbx, scope, "slow", req, &again, func(*sqlx.Tx) error {
		return errors.New("ran twice")
	})
	if err != nil || !replayed || again != first {
		t.Fatalf("after the first committed: %+v replayed %v err %v, want %+v", again, replayed, err, first)
	}
	if n := f.effects(t); n != 1 {
		t.Fatalf("%d effects, want 1", n)
	}
}

// Inside the caller's transaction the key commits or rolls back with it.
func TestIdempotentInCallersTransaction(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	scope := db.Scope{Caller: uuid.New(), Operation: "test.book"}
	req := booking{Customer: "Anna"}
	rollback := errors.New("later step failed")
	err := db.WithTx(context.Background(), f.dbx, func(tx *sqlx.Tx) error {
		var out receipt
		if _, err := db.Idempotent(context.Background(), tx, scope, "k", req, &out, func(tx *sqlx.Tx) error {
			return tx.Get(&out.ID, `INSERT INTO effect (detail) VALUES ('x') RETURNING id`)
		}); err != nil {
			return err
		}
		return rollback
	})
	if !errors.Is(err, rollback) {
		t.Fatal(err)
	}
	if _, replayed, err := f.book(scope, "k", req); err != nil || replayed || f.effects(t) != 1 {
		t.Fatalf("after a rolled-back first attempt: replayed %v err %v, %d effects; want a fresh run", replayed, err, f.effects(t))
	}
}

// Keys expire after KeyLifetime: the sweep removes them, and an expired key
// not yet swept starts afresh.
func TestIdempotencyKeysExpire(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	ctx := context.Background()
	scope := db.Scope{Caller: uuid.New(), Operation: "test.book"}
	for _, k := range []string{"a", "b"} {
		if _, _, err := f.book(scope, k, booking{Customer: k}); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := db.SweepIdempotencyKeys(ctx, f.dbx, time.Now(), 100); err != nil || n != 0 {
		t.Fatalf("sweep of fresh keys removed %d (%v)", n, err)
	}
	mustExec(t, f.dbx, `UPDATE idempotency_keys SET expires_at = now() - interval '1 second' WHERE key = 'a'`)
	if _, replayed, err := f.book(scope, "a", booking{Customer: "a"}); err != nil || replayed {
		t.Fatalf("expired key: replayed %v err %v, want a fresh run", replayed, err)
	}
	dayLater := time.Now().Add(db.KeyLifetime + time.Minute)
	if n, err := db.ExpiredIdempotencyKeys(ctx, f.dbx, dayLater); err != nil || n != 2 {
		t.Fatalf("a day later %d keys are expired (%v), want 2", n, err)
	}
	if n, err := db.SweepIdempotencyKeys(ctx, f.dbx, dayLater, 1); err != nil || n != 1 {
		t.Fatalf("a sweep of at most 1 removed %d (%v)", n, err)
	}
	if n, err := db.SweepIdempotencyKeys(ctx, f.dbx, dayLater, 100); err != nil || n != 1 {
		t.Fatalf("the next sweep removed %d (%v), want the last key", n, err)
	}
}

func TestIdempotentRefusesBadKeys(t *testing.T) {
	t.Parallel()
	f := newIdemFixture(t)
	scope := db.Scope{Caller: uuid.New(), Operation: "test.book"}
	for _, k := range []string{strings.Repeat("k", db.MaxKeyLength+1), "a\x00b", "bad\xffutf8"} {
		if _, _, err := f.book(scope, k, booking{}); !apperr.Is(err, apperr.Invalid) {
			t.Errorf("key %q: %v, want invalid", k, err)
		}
	}
	if n := f.effects(t); n != 0 {
		t.Fatalf("refused keys left %d effects", n)
	}
}

func TestCanonicalJSON(t *testing.T) {
	t.Parallel()
	cases := []struct{ a, b any }{
		{map[string]any{"b": 1, "a": 2}, map[string]any{"a": 2.0, "b": 1e0}},
		{map[string]any{"at": "2026-03-01T10:00:00+01:00"}, map[string]any{"at": "2026-03-01T09:00:00.0000001Z"}},
		{[]any{9007199254740993}, []any{9007199254740993}},
	}
	for _, c := range cases {
		a, errA := db.CanonicalJSON(c.a)
		b, errB := db.CanonicalJSON(c.b)
		if errA != nil || errB != nil || string(a) != string(b) {
			t.Errorf("CanonicalJSON(%v) = %s, CanonicalJSON(%v) = %s: want equal", c.a, a, c.b, b)
		}
	}
	got, _ := db.CanonicalJSON(map[string]any{"z": "<b>", "at": time.Date(2026, 3, 1, 10, 0, 0, 0, time.FixedZone("", 3600)), "n": 1.5})
	if want := `{"at":"2026-03-01T09:00:00.000000Z","n":1.5,"z":"<b>"}`; string(got) != want {
		t.Errorf("CanonicalJSON = %s, want %s", got, want)
	}
	if a, _ := db.CanonicalJSON(map[string]int{"n": 1}); string(a) == `{"n":2}` {
		t.Error("different values must differ")
	}
}
