-- Posted transactions are written in batches (internal/ledger.PostBatch and
-- the Batcher; ledger_post is a batch of one). A batch is one statement in
-- one database transaction. It reads what its requests need (accounts,
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
-- ledger_post takes them, without "hold"), in order, and returns an array
-- with one element per request: {"tx_id", "replayed"} or {"code",
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
                            r.l_id, r.l_acc, r.l_exp, r.l_cats, r.l_attrs, r.l_rem, r.l_next, r.a_trunc, r.closed);
    IF a.more_lots THEN
        -- a debit its account's first lots in spending order could not pay:
        -- read every spendable lot of the accounts the batch debits, and
        -- apply again (the first pass wrote nothing)
        r := ledger_batch_read(ps, p_lock, NULL);
        a := ledger_batch_apply(ps, r.amap, r.a_id, r.a_path, r.a_asset, r.a_sgn, r.a_floor, r.a_lots, r.a_status,
                                r.a_avail, r.a_first, r.existing, r.pol_id, r.pol_name, r.pol_version, r.pol_from,
                                r.pol_fund, r.pol_fee, r.pol_rem, r.pol_attrs,
                                r.l_id, r.l_acc, r.l_exp, r.l_cats, r.l_attrs, r.l_rem, r.l_next, r.a_trunc, r.closed);
    END IF;
    IF cardinality(a.t_id) > 0 THEN
        n := ledger_batch_write(a.t_id, a.t_key, a.t_hash, a.t_kind, a.t_ref, a.t_eff, a.t_pol, a.t_split, a.t_meta,
                                a.e_tx, a.e_acc, a.e_amt, a.e_eff,
                                a.nl_id, a.nl_acc, a.nl_tx, a.nl_parent, a.nl_exp, a.nl_cats, a.nl_attrs,
                                a.nl_amount, a.nl_rem, a.m_tx, a.m_lot, a.m_amt, a.m_cat, a.m_tax,
                                r.a_id, r.a_floor, r.a_shards, r.n_plain, a.a_delta, a.lu_id, a.lu_take, a.at,
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
    OUT l_rem bigint[], OUT l_next int[], OUT a_trunc boolean[], OUT closed timestamptz)
LANGUAGE plpgsql AS $$
DECLARE
    n int := jsonb_array_length(ps);
    p jsonb; pj jsonb; s jsonb;
    paths text[] := '{}'; from_paths text[] := '{}'; pol_names text[] := '{}'; keys text[] := '{}';
    lot_accs bigint[] := '{}'; lot_ks int[];
    i int; j int; k int; q int; run int;
    now_ timestamptz := clock_timestamp();  -- lots expired now are expired when the batch is applied
BEGIN
    -- what the batch names (simple expressions: no query per request)
    FOR i IN 0 .. n - 1 LOOP
        p := ps->i;
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

    IF p_lock THEN  -- plain accounts by id, then every shard of the hot ones debited, by id
        PERFORM 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
        WHERE a.path = ANY (paths) AND ((a.shards = 1 AND b.shard = 0) OR (a.shards > 1 AND a.path = ANY (from_paths)))
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
        FROM (SELECT y.* FROM unnest(lot_accs) WITH ORDINALITY AS x(id, o)
              CROSS JOIN LATERAL (SELECT * FROM ledger_lots z
                                  WHERE z.account_id = x.id AND z.live AND (z.expires_at IS NULL OR z.expires_at > now_)
                                  ORDER BY z.expires_at, z.id LIMIT p_lot_limit) y
              ORDER BY x.o, y.expires_at NULLS LAST, y.id) l;
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
-- (e_), new lots (nl_), lot moves (m_), each account's change of posted
-- (a_delta, by k) and what the batch took from each lot it read (lu_).
CREATE OR REPLACE FUNCTION ledger_batch_apply(ps jsonb,
    amap jsonb, a_id bigint[], a_path text[], a_asset text[], a_sgn int[], a_floor bigint[], a_lots boolean[],
    a_status text[], a_avail bigint[], a_first int[], existing jsonb,
    pol_id bigint[], pol_name text[], pol_version int[], pol_from timestamptz[], pol_fund int[], pol_fee int[],
    pol_rem text[], pol_attrs jsonb[],
    l_id bigint[], l_acc bigint[], l_exp timestamptz[], l_cats jsonb[], l_attrs jsonb[], l_rem bigint[], l_next int[],
    a_trunc boolean[], p_closed timestamptz,
    OUT res jsonb,
    OUT t_id bigint[], OUT t_key text[], OUT t_hash bytea[], OUT t_kind text[], OUT t_ref text[],
    OUT t_eff timestamptz[], OUT t_pol bigint[], OUT t_split jsonb[], OUT t_meta jsonb[],
    OUT e_tx bigint[], OUT e_acc bigint[], OUT e_amt bigint[], OUT e_eff timestamptz[],
    OUT nl_id bigint[], OUT nl_acc bigint[], OUT nl_tx bigint[], OUT nl_parent bigint[], OUT nl_exp timestamptz[],
    OUT nl_cats jsonb[], OUT nl_attrs jsonb[], OUT nl_amount bigint[], OUT nl_rem bigint[],
    OUT m_tx bigint[], OUT m_lot bigint[], OUT m_amt bigint[], OUT m_cat text[], OUT m_tax text[],
    OUT a_delta bigint[], OUT lu_id bigint[], OUT lu_take bigint[], OUT at timestamptz,
    OUT g_tx bigint[], OUT g_k int[], OUT g_key text[], OUT g_attrs jsonb[], OUT g_amt bigint[], OUT more_lots boolean)
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
BEGIN
    at := clock_timestamp();  -- the instant of the write, by which expiry is judged
    t_id := '{}'; t_key := '{}'; t_hash := '{}'; t_kind := '{}'; t_ref := '{}'; t_eff := '{}'; t_pol := '{}';
    t_split := '{}'; t_meta := '{}';
    e_tx := '{}'; e_acc := '{}'; e_amt := '{}'; e_eff := '{}';
    m_tx := '{}'; m_lot := '{}'; m_amt := '{}'; m_cat := '{}'; m_tax := '{}';
    g_tx := '{}'; g_k := '{}'; g_key := '{}'; g_attrs := '{}'; g_amt := '{}'; more_lots := false;
    a_delta := array_fill(0::bigint, ARRAY[coalesce(cardinality(a_id), 0)]);
    <<req>>
    FOR i IN 0 .. n - 1 LOOP
        p := ps->i;
        t_lot := '{}'; t_amt := '{}'; t_acc := '{}'; t_cat := '{}'; t_tax := '{}';
        v_kf := '{}'; v_kt := '{}'; v_amt := '{}'; v_lot := '{}';
        r_k := '{}'; r_u := '{}'; r_cat := '{}'; r_tax := '{}'; r_catset := '{}'; r_nout := '{}'; r_in := '{}';
        <<apply>>
        BEGIN
            IF jsonb_typeof(p) IS DISTINCT FROM 'object' OR coalesce((p->>'hold')::boolean, false) THEN
                err := ledger_error('RL003', 'a batch takes posted transactions only', '{"field":"hold"}');
                EXIT apply;
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
                sp_lot := ARRAY[NULL, ledger_day_lot(s->'fund_attrs', pol_name[pol], pol_version[pol], eff), NULL];
                n_legs := n_legs + (pv > 0)::int + (fd > 0)::int + (fe > 0)::int;
                split_rec := jsonb_build_object('gross', gross, 'provider', pv, 'fund', fd, 'fee', fe,
                                                'policy', pol_name[pol], 'version', pol_version[pol],
                                                'fund_attrs', coalesce(s->'fund_attrs', '{}'));
            END IF;
            IF n_legs = 0 THEN
                err := ledger_error('RL003', 'a transaction needs at least one posting', '{"field":"postings"}');
                EXIT apply;
            END IF;

            -- idempotency: the same key and request replays, another request is a conflict
            k_ := p->>'key';
            IF k_ IS NULL OR k_ = '' OR length(k_) > 200 THEN
                err := ledger_error('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
                EXIT apply;
            END IF;
            h := sha256(convert_to('post:' || p::text, 'UTF8'));
            pos := array_position(s_key, k_);
            x := CASE WHEN pos IS NOT NULL THEN jsonb_build_array(s_tx[pos], s_hash[pos]) ELSE existing->k_ END;
            IF x IS NOT NULL THEN
                IF x->>1 <> encode(h, 'hex') THEN
                    err := ledger_error('RL004', 'this idempotency key was already used for a different request',
                                        jsonb_build_object('key', k_, 'transaction_id', (x->>0)::bigint));
                    EXIT apply;
                END IF;
                out := out || jsonb_build_object('tx_id', (x->>0)::bigint, 'replayed', true);
                CONTINUE req;
            END IF;
            err := ledger_check_effective(eff, at, p->>'effective_at' IS NOT NULL, p_closed,
                                          CASE WHEN eff < at - interval '7 days' THEN ledger_backdate_granted(k_) END);
            EXIT apply WHEN err IS NOT NULL;
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
                    pos := cardinality(r_k);
                END IF;
                r_u[pos] := r_u[pos] + amt;
                r_in[pos] := r_in[pos] + 1;
            END LOOP;
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
                    j := j - 1;
                END LOOP;
            END LOOP;

            IF NOT (0 <> ANY (r_u)) THEN
                err := ledger_no_entries();
                EXIT apply;
            END IF;
            FOR q IN 1 .. cardinality(r_k) LOOP
                k := r_k[q];
                IF a_status[k] <> 'open' AND r_u[q] <> 0 THEN
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
                dp := r_u[q] * a_sgn[k];
                IF NOT ledger_fits(a_avail[k], dp, a_floor[k]) THEN
                    err := ledger_insufficient(a_path[k], a_avail[k], a_floor[k], -dp);
                    EXIT apply;
                END IF;
                IF dp < 0 AND a_lots[k] THEN
                    j := nullif(a_first[k], 0);
                    IF l_rem[j] >= -dp AND ledger_lot_spendable(l_exp[j], l_cats[j], r_cat[q], at) THEN
                        -- The account's first lot in spending order pays it
                        -- all: ledger_pick_lots' answer, without the cost of
                        -- calling it (a third of a redemption's apply time).
                        l_rem[j] := l_rem[j] + dp;
                        t_lot := t_lot || j; t_amt := t_amt || -dp; t_acc := t_acc || k; t_cat := t_cat || r_cat[q]; t_tax := t_tax || r_tax[q];
                        CONTINUE;
                    END IF;
                    c := ledger_pick_lots(-dp, r_cat[q], at, NULL, 0, j, l_next, l_id, l_exp, l_cats, l_rem);
                    IF c.short > 0 AND a_trunc[k] THEN
                        more_lots := true;  -- lots were left unread: ledger_post_batch reads them all and applies again
                    END IF;
                    IF c.short > 0 THEN
                        err := ledger_lots_short(a_path[k], r_cat[q], -dp - c.short, -dp);
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
                dp := r_u[q] * a_sgn[k];
                a_delta[k] := a_delta[k] + dp;
                a_avail[k] := a_avail[k] + dp;
                CONTINUE WHEN r_u[q] = 0;
                e_tx := e_tx || tx; e_acc := e_acc || a_id[k]; e_amt := e_amt || r_u[q]; e_eff := e_eff || eff;
            END LOOP;
            FOR q IN 1 .. cardinality(t_lot) LOOP
                m_tx := m_tx || tx; m_lot := m_lot || l_id[t_lot[q]]; m_amt := m_amt || t_amt[q]; m_cat := m_cat || t_cat[q]; m_tax := m_tax || t_tax[q];
            END LOOP;
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
            t_kind := t_kind || coalesce(p->>'kind', 'transfer'); t_ref := t_ref || coalesce(p->>'reference', '');
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
-- lock order: balance rows of plain accounts by id, hot accounts by id,
-- lots by id. A guard that fails (a concurrent writer changed a row so
-- that the batch no longer fits), or a key written concurrently, raises
-- 40001: the whole batch is retried. Arrays go in through unnest, which
-- the planner expects to be short: it probes the primary keys rather than
-- hashing whole tables. Returns how many transactions it wrote.
CREATE OR REPLACE FUNCTION ledger_batch_write(
    t_id bigint[], t_key text[], t_hash bytea[], t_kind text[], t_ref text[], t_eff timestamptz[], t_pol bigint[],
    t_split jsonb[], t_meta jsonb[],
    e_tx bigint[], e_acc bigint[], e_amt bigint[], e_eff timestamptz[],
    nl_id bigint[], nl_acc bigint[], nl_tx bigint[], nl_parent bigint[], nl_exp timestamptz[], nl_cats jsonb[],
    nl_attrs jsonb[], nl_amount bigint[], nl_rem bigint[],
    m_tx bigint[], m_lot bigint[], m_amt bigint[], m_cat text[], m_tax text[],
    a_id bigint[], a_floor bigint[], a_shards int[], n_plain int, a_delta bigint[], lu_id bigint[], lu_take bigint[],
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
    upd_id bigint[] := '{}'; upd_d bigint[] := '{}'; upd_f bigint[] := '{}';
BEGIN
    -- the new rows in one statement (one executor start, not four)
    WITH tx AS (
        INSERT INTO ledger_transactions (id, idempotency_key, request_hash, kind, status, reference, effective_at,
                                         policy_id, split, metadata, written_at)
        SELECT u.id, u.k, u.h, u.kind, 'posted', u.ref, u.eff, u.pol, u.split, u.meta, p_at
        FROM unnest(t_id, t_key, t_hash, t_kind, t_ref, t_eff, t_pol, t_split, t_meta)
             AS u(id, k, h, kind, ref, eff, pol, split, meta)
        ON CONFLICT (idempotency_key) DO NOTHING
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
        INSERT INTO ledger_lot_moves (tx_id, lot_id, amount, category, tax_bucket)
        SELECT u.tx, u.lot, u.amt, u.cat, u.tb FROM unnest(m_tx, m_lot, m_amt, m_cat, m_tax) AS u(tx, lot, amt, cat, tb)
    )
    SELECT count(*) INTO cnt FROM tx;
    IF cnt <> cardinality(t_id) THEN
        RAISE EXCEPTION USING ERRCODE = '40001',
            MESSAGE = 'ledger: an idempotency key of this batch was written concurrently; retry the batch';
    END IF;

    -- balance rows of plain accounts, by id; a debit keeps the floor
    FOR k IN 1 .. n_plain LOOP
        IF a_delta[k] <> 0 THEN
            upd_id := upd_id || a_id[k]; upd_d := upd_d || a_delta[k]; upd_f := upd_f || a_floor[k];
        END IF;
    END LOOP;
    IF cardinality(upd_id) > 0 THEN
        -- lock first, sorted: the order an UPDATE joining the array visits
        -- rows in is the planner's choice (a small table is scanned in
        -- physical order), the order rows are locked in is not
        PERFORM 1 FROM ledger_balances b WHERE b.account_id = ANY (upd_id) AND b.shard = 0
        ORDER BY b.account_id FOR UPDATE;
        UPDATE ledger_balances b SET posted = b.posted + u.d
        FROM unnest(upd_id, upd_d, upd_f) AS u(id, d, fl)
        WHERE b.account_id = u.id AND b.shard = 0 AND ledger_fits(b.posted - b.pending_out, u.d, u.fl);
        GET DIAGNOSTICS cnt = ROW_COUNT;
        IF cnt <> cardinality(upd_id) THEN
            RAISE EXCEPTION USING ERRCODE = '40001',
                MESSAGE = 'ledger: a balance changed under the batch; retry the batch';
        END IF;
    END IF;
    -- hot accounts, by id: a credit goes to a free shard, so that writers
    -- crediting the pool do not queue behind each other; a debit locks
    -- every shard (in order) to check the floor against their sum
    FOR k IN n_plain + 1 .. coalesce(cardinality(a_id), 0) LOOP
        CONTINUE WHEN a_delta[k] = 0;
        IF a_delta[k] < 0 THEN
            SELECT sum(b.posted - b.pending_out) INTO tot FROM (
                SELECT bb.posted, bb.pending_out FROM ledger_balances bb
                WHERE bb.account_id = a_id[k] ORDER BY bb.shard FOR UPDATE) b;
            IF NOT ledger_fits(tot, a_delta[k], a_floor[k]) THEN
                RAISE EXCEPTION USING ERRCODE = '40001',
                    MESSAGE = 'ledger: a balance changed under the batch; retry the batch';
            END IF;
            UPDATE ledger_balances b SET posted = b.posted + a_delta[k] WHERE b.account_id = a_id[k] AND b.shard = 0;
        ELSE
            UPDATE ledger_balances b SET posted = b.posted + a_delta[k]
            WHERE b.account_id = a_id[k] AND b.shard = (
                SELECT bb.shard FROM ledger_balances bb WHERE bb.account_id = a_id[k]
                ORDER BY (bb.shard + pg_backend_pid()) % a_shards[k] LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING b.shard INTO sh;
            IF NOT FOUND THEN  -- every shard is busy: queue for one
                UPDATE ledger_balances b SET posted = b.posted + a_delta[k]
                WHERE b.account_id = a_id[k] AND b.shard = pg_backend_pid() % a_shards[k]
                RETURNING b.shard INTO sh;
            END IF;
            a_shard[k] := sh;
        END IF;
    END LOOP;
    -- lots, by id: what the batch took, if it is still there
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
