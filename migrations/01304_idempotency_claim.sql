-- +goose Up
-- idempotency_claim takes an idempotency key for the calling transaction and
-- returns what is stored under it, in one statement (internal/db's
-- Idempotent; one round trip on every idempotent write, such as a booking).
-- It must be a function: its lookup runs after the advisory lock with a
-- snapshot of its own, so a request that committed the key just before
-- the lock was granted is seen (a single SELECT would read a snapshot
-- taken before the lock). got is false when another transaction holds the
-- key now; an expired row is deleted and reported as absent.
-- +goose StatementBegin
CREATE FUNCTION idempotency_claim(p_caller uuid, p_operation text, p_key text,
    OUT got boolean, OUT request_hash bytea, OUT response jsonb)
LANGUAGE plpgsql VOLATILE AS $$
DECLARE
    v_expired boolean;
BEGIN
    got := pg_try_advisory_xact_lock(hashtextextended(p_caller::text || chr(31) || p_operation || chr(31) || p_key, 0));
    IF NOT got THEN
        RETURN;
    END IF;
    SELECT k.request_hash, k.response, k.expires_at <= now() INTO request_hash, response, v_expired
        FROM idempotency_keys k WHERE k.caller = p_caller AND k.operation = p_operation AND k.key = p_key;
    IF v_expired THEN -- not swept yet: the key starts afresh
        DELETE FROM idempotency_keys k WHERE k.caller = p_caller AND k.operation = p_operation AND k.key = p_key;
        request_hash := NULL;
        response := NULL;
    END IF;
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION idempotency_claim(uuid, text, text);
