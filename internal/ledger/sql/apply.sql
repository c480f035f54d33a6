-- The locking write path: holds, captures, voids, reversals. One PL/pgSQL
-- call per ledger transaction (ledger_hold, ledger_capture, ledger_void,
-- ledger_reverse): one round trip, row locks held for microseconds, taken
-- in a fixed order (plain accounts by id, then hot ones). The entry points
-- force generic plans: their statements' plans do not depend on the values,
-- and re-planning them on every call (PostgreSQL's custom-plan heuristic
-- picks that for jsonb arguments) costs more than all their execution.

-- ledger_apply moves the money of one transaction and returns how many
-- entries it wrote (callers assign the result rather than PERFORM the call:
-- an assignment is a simple expression, PERFORM a query). It resolves the
-- accounts, updates their balances in a fixed order (plain accounts by id,
-- then hot ones) with the floor checked in the same UPDATE, writes the entries, and keeps lots.
--
--   p_mode     post | hold | capture | void | reverse | sweep
--   p_postings [{from, to, amount, category?, tax_bucket?, lot?, only_lots?}] by account path;
--              only_lots (exactly these lots, expired or not) in sweep mode only
--   p_sides    [{id, u, rel}] by account id: u is a universal amount (credit +);
--              rel marks a hold's entry being released (capture, void)
--   p_origin   reversals and captures: the transactions whose lot
--              consumption a credit gives back
CREATE OR REPLACE FUNCTION ledger_apply(p_tx bigint, p_eff timestamptz, p_at timestamptz, p_mode text, p_postings jsonb,
                             p_sides jsonb, p_origin bigint[]) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    acc record;
    sgn int;
    dp bigint; dout bigint; din bigint;   -- normal-side changes of posted, pending_out, pending_in
    avail bigint;
    found_row boolean;
    entry_ids bigint[] := '{}';
    entry_amts bigint[] := '{}';
    assets text[] := '{}';
    lot_paths jsonb := '{}';       -- path -> account id, for lot-tracked accounts in this transaction
    consumed jsonb := '{}';        -- account id -> {ids, takes} for mirroring
    c record;
    r record;
    left_over bigint;
    n_lot_credits int := 0;
    pj jsonb;
    only_ids bigint[];
    -- the lot-tracked credits: account, source account, amount, lot spec
    cr_to bigint[] := '{}'; cr_from bigint[] := '{}'; cr_amt bigint[] := '{}'; cr_lot jsonb[] := '{}';
    cto bigint; cfrom bigint; camt bigint; clot jsonb;
    shards_used jsonb := '{}';     -- hot account id -> the shard its credit went to (day lots are per shard)
    sh int;
BEGIN
    -- Loops over the few postings use PL/pgSQL's simple expressions, not
    -- queries: each query costs an executor start, which on this path
    -- costs more than the work it does.
    FOR i IN 0 .. coalesce(jsonb_array_length(p_postings), 0) - 1 LOOP
        pj := p_postings->i;
        IF pj->>'from' IS NULL OR pj->>'to' IS NULL OR pj->>'from' = pj->>'to'
           OR jsonb_typeof(pj->'amount') <> 'number' OR (pj->>'amount')::numeric <= 0
           OR (pj->>'amount')::numeric > 1000000000000 THEN
            PERFORM ledger_raise('RL003', 'every posting needs two different accounts and an amount between 1 cent and 10 billion euro',
                                 '{"field":"postings"}');
        END IF;
    END LOOP;
    FOR acc IN
        WITH ps AS (SELECT j FROM jsonb_array_elements(coalesce(p_postings, '[]')) j),
        sides AS (
            SELECT j->>'from' AS path, (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'from') AS id,
                   -(j->>'amount')::bigint AS u, false AS rel, j->>'category' AS cat, j->>'tax_bucket' AS tax,
                   j->'only_lots' AS only_lots, 1 AS n_out, 0 AS n_in
            FROM ps
            UNION ALL
            SELECT j->>'to', (SELECT a.id FROM ledger_accounts a WHERE a.path = j->>'to'),
                   (j->>'amount')::bigint, false, NULL, NULL, NULL, 0, 1
            FROM ps
            UNION ALL
            SELECT NULL, (s->>'id')::bigint, (s->>'u')::bigint, coalesce((s->>'rel')::boolean, false), NULL, NULL, NULL,
                   CASE WHEN NOT coalesce((s->>'rel')::boolean, false) AND (s->>'u')::bigint < 0 THEN 1 ELSE 0 END,
                   CASE WHEN NOT coalesce((s->>'rel')::boolean, false) AND (s->>'u')::bigint > 0 THEN 1 ELSE 0 END
            FROM jsonb_array_elements(coalesce(p_sides, '[]')) s
        )
        SELECT a.id, a.path, a.asset, a.normal_side, a.floor, a.lots, a.shards, a.status,
               g.u_post, g.u_rel, g.cat, g.cat_max, g.tax, g.tax_max, g.n_out, g.n_in, g.only_lots, g.wanted
        FROM (SELECT s.id,
                     coalesce(sum(s.u) FILTER (WHERE NOT s.rel), 0)::bigint AS u_post,
                     coalesce(sum(s.u) FILTER (WHERE s.rel), 0)::bigint AS u_rel,
                     min(s.cat) AS cat, max(s.cat) AS cat_max, min(s.tax) AS tax, max(s.tax) AS tax_max,
                     sum(s.n_out)::int AS n_out, sum(s.n_in)::int AS n_in,
                     (array_agg(s.only_lots) FILTER (WHERE s.only_lots IS NOT NULL))[1] AS only_lots,
                     min(s.path) AS wanted
              FROM sides s GROUP BY s.id) g
        -- a lateral lookup per account (OFFSET 0 keeps it one): the planner
        -- cannot know the postings are few and would scan every account
        LEFT JOIN LATERAL (SELECT * FROM ledger_accounts x WHERE x.id = g.id OFFSET 0) a ON true
        -- lock order: plain accounts by id, then hot (sharded) ones by id, so a
        -- transaction never holds a hot shard while it waits for another row
        ORDER BY a.id IS NOT NULL, a.shards > 1, a.id
    LOOP
        IF acc.id IS NULL THEN
            PERFORM ledger_raise('RL002', format('unknown account %s', acc.wanted),
                                 jsonb_build_object('account', acc.wanted));
        END IF;
        IF acc.status <> 'open' AND (acc.u_post <> 0 AND p_mode NOT IN ('capture', 'void')) THEN
            PERFORM ledger_raise('RL004', format('account %s is %s', acc.path, acc.status),
                                 jsonb_build_object('account', acc.path, 'status', acc.status));
        END IF;
        IF acc.lots AND acc.n_out > 0 AND acc.n_in > 0 THEN
            -- its lots would be created at the gross credit while its
            -- balance moves by the net
            PERFORM ledger_raise_error(ledger_lots_both_ways(acc.path));
        END IF;
        IF acc.cat IS DISTINCT FROM acc.cat_max THEN
            PERFORM ledger_raise('RL003', format('postings from %s name different categories', acc.path),
                                 jsonb_build_object('account', acc.path));
        END IF;
        IF acc.tax IS DISTINCT FROM acc.tax_max THEN
            PERFORM ledger_raise('RL003', format('postings from %s name different tax buckets', acc.path),
                                 jsonb_build_object('account', acc.path));
        END IF;
        assets := assets || acc.asset;
        sgn := CASE WHEN acc.normal_side = 'credit' THEN 1 ELSE -1 END;
        dp := 0; dout := 0; din := 0;
        IF p_mode = 'hold' THEN
            IF acc.u_post * sgn < 0 THEN dout := -acc.u_post * sgn; ELSE din := acc.u_post * sgn; END IF;
            IF din > 0 AND acc.lots THEN
                PERFORM ledger_raise('RL003', format('a hold cannot credit %s, whose credits are lots', acc.path),
                                     jsonb_build_object('account', acc.path));
            END IF;
        ELSE
            dp := acc.u_post * sgn;
        END IF;
        IF acc.u_rel <> 0 THEN   -- releasing a hold's pending amounts
            IF acc.u_rel * sgn < 0 THEN dout := dout + acc.u_rel * sgn; ELSE din := din - acc.u_rel * sgn; END IF;
        END IF;
        IF p_mode = 'capture' AND acc.u_post * sgn < 0 AND (acc.u_rel * sgn >= 0 OR acc.u_post * sgn < acc.u_rel * sgn) THEN
            PERFORM ledger_raise('RL003',
                format('a capture may take from %s at most what the hold reserved there', acc.path),
                jsonb_build_object('account', acc.path, 'held', greatest(-acc.u_rel * sgn, 0),
                                   'requested', -acc.u_post * sgn));
        END IF;
        CONTINUE WHEN dp = 0 AND dout = 0 AND din = 0 AND acc.u_post = 0;

        IF acc.floor IS NOT NULL AND dp - dout < 0 THEN
            -- available decreases: check the floor in the same statement
            IF acc.shards = 1 THEN
                UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                             pending_in = b.pending_in + din
                WHERE b.account_id = acc.id AND b.shard = 0
                  AND ledger_fits(b.posted - b.pending_out, dp - dout, acc.floor);
                found_row := FOUND;
                IF NOT found_row THEN
                    SELECT b.posted - b.pending_out INTO avail FROM ledger_balances b WHERE b.account_id = acc.id;
                END IF;
            ELSE
                SELECT sum(x.posted - x.pending_out) INTO avail FROM (
                    SELECT b.posted, b.pending_out FROM ledger_balances b
                    WHERE b.account_id = acc.id ORDER BY b.shard FOR UPDATE) x;
                found_row := ledger_fits(avail, dp - dout, acc.floor);
                IF found_row THEN
                    UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                                 pending_in = b.pending_in + din
                    WHERE b.account_id = acc.id AND b.shard = 0;
                END IF;
            END IF;
            IF NOT found_row THEN
                PERFORM ledger_raise_error(ledger_insufficient(acc.path, avail, acc.floor, dout - dp));
            END IF;
        ELSIF acc.shards = 1 OR dout <> 0 THEN
            UPDATE ledger_balances b SET posted = b.posted + dp, pending_out = b.pending_out + dout,
                                         pending_in = b.pending_in + din
            WHERE b.account_id = acc.id AND b.shard = 0;
        ELSE
            -- A hot account: a free shard (this backend's own first, so a
            -- transaction, or a batch, crediting it twice takes one), as
            -- the batch's write stage takes one; every shard busy: queue
            -- for this backend's. Hot accounts are locked last, so a
            -- writer never holds a shard while it waits for another row.
            UPDATE ledger_balances b SET posted = b.posted + dp, pending_in = b.pending_in + din
            WHERE b.account_id = acc.id AND b.shard = (
                SELECT bb.shard FROM ledger_balances bb WHERE bb.account_id = acc.id
                ORDER BY (bb.shard + pg_backend_pid()) % acc.shards LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING b.shard INTO sh;
            IF NOT FOUND THEN
                UPDATE ledger_balances b SET posted = b.posted + dp, pending_in = b.pending_in + din
                WHERE b.account_id = acc.id AND b.shard = pg_backend_pid() % acc.shards
                RETURNING b.shard INTO sh;
            END IF;
            shards_used := shards_used || jsonb_build_object(acc.id::text, sh);
        END IF;

        IF acc.u_post <> 0 THEN
            entry_ids := entry_ids || acc.id;
            entry_amts := entry_amts || acc.u_post;
        END IF;

        IF acc.lots THEN
            lot_paths := lot_paths || jsonb_build_object(acc.path, acc.id);
            IF p_mode IN ('capture', 'void') AND acc.u_rel * sgn < 0 THEN
                -- give back what the hold reserved and the capture does not take
                left_over := ledger_restore_lots(p_tx, acc.id, (acc.u_post - acc.u_rel) * sgn, p_origin);
                IF left_over <> 0 THEN
                    RAISE EXCEPTION 'ledger: hold % reserved lots on % that cannot be found', p_origin[1], acc.path;
                END IF;
            ELSIF p_mode IN ('post', 'hold', 'reverse', 'sweep') AND acc.u_post * sgn < 0 THEN
                only_ids := NULL;
                IF acc.only_lots IS NOT NULL AND p_mode = 'sweep' THEN
                    only_ids := (SELECT array_agg(x::bigint) FROM jsonb_array_elements_text(acc.only_lots) x);
                END IF;
                -- a simple expression (no subquery in it): no executor start
                c := ledger_consume_lots(p_tx, p_at, acc.id, acc.path, -acc.u_post * sgn, acc.cat, acc.tax, only_ids,
                                         CASE WHEN p_mode = 'reverse' THEN p_origin END);
                IF acc.n_out = 1 THEN
                    consumed := consumed || jsonb_build_object(acc.id::text, jsonb_build_object('ids', c.ids, 'takes', c.takes));
                END IF;
            ELSIF acc.u_post * sgn > 0 THEN
                n_lot_credits := n_lot_credits + 1;
            END IF;
        END IF;
    END LOOP;

    IF cardinality(entry_ids) = 0 AND p_mode <> 'void' THEN
        PERFORM ledger_raise_error(ledger_no_entries());
    END IF;
    IF cardinality(array_positions(assets, assets[1])) <> cardinality(assets) THEN
        PERFORM ledger_raise('RL003', 'a transaction moves one asset only', '{"field":"postings"}');
    END IF;
    IF cardinality(entry_ids) > 0 THEN
        INSERT INTO ledger_entries (tx_id, account_id, amount, effective_at)
        SELECT p_tx, x.a, x.u, p_eff FROM unnest(entry_ids, entry_amts) AS x(a, u);
    END IF;

    IF n_lot_credits = 0 THEN
        RETURN cardinality(entry_ids);
    END IF;
    -- Credits to lot-tracked accounts become lots: as the posting says
    -- (lot; a split's fund part grows its day lot), moved along from the lots the source gave (mirror), given back
    -- to the lots the original consumed (reversal), or a plain lot.
    FOR i IN 0 .. coalesce(jsonb_array_length(p_postings), 0) - 1 LOOP
        pj := p_postings->i;
        IF lot_paths ? (pj->>'to') THEN
            cr_to := cr_to || (lot_paths->>(pj->>'to'))::bigint;
            cr_from := cr_from || (lot_paths->>(pj->>'from'))::bigint;
            cr_amt := cr_amt || (pj->>'amount')::bigint;
            cr_lot := cr_lot || (pj->'lot');
        END IF;
    END LOOP;
    IF p_sides IS NOT NULL THEN
        FOR r IN SELECT (s->>'id')::bigint AS to_id, (s->>'u')::bigint AS amount
                 FROM jsonb_array_elements(p_sides) s
                 WHERE NOT coalesce((s->>'rel')::boolean, false) AND (s->>'u')::bigint > 0
                   AND (SELECT a.lots FROM ledger_accounts a WHERE a.id = (s->>'id')::bigint)
        LOOP
            cr_to := cr_to || r.to_id; cr_from := cr_from || NULL::bigint;
            cr_amt := cr_amt || r.amount; cr_lot := cr_lot || NULL::jsonb;
        END LOOP;
    END IF;
    FOR i IN 1 .. cardinality(cr_to) LOOP
        cto := cr_to[i]; cfrom := cr_from[i]; camt := cr_amt[i]; clot := cr_lot[i];
        left_over := camt;
        IF p_mode = 'reverse' THEN
            left_over := ledger_restore_lots(p_tx, cto, camt, p_origin);
            CONTINUE WHEN left_over = 0;
        END IF;
        IF clot ? 'group' THEN
            -- a split's fund part: the day lot of its group and shard
            PERFORM ledger_grow_lots(ARRAY[p_tx], ARRAY[cto],
                                     ARRAY[(clot->>'group') || '|' || coalesce(shards_used->>cto::text, '0')],
                                     ARRAY[clot->'attrs'], ARRAY[left_over]);
        ELSIF clot IS NULL AND cfrom IS NOT NULL AND consumed ? cfrom::text AND p_mode <> 'reverse' THEN
            INSERT INTO ledger_lots (account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
            SELECT cto, p_tx, l.id, l.expires_at, l.categories, l.attrs, x.t, x.t
            FROM unnest((SELECT array_agg(v::bigint) FROM jsonb_array_elements_text(consumed->cfrom::text->'ids') v),
                        (SELECT array_agg(v::bigint) FROM jsonb_array_elements_text(consumed->cfrom::text->'takes') v))
                 AS x(id, t)
            JOIN ledger_lots l ON l.id = x.id;
        ELSE
            INSERT INTO ledger_lots (account_id, tx_id, expires_at, categories, attrs, amount, remaining)
            VALUES (cto, p_tx, (clot->>'expires_at')::timestamptz,
                    CASE WHEN clot->'categories' IS NULL THEN '{}'::text[]
                         ELSE coalesce((SELECT array_agg(v) FROM jsonb_array_elements_text(clot->'categories') v), '{}') END,
                    coalesce(clot->'attrs', '{}'), left_over, left_over);
        END IF;
    END LOOP;
    RETURN cardinality(entry_ids);
END $$;
