-- The Batcher's writes by the locking functions (ledger_hold,
-- ledger_capture, ledger_void, ledger_reverse): a request alone in its
-- queue (ledger_write_one: a batch of one costs what the plain call
-- costs), and batches of reversals (ledger_write_batch). Batches of posts,
-- holds, captures and voids go through ledger_post_batch's stages
-- (batch.sql) instead. Every rule the functions keep (a hold resolves
-- once, floors count pending holds, a capture pays only the hold's
-- parties, lots, day lots, tax buckets, closed periods, the audit log's
-- leaves) is kept the same way; what a ledger_write_batch shares is the
-- round trip, the statement and the commit.
--
-- An op is {"op": "post"|"hold"|"capture"|"void"|"reverse", "req": {...}}
-- (req as the function takes it; a void's is {"hold_id"}).

-- ledger_write_op writes one op by its function and returns its
-- transaction (a void: the release's).
CREATE OR REPLACE FUNCTION ledger_write_op(o jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    CASE o->>'op'
    WHEN 'post', 'hold' THEN
        r := ledger_hold(o->'req');
    WHEN 'capture' THEN
        r := ledger_capture(o->'req');
    WHEN 'reverse' THEN
        r := ledger_reverse(o->'req');
    WHEN 'void' THEN
        tx_id := ledger_void((o->'req'->>'hold_id')::bigint, 'voided');
        replayed := false;
        RETURN;
    ELSE
        PERFORM ledger_raise('RL003', format('unknown ledger operation %s', o->>'op'), '{"field":"op"}');
    END CASE;
    tx_id := r.tx_id;
    replayed := r.replayed;
END $$;

-- ledger_write_one writes one op (a batch of one, or a request of a batch
-- that gave up waiting for a lock) and raises its refusal; with
-- p_lock_timeout_ms > 0 it waits at most that long for a row lock (55P03).
CREATE OR REPLACE FUNCTION ledger_write_one(o jsonb, p_lock_timeout_ms int DEFAULT 0, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r record;
BEGIN
    IF p_lock_timeout_ms > 0 THEN  -- for this transaction (the Batcher's statement) only
        PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    END IF;
    r := ledger_write_op(o);
    tx_id := r.tx_id;
    replayed := r.replayed;
END $$;

-- ledger_write_batch writes ops, a JSON array of ops, in one database
-- transaction, and returns one element per op, {"tx_id", "replayed"}. When
-- an op is refused it writes nothing and returns {"refused": i, "code",
-- "message", "detail"} (i: the op's index from 0; the codes ledger_raise
-- uses): the caller gives op i its refusal and sends the others again, in
-- the same order. Any other error (a deadlock, a lock timeout: 55P03 with
-- p_lock_timeout_ms > 0) fails the batch as a whole, and nothing of it is
-- written.
--
-- One subtransaction holds the whole batch (it is how the refused op is
-- named), and its locks: a row locked by a transaction and then updated by
-- one of its subtransactions needs a multixact, which every later reader
-- of the row must look up, and one subtransaction per op would make
-- every update such a one. Refusals are rare next to the writes (a
-- voucher validated twice, a booking beyond the wallet), so a batch is
-- nearly always written in one go.
--
-- Locks. A locking function locks as it goes, in one global order; a batch
-- of them would hold the first op's rows while the second takes its own,
-- out of that order. So the batch first takes every lock its ops will
-- need, in the order the single functions take them: the holds it
-- resolves and the transactions it reverses (their rows, by id; a single
-- capture, void, expiry or reversal also locks that row before any
-- balance), then the balance rows of plain accounts by id, then every
-- shard of the hot accounts it may debit, by id. The rows it takes later
-- are those a single call takes last: a hot account's free shard for a
-- credit and that shard's day lot, and lots of accounts it already holds.
CREATE OR REPLACE FUNCTION ledger_write_batch(ops jsonb, p_lock_timeout_ms int DEFAULT 0) RETURNS jsonb
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    n int := coalesce(jsonb_array_length(ops), 0);
    o jsonb; q jsonb; pj jsonb; s jsonb;
    txs bigint[] := '{}';
    paths text[] := '{}'; from_paths text[] := '{}';
    ids bigint[]; debited bigint[];
    out jsonb[] := '{}';
    r record;
    cur int;
    st text; msg text; det text;
BEGIN
    IF n = 0 THEN
        RETURN '[]';
    END IF;
    IF p_lock_timeout_ms > 0 THEN
        PERFORM set_config('lock_timeout', p_lock_timeout_ms || 'ms', true);
    END IF;
    -- what the ops name (simple expressions: no query per op)
    FOR i IN 0 .. n - 1 LOOP
        o := ops->i;
        q := o->'req';
        CASE o->>'op'
        WHEN 'capture', 'void' THEN txs := txs || (q->>'hold_id')::bigint;
        WHEN 'reverse' THEN txs := txs || (q->>'transaction_id')::bigint; paths := paths || 'platform:loss'::text;
        ELSE NULL;
        END CASE;
        s := q->'split';
        IF s IS NOT NULL THEN
            paths := paths || (s->>'from'); paths := paths || (s->>'provider');
            paths := paths || (s->>'fund'); paths := paths || (s->>'fees');
            from_paths := from_paths || (s->>'from');
        END IF;
        FOR j IN 0 .. coalesce(jsonb_array_length(q->'postings'), 0) - 1 LOOP
            pj := q->'postings'->j;
            paths := paths || (pj->>'from'); paths := paths || (pj->>'to');
            -- a reversal's postings are written in the original direction
            from_paths := from_paths || CASE WHEN o->>'op' = 'reverse' THEN pj->>'to' ELSE pj->>'from' END;
        END LOOP;
    END LOOP;
    BEGIN
        -- the transactions resolved or reversed, by id
        IF cardinality(txs) > 0 THEN
            PERFORM 1 FROM ledger_transactions t WHERE t.id = ANY (txs) ORDER BY t.id FOR NO KEY UPDATE;
        END IF;
        -- the accounts: named, or on those transactions' entries (which a
        -- capture or void releases and a reversal moves back: a hot one
        -- there may be debited)
        SELECT array_agg(DISTINCT e.account_id) INTO debited FROM ledger_entries e WHERE e.tx_id = ANY (txs);
        SELECT array_agg(a.id) INTO ids FROM ledger_accounts a WHERE a.path = ANY (paths);
        debited := coalesce(debited, '{}') || coalesce((SELECT array_agg(a.id) FROM ledger_accounts a WHERE a.path = ANY (from_paths)), '{}');
        ids := coalesce(ids, '{}') || debited;
        PERFORM 1 FROM ledger_balances b JOIN ledger_accounts a ON a.id = b.account_id
        WHERE a.id = ANY (ids) AND ((a.shards = 1 AND b.shard = 0) OR (a.shards > 1 AND a.id = ANY (debited)))
        ORDER BY a.shards > 1, b.account_id, b.shard FOR UPDATE OF b;

        FOR i IN 0 .. n - 1 LOOP
            cur := i;
            r := ledger_write_op(ops->i);
            out := out || jsonb_build_object('tx_id', r.tx_id, 'replayed', r.replayed);
        END LOOP;
    EXCEPTION WHEN SQLSTATE 'RL001' OR SQLSTATE 'RL002' OR SQLSTATE 'RL003' OR SQLSTATE 'RL004' OR SQLSTATE 'RL005' THEN
        GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
        RETURN jsonb_build_object('refused', cur) || ledger_error(st, msg, CASE WHEN left(det, 1) = '{' THEN det::jsonb
                                                                             ELSE jsonb_build_object('detail', det) END);
    END;
    RETURN to_jsonb(out);
END $$;
