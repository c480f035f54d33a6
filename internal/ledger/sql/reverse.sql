-- ledger_reverse writes a transaction that undoes a posted one: fully (no
-- postings) or partly (postings in the original direction, which it
-- inverts). Reversals of one transaction never add up to more than it moved
-- on any account. Credits give lots back to where the original took them.
CREATE OR REPLACE FUNCTION ledger_reverse(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    n_entries int;
    beg record;
    orig bigint := (p->>'transaction_id')::bigint;
    o record;
    inv jsonb;
    sides jsonb;
    bad record;
BEGIN
    -- The row lock serialises reversals of one transaction, so two partial
    -- refunds cannot both pass the check below.
    SELECT t.id, t.status, t.hold_id INTO o FROM ledger_transactions t WHERE t.id = orig FOR NO KEY UPDATE;
    IF NOT FOUND THEN
        PERFORM ledger_raise('RL002', format('transaction %s not found', orig), jsonb_build_object('transaction_id', orig));
    END IF;
    IF o.status <> 'posted' THEN
        PERFORM ledger_raise('RL004', format('transaction %s is a %s hold: void it instead', orig, o.status),
                             jsonb_build_object('transaction_id', orig, 'status', o.status));
    END IF;
    beg := ledger_begin('reverse', p, 'reversal', 'posted', NULL, orig, NULL, NULL);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    IF p->'postings' IS NULL OR jsonb_array_length(p->'postings') = 0 THEN
        SELECT jsonb_agg(jsonb_build_object('id', e.account_id, 'u', -e.amount)) INTO sides
        FROM ledger_entries e WHERE e.tx_id = orig;
    ELSE
        SELECT jsonb_agg(jsonb_build_object('from', j->>'to', 'to', j->>'from', 'amount', j->'amount')) INTO inv
        FROM jsonb_array_elements(p->'postings') j;
    END IF;
    -- No account gets back more than the original moved on it, counting
    -- earlier reversals; checked before any money moves.
    SELECT x.* INTO bad FROM (
        SELECT m.account_id, coalesce(sum(m.amount) FILTER (WHERE m.tx_id = orig), 0) AS o_amt,
               coalesce(sum(m.amount) FILTER (WHERE m.tx_id IS DISTINCT FROM orig), 0) AS r_amt
        FROM (
            SELECT e.tx_id, e.account_id, e.amount FROM ledger_entries e
            WHERE e.tx_id = orig OR e.tx_id IN (SELECT t.id FROM ledger_transactions t WHERE t.reverses_id = orig)
            UNION ALL
            SELECT NULL, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'from'), -(j->>'amount')::bigint
            FROM jsonb_array_elements(coalesce(inv, '[]')) j
            UNION ALL
            SELECT NULL, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'to'), (j->>'amount')::bigint
            FROM jsonb_array_elements(coalesce(inv, '[]')) j
            UNION ALL
            SELECT NULL, (s->>'id')::bigint, (s->>'u')::bigint FROM jsonb_array_elements(coalesce(sides, '[]')) s
        ) m GROUP BY m.account_id) x
    WHERE x.r_amt <> 0 AND (sign(x.r_amt) = sign(x.o_amt) OR abs(x.r_amt) > abs(x.o_amt))
    LIMIT 1;
    IF FOUND THEN
        PERFORM ledger_raise('RL003',
            format('the reversals of transaction %s would move more than it moved on %s', orig,
                   coalesce((SELECT a.path FROM ledger_accounts a WHERE a.id = bad.account_id), 'an account it did not touch')),
            jsonb_build_object('transaction_id', orig, 'original', abs(bad.o_amt), 'reversed', abs(bad.r_amt)));
    END IF;
    n_entries := ledger_apply(tx_id, beg.eff, beg.at, 'reverse', inv, sides,
                         ARRAY[orig] || CASE WHEN o.hold_id IS NOT NULL THEN ARRAY[o.hold_id] ELSE '{}'::bigint[] END);
END $$;
