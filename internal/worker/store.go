package worker

import (
	"context"
	"database/sql"
	"errors"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// ensureJobs gives each named job its row; existing rows keep their state.
func ensureJobs(ctx context.Context, q sqlx.ExecerContext, names []string) error {
	_, err := q.ExecContext(ctx, `INSERT INTO worker_jobs (name) SELECT unnest($1::text[]) ON CONFLICT (name) DO NOTHING`,
		pq.Array(names))
	return err
}

// claim leases the job to token for lease when it is due and no other
// worker holds it. SKIP LOCKED: a worker claiming the same row at the same
// instant is passed over, not waited for.
func claim(ctx context.Context, q sqlx.ExtContext, name string, token uuid.UUID, lease time.Duration) (bool, error) {
	res, err := q.ExecContext(ctx, `UPDATE worker_jobs j SET lease_until = now() + $3 * interval '1 microsecond',
			lease_token = $2, last_run_at = now()
		FROM (SELECT name FROM worker_jobs WHERE name = $1 AND next_run_at <= now() AND lease_until <= now()
		      FOR UPDATE SKIP LOCKED) due
		WHERE j.name = due.name`, name, token, lease.Microseconds())
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// succeed releases the lease after a successful run and schedules the next
// one after next. A lease that ran out and went to another worker is left
// alone (the token no longer matches).
func succeed(ctx context.Context, q sqlx.ExecerContext, name string, token uuid.UUID, next time.Duration) error {
	_, err := q.ExecContext(ctx, `UPDATE worker_jobs SET lease_until = '-infinity', lease_token = NULL,
			next_run_at = now() + $3 * interval '1 microsecond', failures = 0, last_success_at = now(), last_error = ''
		WHERE name = $1 AND lease_token = $2`, name, token, next.Microseconds())
	return err
}

// fail releases the lease after a failed run and schedules a retry after
// the backoff for one more consecutive failure; it returns that count.
func fail(ctx context.Context, q sqlx.ExtContext, name string, token uuid.UUID, runErr error) (int, error) {
	var failures int
	err := sqlx.GetContext(ctx, q, &failures, `SELECT failures + 1 FROM worker_jobs WHERE name = $1 AND lease_token = $2`, name, token)
	if err != nil {
		return 0, ignoreNoRows(err)
	}
	msg := runErr.Error()
	if len(msg) > 2000 {
		msg = strings.ToValidUTF8(msg[:2000], "")
	}
	_, err = q.ExecContext(ctx, `UPDATE worker_jobs SET lease_until = '-infinity', lease_token = NULL,
			next_run_at = now() + $3 * interval '1 microsecond', failures = $4, last_error = $5
		WHERE name = $1 AND lease_token = $2`, name, token, Backoff(failures).Microseconds(), failures, msg)
	return failures, err
}

// nextDue is when the job may next be claimed.
func nextDue(ctx context.Context, q sqlx.QueryerContext, name string) (time.Time, error) {
	var due time.Time
	err := sqlx.GetContext(ctx, q, &due, `SELECT greatest(next_run_at, lease_until) FROM worker_jobs WHERE name = $1`, name)
	return due, err
}

// Status is one job's row, as the metrics show it.
type Status struct {
	Name          string     `db:"name"`
	NextRunAt     time.Time  `db:"next_run_at"`
	Failures      int        `db:"failures"`
	LastRunAt     *time.Time `db:"last_run_at"`
	LastSuccessAt *time.Time `db:"last_success_at"`
	LastError     string     `db:"last_error"`
}

// Statuses returns the state of every job that has run or been registered.
func Statuses(ctx context.Context, q sqlx.QueryerContext) ([]Status, error) {
	var out []Status
	err := sqlx.SelectContext(ctx, q, &out, `SELECT name, next_run_at, failures, last_run_at, last_success_at, last_error
		FROM worker_jobs ORDER BY name`)
	return out, err
}

func ignoreNoRows(err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	return err
}
