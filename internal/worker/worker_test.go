package worker_test

import (
	"context"
	"errors"
	"github.com/jmoiron/sqlx"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/worker"
)

// runFor runs the workers side by side for d.
func runFor(t *testing.T, d time.Duration, ws ...*worker.Worker) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	var wg sync.WaitGroup
	for _, w := range ws {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := w.Run(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
}

// counter is a job body that counts its runs and notices two at once.
type counter struct {
	runs, inFlight, overlaps atomic.Int64
	took                     time.Duration
}

func (c *counter) run(ctx context.Context) (int, error) {
	if c.inFlight.Add(1) > 1 {
		c.overlaps.Add(1)
	}
	defer c.inFlight.Add(-1)
	c.runs.Add(1)
	time.Sleep(c.took)
	return 0, nil
}

// Two workers (two processes in production) share the jobs: a job due
// once runs once, and a frequent job never runs on both at the same time.
func TestTwoWorkersRunAJobOnce(t *testing.T) {
	dbx := dbtest.Open(t)
	hourly := &counter{took: 100 * time.Millisecond}
	frequent := &counter{took: 20 * time.Millisecond}
	var ws []*worker.Worker
	for range 2 {
		w := worker.New(dbx)
		w.Register(worker.Job{Name: "hourly", Every: time.Hour, Run: hourly.run})
		w.Register(worker.Job{Name: "frequent", Every: 10 * time.Millisecond, Run: frequent.run})
		ws = append(ws, w)
	}
	runFor(t, 1500*time.Millisecond, ws...)
	if n := hourly.runs.Load(); n != 1 {
		t.Fatalf("the hourly job ran %d times with two workers, want once", n)
	}
	if n := frequent.runs.Load(); n < 10 {
		t.Fatalf("the frequent job ran only %d times in 1.5 s", n)
	}
	if o := hourly.overlaps.Load() + frequent.overlaps.Load(); o != 0 {
		t.Fatalf("%d runs overlapped another run of the same job", o)
	}
}

// A job that fails (or panics) is retried with growing pauses while the
// other jobs go on; its failures and error show in its state and metrics.
func TestFailingJobDoesNotBlockOthers(t *testing.T) {
	dbx := dbtest.Open(t)
	var broken, panicky atomic.Int64
	healthy := &counter{}
	w := worker.New(dbx)
	w.Register(worker.Job{Name: "broken", Every: 10 * time.Millisecond, Run: func(context.Context) (int, error) {
		broken.Add(1)
		return 0, errors.New("smtp: connection refused")
	}})
	w.Register(worker.Job{Name: "panicky", Every: 10 * time.Millisecond, Run: func(context.Context) (int, error) {
		panicky.Add(1)
		panic("nil map")
	}})
	w.Register(worker.Job{Name: "healthy", Every: 10 * time.Millisecond, Run: healthy.run,
		Backlog: func(context.Context) (int, error) { return 7, nil }})
	start := time.Now()
	runFor(t, 2*time.Second, w)
	if n := healthy.runs.Load(); n < 20 {
		t.Fatalf("the healthy job ran %d times next to failing ones", n)
	}
	// Backoff ~1 s then ~2 s: two runs in two seconds, never twenty.
	for name, n := range map[string]int64{"broken": broken.Load(), "panicky": panicky.Load()} {
		if n < 1 || n > 2 {
			t.Fatalf("the %s job ran %d times in 2 s, want 1 or 2 (backoff)", name, n)
		}
	}
	byName := statusesByName(t, dbx)
	b := byName["broken"]
	if b.Failures < 1 || b.LastSuccessAt != nil || b.LastError != "smtp: connection refused" || !b.NextRunAt.After(start.Add(time.Second)) {
		t.Fatalf("broken job state: %+v", b)
	}
	if p := byName["panicky"]; !strings.Contains(p.LastError, "panic: nil map") {
		t.Fatalf("panicky job state: %+v", p)
	}
	if h := byName["healthy"]; h.Failures != 0 || h.LastSuccessAt == nil || h.LastSuccessAt.Before(start) {
		t.Fatalf("healthy job state: %+v", h)
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(w.Collector())
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			got[f.GetName()+"/"+m.GetLabel()[0].GetValue()] = m.GetGauge().GetValue()
		}
	}
	if got["reciproca_job_backlog/healthy"] != 7 || got["reciproca_job_last_success_timestamp_seconds/healthy"] < float64(start.Unix()) ||
		got["reciproca_job_last_success_timestamp_seconds/broken"] != 0 || got["reciproca_job_consecutive_failures/broken"] < 1 {
		t.Fatalf("metrics: %v", got)
	}
}

// The pause after consecutive failures doubles from about a second and
// stops growing at MaxBackoff.
func TestBackoff(t *testing.T) {
	for n, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 30: worker.MaxBackoff, 1000: worker.MaxBackoff} {
		for range 20 {
			if d := worker.Backoff(n); d < want*8/10 || d > want*12/10 {
				t.Fatalf("Backoff(%d) = %s, want %s ± 20 %%", n, d, want)
			}
		}
	}
}

// A worker that died during a run holds the job until its lease runs
// out; then another worker runs it.
func TestLeaseOfADeadWorkerRunsOut(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	c := &counter{}
	w := worker.New(dbx)
	w.Register(worker.Job{Name: "sweep", Every: time.Hour, Run: c.run})
	if ran, err := w.RunDue(ctx, "sweep"); !ran || err != nil {
		t.Fatalf("first run: %v %v", ran, err)
	}
	// The next run was claimed by a process that then died.
	dbx.MustExec(`UPDATE worker_jobs SET next_run_at = now(), lease_until = now() + interval '1 hour', lease_token = gen_random_uuid()`)
	if ran, err := w.RunDue(ctx, "sweep"); ran || err != nil {
		t.Fatalf("ran while another worker held the lease: %v %v", ran, err)
	}
	dbx.MustExec(`UPDATE worker_jobs SET lease_until = now() - interval '1 second'`) // the lease ran out
	if ran, err := w.RunDue(ctx, "sweep"); !ran || err != nil || c.runs.Load() != 2 {
		t.Fatalf("after the lease ran out: %v %v, %d runs", ran, err, c.runs.Load())
	}
	// Not due again before its interval.
	if ran, _ := w.RunDue(ctx, "sweep"); ran {
		t.Fatal("ran again before Every")
	}
}

// A run that outlives its own time limit is a failure; a run cut short
// because the worker itself was stopped (its caller's deadline) is not.
func TestJobTimeoutIsNotShutdown(t *testing.T) {
	dbx := dbtest.Open(t)
	w := worker.New(dbx)
	w.Register(worker.Job{Name: "slow", Every: time.Hour, Timeout: 50 * time.Millisecond,
		Run: func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, nil }})
	w.Register(worker.Job{Name: "stopped", Every: time.Hour, Timeout: time.Minute,
		Run: func(ctx context.Context) (int, error) { <-ctx.Done(); return 0, nil }})
	runFor(t, 500*time.Millisecond, w)
	byName := statusesByName(t, dbx)
	if s := byName["slow"]; s.Failures < 1 || !strings.Contains(s.LastError, "exceeded its 50ms timeout") {
		t.Fatalf("a run past its own limit: %+v", s)
	}
	if s := byName["stopped"]; s.Failures != 0 || s.LastSuccessAt == nil {
		t.Fatalf("a run ended by the worker's shutdown: %+v", s)
	}
}

func statusesByName(t *testing.T, dbx *sqlx.DB) map[string]worker.Status {
	t.Helper()
	states, err := worker.Statuses(context.Background(), dbx)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]worker.Status{}
	for _, s := range states {
		byName[s.Name] = s
	}
	return byName
}
