-- +goose Up
-- Creating an offering is made idempotent by the shared idempotency_keys
-- table (00003), under the key of the person who sent it, instead of a key
-- column on the offering scoped to the whole provider. The old keys are not
-- copied: they had no caller, and a key is only worth keeping for a day.
DROP INDEX offerings_idempotency_idx;
ALTER TABLE offerings DROP COLUMN idempotency_key;

-- +goose Down
ALTER TABLE offerings ADD COLUMN idempotency_key text;
CREATE UNIQUE INDEX offerings_idempotency_idx ON offerings (provider_id, idempotency_key) WHERE idempotency_key IS NOT NULL;
