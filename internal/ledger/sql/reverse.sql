-- ledger_reverse writes a transaction that undoes a posted one: fully (no
-- postings) or partly (postings in the original direction, which it
-- inverts). Reversals of one transaction never add up to more than it moved
-- on any account. Credits give lots back to where the original took them;
-- a fund's share comes back from the same company's money, and what the
-- fund has already spent of it is written off to platform:loss
-- (ledger_refund_shortfall), so the employee's refund always goes through.
-- Money given back to a wallet lot that has expired meanwhile is the next
-- expiry sweep's: the plan's residual policy disposes of it.
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
    adj record;
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
    adj := ledger_refund_shortfall(orig, inv, sides);
    inv := adj.inv; sides := adj.sides;
    n_entries := ledger_apply(tx_id, beg.eff, beg.at, 'reverse', inv, sides,
                         ARRAY[orig] || CASE WHEN o.hold_id IS NOT NULL THEN ARRAY[o.hold_id] ELSE '{}'::bigint[] END);
END $$;

-- ledger_refund_shortfall: a reversal takes a fund's share back from the
-- attribution it came from. For each lot account the reversal debits
-- whose lots the original created carry a company, only those lots and
-- the account's other lots of the same company may pay (ledger_consume_lots
-- keeps to them); what they no longer hold (the fund spent it) is debited
-- from platform:loss instead, visibly, rather than refusing the refund or
-- taking another company's money. Returns the reversal's postings (inv)
-- or sides, adjusted.
CREATE OR REPLACE FUNCTION ledger_refund_shortfall(p_orig bigint, p_inv jsonb, p_sides jsonb,
                                                   OUT inv jsonb, OUT sides jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    loss record;
    ids bigint[];
    companies text[];
    held bigint;
    short bigint;
    cut bigint;
    out jsonb;
    pj jsonb;
BEGIN
    inv := p_inv; sides := p_sides;
    FOR r IN
        WITH debits AS (
            SELECT (s->>'id')::bigint AS id, -(s->>'u')::bigint AS need
            FROM jsonb_array_elements(coalesce(p_sides, '[]')) s WHERE (s->>'u')::bigint < 0
            UNION ALL
            SELECT a.id, sum((j->>'amount')::bigint)
            FROM jsonb_array_elements(coalesce(p_inv, '[]')) j JOIN ledger_accounts a ON a.path = j->>'from'
            GROUP BY a.id)
        SELECT a.id, a.path, d.need FROM debits d JOIN ledger_accounts a ON a.id = d.id WHERE a.lots
    LOOP
        -- the lots the original credited (created, or grew: a day lot), and their companies
        ids := ledger_credited_lots(r.id, ARRAY[p_orig]);
        SELECT array_agg(DISTINCT x.attrs->>'company') INTO companies FROM ledger_lots x
        WHERE x.id = ANY (ids) AND x.attrs ? 'company';
        CONTINUE WHEN companies IS NULL;
        SELECT coalesce(sum(l.remaining), 0) INTO held FROM ledger_lots l
        WHERE l.account_id = r.id AND l.live AND (l.id = ANY (ids) OR l.attrs->>'company' = ANY (companies));
        short := r.need - held;
        CONTINUE WHEN short <= 0;
        SELECT a.id, a.path INTO loss FROM ledger_accounts a WHERE a.path = 'platform:loss';
        IF NOT FOUND THEN
            PERFORM ledger_raise('RL002', format('%s no longer holds %s of this refund, and there is no platform:loss account to write it off to', r.path, short),
                                 jsonb_build_object('account', 'platform:loss'));
        END IF;
        IF p_sides IS NOT NULL THEN
            SELECT jsonb_agg(CASE WHEN (s->>'id')::bigint = r.id THEN jsonb_set(s, '{u}', to_jsonb((s->>'u')::bigint + short)) ELSE s END)
                   || jsonb_build_array(jsonb_build_object('id', loss.id, 'u', -short))
            INTO sides FROM jsonb_array_elements(sides) s;
        ELSE
            out := '[]';
            FOR pj IN SELECT x FROM jsonb_array_elements(inv) x LOOP
                IF pj->>'from' = r.path AND short > 0 THEN
                    cut := least(short, (pj->>'amount')::bigint);
                    short := short - cut;
                    out := out || jsonb_build_array(jsonb_build_object('from', loss.path, 'to', pj->>'to', 'amount', cut));
                    CONTINUE WHEN (pj->>'amount')::bigint = cut;
                    pj := jsonb_set(pj, '{amount}', to_jsonb((pj->>'amount')::bigint - cut));
                END IF;
                out := out || jsonb_build_array(pj);
            END LOOP;
            inv := out;
        END IF;
    END LOOP;
END $$;
