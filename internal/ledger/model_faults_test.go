package ledger_test

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
)

// The model test with faults: while it runs, backends of its database are
// killed at random moments (mid-write, mid-read) and balance rows are held
// locked for a while by another transaction (lock stalls). Every call
// whose connection was lost is retried with the same key, as a client
// would, and the model must still agree step by step, and verify at the
// end. The schedule is seeded (printed; LEDGER_SEED=n replays the run's
// operations and fault schedule, though not the machine's timing) and the
// run is bounded in time.
func TestModelUnderFaults(t *testing.T) {
	seed := modelSeed(t)
	t.Logf("fault run seed %d (replay: LEDGER_SEED=%d go test ./internal/ledger -run TestModelUnderFaults)", seed, seed)
	c := newChart(t)
	f := startFaults(t, c, seed, 12*time.Second)
	runModel(t, c, plain{c.db}, seed, 1_000_000, f)
	// (database/sql retries most calls whose backend died on a fresh
	// connection by itself: the ledger's keys make that safe; the rest
	// come back as lost connections, and retry repeats them)
	t.Logf("%d backends killed mid-call, %d lock stalls, %d calls retried here", f.kills.Load(), f.stalls.Load(), f.retried.Load())
	if f.kills.Load() == 0 || f.stalls.Load() == 0 {
		t.Fatalf("the fault run injected too little: %d kills, %d stalls", f.kills.Load(), f.stalls.Load())
	}
}

// faults injects database faults into a model run until its deadline.
type faults struct {
	deadline               time.Time
	cancel                 context.CancelFunc
	done                   chan struct{}
	kills, stalls, retried atomic.Int64
}

func startFaults(t *testing.T, c *chart, seed uint64, d time.Duration) *faults {
	ctx, cancel := context.WithCancel(c.ctx)
	f := &faults{deadline: time.Now().Add(d), cancel: cancel, done: make(chan struct{})}
	rng := rand.New(rand.NewPCG(seed, 0xfa17))
	accounts := []string{budget, payable, wallet(0), wallet(1), wallet(2), wallet(3)}
	go func() {
		defer close(f.done)
		for ctx.Err() == nil && time.Now().Before(f.deadline) {
			select {
			case <-ctx.Done():
				return
			case <-time.After(time.Duration(50+rng.IntN(200)) * time.Millisecond):
			}
			if rng.IntN(5) < 2 {
				// Poll briefly for a backend in the middle of a call: the
				// model runs one call at a time, and on a fast machine a
				// single look often falls between two calls.
				for try := 0; try < 100 && ctx.Err() == nil; try++ {
					var killed []string
					err := c.db.SelectContext(ctx, &killed, `SELECT query FROM (
						SELECT pid, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
						AND backend_type = 'client backend' AND state = 'active' ORDER BY random() LIMIT 1) x
						WHERE pg_terminate_backend(pid)`)
					if err == nil && len(killed) > 0 {
						f.kills.Add(1)
						break
					}
					time.Sleep(time.Millisecond)
				}
				continue
			}
			hold := time.Duration(20+rng.IntN(200)) * time.Millisecond
			account := accounts[rng.IntN(len(accounts))]
			tx, err := c.db.BeginTxx(ctx, nil)
			if err != nil {
				continue
			}
			if _, err := tx.ExecContext(ctx, `SELECT 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
				WHERE a.path = $1 FOR UPDATE OF b`, account); err == nil {
				f.stalls.Add(1)
				time.Sleep(hold)
			}
			_ = tx.Rollback()
		}
	}()
	t.Cleanup(f.stop)
	return f
}

// over reports whether the run should end (never for a run without faults).
func (f *faults) over() bool { return f != nil && time.Now().After(f.deadline) }

// stop ends the faults and waits for the injector.
func (f *faults) stop() {
	if f == nil {
		return
	}
	f.cancel()
	<-f.done
}

// lost reports whether err is a lost connection (a killed backend): the
// call may or may not have been written, and is retried.
func (f *faults) lost(err error) bool {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return strings.HasPrefix(string(pe.Code), "57") || strings.HasPrefix(string(pe.Code), "08")
	}
	return errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		strings.Contains(err.Error(), "connection reset") || strings.Contains(err.Error(), "bad connection")
}

// retry runs op, again while its connection is lost (f nil: once). op must
// be safe to repeat: a keyed write replays.
func retry[T any](f *faults, op func() (T, error)) (T, error) {
	for attempt := 1; ; attempt++ {
		v, err := op()
		if f == nil || err == nil || !f.lost(err) || attempt == 50 {
			return v, err
		}
		f.retried.Add(1)
		time.Sleep(time.Millisecond)
	}
}

// retryVoid is retry for a void, which has no key: after a lost attempt a
// conflict means the lost attempt voided the hold.
func retryVoid(f *faults, op func() error) error {
	lost := false
	_, err := retry(f, func() (struct{}, error) {
		err := op()
		if f != nil && err != nil && f.lost(err) {
			lost = true
		}
		return struct{}{}, err
	})
	if lost && apperr.Is(err, apperr.Conflict) {
		return nil
	}
	return err
}
