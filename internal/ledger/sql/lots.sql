-- Lots: which lots pay a debit, in one place. A debit of an account that
-- keeps lots takes them in spending order (earliest expiry first, lots
-- without expiry last, then oldest), skipping those expired at the time of
-- the write and those whose categories do not allow the debit's category.
-- ledger_pick_lots walks a list of lots by that rule; the batch
-- (ledger_batch_apply) calls it on the lots it holds in memory, the locking
-- path (ledger_consume_lots: holds, reversals, carry-overs) on the lots it
-- has just read. Neither has a rule of its own.

-- ledger_lot_spendable: a lot expiring at p_expires with categories
-- p_categories (a JSON array; empty: any) may pay for p_category (NULL:
-- any lot) at p_at. Inlined where it is used.
CREATE OR REPLACE FUNCTION ledger_lot_spendable(p_expires timestamptz, p_categories jsonb, p_category text,
                                                p_at timestamptz) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT (p_expires IS NULL OR p_expires > p_at)
       AND (p_category IS NULL OR p_categories = '[]' OR p_categories ? p_category)
$$;

-- ledger_pick_lots chooses the lots that pay p_need: it walks the lots
-- from p_first along l_next (NULL: the arrays' own order), which the
-- caller keeps in spending order, and takes from each usable one until the
-- need is covered. A lot is usable when it has something left and: it is
-- one of p_only (the expiry sweep: exactly these lots, expired or not), or
-- it is among the first p_free lots of the walk (a reversal's own lots,
-- given back first), or ledger_lot_spendable says so. It returns the lots'
-- positions in the arrays, the amounts, and what is left uncovered (0 when
-- the lots pay it all); it changes nothing.
CREATE OR REPLACE FUNCTION ledger_pick_lots(p_need bigint, p_category text, p_at timestamptz, p_only jsonb,
                                            p_free int, p_first int, l_next int[], l_id bigint[],
                                            l_exp timestamptz[], l_cats jsonb[], l_rem bigint[],
                                            OUT picks int[], OUT takes bigint[], OUT short bigint)
LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    j int := p_first;
    walked int := 0;
    t bigint;
    n int := cardinality(l_id);
BEGIN
    picks := '{}'; takes := '{}'; short := p_need;
    WHILE j IS NOT NULL AND short > 0 LOOP
        IF l_rem[j] > 0 AND (CASE WHEN p_only IS NOT NULL THEN p_only @> to_jsonb(l_id[j])
                                  WHEN walked < p_free THEN true
                                  ELSE ledger_lot_spendable(l_exp[j], l_cats[j], p_category, p_at) END) THEN
            t := least(l_rem[j], short);
            picks := picks || j; takes := takes || t; short := short - t;
        END IF;
        walked := walked + 1;
        j := CASE WHEN l_next IS NOT NULL THEN l_next[j] WHEN j < n THEN j + 1 END;
    END LOOP;
END $$;

-- ledger_lots_short is the refusal of a debit its lots cannot pay.
CREATE OR REPLACE FUNCTION ledger_lots_short(p_path text, p_category text, p_available bigint, p_required bigint)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT ledger_error('RL001', format('not enough spendable credit on %s%s', p_path,
                                        CASE WHEN p_category IS NULL THEN '' ELSE ' for category ' || p_category END),
                        jsonb_build_object('account', p_path, 'available', p_available, 'required', p_required,
                                           'category', p_category))
$$;

-- ledger_lots_both_ways refuses a transaction that debits and credits one
-- lot account: its lots would be created at the gross credit while its
-- balance moves by the net.
CREATE OR REPLACE FUNCTION ledger_lots_both_ways(p_path text) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT ledger_error('RL003', format('a transaction cannot both debit and credit %s, whose credits are lots', p_path),
                        jsonb_build_object('account', p_path))
$$;

-- ledger_consume_lots takes p_amount from an account's lots by
-- ledger_pick_lots, on the locking path: p_only, exactly these lots (the
-- expiry sweep's carry-over); p_prefer, lots credited by these transactions
-- (created or grown: ledger_credited_lots) first, as they are (a reversal gives back what the original created).
-- The account's balance row is already locked by the caller, which
-- serialises every lot change of the account. Returns the lots and amounts
-- taken.
CREATE OR REPLACE FUNCTION ledger_consume_lots(p_tx bigint, p_at timestamptz, p_account bigint, p_path text, p_amount bigint,
                                               p_category text, p_tax_bucket text, p_only bigint[], p_prefer bigint[],
                                               OUT ids bigint[], OUT takes bigint[])
LANGUAGE plpgsql AS $$
DECLARE
    l_id bigint[]; l_exp timestamptz[]; l_cats jsonb[]; l_rem bigint[];
    n_free int;
    c record;
    lot record;
    need bigint := p_amount;
    t bigint;
    pref_ids bigint[];
    companies text[];
    -- a cursor, not a FOR over the query: a cursor is planned for its first
    -- rows (cursor_tuple_fraction), so it walks ledger_lots_spend_idx instead
    -- of reading and sorting every live lot of the account
    spend CURSOR FOR SELECT x.id, x.remaining FROM ledger_lots x
        WHERE x.account_id = p_account AND x.live
          AND ledger_lot_spendable(x.expires_at, to_jsonb(x.categories), p_category, p_at)
        ORDER BY x.expires_at, x.id;
BEGIN
    IF p_only IS NULL AND p_prefer IS NULL THEN
        -- a plain debit: walk the live lots in spending order through
        -- ledger_lots_spend_idx and stop once the amount is covered, so a
        -- debit costs the lots it takes, not every lot the account holds
        -- (a fund pool holds thousands). The rule is ledger_pick_lots's
        -- with neither p_only nor p_free: ledger_lot_spendable.
        ids := '{}'; takes := '{}';
        FOR lot IN spend LOOP
            t := least(lot.remaining, need);
            ids := ids || lot.id; takes := takes || t; need := need - t;
            EXIT WHEN need = 0;
        END LOOP;
        IF need > 0 THEN
            PERFORM ledger_raise_error(ledger_lots_short(p_path, p_category, p_amount - need, p_amount));
        END IF;
        WITH u AS (
            UPDATE ledger_lots x SET remaining = x.remaining - y.t
            FROM unnest(ids, takes) AS y(id, t) WHERE x.id = y.id
            RETURNING x.id, y.t
        )
        INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, category, tax_bucket)
        SELECT p_tx, u.id, u.t, p_category, p_tax_bucket FROM u;
        RETURN;
    END IF;
    -- a reversal: the lots the original credited (created or grew), first
    IF p_prefer IS NOT NULL THEN
        pref_ids := ledger_credited_lots(p_account, p_prefer);
        SELECT array_agg(DISTINCT o.attrs->>'company') INTO companies FROM ledger_lots o
        WHERE o.id = ANY (pref_ids) AND o.attrs ? 'company';
    END IF;
    -- the account's live lots, in the order the walk takes them
    SELECT coalesce(array_agg(x.id), '{}'), coalesce(array_agg(x.expires_at), '{}'),
           coalesce(array_agg(to_jsonb(x.categories)), '{}'), coalesce(array_agg(x.remaining), '{}'),
           count(*) FILTER (WHERE x.pref)
    INTO l_id, l_exp, l_cats, l_rem, n_free
    FROM (SELECT l.id, l.expires_at, l.categories, l.remaining, p.id IS NOT NULL AS pref
          FROM ledger_lots l LEFT JOIN unnest(pref_ids) AS p(id) ON p.id = l.id   -- a hash, not a search per lot
          WHERE l.account_id = p_account AND l.live AND (p_only IS NULL OR l.id = ANY (p_only))
            -- a reversal: the original's lots, then only lots of the same company
            -- when the original's carry one (ledger_refund_shortfall)
            AND (p_prefer IS NULL OR p.id IS NOT NULL OR companies IS NULL OR l.attrs->>'company' = ANY (companies))
          ORDER BY p.id IS NOT NULL DESC, p.id, l.expires_at NULLS LAST, l.id) x;
    c := ledger_pick_lots(p_amount, p_category, p_at, to_jsonb(p_only), n_free,
                          CASE WHEN cardinality(l_id) > 0 THEN 1 END, NULL, l_id, l_exp, l_cats, l_rem);
    IF c.short > 0 THEN
        PERFORM ledger_raise_error(ledger_lots_short(p_path, p_category, p_amount - c.short, p_amount));
    END IF;
    ids := '{}';
    FOR i IN 1 .. cardinality(c.picks) LOOP
        ids := ids || l_id[c.picks[i]];
    END LOOP;
    takes := c.takes;
    WITH u AS (
        UPDATE ledger_lots l SET remaining = l.remaining - x.t
        FROM unnest(ids, takes) AS x(id, t) WHERE l.id = x.id
        RETURNING l.id, x.t
    )
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, category, tax_bucket)
    SELECT p_tx, u.id, u.t, p_category, p_tax_bucket FROM u;
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

-- Day lots. A fund's contributor lots are grouped: one lot per (fund
-- account, company, split policy version, day of the effective time in
-- Italian time, balance shard), not one per redemption. Attribution by
-- company and period is all the reports need, and a debit of the pool then
-- walks a lot per company and day, not one per redemption. The shard is
-- the balance row of the hot account the contribution went to: writers
-- that hold different shards grow different lots, so grouping adds no
-- contention to the sharded pool.
--
-- A lot's amount never changes (its creating transaction's audit-log leaf
-- covers it). A later contribution to the group is a lot move with a
-- negative amount and no against_tx, made by the contributing transaction
-- (so its leaf covers it), and adds to the lot's grown: remaining = amount
-- - sum(moves) holds as for every lot, and remaining <= amount + grown.

-- ledger_day_lot is the lot spec of a split's fund part: attrs the company
-- (from fund_attrs), the policy and its version, and the day; "group" the
-- group's key but for the shard (ledger_grow_lots adds it).
CREATE OR REPLACE FUNCTION ledger_day_lot(p_fund_attrs jsonb, p_policy text, p_version int, p_eff timestamptz)
RETURNS jsonb LANGUAGE plpgsql IMMUTABLE AS $$
DECLARE
    -- simple expressions only: the batch calls it once per redemption
    a jsonb := jsonb_strip_nulls(jsonb_build_object('company', p_fund_attrs->'company', 'policy', p_policy,
                                                    'policy_version', p_version,
                                                    'day', to_char(p_eff AT TIME ZONE 'Europe/Rome', 'YYYY-MM-DD')));
BEGIN
    RETURN jsonb_build_object('attrs', a, 'group',
                              format('%s|%s:%s|%s', coalesce(a->>'company', ''), p_policy, p_version, a->>'day'));
END $$;

-- ledger_grow_lots credits day lots: for each i, p_amt[i] by transaction
-- p_tx[i] to the lot of account p_acc[i] in group p_key[i] (with the
-- shard), created with p_attrs[i] by the first credit of a group that has
-- no lot yet, grown by the others. One statement: an upsert on the group's
-- unique index, so concurrent writers of one group never make two lots,
-- taking the lots in (account, key) order. PL/pgSQL rather than SQL only
-- so that the statement's plan is cached: a SQL function called by a
-- statement is parsed and planned again at every call, which cost three
-- times the statement itself, once per batch and per redemption on the
-- locking path (docs/benchmarks.md).
CREATE OR REPLACE FUNCTION ledger_grow_lots(p_tx bigint[], p_acc bigint[], p_key text[], p_attrs jsonb[], p_amt bigint[])
RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    WITH c AS (
        SELECT u.tx, u.acc, u.key, u.attrs, u.amt, u.o
        FROM unnest(p_tx, p_acc, p_key, p_attrs, p_amt) WITH ORDINALITY AS u(tx, acc, key, attrs, amt, o)
    ), g AS (
        SELECT DISTINCT ON (c.acc, c.key) c.acc, c.key, c.tx, c.attrs, c.amt,
               sum(c.amt) OVER (PARTITION BY c.acc, c.key) AS total
        FROM c ORDER BY c.acc, c.key, c.o
    ), up AS (
        INSERT INTO ledger_lots AS l (account_id, tx_id, attrs, amount, remaining, grown, group_key)
        SELECT g.acc, g.tx, g.attrs, g.amt, g.total, g.total - g.amt, g.key FROM g ORDER BY g.acc, g.key
        ON CONFLICT (account_id, group_key) WHERE group_key IS NOT NULL
        DO UPDATE SET remaining = l.remaining + excluded.remaining, grown = l.grown + excluded.remaining
        RETURNING l.id, l.account_id, l.group_key, l.tx_id
    )
    -- every credit but the one that created the lot is a growth move
    INSERT INTO ledger_lot_moves (tx_id, lot_id, amount)
    SELECT c.tx, up.id, -c.amt FROM c JOIN up ON up.account_id = c.acc AND up.group_key = c.key
    WHERE up.tx_id <> c.tx;
END $$;

-- ledger_credited_lots: the lots of p_account that the p_txs transactions
-- credited: created, or grew (a day lot). A reversal gives back from them
-- first.
CREATE OR REPLACE FUNCTION ledger_credited_lots(p_account bigint, p_txs bigint[]) RETURNS bigint[]
LANGUAGE sql STABLE AS $$
    SELECT coalesce(array_agg(x.id), '{}') FROM (
        SELECT l.id FROM ledger_lots l WHERE l.tx_id = ANY (p_txs) AND l.account_id = p_account
        UNION
        SELECT m.lot_id FROM ledger_lot_moves m JOIN ledger_lots l ON l.id = m.lot_id
        WHERE m.tx_id = ANY (p_txs) AND m.amount < 0 AND m.against_tx IS NULL AND l.account_id = p_account) x
$$;

-- ledger_own_postings is a request's postings (none: []) with no day-lot
-- group in their lot specs: only a split's fund part grows a day lot.
-- PL/pgSQL: as a SQL function (never inlined: it has a subquery) it was
-- parsed and planned again by every ledger_post and ledger_capture.
CREATE OR REPLACE FUNCTION ledger_own_postings(p_postings jsonb) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE AS $$
BEGIN
    IF p_postings IS NULL OR jsonb_typeof(p_postings) <> 'array' THEN
        RETURN coalesce(p_postings, '[]');
    END IF;
    RETURN coalesce((SELECT jsonb_agg(CASE WHEN jsonb_typeof(j) = 'object' THEN j #- '{lot,group}' ELSE j END ORDER BY o)
                     FROM jsonb_array_elements(p_postings) WITH ORDINALITY AS x(j, o)), '[]');
END $$;
