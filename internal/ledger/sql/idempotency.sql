-- ledger_begin inserts the transaction row under its idempotency key. A key
-- seen before with the same request (op + body) returns the original id with
-- replayed = true; with a different request it is a conflict. A concurrent
-- writer of the same key waits on the unique index until the first commits
-- (then replays) or aborts (then inserts).
CREATE OR REPLACE FUNCTION ledger_begin(p_op text, p jsonb, p_kind text, p_status text, p_hold bigint,
                             p_reverses bigint, p_policy bigint, p_split jsonb,
                             OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    k text := p->>'key';
    h bytea := sha256(convert_to(p_op || ':' || p::text, 'UTF8'));
    old_hash bytea;
BEGIN
    IF k IS NULL OR k = '' OR length(k) > 200 THEN
        PERFORM ledger_raise('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
    END IF;
    INSERT INTO ledger_transactions AS t (idempotency_key, request_hash, kind, status, reference, effective_at,
                                          expires_at, hold_id, reverses_id, policy_id, split, metadata)
    VALUES (k, h, coalesce(p->>'kind', p_kind), p_status, coalesce(p->>'reference', ''),
            coalesce((p->>'effective_at')::timestamptz, now()),
            CASE WHEN p_status = 'pending' THEN (p->>'expires_at')::timestamptz END,
            p_hold, p_reverses, p_policy, p_split, coalesce(p->'metadata', '{}'))
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING t.id INTO tx_id;
    IF tx_id IS NOT NULL THEN
        replayed := false;
        RETURN;
    END IF;
    SELECT t.id, t.request_hash INTO tx_id, old_hash FROM ledger_transactions t WHERE t.idempotency_key = k;
    IF old_hash <> h THEN
        PERFORM ledger_raise('RL004', 'this idempotency key was already used for a different request',
                             jsonb_build_object('key', k, 'transaction_id', tx_id));
    END IF;
    replayed := true;
END $$;
