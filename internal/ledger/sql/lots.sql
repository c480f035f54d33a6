-- ledger_consume_lots takes p_amount from an account's lots: FIFO by expiry,
-- only unexpired lots whose categories allow p_category (p_only: exactly
-- these lots, expired or not — the expiry sweep; p_prefer: lots created by
-- these transactions first — reversals). The account's balance row is
-- already locked by the caller, which serialises every lot change of the
-- account. Returns the lots and amounts taken.
CREATE OR REPLACE FUNCTION ledger_consume_lots(p_tx bigint, p_account bigint, p_path text, p_amount bigint,
                                    p_category text, p_only bigint[], p_prefer bigint[],
                                    OUT ids bigint[], OUT takes bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    need bigint := p_amount;
    r record;
    t bigint;
BEGIN
    ids := '{}'; takes := '{}';
    IF p_prefer IS NOT NULL THEN
        FOR r IN SELECT l.id, l.remaining FROM ledger_lots l
                 WHERE l.account_id = p_account AND l.live AND l.tx_id = ANY (p_prefer)
                 ORDER BY l.id
        LOOP
            t := least(r.remaining, need);
            ids := ids || r.id; takes := takes || t; need := need - t;
            EXIT WHEN need = 0;
        END LOOP;
    END IF;
    IF need > 0 THEN
        FOR r IN SELECT l.id, l.remaining FROM ledger_lots l
                 WHERE l.account_id = p_account AND l.live
                   AND (p_only IS NULL OR l.id = ANY (p_only))
                   AND (p_only IS NOT NULL OR l.expires_at IS NULL OR l.expires_at > now())
                   AND (p_category IS NULL OR l.categories = '{}' OR p_category = ANY (l.categories))
                   AND (p_prefer IS NULL OR NOT (l.tx_id = ANY (p_prefer)))
                 ORDER BY l.expires_at NULLS LAST, l.id
        LOOP
            t := least(r.remaining, need);
            ids := ids || r.id; takes := takes || t; need := need - t;
            EXIT WHEN need = 0;
        END LOOP;
    END IF;
    IF need > 0 THEN
        PERFORM ledger_raise('RL001',
            format('not enough spendable credit on %s%s', p_path,
                   CASE WHEN p_category IS NULL THEN '' ELSE ' for category ' || p_category END),
            jsonb_build_object('account', p_path, 'available', p_amount - need, 'required', p_amount,
                               'category', p_category));
    END IF;
    WITH u AS (
        UPDATE ledger_lots l SET remaining = l.remaining - x.t
        FROM unnest(ids, takes) AS x(id, t) WHERE l.id = x.id
        RETURNING l.id, x.t
    )
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount) SELECT p_tx, u.id, u.t FROM u;
END $$;

-- ledger_restore_lots gives back up to p_amount of what the p_origin
-- transactions consumed from the account's lots, latest expiry first, and
-- returns what could not be given back (the caller makes a plain lot of it).
CREATE OR REPLACE FUNCTION ledger_restore_lots(p_by bigint, p_account bigint, p_amount bigint, p_origin bigint[])
RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
    need bigint := p_amount;
    r record;
    t bigint;
    ids bigint[] := '{}'; takes bigint[] := '{}'; against bigint[] := '{}';
BEGIN
    IF p_amount <= 0 THEN
        RETURN 0;
    END IF;
    FOR r IN SELECT m.lot_id, coalesce(m.against_tx, m.tx_id) AS consumer, sum(m.amount) AS net
             FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
             WHERE l.account_id = p_account
               AND ((m.tx_id = ANY (p_origin) AND m.against_tx IS NULL) OR m.against_tx = ANY (p_origin))
             GROUP BY m.lot_id, coalesce(m.against_tx, m.tx_id), l.expires_at
             HAVING sum(m.amount) > 0
             ORDER BY l.expires_at DESC NULLS FIRST, m.lot_id DESC
    LOOP
        t := least(r.net, need);
        ids := ids || r.lot_id; takes := takes || t; against := against || r.consumer; need := need - t;
        EXIT WHEN need = 0;
    END LOOP;
    WITH u AS (
        UPDATE ledger_lots l SET remaining = l.remaining + x.t
        FROM unnest(ids, takes, against) AS x(id, t, a) WHERE l.id = x.id
        RETURNING l.id, x.t, x.a
    )
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, against_tx) SELECT p_by, u.id, -u.t, u.a FROM u;
    RETURN need;
END $$;
