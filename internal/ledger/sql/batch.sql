-- Posted transactions are written in batches (internal/ledger.PostBatch and
-- the Batcher), and so are the Batcher's holds, captures and voids (a lone
-- request takes the locking path: ledger_post, ops.sql). A batch is one
-- statement in one database transaction. It reads what its requests need (accounts,
-- available balances, lots, policies, keys already used) without locking,
-- applies the requests one after the other in memory (floors, lots FIFO by
-- expiry, splits, idempotency), and then writes the result with one
-- statement per table. A request that fails leaves no trace and does not
-- stop the others; its error comes back in its place.
--
-- Locks are taken only by the final writes, and in one global order:
-- balance rows of plain accounts by id, then hot accounts by id (a free
-- shard for a credit, every shard for a debit), then lots by id. Each of
-- those writes is relative (posted + d, remaining - t) and guarded (the
-- floor, remaining >= t): if another writer changed a row so that the
-- batch no longer fits, the batch raises 40001 and is retried as a whole
-- (the Go side does that). So rows are locked for the last few statements
-- and the commit only, and batches that share a provider run side by side.
--
-- Three stages, each its own function: ledger_batch_read (one query per
-- table, no locks), ledger_batch_apply (the requests in memory; no query
-- at all) and ledger_batch_write (one statement per table, locks in
-- order). ledger_post_batch runs them and passes what each returns to the
-- next: arrays, once per batch, whatever its size.
--
-- Why: a posted transaction written on its own costs about ten statements
-- and a commit, and under many clients the row locks it takes early
-- (provider payables, hot shards) are held while other backends wait. In a
-- batch the statements and the commit are shared by all its requests.

-- ledger_post_batch writes ps, a JSON array of post requests (as
-- ledger_post takes them, without "hold") and of {"op": "hold" |
-- "capture" | "void" | "post", "req": …} documents (req as ledger_hold
-- and ledger_capture take it; a void's is {"hold_id"}), in order, and
-- returns an array with one element per request: {"tx_id", "replayed"} or {"code",
-- "message", "detail"} (the codes ledger_raise uses). It raises 40001
-- (serialization failure: retry the batch) when a concurrent writer
-- changed what it read so that the batch no longer fits, or committed one
-- of its idempotency keys first (the retry then replays it).
--
-- With p_lock_timeout_ms > 0 it waits at most that long for a row lock
-- (55P03 lock_not_available then: the Batcher writes the requests one by
-- one).
--
-- With p_lock (the Go side's retry after such a conflict, and every batch
-- written inside a caller's transaction) the read stage first locks the
-- balance rows of every account the batch names, in the write stage's
-- order: nothing it read can change before it commits, so its guarded
-- writes cannot fail and a retry always makes progress.
--
-- Every statement of its stages is a lookup by key, and their plans are
-- generic and cached per connection: planned while a table is small (a new
-- database), a lookup would become a full scan as the table grows. So
-- sequential scans are off while it runs (the stages inherit its
-- settings; they are called from here only).
CREATE OR REPLACE FUNCTION ledger_post_batch(ps jsonb, p_lock boolean DEFAULT false, p_lock_timeout_ms int DEFAULT 0)
RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan SET enable_seqscan = off SET jit = off AS $$
DECLARE
    r record;
    a record;
    n int;
BEGIN
    IF coalesce(jsonb_array_length(ps), 0) = 0 THEN
        RETURN '[]';
    END IF;
    IF p_lock_timeout_ms > 0 THEN  -- for this transaction (the Batcher's statement) only
        PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    END IF;
    r := ledger_batch_read(ps, p_lock, 64);
    a := ledger_batch_apply(ps, r.amap, r.a_id, r.a_path, r.a_asset, r.a_sgn, r.a_floor, r.a_lots, r.a_status,
                            r.a_avail, r.a_first, r.existing, r.pol_id, r.pol_name, r.pol_version, r.pol_from,
                            r.pol_fund, r.pol_fee, r.pol_rem, r.pol_attrs,
                            r.l_id, r.l_acc, r.l_exp, r.l_cats, r.l_attrs, r.l_rem, r.l_next, r.a_trunc, r.closed,
                            r.a_shards, r.holds);
    IF a.more_lots THEN
        -- a debit its account's first lots in spending order could not pay:
        -- read every spendable lot of the accounts the batch debits, and
        -- apply again (the first pass wrote nothing)
        r := ledger_batch_read(ps, p_lock, NULL);
        a := ledger_batch_apply(ps, r.amap, r.a_id, r.a_path, r.a_asset, r.a_sgn, r.a_floor, r.a_lots, r.a_status,
                                r.a_avail, r.a_first, r.existing, r.pol_id, r.pol_name, r.pol_version, r.pol_from,
                                r.pol_fund, r.pol_fee, r.pol_rem, r.pol_attrs,
                                r.l_id, r.l_acc, r.l_exp, r.l_cats, r.l_attrs, r.l_rem, r.l_next, r.a_trunc, r.closed,
                                r.a_shards, r.holds);
    END IF;
    IF cardinality(a.t_id) > 0 THEN
        n := ledger_batch_write(a.t_id, a.t_key, a.t_hash, a.t_kind, a.t_ref, a.t_eff, a.t_pol, a.t_split, a.t_meta,
                                a.t_status, a.t_exp, a.t_hold,
                                a.e_tx, a.e_acc, a.e_amt, a.e_eff,
                                a.nl_id, a.nl_acc, a.nl_tx, a.nl_parent, a.nl_exp, a.nl_cats, a.nl_attrs,
                                a.nl_amount, a.nl_rem, a.m_tx, a.m_lot, a.m_amt, a.m_cat, a.m_tax, a.m_against,
                                r.a_id, r.a_floor, r.a_shards, r.n_plain, a.a_delta, a.a_dout, a.a_din,
                                a.lu_id, a.lu_take, a.ro_id, a.ro_amt, a.hr_id, a.hr_status, a.at,
                                a.g_tx, a.g_k, a.g_key, a.g_attrs, a.g_amt);
    END IF;
    RETURN a.res;
END $$;

-- ledger_batch_read: the read stage. It reads, without locking, what the
-- requests name: the accounts (by local index k: plain ones by id, then
-- hot ones by id, the order the write stage locks them in), the available
-- balances of the accounts they debit, the idempotency keys already used,
-- the split policies (newest version first per name), and the live lots of
-- the lot accounts they debit, in spending order: each such account's
-- lots form a list, from a_first[k] along l_next (a_first is NULL for an
-- account whose lots are not tracked, 0 for one with none).
-- (The aggregates take their rows in the order the window function, or
-- the subquery, sorted them: one sort per query, not one per array.)
CREATE OR REPLACE FUNCTION ledger_batch_read(ps jsonb, p_lock boolean, p_lot_limit int,
    OUT amap jsonb, OUT a_id bigint[], OUT a_path text[], OUT a_asset text[], OUT a_sgn int[], OUT a_floor bigint[],
    OUT a_lots boolean[], OUT a_shards int[], OUT a_status text[], OUT a_avail bigint[], OUT a_first int[],
    OUT n_plain int, OUT existing jsonb,
    OUT pol_id bigint[], OUT pol_name text[], OUT pol_version int[], OUT pol_from timestamptz[], OUT pol_fund int[],
    OUT pol_fee int[], OUT pol_rem text[], OUT pol_attrs jsonb[],
    OUT l_id bigint[], OUT l_acc bigint[], OUT l_exp timestamptz[], OUT l_cats jsonb[], OUT l_attrs jsonb[],
    OUT l_rem bigint[], OUT l_next int[], OUT a_trunc boolean[], OUT closed timestamptz, OUT holds jsonb)
LANGUAGE plpgsql AS $$
DECLARE
    n int := jsonb_array_length(ps);
    p jsonb; pj jsonb; s jsonb;
    paths text[] := '{}'; from_paths text[] := '{}'; pol_names text[] := '{}'; keys text[] := '{}';
    hold_ids bigint[] := '{}'; held_paths text[] := '{}'; hold_lots bigint[] := '{}';
    lot_accs bigint[] := '{}'; lot_ks int[];
    i int; j int; k int; q int; run int;
    now_ timestamptz := clock_timestamp();  -- lots expired now are expired when the batch is applied
BEGIN
    -- what the batch names (simple expressions: no query per request)
    FOR i IN 0 .. n - 1 LOOP
        p := ps->i;
        IF jsonb_typeof(p) = 'object' AND p ? 'op' THEN  -- {"op", "req"}: a hold, capture or void (or a post)
            IF p->>'op' IN ('capture', 'void') AND jsonb_typeof(p->'req'->'hold_id') = 'number' THEN
                hold_ids := hold_ids || (p->'req'->>'hold_id')::bigint;
                IF p->>'op' = 'void' THEN
                    keys := keys || ('hold-release:' || (p->'req'->>'hold_id'));
                END IF;
            END IF;
            p := p->'req';
        END IF;
        keys := keys || (p->>'key');
        s := p->'split';
        IF s IS NOT NULL THEN
            paths := paths || (s->>'from'); paths := paths || (s->>'provider');
            paths := paths || (s->>'fund'); paths := paths || (s->>'fees');
            from_paths := from_paths || (s->>'from');
            pol_names := pol_names || (s->>'policy');
        END IF;
        FOR q IN 0 .. coalesce(jsonb_array_length(p->'postings'), 0) - 1 LOOP
            pj := p->'postings'->q;
            paths := paths || (pj->>'from'); paths := paths || (pj->>'to');
            from_paths := from_paths || (pj->>'from');
        END LOOP;
    END LOOP;

    -- the holds the batch captures or voids (their rows first, by id, in
    -- the locking mode: the order every path takes them in), each with
    -- its entries (what it reserved) and the lots it consumed, in the
    -- order a release gives them back (ledger_restore_lots'): latest
    -- expiry first. Only pending holds need those.
    IF cardinality(hold_ids) > 0 THEN
        IF p_lock THEN
            PERFORM 1 FROM ledger_transactions t WHERE t.id = ANY (hold_ids) ORDER BY t.id FOR NO KEY UPDATE;
        END IF;
        SELECT jsonb_object_agg(t.id::text, jsonb_build_object('s', t.status, 'x', t.expires_at,
                                                  'e', coalesce(e.e, '[]'), 'l', coalesce(lm.l, '[]')))
        INTO holds
        FROM ledger_transactions t
        -- (each account and lot looked up by its key, never joined: with
        -- statistics that expect many entries a hold, the generic plan
        -- merge-joined them against a whole scan of ledger_accounts, which
        -- made a batch of captures three times slower; docs/benchmarks.md)
        LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_array((SELECT a.path FROM ledger_accounts a WHERE a.id = e.account_id),
                                                              e.amount) ORDER BY e.id) AS e
                           FROM ledger_entries e
                           WHERE e.tx_id = t.id AND t.status = 'pending') e ON true
        LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_array(m.lot_id, l.account_id, m.net, l.expires_at)
                                            ORDER BY l.expires_at DESC NULLS FIRST, m.lot_id DESC) AS l
                           FROM (SELECT mm.lot_id, sum(mm.amount) AS net FROM ledger_lot_moves mm
                                 WHERE mm.tx_id = t.id AND mm.against_tx IS NULL AND t.status = 'pending'
                                 GROUP BY mm.lot_id HAVING sum(mm.amount) > 0) m
                           CROSS JOIN LATERAL (SELECT z.account_id, z.expires_at FROM ledger_lots z
                                               WHERE z.id = m.lot_id) l) lm ON true
        WHERE t.id = ANY (hold_ids) AND t.status IN ('pending', 'captured', 'voided', 'expired');
        SELECT coalesce(array_agg(x->>0), '{}') INTO held_paths
        FROM jsonb_each(coalesce(holds, '{}')) h, jsonb_array_elements(h.value->'e') x;
        SELECT coalesce(array_agg((x->>0)::bigint), '{}') INTO hold_lots
        FROM jsonb_each(coalesce(holds, '{}')) h, jsonb_array_elements(h.value->'l') x;
        paths := paths || held_paths;
    END IF;
    holds := coalesce(holds, '{}');
    IF p_lock THEN  -- plain accounts by id, then every shard of the hot ones debited or held, by id
        PERFORM 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
        WHERE a.path = ANY (paths)
          AND ((a.shards = 1 AND b.shard = 0) OR (a.shards > 1 AND (a.path = ANY (from_paths) OR a.path = ANY (held_paths))))
        ORDER BY a.shards > 1, b.account_id, b.shard FOR UPDATE OF b;
    END IF;
    SELECT array_agg(a.id), array_agg(a.path), array_agg(a.asset),
           array_agg(CASE WHEN a.normal_side = 'credit' THEN 1 ELSE -1 END), array_agg(a.floor), array_agg(a.lots),
           array_agg(a.shards::int), array_agg(a.status),
           array_agg(CASE WHEN a.path = ANY (from_paths) THEN
                         (SELECT sum(b.posted - b.pending_out) FROM ledger_balances b WHERE b.account_id = a.id) END),
           array_agg(a.o) FILTER (WHERE a.lots AND a.path = ANY (from_paths)),
           jsonb_object_agg(a.path, a.o), count(*) FILTER (WHERE a.shards = 1)
    INTO a_id, a_path, a_asset, a_sgn, a_floor, a_lots, a_shards, a_status, a_avail, lot_ks, amap, n_plain
    FROM (SELECT x.*, row_number() OVER (ORDER BY x.shards > 1, x.id)::int AS o
          FROM ledger_accounts x WHERE x.path = ANY (paths)) a;
    amap := coalesce(amap, '{}');
    -- closed periods (its lock, held to the commit, makes a close wait for this batch)
    closed := ledger_closed_through();
    a_first := array_fill(NULL::int, ARRAY[coalesce(cardinality(a_id), 0)]);
    FOREACH k IN ARRAY coalesce(lot_ks, '{}') LOOP
        a_first[k] := 0;
        lot_accs := lot_accs || a_id[k];
    END LOOP;
    SELECT jsonb_object_agg(t.idempotency_key, jsonb_build_array(t.id, encode(t.request_hash, 'hex'))) INTO existing
    FROM ledger_transactions t WHERE t.idempotency_key = ANY (keys);
    existing := coalesce(existing, '{}');
    IF cardinality(pol_names) > 0 THEN
        SELECT array_agg(x.id), array_agg(x.name), array_agg(x.version), array_agg(x.valid_from),
               array_agg(x.fund_bps), array_agg(x.fee_bps), array_agg(x.remainder_to),
               array_agg(jsonb_build_object('policy', x.name, 'policy_version', x.version))
        INTO pol_id, pol_name, pol_version, pol_from, pol_fund, pol_fee, pol_rem, pol_attrs
        FROM (SELECT * FROM ledger_split_policies y WHERE y.name = ANY (pol_names) ORDER BY y.name, y.valid_from DESC) x;
    END IF;
    l_id := '{}'; l_acc := '{}'; l_exp := '{}'; l_cats := '{}'; l_attrs := '{}'; l_rem := '{}'; l_next := '{}';
    IF cardinality(lot_accs) > 0 THEN
        SELECT coalesce(array_agg(l.id), '{}'), coalesce(array_agg(l.account_id), '{}'),
               coalesce(array_agg(l.expires_at), '{}'), coalesce(array_agg(to_jsonb(l.categories)), '{}'),
               coalesce(array_agg(l.attrs), '{}'), coalesce(array_agg(l.remaining), '{}')
        INTO l_id, l_acc, l_exp, l_cats, l_attrs, l_rem
        FROM (SELECT y.* FROM (
                  SELECT x.o, z.* FROM unnest(lot_accs) WITH ORDINALITY AS x(id, o)
                  CROSS JOIN LATERAL (SELECT * FROM ledger_lots z
                                      WHERE z.account_id = x.id AND z.live AND (z.expires_at IS NULL OR z.expires_at > now_)
                                      ORDER BY z.expires_at, z.id LIMIT p_lot_limit) z
                  UNION ALL
                  -- on the second reading, the lots a release of this
                  -- batch gives back that have nothing left now (the
                  -- first reading leaves them out; ledger_batch_apply
                  -- asks again when it gives back to one of them)
                  SELECT x.o, z.* FROM unnest(lot_accs) WITH ORDINALITY AS x(id, o)
                  JOIN ledger_lots z ON z.account_id = x.id
                  WHERE p_lot_limit IS NULL AND z.id = ANY (hold_lots) AND NOT z.live
                    AND (z.expires_at IS NULL OR z.expires_at > now_)) y
              ORDER BY y.o, y.expires_at NULLS LAST, y.id) l;
    END IF;
    a_trunc := array_fill(false, ARRAY[coalesce(cardinality(a_id), 0)]);
    FOR j IN 1 .. cardinality(l_id) LOOP
        l_next := l_next || NULL::int;
        IF j > 1 AND l_acc[j - 1] = l_acc[j] THEN
            l_next[j - 1] := j;
            run := run + 1;
        ELSE
            k := array_position(a_id, l_acc[j]);
            a_first[k] := j;
            run := 1;
        END IF;
        IF run = p_lot_limit THEN
            a_trunc[k] := true;
        END IF;
    END LOOP;
END $$;

-- ledger_batch_apply: the apply stage. The requests, one after the other,
-- in memory, against what the read stage found and what the requests
-- before them left: idempotency, splits, postings resolved and summed per
-- account, account status, one asset, floors (ledger_fits), lots
-- (ledger_pick_lots). Every check comes before the request's first row is
-- added; a refused request gives back the lots it took and adds its error
-- to res. It runs no query (only nextval for the new rows' ids) and
-- returns the rows the write stage writes: transactions (t_), entries
-- (e_), new lots (nl_), lot moves (m_), each account's change of posted,
-- pending_out and pending_in (a_delta, a_dout, a_din, by k), what the
-- batch took from each lot it read (lu_, negative: gave back), what it
-- gave back to lots it did not read (ro_), and the holds it resolved
-- (hr_).
--
-- Holds, captures and voids ({"op", "req"}, as ledger_hold,
-- ledger_capture and ledger_void take them) are applied here too, by the
-- locking path's rules (ledger_apply): a hold moves pending amounts and
-- consumes lots as a debit would; a capture or a void resolves a pending
-- hold (once: a second one in the batch finds it resolved), releases what
-- the hold reserved and gives its lots back, latest expiry first, less
-- what a capture takes; a capture pays only the hold's parties
-- (ledger_capture_parties' rule) and takes at most what was held from each
-- account. The write stage resolves the holds with a guarded update.
CREATE OR REPLACE FUNCTION ledger_batch_apply(ps jsonb,
    amap jsonb, a_id bigint[], a_path text[], a_asset text[], a_sgn int[], a_floor bigint[], a_lots boolean[],
    a_status text[], a_avail bigint[], a_first int[], existing jsonb,
    pol_id bigint[], pol_name text[], pol_version int[], pol_from timestamptz[], pol_fund int[], pol_fee int[],
    pol_rem text[], pol_attrs jsonb[],
    l_id bigint[], l_acc bigint[], l_exp timestamptz[], l_cats jsonb[], l_attrs jsonb[], l_rem bigint[], l_next int[],
    a_trunc boolean[], p_closed timestamptz, a_shards int[], holds jsonb,
    OUT res jsonb,
    OUT t_id bigint[], OUT t_key text[], OUT t_hash bytea[], OUT t_kind text[], OUT t_ref text[],
    OUT t_eff timestamptz[], OUT t_pol bigint[], OUT t_split jsonb[], OUT t_meta jsonb[],
    OUT e_tx bigint[], OUT e_acc bigint[], OUT e_amt bigint[], OUT e_eff timestamptz[],
    OUT nl_id bigint[], OUT nl_acc bigint[], OUT nl_tx bigint[], OUT nl_parent bigint[], OUT nl_exp timestamptz[],
    OUT nl_cats jsonb[], OUT nl_attrs jsonb[], OUT nl_amount bigint[], OUT nl_rem bigint[],
    OUT m_tx bigint[], OUT m_lot bigint[], OUT m_amt bigint[], OUT m_cat text[], OUT m_tax text[],
    OUT a_delta bigint[], OUT lu_id bigint[], OUT lu_take bigint[], OUT at timestamptz,
    OUT g_tx bigint[], OUT g_k int[], OUT g_key text[], OUT g_attrs jsonb[], OUT g_amt bigint[], OUT more_lots boolean,
    OUT t_status text[], OUT t_exp timestamptz[], OUT t_hold bigint[], OUT m_against bigint[],
    OUT a_dout bigint[], OUT a_din bigint[], OUT ro_id bigint[], OUT ro_amt bigint[],
    OUT hr_id bigint[], OUT hr_status text[])
LANGUAGE plpgsql AS $$
DECLARE
    n int := jsonb_array_length(ps);
    out jsonb[] := '{}';
    p jsonb; pj jsonb; s jsonb; postings jsonb; err jsonb;
    l_rem0 bigint[] := l_rem;
    n_old_lots int := cardinality(l_id);
    l_parent bigint[] := '{}'; l_tx bigint[] := '{}'; l_amount bigint[] := '{}';  -- created lots only
    -- idempotency keys written by this batch
    s_key text[] := '{}'; s_tx bigint[] := '{}'; s_hash text[] := '{}';
    -- the request being applied: its postings (v_*), summed per account (r_*), lots taken (t_*)
    tx bigint; k_ text; h bytea; eff timestamptz; pol int; split_rec jsonb;
    n_legs int; n_json int; sp_to text[]; sp_amt bigint[]; sp_lot jsonb[];   -- the split's three parts
    v_kf int[]; v_kt int[]; v_amt bigint[]; v_lot jsonb[];      -- the request's postings, resolved
    src text; dst text; amt_n numeric; lot jsonb;
    r_k int[]; r_u bigint[]; r_cat text[]; r_tax text[]; r_catset boolean[]; r_nout int[]; r_in int[];
    t_lot int[]; t_amt bigint[]; t_acc int[]; t_cat text[]; t_tax text[];
    c record;
    seq_tx regclass := pg_get_serial_sequence('ledger_transactions', 'id');
    seq_lot regclass := pg_get_serial_sequence('ledger_lots', 'id');
    -- scratch
    i int; j int; q int; k int; kf int; kt int; pos int; cnt int; prev int; cur int; mirror boolean;
    amt bigint; dp bigint; gross bigint; pv bigint; fd bigint; fe bigint; rest bigint;
    cat text; tb text; x jsonb;
    -- holds, captures, voids: the op, the hold resolved and what the
    -- read stage found of it, each account's release (r_rel) and changes
    -- of posted, pending_out, pending_in (r_d, r_o, r_i), holds resolved
    -- earlier in the batch
    op text; hid bigint; hinfo jsonb; hst text; paid text[]; need bigint;
    r_rel bigint[]; r_d bigint[]; r_o bigint[]; r_i bigint[];
    un bigint; rl bigint; dout bigint; din bigint;
    resolved jsonb := '{}';
    dl jsonb; dl_pol int; dl_eff timestamptz; dl_attrs jsonb;  -- the last day lot and what it was made of
BEGIN
    at := clock_timestamp();  -- the instant of the write, by which expiry is judged
    t_id := '{}'; t_key := '{}'; t_hash := '{}'; t_kind := '{}'; t_ref := '{}'; t_eff := '{}'; t_pol := '{}';
    t_split := '{}'; t_meta := '{}';
    e_tx := '{}'; e_acc := '{}'; e_amt := '{}'; e_eff := '{}';
    m_tx := '{}'; m_lot := '{}'; m_amt := '{}'; m_cat := '{}'; m_tax := '{}';
    g_tx := '{}'; g_k := '{}'; g_key := '{}'; g_attrs := '{}'; g_amt := '{}'; more_lots := false;
    t_status := '{}'; t_exp := '{}'; t_hold := '{}'; m_against := '{}'; ro_id := '{}'; ro_amt := '{}';
    hr_id := '{}'; hr_status := '{}';
    a_delta := array_fill(0::bigint, ARRAY[coalesce(cardinality(a_id), 0)]);
    a_dout := a_delta; a_din := a_delta;
    <<req>>
    FOR i IN 0 .. n - 1 LOOP
        p := ps->i;
        op := 'post'; hid := NULL; hinfo := NULL; hst := NULL;
        IF jsonb_typeof(p) = 'object' AND p ? 'op' THEN  -- {"op", "req"}
            op := p->>'op';
            p := p->'req';
            IF op IN ('post', 'hold') THEN  -- as ledger_hold reads it
                op := CASE WHEN coalesce((p->>'hold')::boolean, false) THEN 'hold' ELSE 'post' END;
            END IF;
        ELSIF coalesce((p->>'hold')::boolean, false) THEN
            op := 'bare hold';
        END IF;
        t_lot := '{}'; t_amt := '{}'; t_acc := '{}'; t_cat := '{}'; t_tax := '{}';
        v_kf := '{}'; v_kt := '{}'; v_amt := '{}'; v_lot := '{}';
        r_k := '{}'; r_u := '{}'; r_cat := '{}'; r_tax := '{}'; r_catset := '{}'; r_nout := '{}'; r_in := '{}';
        r_rel := '{}';
        <<apply>>
        BEGIN
            IF jsonb_typeof(p) IS DISTINCT FROM 'object' OR op = 'bare hold' THEN
                err := ledger_error('RL003', 'a batch takes posted transactions only', '{"field":"hold"}');
                EXIT apply;
            END IF;
            IF op NOT IN ('post', 'hold', 'capture', 'void') THEN
                err := ledger_error('RL003', format('unknown ledger operation %s', op), '{"field":"op"}');
                EXIT apply;
            END IF;
            IF op = 'hold' AND p->>'expires_at' IS NULL THEN
                err := ledger_error('RL003', 'a hold needs an expiry time', '{"field":"expires_at"}');
                EXIT apply;
            END IF;
            IF op IN ('capture', 'void') THEN  -- the hold, as this batch left it
                hid := CASE WHEN jsonb_typeof(p->'hold_id') = 'number' THEN (p->>'hold_id')::bigint END;
                IF hid IS NULL THEN
                    err := ledger_error('RL003', 'hold_id is required', '{"field":"hold_id"}');
                    EXIT apply;
                END IF;
                hinfo := holds->(hid::text);
                IF hinfo IS NULL THEN
                    err := ledger_error('RL002', format('hold %s not found', hid), jsonb_build_object('hold_id', hid));
                    EXIT apply;
                END IF;
                hst := coalesce(resolved->>(hid::text), hinfo->>'s');
            END IF;
            IF op = 'void' THEN  -- ledger_void: resolved first, then the release under its key
                IF hst <> 'pending' THEN
                    err := ledger_error('RL004', format('hold %s is already %s', hid, hst),
                                        jsonb_build_object('hold_id', hid, 'status', hst));
                    EXIT apply;
                END IF;
                p := jsonb_build_object('key', format('hold-release:%s', hid), 'kind', 'hold_release.voided');
            END IF;
            eff := coalesce((p->>'effective_at')::timestamptz, at);
            postings := coalesce(p->'postings', '[]');
            n_legs := jsonb_array_length(postings);
            -- the split, by the policy version in force at the effective time
            -- (ledger_split_parts' arithmetic: shares rounded down, the rest to remainder_to)
            s := p->'split';
            pol := NULL; split_rec := NULL;
            IF s IS NOT NULL THEN
                IF jsonb_typeof(s->'gross') IS DISTINCT FROM 'number' OR (s->>'gross')::numeric <= 0
                   OR (s->>'gross')::numeric > 1000000000000 OR (s->>'gross')::numeric <> trunc((s->>'gross')::numeric) THEN
                    err := ledger_error('RL003', 'the gross amount of a split must be between 1 cent and 10 billion euro',
                                        '{"field":"split.gross"}');
                    EXIT apply;
                END IF;
                FOR q IN 1 .. coalesce(cardinality(pol_id), 0) LOOP
                    IF pol_name[q] = s->>'policy' AND pol_from[q] <= eff THEN
                        pol := q;
                        EXIT;
                    END IF;
                END LOOP;
                IF pol IS NULL THEN
                    err := ledger_error('RL002', format('no split policy %s in force', s->>'policy'),
                                        jsonb_build_object('policy', s->>'policy'));
                    EXIT apply;
                END IF;
                gross := (s->>'gross')::bigint;
                pv := gross * (10000 - pol_fund[pol] - pol_fee[pol]) / 10000;
                fd := gross * pol_fund[pol] / 10000;
                fe := gross * pol_fee[pol] / 10000;
                rest := gross - pv - fd - fe;
                CASE pol_rem[pol] WHEN 'fund' THEN fd := fd + rest; WHEN 'fee' THEN fe := fe + rest; ELSE pv := pv + rest; END CASE;
                -- three more postings from s->>'from' (zero parts are left out
                -- below); the fund's part is a contributor lot
                sp_to := ARRAY[s->>'provider', s->>'fund', s->>'fees'];
                sp_amt := ARRAY[pv, fd, fe];
                -- the day lot: the same for every split of the batch with
                -- the same company, policy version and effective time (the
                -- batch's own instant, unless backdated)
                IF dl IS NULL OR dl_pol <> pol OR dl_eff <> eff OR dl_attrs IS DISTINCT FROM s->'fund_attrs' THEN
                    dl := ledger_day_lot(s->'fund_attrs', pol_name[pol], pol_version[pol], eff);
                    dl_pol := pol; dl_eff := eff; dl_attrs := s->'fund_attrs';
                END IF;
                sp_lot := ARRAY[NULL, dl, NULL];
                n_legs := n_legs + (pv > 0)::int + (fd > 0)::int + (fe > 0)::int;
                split_rec := jsonb_build_object('gross', gross, 'provider', pv, 'fund', fd, 'fee', fe,
                                                'policy', pol_name[pol], 'version', pol_version[pol],
                                                'fund_attrs', coalesce(s->'fund_attrs', '{}'));
            END IF;
            IF n_legs = 0 AND op IN ('post', 'hold') THEN  -- a capture without postings takes what was held
                err := ledger_error('RL003', 'a transaction needs at least one posting', '{"field":"postings"}');
                EXIT apply;
            END IF;

            -- idempotency: the same key and request replays, another request is a conflict
            k_ := p->>'key';
            IF k_ IS NULL OR k_ = '' OR length(k_) > 200 THEN
                err := ledger_error('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
                EXIT apply;
            END IF;
            h := sha256(convert_to(CASE op WHEN 'void' THEN 'release' ELSE op END || ':' || p::text, 'UTF8'));
            pos := array_position(s_key, k_);
            x := CASE WHEN pos IS NOT NULL THEN jsonb_build_array(s_tx[pos], s_hash[pos]) ELSE existing->k_ END;
            IF x IS NOT NULL AND op = 'void' THEN  -- a release is written with its hold's resolution, once
                err := ledger_error('RL004', format('hold %s is already resolved', hid), jsonb_build_object('hold_id', hid));
                EXIT apply;
            END IF;
            IF x IS NOT NULL THEN
                IF x->>1 <> encode(h, 'hex') THEN
                    err := ledger_error('RL004', 'this idempotency key was already used for a different request',
                                        jsonb_build_object('key', k_, 'transaction_id', (x->>0)::bigint));
                    EXIT apply;
                END IF;
                out := out || jsonb_build_object('tx_id', (x->>0)::bigint, 'replayed', true);
                CONTINUE req;
            END IF;
            IF p_closed IS NOT NULL OR p ? 'effective_at' THEN  -- else it has nothing to refuse
                err := ledger_check_effective(eff, at, p->>'effective_at' IS NOT NULL, p_closed,
                                              CASE WHEN eff < at - interval '7 days' THEN ledger_backdate_granted(k_) END);
                EXIT apply WHEN err IS NOT NULL;
            END IF;
            IF op = 'hold' AND (p->>'expires_at')::timestamptz <= at THEN
                err := ledger_error('RL003', 'a hold must expire after it is placed', '{"field":"expires_at"}');
                EXIT apply;
            END IF;
            IF op = 'capture' THEN
                -- ledger_resolve: pending and not expired
                IF hst <> 'pending' OR (hinfo->>'x')::timestamptz <= at THEN
                    hst := CASE WHEN hst = 'pending' THEN 'expired' ELSE hst END;
                    err := ledger_error('RL004', format('hold %s is already %s', hid, hst),
                                        jsonb_build_object('hold_id', hid, 'status', hst));
                    EXIT apply;
                END IF;
                -- ledger_capture_parties: the accounts the hold credited,
                -- and for a split's fund and fee parts hot accounts
                paid := '{}';
                FOR q IN 0 .. jsonb_array_length(hinfo->'e') - 1 LOOP
                    IF (hinfo->'e'->q->>1)::bigint > 0 THEN
                        paid := paid || (hinfo->'e'->q->>0);
                    END IF;
                END LOOP;
                dst := NULL;
                FOR q IN 0 .. jsonb_array_length(postings) - 1 LOOP
                    IF postings->q->>'to' IS NOT NULL AND NOT (postings->q->>'to' = ANY (paid)) THEN
                        dst := postings->q->>'to';
                        EXIT;
                    END IF;
                END LOOP;
                IF dst IS NULL AND s IS NOT NULL THEN
                    IF NOT (s->>'provider' = ANY (paid)) THEN
                        dst := s->>'provider';
                    ELSIF coalesce(a_shards[(amap->>(s->>'fund'))::int], 1) <= 1 THEN
                        dst := s->>'fund';
                    ELSIF coalesce(a_shards[(amap->>(s->>'fees'))::int], 1) <= 1 THEN
                        dst := s->>'fees';
                    END IF;
                END IF;
                IF dst IS NOT NULL THEN
                    err := ledger_error('RL003', format('a capture pays only the parties of hold %s, not %s', hid, dst),
                                        jsonb_build_object('hold_id', hid, 'account', dst));
                    EXIT apply;
                END IF;
            END IF;
            IF length(coalesce(p->>'kind', 'transfer')) NOT BETWEEN 1 AND 64 THEN
                err := ledger_error('RL003', 'a transaction kind has 1 to 64 characters', '{"field":"kind"}');
                EXIT apply;
            END IF;

            -- the postings (those of the request, then the split's), checked,
            -- resolved and summed per account
            n_json := jsonb_array_length(postings);
            FOR q IN 0 .. n_json + 2 LOOP
                IF q < n_json THEN
                    pj := postings->q;
                    src := pj->>'from'; dst := pj->>'to'; cat := pj->>'category'; tb := pj->>'tax_bucket';
                    lot := CASE WHEN jsonb_typeof(pj->'lot') = 'object' THEN (pj->'lot') - 'group' ELSE pj->'lot' END;
                    amt_n := CASE WHEN jsonb_typeof(pj->'amount') = 'number' THEN (pj->>'amount')::numeric END;
                    amt := CASE WHEN amt_n > 0 AND amt_n <= 1000000000000 AND amt_n = trunc(amt_n) THEN amt_n END;
                ELSE  -- the split's parts: amounts in range by construction
                    EXIT WHEN s IS NULL;
                    j := q - n_json + 1;
                    CONTINUE WHEN sp_amt[j] = 0;
                    src := s->>'from'; dst := sp_to[j]; cat := s->>'category'; tb := s->>'tax_bucket'; lot := sp_lot[j];
                    amt := sp_amt[j];
                END IF;
                IF src IS NULL OR dst IS NULL OR src = dst OR amt IS NULL THEN
                    err := ledger_error('RL003',
                        'every posting needs two different accounts and an amount between 1 cent and 10 billion euro',
                        '{"field":"postings"}');
                    EXIT apply;
                END IF;
                kf := (amap->>src)::int;
                kt := (amap->>dst)::int;
                IF kf IS NULL OR kt IS NULL THEN
                    err := ledger_error('RL002', format('unknown account %s', CASE WHEN kf IS NULL THEN src ELSE dst END),
                                        jsonb_build_object('account', CASE WHEN kf IS NULL THEN src ELSE dst END));
                    EXIT apply;
                END IF;
                v_kf := v_kf || kf; v_kt := v_kt || kt; v_amt := v_amt || amt; v_lot := v_lot || lot;
                pos := array_position(r_k, kf);
                IF pos IS NULL THEN
                    r_k := r_k || kf; r_u := r_u || 0::bigint; r_cat := r_cat || NULL::text; r_tax := r_tax || NULL::text; r_catset := r_catset || false;
                    r_nout := r_nout || 0; r_in := r_in || 0;
                    r_rel := r_rel || 0::bigint;
                    pos := cardinality(r_k);
                END IF;
                IF r_catset[pos] AND r_cat[pos] IS DISTINCT FROM cat THEN
                    err := ledger_error('RL003', format('postings from %s name different categories', a_path[kf]),
                                        jsonb_build_object('account', a_path[kf]));
                    EXIT apply;
                END IF;
                IF r_catset[pos] AND r_tax[pos] IS DISTINCT FROM tb THEN
                    err := ledger_error('RL003', format('postings from %s name different tax buckets', a_path[kf]),
                                        jsonb_build_object('account', a_path[kf]));
                    EXIT apply;
                END IF;
                r_u[pos] := r_u[pos] - amt;
                r_nout[pos] := r_nout[pos] + 1;
                r_cat[pos] := cat; r_tax[pos] := tb; r_catset[pos] := true;
                pos := array_position(r_k, kt);
                IF pos IS NULL THEN
                    r_k := r_k || kt; r_u := r_u || 0::bigint; r_cat := r_cat || NULL::text; r_tax := r_tax || NULL::text; r_catset := r_catset || false;
                    r_nout := r_nout || 0; r_in := r_in || 0;
                    r_rel := r_rel || 0::bigint;
                    pos := cardinality(r_k);
                END IF;
                r_u[pos] := r_u[pos] + amt;
                r_in[pos] := r_in[pos] + 1;
            END LOOP;
            IF op IN ('capture', 'void') THEN
                -- the hold's entries: released (r_rel), and for a capture
                -- without postings posted as they were held
                FOR q IN 0 .. jsonb_array_length(hinfo->'e') - 1 LOOP
                    kf := (amap->>(hinfo->'e'->q->>0))::int;
                    amt := (hinfo->'e'->q->>1)::bigint;
                    pos := array_position(r_k, kf);
                    IF pos IS NULL THEN
                        r_k := r_k || kf; r_u := r_u || 0::bigint; r_cat := r_cat || NULL::text; r_tax := r_tax || NULL::text;
                        r_catset := r_catset || false; r_nout := r_nout || 0; r_in := r_in || 0; r_rel := r_rel || 0::bigint;
                        pos := cardinality(r_k);
                    END IF;
                    r_rel[pos] := r_rel[pos] + amt;
                    IF op = 'capture' AND n_legs = 0 THEN
                        r_u[pos] := r_u[pos] + amt;
                        IF amt < 0 THEN r_nout[pos] := r_nout[pos] + 1; ELSE r_in[pos] := r_in[pos] + 1; END IF;
                    END IF;
                END LOOP;
            END IF;
            -- in account order, so that errors name the same account as
            -- ledger_apply would (a few accounts: an insertion sort)
            FOR q IN 2 .. cardinality(r_k) LOOP
                j := q;
                WHILE j > 1 AND r_k[j - 1] > r_k[j] LOOP
                    k := r_k[j]; r_k[j] := r_k[j - 1]; r_k[j - 1] := k;
                    amt := r_u[j]; r_u[j] := r_u[j - 1]; r_u[j - 1] := amt;
                    cat := r_cat[j]; r_cat[j] := r_cat[j - 1]; r_cat[j - 1] := cat;
                    tb := r_tax[j]; r_tax[j] := r_tax[j - 1]; r_tax[j - 1] := tb;
                    cnt := r_nout[j]; r_nout[j] := r_nout[j - 1]; r_nout[j - 1] := cnt;
                    cnt := r_in[j]; r_in[j] := r_in[j - 1]; r_in[j - 1] := cnt;
                    amt := r_rel[j]; r_rel[j] := r_rel[j - 1]; r_rel[j - 1] := amt;
                    j := j - 1;
                END LOOP;
            END LOOP;

            IF op <> 'void' AND NOT (0 <> ANY (r_u)) THEN
                err := ledger_no_entries();
                EXIT apply;
            END IF;
            r_d := array_fill(0::bigint, ARRAY[cardinality(r_k)]); r_o := r_d; r_i := r_d;
            FOR q IN 1 .. cardinality(r_k) LOOP
                k := r_k[q];
                IF op IN ('post', 'hold') AND a_status[k] <> 'open' AND r_u[q] <> 0 THEN
                    err := ledger_error('RL004', format('account %s is %s', a_path[k], a_status[k]),
                                        jsonb_build_object('account', a_path[k], 'status', a_status[k]));
                    EXIT apply;
                END IF;
                IF a_asset[k] <> a_asset[r_k[1]] THEN
                    err := ledger_error('RL003', 'a transaction moves one asset only', '{"field":"postings"}');
                    EXIT apply;
                END IF;
                IF a_lots[k] AND r_nout[q] > 0 AND r_in[q] > 0 THEN
                    err := ledger_lots_both_ways(a_path[k]);
                    EXIT apply;
                END IF;
                -- what changes on the normal side (ledger_apply's rules):
                -- posted (dp), pending_out (dout), pending_in (din)
                un := r_u[q] * a_sgn[k];
                rl := r_rel[q] * a_sgn[k];
                dp := 0; dout := 0; din := 0;
                IF op = 'hold' THEN
                    IF un < 0 THEN dout := -un; ELSE din := un; END IF;
                    IF din > 0 AND a_lots[k] THEN
                        err := ledger_error('RL003', format('a hold cannot credit %s, whose credits are lots', a_path[k]),
                                            jsonb_build_object('account', a_path[k]));
                        EXIT apply;
                    END IF;
                ELSE
                    dp := un;
                END IF;
                IF rl < 0 THEN dout := dout + rl; ELSIF rl > 0 THEN din := din - rl; END IF;
                IF op = 'capture' AND un < 0 AND (rl >= 0 OR un < rl) THEN
                    err := ledger_error('RL003', format('a capture may take from %s at most what the hold reserved there', a_path[k]),
                                        jsonb_build_object('account', a_path[k], 'held', greatest(-rl, 0), 'requested', -un));
                    EXIT apply;
                END IF;
                r_d[q] := dp; r_o[q] := dout; r_i[q] := din;
                IF NOT ledger_fits(a_avail[k], dp - dout, a_floor[k]) THEN
                    err := ledger_insufficient(a_path[k], a_avail[k], a_floor[k], dout - dp);
                    EXIT apply;
                END IF;
                IF un < 0 AND a_lots[k] AND op IN ('post', 'hold') THEN
                    j := nullif(a_first[k], 0);
                    IF l_rem[j] >= -un AND ledger_lot_spendable(l_exp[j], l_cats[j], r_cat[q], at) THEN
                        -- The account's first lot in spending order pays it
                        -- all: ledger_pick_lots' answer, without the cost of
                        -- calling it (a third of a redemption's apply time).
                        l_rem[j] := l_rem[j] + un;
                        t_lot := t_lot || j; t_amt := t_amt || -un; t_acc := t_acc || k; t_cat := t_cat || r_cat[q]; t_tax := t_tax || r_tax[q];
                        CONTINUE;
                    END IF;
                    c := ledger_pick_lots(-un, r_cat[q], at, NULL, 0, j, l_next, l_id, l_exp, l_cats, l_rem);
                    IF c.short > 0 AND a_trunc[k] THEN
                        more_lots := true;  -- lots were left unread: ledger_post_batch reads them all and applies again
                    END IF;
                    IF c.short > 0 THEN
                        err := ledger_lots_short(a_path[k], r_cat[q], -un - c.short, -un);
                        EXIT apply;
                    END IF;
                    FOR pos IN 1 .. cardinality(c.picks) LOOP
                        j := c.picks[pos];
                        l_rem[j] := l_rem[j] - c.takes[pos];
                        t_lot := t_lot || j; t_amt := t_amt || c.takes[pos]; t_acc := t_acc || k; t_cat := t_cat || r_cat[q]; t_tax := t_tax || r_tax[q];
                    END LOOP;
                END IF;
            END LOOP;

            -- every check passed: add the transaction's rows
            tx := nextval(seq_tx);
            FOR q IN 1 .. cardinality(r_k) LOOP
                k := r_k[q];
                a_delta[k] := a_delta[k] + r_d[q];
                a_dout[k] := a_dout[k] + r_o[q];
                a_din[k] := a_din[k] + r_i[q];
                a_avail[k] := a_avail[k] + r_d[q] - r_o[q];
                CONTINUE WHEN r_u[q] = 0;
                e_tx := e_tx || tx; e_acc := e_acc || a_id[k]; e_amt := e_amt || r_u[q]; e_eff := e_eff || eff;
            END LOOP;
            FOR q IN 1 .. cardinality(t_lot) LOOP
                m_tx := m_tx || tx; m_lot := m_lot || l_id[t_lot[q]]; m_amt := m_amt || t_amt[q]; m_cat := m_cat || t_cat[q]; m_tax := m_tax || t_tax[q];
                m_against := m_against || NULL::bigint;
            END LOOP;
            IF op IN ('capture', 'void') THEN
                -- the hold resolves; what it reserved on a lot account and
                -- this does not take goes back to the lots it consumed,
                -- latest expiry first (ledger_restore_lots)
                FOR q IN 1 .. cardinality(r_k) LOOP
                    k := r_k[q];
                    CONTINUE WHEN NOT a_lots[k] OR r_rel[q] * a_sgn[k] >= 0;
                    need := (r_u[q] - r_rel[q]) * a_sgn[k];
                    FOR pos IN 0 .. jsonb_array_length(hinfo->'l') - 1 LOOP
                        EXIT WHEN need = 0;
                        x := hinfo->'l'->pos;
                        CONTINUE WHEN (x->>1)::bigint <> a_id[k];
                        amt := least((x->>2)::bigint, need);
                        need := need - amt;
                        j := array_position(l_id[1:n_old_lots], (x->>0)::bigint);
                        IF j IS NOT NULL THEN
                            l_rem[j] := l_rem[j] + amt;
                        ELSE
                            ro_id := ro_id || (x->>0)::bigint; ro_amt := ro_amt || amt;
                            -- a lot it did not read, of an account it
                            -- debits: spendable again, maybe before those it
                            -- read, so ledger_post_batch reads them all
                            -- (this one too) and applies again
                            more_lots := more_lots OR (a_first[k] IS NOT NULL
                                                       AND (x->>3 IS NULL OR (x->>3)::timestamptz > at));
                        END IF;
                        m_tx := m_tx || tx; m_lot := m_lot || (x->>0)::bigint; m_amt := m_amt || -amt;
                        m_cat := m_cat || NULL::text; m_tax := m_tax || NULL::text; m_against := m_against || hid;
                    END LOOP;
                    IF need <> 0 THEN
                        RAISE EXCEPTION 'ledger: hold % reserved lots on % that cannot be found', hid, a_path[k];
                    END IF;
                END LOOP;
                hst := CASE op WHEN 'capture' THEN 'captured' ELSE 'voided' END;
                hr_id := hr_id || hid; hr_status := hr_status || hst;
                resolved := resolved || jsonb_build_object(hid::text, hst);
            END IF;
            -- credits to lot accounts become lots: as the posting says (lot),
            -- moved along from the lots the source gave when this is its
            -- only posting, or a plain lot
            FOR q IN 1 .. cardinality(v_kt) LOOP
                kt := v_kt[q];
                CONTINUE WHEN NOT a_lots[kt];
                IF v_lot[q] ? 'group' AND a_first[kt] IS NULL THEN
                    -- a split's fund part: its day lot grows (or is
                    -- created) when the batch is written, on the shard it
                    -- takes (ledger_grow_lots). When the batch also debits
                    -- the account, the part is a lot of its own instead,
                    -- spendable later in the batch.
                    g_tx := g_tx || tx; g_k := g_k || kt; g_key := g_key || (v_lot[q]->>'group');
                    g_attrs := g_attrs || (v_lot[q]->'attrs'); g_amt := g_amt || v_amt[q];
                    CONTINUE;
                END IF;
                kf := v_kf[q];
                mirror := v_lot[q] IS NULL AND kf = ANY (t_acc) AND r_nout[array_position(r_k, kf)] = 1;
                FOR j IN 1 .. CASE WHEN mirror THEN cardinality(t_lot) ELSE 1 END LOOP
                    IF mirror THEN
                        CONTINUE WHEN t_acc[j] <> kf;
                        l_id := l_id || nextval(seq_lot);
                        l_acc := l_acc || a_id[kt]; l_tx := l_tx || tx; l_parent := l_parent || l_id[t_lot[j]];
                        l_exp := l_exp || l_exp[t_lot[j]]; l_cats := l_cats || l_cats[t_lot[j]];
                        l_attrs := l_attrs || l_attrs[t_lot[j]]; l_amount := l_amount || t_amt[j]; l_rem := l_rem || t_amt[j];
                    ELSE
                        l_id := l_id || nextval(seq_lot);
                        l_acc := l_acc || a_id[kt]; l_tx := l_tx || tx; l_parent := l_parent || NULL::bigint;
                        l_exp := l_exp || (v_lot[q]->>'expires_at')::timestamptz;
                        l_cats := l_cats || coalesce(v_lot[q]->'categories', '[]');
                        l_attrs := l_attrs || coalesce(v_lot[q]->'attrs', '{}');
                        l_amount := l_amount || v_amt[q]; l_rem := l_rem || v_amt[q];
                    END IF;
                    -- the new lot (the newest id of all): into kt's list in
                    -- spending order when kt's lots are tracked, so that it
                    -- is spendable later in the batch
                    l_next := l_next || NULL::int;
                    CONTINUE WHEN a_first[kt] IS NULL;
                    pos := cardinality(l_id);
                    prev := NULL; cur := nullif(a_first[kt], 0);
                    WHILE cur IS NOT NULL AND (l_exp[pos] IS NULL OR (l_exp[cur] IS NOT NULL AND l_exp[cur] <= l_exp[pos])) LOOP
                        prev := cur; cur := l_next[cur];
                    END LOOP;
                    l_next[pos] := cur;
                    IF prev IS NULL THEN a_first[kt] := pos; ELSE l_next[prev] := pos; END IF;
                END LOOP;
            END LOOP;
            t_id := t_id || tx; t_key := t_key || k_; t_hash := t_hash || h;
            t_kind := t_kind || coalesce(p->>'kind', CASE op WHEN 'hold' THEN 'hold' WHEN 'capture' THEN 'capture' ELSE 'transfer' END);
            t_ref := t_ref || coalesce(p->>'reference', '');
            t_status := t_status || CASE WHEN op = 'hold' THEN 'pending' ELSE 'posted' END;
            t_exp := t_exp || CASE WHEN op = 'hold' THEN (p->>'expires_at')::timestamptz END;
            t_hold := t_hold || hid;
            t_eff := t_eff || eff; t_pol := t_pol || pol_id[pol]; t_split := t_split || split_rec;
            t_meta := t_meta || coalesce(p->'metadata', '{}');
            s_key := s_key || k_; s_tx := s_tx || tx; s_hash := s_hash || encode(h, 'hex');
            out := out || jsonb_build_object('tx_id', tx, 'replayed', false);
            CONTINUE req;
        END;
        FOR q IN 1 .. cardinality(t_lot) LOOP
            l_rem[t_lot[q]] := l_rem[t_lot[q]] + t_amt[q];
        END LOOP;
        out := out || err;
    END LOOP;
    res := to_jsonb(out);

    nl_id := l_id[n_old_lots + 1:]; nl_acc := l_acc[n_old_lots + 1:]; nl_tx := l_tx; nl_parent := l_parent;
    nl_exp := l_exp[n_old_lots + 1:]; nl_cats := l_cats[n_old_lots + 1:]; nl_attrs := l_attrs[n_old_lots + 1:];
    nl_amount := l_amount; nl_rem := l_rem[n_old_lots + 1:];
    lu_id := '{}'; lu_take := '{}';
    FOR j IN 1 .. n_old_lots LOOP
        IF l_rem[j] <> l_rem0[j] THEN
            lu_id := lu_id || l_id[j]; lu_take := lu_take || (l_rem0[j] - l_rem[j]);
        END IF;
    END LOOP;
END $$;

-- ledger_batch_write: the write stage. New rows first (no locks on
-- existing rows), in one statement; then the relative, guarded updates in
-- lock order: the holds it resolves by id (guarded: still pending),
-- balance rows of plain accounts by id, hot accounts by id, lots by id. A
-- guard that fails (a concurrent writer changed a row so that the batch
-- no longer fits, or resolved one of its holds), or a key written
-- concurrently (or a hold's capture or release: the capture index), raises
-- 40001: the whole batch is retried. Arrays go in through unnest, which
-- the planner expects to be short: it probes the primary keys rather than
-- hashing whole tables. Returns how many transactions it wrote.
CREATE OR REPLACE FUNCTION ledger_batch_write(
    t_id bigint[], t_key text[], t_hash bytea[], t_kind text[], t_ref text[], t_eff timestamptz[], t_pol bigint[],
    t_split jsonb[], t_meta jsonb[], t_status text[], t_exp timestamptz[], t_hold bigint[],
    e_tx bigint[], e_acc bigint[], e_amt bigint[], e_eff timestamptz[],
    nl_id bigint[], nl_acc bigint[], nl_tx bigint[], nl_parent bigint[], nl_exp timestamptz[], nl_cats jsonb[],
    nl_attrs jsonb[], nl_amount bigint[], nl_rem bigint[],
    m_tx bigint[], m_lot bigint[], m_amt bigint[], m_cat text[], m_tax text[], m_against bigint[],
    a_id bigint[], a_floor bigint[], a_shards int[], n_plain int, a_delta bigint[], a_dout bigint[], a_din bigint[],
    lu_id bigint[], lu_take bigint[], ro_id bigint[], ro_amt bigint[], hr_id bigint[], hr_status text[],
    p_at timestamptz, g_tx bigint[], g_k int[], g_key text[], g_attrs jsonb[], g_amt bigint[])
RETURNS int LANGUAGE plpgsql AS $$
DECLARE
    cnt int;
    i int;
    k int;
    sh int;
    a_shard int[] := array_fill(0, ARRAY[coalesce(cardinality(a_id), 0)]);  -- the shard each credit went to
    g_acc bigint[] := '{}'; g_full text[] := '{}';
    tot bigint;
    upd_id bigint[] := '{}'; upd_d bigint[] := '{}'; upd_f bigint[] := '{}'; upd_o bigint[] := '{}'; upd_i bigint[] := '{}';
BEGIN
    -- the new rows in one statement (one executor start, not four)
    WITH tx AS (
        INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, reference, effective_at,
                                         expires_at, hold_id, policy_id, split, metadata, written_at)
        SELECT u.id, u.k, u.h, u.kind, u.st, u.ref, u.eff, u.exp, u.hold, u.pol, u.split, u.meta, p_at
        FROM unnest(t_id, t_key, t_hash, t_kind, t_ref, t_eff, t_pol, t_split, t_meta, t_status, t_exp, t_hold)
             AS u(id, k, h, kind, ref, eff, pol, split, meta, st, exp, hold)
        -- captures and releases by their hold: two batches resolving the
        -- same holds wait for each other in one order, not in a cycle
        ORDER BY u.hold NULLS FIRST
        ON CONFLICT DO NOTHING  -- a key, or a hold's capture or release (the capture index)
        RETURNING 1
    ), entries AS (
        INSERT INTO ledger_entries (tx_id, account_id, amount, effective_at)
        SELECT u.tx, u.acc, u.amt, u.eff FROM unnest(e_tx, e_acc, e_amt, e_eff) AS u(tx, acc, amt, eff)
    ), lots AS (
        INSERT INTO ledger_lots (id, account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
        SELECT u.id, u.acc, u.tx, u.parent, u.exp, ARRAY(SELECT jsonb_array_elements_text(u.cats)), u.attrs, u.amount, u.rem
        FROM unnest(nl_id, nl_acc, nl_tx, nl_parent, nl_exp, nl_cats, nl_attrs, nl_amount, nl_rem)
             AS u(id, acc, tx, parent, exp, cats, attrs, amount, rem)
    ), moves AS (
        INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, category, tax_bucket, against_tx)
        SELECT u.tx, u.lot, u.amt, u.cat, u.tb, u.ag
        FROM unnest(m_tx, m_lot, m_amt, m_cat, m_tax, m_against) AS u(tx, lot, amt, cat, tb, ag)
    )
    SELECT count(*) INTO cnt FROM tx;
    IF cnt <> cardinality(t_id) THEN
        RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = 'ledger: an idempotency key of this batch was written concurrently; retry the batch';
    END IF;

    -- the holds it resolves, locked by id and each found still pending,
    -- or another writer resolved one first (the retry, in the locking
    -- mode, finds it resolved and refuses that request alone); then
    -- updated by id alone. (The status is tested on the locked rows, not
    -- in the update: with it there, the planner may read the pending
    -- holds' index, which keeps an entry for every hold resolved since
    -- the last vacuum: 25,000 of them, a millisecond a batch, a quarter
    -- of a batch of holds and captures; docs/benchmarks.md.)
    IF cardinality(hr_id) > 0 THEN
        SELECT count(*) FILTER (WHERE x.status = 'pending') INTO cnt
        FROM (SELECT t.status FROM ledger_transactions t WHERE t.id = ANY (hr_id) ORDER BY t.id FOR NO KEY UPDATE) x;
        IF cnt <> cardinality(hr_id) THEN
            RAISE EXCEPTION USING ERRCODE = '40001',
                MESSAGE = 'ledger: a hold of this batch was resolved concurrently; retry the batch';
        END IF;
        UPDATE ledger_transactions t SET status = u.st, resolved_at = p_at
        FROM unnest(hr_id, hr_status) AS u(id, st)
        WHERE t.id = u.id;
    END IF;

    -- balance rows of plain accounts, by id; a debit keeps the floor
    FOR k IN 1 .. n_plain LOOP
        IF a_delta[k] <> 0 OR a_dout[k] <> 0 OR a_din[k] <> 0 THEN
            upd_id := upd_id || a_id[k]; upd_d := upd_d || a_delta[k]; upd_f := upd_f || a_floor[k];
            upd_o := upd_o || a_dout[k]; upd_i := upd_i || a_din[k];
        END IF;
    END LOOP;
    IF cardinality(upd_id) > 0 THEN
        -- lock first, sorted: the order an UPDATE joining the array visits
        -- rows in is the planner's choice (a small table is scanned in
        -- physical order), the order rows are locked in is not
        PERFORM 1 FROM ledger_balances b WHERE b.account_id = ANY (upd_id) AND b.shard = 0
        ORDER BY b.account_id FOR UPDATE;
        UPDATE ledger_balances b SET posted = b.posted + u.d, pending_out = b.pending_out + u.o,
                                     pending_in = b.pending_in + u.i
        FROM unnest(upd_id, upd_d, upd_f, upd_o, upd_i) AS u(id, d, fl, o, i)
        WHERE b.account_id = u.id AND b.shard = 0 AND ledger_fits(b.posted - b.pending_out, u.d - u.o, u.fl);
        GET DIAGNOSTICS cnt = ROW_COUNT;
        IF cnt <> cardinality(upd_id) THEN
            RAISE EXCEPTION USING ERRCODE = '40001',
                MESSAGE = 'ledger: a balance changed under the batch; retry the batch';
        END IF;
    END IF;
    -- hot accounts, by id: a credit goes to a free shard, so that writers
    -- crediting the pool do not queue behind each other; a debit locks
    -- every shard (in order) to check the floor against their sum
    -- (pending_out lives on shard 0, as on the locking path)
    FOR k IN n_plain + 1 .. coalesce(cardinality(a_id), 0) LOOP
        CONTINUE WHEN a_delta[k] = 0 AND a_dout[k] = 0 AND a_din[k] = 0;
        IF a_delta[k] - a_dout[k] < 0 OR a_dout[k] <> 0 THEN
            IF a_delta[k] - a_dout[k] < 0 THEN  -- available decreases
                SELECT sum(b.posted - b.pending_out) INTO tot FROM (
                    SELECT bb.posted, bb.pending_out FROM ledger_balances bb
                    WHERE bb.account_id = a_id[k] ORDER BY bb.shard FOR UPDATE) b;
                IF NOT ledger_fits(tot, a_delta[k] - a_dout[k], a_floor[k]) THEN
                    RAISE EXCEPTION USING ERRCODE = '40001',
                        MESSAGE = 'ledger: a balance changed under the batch; retry the batch';
                END IF;
            END IF;
            UPDATE ledger_balances b SET posted = b.posted + a_delta[k], pending_out = b.pending_out + a_dout[k],
                                         pending_in = b.pending_in + a_din[k]
            WHERE b.account_id = a_id[k] AND b.shard = 0;
        ELSE
            UPDATE ledger_balances b SET posted = b.posted + a_delta[k], pending_in = b.pending_in + a_din[k]
            WHERE b.account_id = a_id[k] AND b.shard = (
                SELECT bb.shard FROM ledger_balances bb WHERE bb.account_id = a_id[k]
                ORDER BY (bb.shard + pg_backend_pid()) % a_shards[k] LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING b.shard INTO sh;
            IF NOT FOUND THEN  -- every shard is busy: queue for one
                UPDATE ledger_balances b SET posted = b.posted + a_delta[k], pending_in = b.pending_in + a_din[k]
                WHERE b.account_id = a_id[k] AND b.shard = pg_backend_pid() % a_shards[k]
                RETURNING b.shard INTO sh;
            END IF;
            a_shard[k] := sh;
        END IF;
    END LOOP;
    -- lots, by id: what the batch took, if it is still there, and what
    -- it gave back (a negative take) to lots it did not read
    IF cardinality(ro_id) > 0 THEN
        SELECT array_agg(v.id ORDER BY v.id), array_agg(v.t ORDER BY v.id) INTO lu_id, lu_take
        FROM (SELECT w.id, sum(w.t)::bigint AS t
              FROM (SELECT * FROM unnest(lu_id, lu_take) UNION ALL SELECT r.id, -r.t FROM unnest(ro_id, ro_amt) AS r(id, t)) AS w(id, t)
              GROUP BY w.id) v;
    END IF;
    IF cardinality(lu_id) > 0 THEN
        UPDATE ledger_lots l SET remaining = l.remaining - u.t
        FROM (SELECT * FROM unnest(lu_id, lu_take) AS v(id, t) ORDER BY v.id) u
        WHERE l.id = u.id AND l.remaining >= u.t;
        GET DIAGNOSTICS cnt = ROW_COUNT;
        IF cnt <> cardinality(lu_id) THEN
            RAISE EXCEPTION USING ERRCODE = '40001',
                MESSAGE = 'ledger: a lot changed under the batch; retry the batch';
        END IF;
    END IF;
    -- day lots, on the shard each account's credit took: a writer holding
    -- another shard grows another lot
    IF cardinality(g_tx) > 0 THEN
        FOR i IN 1 .. cardinality(g_tx) LOOP
            g_acc := g_acc || a_id[g_k[i]];
            g_full := g_full || (g_key[i] || '|' || a_shard[g_k[i]]);
        END LOOP;
        PERFORM ledger_grow_lots(g_tx, g_acc, g_full, g_attrs, g_amt);
    END IF;
    RETURN cardinality(t_id);
END $$;
