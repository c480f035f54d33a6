-- +goose Up
-- Reminders of credits about to expire (internal/plans/reminders.go): one
-- mail per employee, expiry day (in Italy) and threshold (30 and 7 days
-- before), sent once whatever the worker does twice.
CREATE TABLE expiry_reminders (
    user_id     uuid NOT NULL REFERENCES users(id),
    expires_on  date NOT NULL,
    days        integer NOT NULL CHECK (days IN (7, 30)),
    cents       bigint NOT NULL CHECK (cents > 0),
    sent_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, expires_on, days)
);

-- +goose Down
DROP TABLE expiry_reminders;
