-- +goose Up
-- Idempotency keys of the invitation endpoints, scoped to the caller's
-- organisation. The row is written in the same transaction as the
-- invitations it answers for, so a retried request either finds the
-- committed result (and gets it back unchanged, with no second mail) or
-- finds nothing because nothing was written. request_hash tells a retry
-- from a different request that reuses the key (409 conflict).
CREATE TABLE identity_idempotency_keys (
    organisation_id  uuid NOT NULL REFERENCES organisations(id),
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    operation        text NOT NULL,
    request_hash     bytea NOT NULL,
    result           jsonb,          -- NULL only inside the writing transaction
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, key)
);

-- A CSV upload from the web form carries a per-form key, so a double
-- submission shows the first import instead of starting a second one.
ALTER TABLE invitation_imports
    ADD COLUMN idempotency_key  text,
    ADD COLUMN request_hash     bytea;
CREATE UNIQUE INDEX invitation_imports_key_idx ON invitation_imports (organisation_id, idempotency_key) WHERE idempotency_key IS NOT NULL;

-- +goose Down
DROP INDEX invitation_imports_key_idx;
ALTER TABLE invitation_imports DROP COLUMN idempotency_key, DROP COLUMN request_hash;
DROP TABLE identity_idempotency_keys;
