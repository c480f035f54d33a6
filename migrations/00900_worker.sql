-- +goose Up
-- One row per kind of background work (internal/worker). A worker claims a
-- due row with FOR UPDATE SKIP LOCKED and leases it until lease_until, so
-- any number of worker processes can run and each run happens once; a
-- crashed worker's lease simply runs out. failures counts the consecutive
-- failed runs and sets the backoff; the rest is what the metrics show.
CREATE TABLE worker_jobs (
    name             text PRIMARY KEY,
    next_run_at      timestamptz NOT NULL DEFAULT now(),
    lease_until      timestamptz NOT NULL DEFAULT '-infinity',
    lease_token      uuid,
    failures         integer NOT NULL DEFAULT 0,
    last_run_at      timestamptz,
    last_success_at  timestamptz,
    last_error       text NOT NULL DEFAULT ''
);

-- Mail leaves the outbox over SMTP from the worker, one row at a time:
-- next_attempt_at is both the lease of a mail being sent and its backoff
-- after a failure; failed_at marks a mail given up after too many attempts.
ALTER TABLE mail_outbox
    ADD COLUMN next_attempt_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN failed_at timestamptz;
DROP INDEX mail_outbox_pending_idx;
CREATE INDEX mail_outbox_due_idx ON mail_outbox (next_attempt_at) WHERE sent_at IS NULL AND failed_at IS NULL;

-- +goose Down
DROP INDEX mail_outbox_due_idx;
ALTER TABLE mail_outbox DROP COLUMN failed_at, DROP COLUMN next_attempt_at;
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (created_at) WHERE sent_at IS NULL;
DROP TABLE worker_jobs;
