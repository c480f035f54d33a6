// Package worker runs Reciproca's background work: mail delivery, hold
// expiry, lot sweeping, ledger sealing, the Stripe webhook inbox, and
// whatever later domains register. A domain describes its work as a Job;
// the app registers the jobs and runs a Worker, in `reciproca worker` or
// inside `serve` in development.
//
// Each job has one row in worker_jobs. A worker claims a due row with
// FOR UPDATE SKIP LOCKED and leases it for the job's timeout, so any number
// of worker processes can run side by side and each run happens on one of
// them. A failed run is retried with exponential backoff; every job runs in
// its own goroutine, so a failing or slow job never holds up the others.
//
// Jobs work through items (mails, holds, events) that carry their own
// retry state: a run must make progress past an item that fails, never
// stop at it, or one bad item would stall the job for good.
package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
)

// Job is one kind of background work.
type Job struct {
	// Name identifies the job across processes and in the metrics, e.g.
	// "mail.deliver". It must stay stable across releases.
	Name string
	// Every is the pause after a run that found nothing to do. A run that
	// did something is followed at once by another.
	Every time.Duration
	// Timeout bounds one run and is the lease on the job: another worker
	// takes the job over only after it runs out (default one minute).
	Timeout time.Duration
	// Run does one batch of work and returns how many items it completed.
	// An error marks the run failed (logged, shown in the metrics, retried
	// with backoff) whether or not some items were completed.
	Run func(ctx context.Context) (done int, err error)
	// Backlog counts the items waiting, for the metrics; nil when the job
	// has no countable backlog.
	Backlog func(ctx context.Context) (int, error)
}

func (j Job) timeout() time.Duration {
	if j.Timeout > 0 {
		return j.Timeout
	}
	return time.Minute
}

// MaxBackoff caps the pause after consecutive failed runs.
const MaxBackoff = 5 * time.Minute

// Backoff is the pause after the n-th consecutive failed run: one second,
// doubling up to MaxBackoff, with ±20 % jitter so that workers restarted
// together do not retry in step.
func Backoff(n int) time.Duration {
	d := MaxBackoff
	if n < 20 {
		d = min(time.Second<<max(n-1, 0), MaxBackoff)
	}
	return d - d/5 + rand.N(2*d/5+1)
}

// Worker runs registered jobs against one database.
type Worker struct {
	db   *sqlx.DB
	jobs []Job
	wake map[string]chan struct{}
	// rows is set once every job has its row in worker_jobs.
	rows atomic.Bool
}

// New returns a worker with no jobs.
func New(dbx *sqlx.DB) *Worker {
	return &Worker{db: dbx, wake: map[string]chan struct{}{}}
}

// Register adds a job. Register every job before Run.
func (w *Worker) Register(j Job) {
	if j.Name == "" || j.Run == nil || j.Every <= 0 {
		panic("worker: a job needs a name, a Run function and a positive Every")
	}
	if _, dup := w.wake[j.Name]; dup {
		panic("worker: two jobs named " + j.Name)
	}
	w.jobs = append(w.jobs, j)
	w.wake[j.Name] = make(chan struct{}, 1)
}

// Jobs returns the registered jobs.
func (w *Worker) Jobs() []Job { return w.jobs }

// Wake asks this process to run the named job now if it is due, instead
// of at its next poll (e.g. after a webhook stored an event). Other
// processes notice at their next poll.
func (w *Worker) Wake(name string) {
	select {
	case w.wake[name] <- struct{}{}:
	default:
	}
}

// Run runs every registered job until ctx ends, each in its own loop.
func (w *Worker) Run(ctx context.Context) error {
	if err := w.ensureRows(ctx); err != nil && ctx.Err() == nil {
		return err
	}
	var wg sync.WaitGroup
	for _, j := range w.jobs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w.loop(ctx, j)
		}()
	}
	wg.Wait()
	return nil
}

func (w *Worker) loop(ctx context.Context, j Job) {
	for ctx.Err() == nil {
		wait, err := w.step(ctx, j)
		if err != nil && ctx.Err() == nil {
			// The database itself failed (not the job): try again soon.
			slog.ErrorContext(ctx, "worker: claiming a job", "job", j.Name, "err", err)
			wait = min(j.Every, 5*time.Second)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
		case <-w.wake[j.Name]:
		case <-t.C:
		}
		t.Stop()
	}
}

// step runs j if it is due and returns how long to wait before looking again.
func (w *Worker) step(ctx context.Context, j Job) (time.Duration, error) {
	ran, err := w.RunDue(ctx, j.Name)
	if err != nil {
		return 0, err
	}
	if ran {
		// Look again at once: the run may have left more work, or set the
		// next run in the future (then the next step waits).
		return 0, nil
	}
	due, err := nextDue(ctx, w.db, j.Name)
	if err != nil {
		return 0, err
	}
	return min(max(time.Until(due), 10*time.Millisecond), j.Every), nil
}

// RunDue claims the named job if it is due and not leased by another
// worker, runs it once and records the outcome. It reports whether it ran
// the job; the job's own error is recorded, logged and not returned.
func (w *Worker) RunDue(ctx context.Context, name string) (bool, error) {
	j, ok := w.job(name)
	if !ok {
		return false, fmt.Errorf("worker: no job named %q", name)
	}
	if err := w.ensureRows(ctx); err != nil {
		return false, err
	}
	token := uuid.New()
	claimed, err := claim(ctx, w.db, j.Name, token, j.timeout())
	if err != nil || !claimed {
		return false, err
	}
	done, runErr := run(ctx, j)
	// Record the outcome even when ctx ended during the run, so that the
	// lease is released for the next worker.
	fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if runErr != nil {
		failures, err := fail(fctx, w.db, j.Name, token, runErr)
		if ctx.Err() == nil {
			slog.ErrorContext(ctx, "worker: job failed", "job", j.Name, "done", done, "failures", failures, "err", runErr)
		}
		return true, err
	}
	next := j.Every
	if done > 0 {
		next = 0
	}
	return true, succeed(fctx, w.db, j.Name, token, next)
}

// run calls j.Run within its timeout, turning a panic into an error so
// that one broken job cannot take the worker down.
func run(ctx context.Context, j Job) (done int, err error) {
	// The cause tells the job's own time limit from the worker being
	// stopped: a caller's deadline ending a run is a shutdown, not a failure.
	timedOut := fmt.Errorf("run exceeded its %s timeout", j.timeout())
	ctx, cancel := context.WithTimeoutCause(ctx, j.timeout(), timedOut)
	defer cancel()
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	done, err = j.Run(ctx)
	if err == nil && errors.Is(context.Cause(ctx), timedOut) {
		err = timedOut
	}
	return done, err
}

func (w *Worker) job(name string) (Job, bool) {
	for _, j := range w.jobs {
		if j.Name == name {
			return j, true
		}
	}
	return Job{}, false
}

func (w *Worker) ensureRows(ctx context.Context) error {
	if w.rows.Load() {
		return nil
	}
	names := make([]string, len(w.jobs))
	for i, j := range w.jobs {
		names[i] = j.Name
	}
	if err := ensureJobs(ctx, w.db, names); err != nil {
		return err
	}
	w.rows.Store(true)
	return nil
}
