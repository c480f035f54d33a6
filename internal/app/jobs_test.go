package app_test

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
)

// The worker sweeps expired idempotency keys and keeps fresh ones.
func TestWorkerSweepsIdempotencyKeys(t *testing.T) {
	a := apptest.Start(t)
	_, err := a.DB.Exec(`INSERT INTO idempotency_keys (caller, operation, key, request_hash, response, expires_at)
		VALUES (gen_random_uuid(), 'test.op', 'old', '\x00', '{}', now() - interval '1 minute'),
		       (gen_random_uuid(), 'test.op', 'fresh', '\x00', '{}', now() + interval '1 hour')`)
	if err != nil {
		t.Fatal(err)
	}
	if ran, err := a.Worker.RunDue(context.Background(), "idempotency.sweep"); err != nil || !ran {
		t.Fatalf("sweep job: ran %v, %v", ran, err)
	}
	var keys []string
	if err := a.DB.Select(&keys, `SELECT key FROM idempotency_keys`); err != nil || len(keys) != 1 || keys[0] != "fresh" {
		t.Fatalf("keys after the sweep: %v (%v), want only the fresh one", keys, err)
	}
}
