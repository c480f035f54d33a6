-- +goose Up
-- The Stripe webhook inbox (internal/payments). Every verified event is
-- stored here, by Stripe's event id, before its delivery is answered; the
-- worker then handles it exactly once: the handler's effect and
-- processed_at commit in one transaction. A delivery of a stored event
-- again changes nothing (the primary key).
CREATE TABLE stripe_events (
    id               text PRIMARY KEY,
    -- platform: /webhooks/stripe; connect: /webhooks/stripe/connect
    endpoint         text NOT NULL CHECK (endpoint IN ('platform', 'connect')),
    type             text NOT NULL,
    -- the connected account a Connect event is about; NULL for the platform's own
    account          text,
    livemode         boolean NOT NULL,
    -- when Stripe created the event: Stripe promises no delivery order
    created_at       timestamptz NOT NULL,
    payload          jsonb NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    -- handled: its handler ran; ignored: no handler for its type;
    -- refused: its handler found it invalid (logged, never retried)
    outcome          text CHECK (outcome IN ('handled', 'ignored', 'refused')),
    processed_at     timestamptz,
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    last_error       text NOT NULL DEFAULT '',
    CHECK ((outcome IS NULL) = (processed_at IS NULL))
);
CREATE INDEX stripe_events_due_idx ON stripe_events (next_attempt_at) WHERE processed_at IS NULL;

-- +goose Down
DROP TABLE stripe_events;
