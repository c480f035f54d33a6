-- +goose Up
-- Identity's idempotency keys move to the shared idempotency_keys table
-- (00003), where a key belongs to the person who sent it rather than to
-- their organisation. The old keys are not copied: they had no caller, and
-- a key is only worth keeping for a day.
DROP TABLE identity_idempotency_keys;
DROP INDEX invitation_imports_key_idx;
ALTER TABLE invitation_imports DROP COLUMN idempotency_key, DROP COLUMN request_hash;

-- +goose Down
CREATE TABLE identity_idempotency_keys (
    organisation_id  uuid NOT NULL REFERENCES organisations(id),
    key              text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
    operation        text NOT NULL,
    request_hash     bytea NOT NULL,
    result           jsonb,
    created_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (organisation_id, key)
);
ALTER TABLE invitation_imports
    ADD COLUMN idempotency_key  text,
    ADD COLUMN request_hash     bytea;
CREATE UNIQUE INDEX invitation_imports_key_idx ON invitation_imports (organisation_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
