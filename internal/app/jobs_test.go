package app_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
)

// The app's worker sweeps expired idempotency keys and keeps fresh ones.
func TestWorkerSweepsIdempotencyKeys(t *testing.T) {
	a := apptest.Start(t) // runs the worker in-process
	_, err := a.DB.Exec(`INSERT INTO idempotency_keys (caller, operation, key, request_hash, response, expires_at)
		VALUES (gen_random_uuid(), 'test.op', 'old', '\x00', '{}', now() - interval '1 minute'),
		       (gen_random_uuid(), 'test.op', 'fresh', '\x00', '{}', now() + interval '1 hour')`)
	if err != nil {
		t.Fatal(err)
	}
	// The job ran at start-up; make it due again rather than wait for it.
	if _, err := a.DB.Exec(`UPDATE worker_jobs SET next_run_at = now() WHERE name = 'idempotency.sweep'`); err != nil {
		t.Fatal(err)
	}
	a.Worker.Wake("idempotency.sweep")
	var keys []string
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		keys = nil
		if err := a.DB.Select(&keys, `SELECT key FROM idempotency_keys ORDER BY key`); err != nil {
			t.Fatal(err)
		}
		if len(keys) == 1 {
			break
		}
	}
	if len(keys) != 1 || keys[0] != "fresh" {
		t.Fatalf("keys after the sweep: %v, want only the fresh one", keys)
	}
}
