-- ledger_begin inserts the transaction row under its idempotency key. A key
-- seen before with the same request (op + body) returns the original id with
-- replayed = true; with a different request it is a conflict. A concurrent
-- writer of the same key waits on the unique index until the first commits
-- (then replays) or aborts (then inserts).
--
-- A new transaction is written at the instant "at", the clock at the
-- moment of the write (not now(), the start of the caller's transaction,
-- which may be long): expiries are judged by it, and it is recorded as the
-- transaction's written_at. Its effective time (default: at) must pass
-- ledger_check_effective, and a hold's expiry must be after at. These
-- checks come after the key: a true retry replays whenever it comes.
CREATE OR REPLACE FUNCTION ledger_begin(p_op text, p jsonb, p_kind text, p_status text, p_hold bigint,
                             p_reverses bigint, p_policy bigint, p_split jsonb,
                             OUT tx_id bigint, OUT replayed boolean, OUT at timestamptz, OUT eff timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    k text := p->>'key';
    h bytea := sha256(convert_to(p_op || ':' || p::text, 'UTF8'));
    old_hash bytea;
    e jsonb;
BEGIN
    at := clock_timestamp();
    eff := coalesce((p->>'effective_at')::timestamptz, at);
    IF k IS NULL OR k = '' OR length(k) > 200 THEN
        PERFORM ledger_raise('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
    END IF;
    INSERT INTO ledger_transactions AS t (idempotency_key, request_hash, kind, status, reference, effective_at,
                                          expires_at, hold_id, reverses_id, policy_id, split, metadata, written_at)
    VALUES (k, h, coalesce(p->>'kind', p_kind), p_status, coalesce(p->>'reference', ''), eff,
            CASE WHEN p_status = 'pending' THEN (p->>'expires_at')::timestamptz END,
            p_hold, p_reverses, p_policy, p_split, coalesce(p->'metadata', '{}'), at)
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING t.id INTO tx_id;
    IF tx_id IS NOT NULL THEN
        replayed := false;
        e := ledger_check_effective(eff, at, p->>'effective_at' IS NOT NULL, ledger_closed_through(),
                                    CASE WHEN eff < at - interval '7 days' THEN ledger_backdate_granted(k) END);
        IF e IS NULL AND p_status = 'pending' AND (p->>'expires_at')::timestamptz <= at THEN
            e := ledger_error('RL003', 'a hold must expire after it is placed', '{"field":"expires_at"}');
        END IF;
        IF e IS NOT NULL THEN
            PERFORM ledger_raise_error(e);
        END IF;
        RETURN;
    END IF;
    SELECT t.id, t.request_hash INTO tx_id, old_hash FROM ledger_transactions t WHERE t.idempotency_key = k;
    IF old_hash <> h THEN
        PERFORM ledger_raise('RL004', 'this idempotency key was already used for a different request',
                             jsonb_build_object('key', k, 'transaction_id', tx_id));
    END IF;
    replayed := true;
END $$;

-- ledger_check_effective bounds backdating: a transaction written at p_at
-- may count from an earlier effective time (a bank transfer's value date;
-- the split policy of that date applies) at most 7 days back, or as far
-- back as a platform admin permitted for it (p_granted:
-- ledger_backdate_granted); never across 31 December into the previous tax
-- year (Italian time); and nothing, backdated or not, takes effect in a
-- closed period (at or before p_closed: ledger_closed_through). Returns
-- the refusal, or NULL. PL/pgSQL, one cached expression: as a SQL function
-- (never inlined: jsonb_build_object is only stable) every call started an
-- executor, once per request of a batch.
CREATE OR REPLACE FUNCTION ledger_check_effective(p_eff timestamptz, p_at timestamptz, p_given boolean,
                                                  p_closed timestamptz, p_granted timestamptz) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    RETURN CASE
        WHEN p_eff <= p_closed THEN
            ledger_error('RL003', 'effective_at falls in a closed period',
                         jsonb_build_object('field', 'effective_at', 'closed_through', p_closed))
        WHEN NOT p_given OR p_eff >= p_at THEN NULL
        WHEN extract(year FROM p_eff AT TIME ZONE 'Europe/Rome') < extract(year FROM p_at AT TIME ZONE 'Europe/Rome') THEN
            ledger_error('RL003', 'effective_at may not fall in an earlier tax year', '{"field":"effective_at"}')
        WHEN p_eff < p_at - interval '7 days' AND (p_granted IS NULL OR p_eff < p_granted) THEN
            ledger_error('RL003', 'effective_at may be at most 7 days before the write, unless a platform admin permits more',
                         '{"field":"effective_at"}')
    END;
END $$;
