-- +goose Up
-- Outgoing mail is written to this table in the same transaction as the
-- change that causes it (an invitation, a reset); a sender delivers it
-- later. In development nothing is delivered: /dev/mail lists the rows.
CREATE TABLE mail_outbox (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    to_addr     citext NOT NULL,
    subject     text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz,
    attempts    integer NOT NULL DEFAULT 0,
    last_error  text NOT NULL DEFAULT ''
);
CREATE INDEX mail_outbox_pending_idx ON mail_outbox (created_at) WHERE sent_at IS NULL;

-- +goose Down
DROP TABLE mail_outbox;
