-- +goose Up
-- The one table of idempotency keys for HTTP requests (internal/db's
-- Idempotent). A key belongs to its caller (a user or an API client) and
-- one operation: two colleagues who happen to send the same key never see
-- each other's answers. The row is written in the same transaction as the
-- effect it answers for, with the response, so a committed key always has
-- one. request_hash (over the canonical request) tells a retry from another
-- request that reuses the key. Keys live 24 hours; the worker sweeps them.
-- The ledger keeps its own keys, which never expire, on its transactions.
CREATE TABLE idempotency_keys (
    caller        uuid NOT NULL,
    operation     text NOT NULL,
    key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    request_hash  bytea NOT NULL,
    response      jsonb NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    PRIMARY KEY (caller, operation, key)
);
CREATE INDEX idempotency_keys_expiry_idx ON idempotency_keys (expires_at);

-- +goose Down
DROP TABLE idempotency_keys;
