-- The audit log's leaves. A leaf is the canonical text of one ledger
-- transaction: a jsonb object (keys named, so a value cannot slide from one
-- field into another; NULLs kept; jsonb prints one value one way) of every
-- field that never changes once written: the transaction (not a hold's
-- status or resolved_at), its entries, the lots it created (not their
-- remainder), and the lot moves it made (a void or an expiry is a release
-- transaction of its own, whose leaf has its moves; releases written
-- before that recorded their moves under the hold's id, which are left
-- out: they are not part of the hold). Timestamps are integer microseconds since 1970 (UTC), never
-- text that depends on the session's time zone.
--
-- A new immutable column of these tables belongs in the leaf; add it so
-- that rows written before it keep their leaf (e.g. only when not NULL).

-- ledger_micros is a timestamp as microseconds since 1970-01-01 UTC.
CREATE OR REPLACE FUNCTION ledger_micros(ts timestamptz) RETURNS bigint
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
    SELECT (extract(epoch FROM ts) * 1000000)::bigint
$$;

-- ledger_leaves returns the leaf of each transaction in p_ids (missing ones
-- are left out). Entries, lots and moves are gathered for the whole set at
-- once, through their tx_id indexes.
CREATE OR REPLACE FUNCTION ledger_leaves(p_ids bigint[]) RETURNS TABLE (tx_id bigint, leaf text)
LANGUAGE sql STABLE AS $$
    SELECT t.id, (jsonb_build_object(
        'id', t.id,
        'idempotency_key', t.idempotency_key,
        'request_hash', encode(t.request_hash, 'hex'),
        'kind', t.kind,
        'reference', t.reference,
        'effective_at', ledger_micros(t.effective_at),
        'created_at', ledger_micros(t.created_at),
        'expires_at', ledger_micros(t.expires_at),
        'hold_id', t.hold_id,
        'reverses_id', t.reverses_id,
        'policy_id', t.policy_id,
        'split', t.split,
        'metadata', t.metadata,
        'entries', coalesce(e.list, '[]'),
        'lots', coalesce(l.list, '[]'),
        'lot_moves', coalesce(m.list, '[]'))
        -- written_at (the instant expiries were judged at) since it exists
        || CASE WHEN t.written_at IS NOT NULL THEN jsonb_build_object('written_at', ledger_micros(t.written_at))
                ELSE '{}' END)::text
    FROM ledger_transactions t
    LEFT JOIN (SELECT x.tx_id, jsonb_agg(jsonb_build_object(
                   'id', x.id, 'account_id', x.account_id, 'account', a.path, 'amount', x.amount,
                   'effective_at', ledger_micros(x.effective_at)) ORDER BY x.id) AS list
               FROM ledger_entries x LEFT JOIN ledger_accounts a ON a.id = x.account_id
               WHERE x.tx_id = ANY (p_ids) GROUP BY x.tx_id) e ON e.tx_id = t.id
    LEFT JOIN (SELECT x.tx_id, jsonb_agg(jsonb_build_object(
                   'id', x.id, 'account_id', x.account_id, 'parent_id', x.parent_id,
                   'expires_at', ledger_micros(x.expires_at), 'categories', x.categories, 'attrs', x.attrs,
                   'amount', x.amount, 'created_at', ledger_micros(x.created_at))
                   -- a day lot's group, since day lots exist
                   || CASE WHEN x.group_key IS NOT NULL THEN jsonb_build_object('group_key', x.group_key) ELSE '{}' END
                   ORDER BY x.id) AS list
               FROM ledger_lots x WHERE x.tx_id = ANY (p_ids) GROUP BY x.tx_id) l ON l.tx_id = t.id
    LEFT JOIN (SELECT x.tx_id, jsonb_agg(jsonb_build_object(
                   'lot_id', x.lot_id, 'amount', x.amount, 'against_tx', x.against_tx)
                   -- the category a consumption paid for, since it is recorded
                   || CASE WHEN x.category IS NOT NULL THEN jsonb_build_object('category', x.category) ELSE '{}' END
                   -- and its tax bucket, since it is recorded
                   || CASE WHEN x.tax_bucket IS NOT NULL THEN jsonb_build_object('tax_bucket', x.tax_bucket) ELSE '{}' END
                   ORDER BY x.lot_id, x.amount, x.against_tx) AS list
               FROM ledger_lot_moves x
               WHERE x.tx_id = ANY (p_ids) AND x.against_tx IS DISTINCT FROM x.tx_id GROUP BY x.tx_id) m
      ON m.tx_id = t.id
    WHERE t.id = ANY (p_ids)
$$;
