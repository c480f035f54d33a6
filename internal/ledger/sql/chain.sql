-- The hash chain over the transactions' leaves (leaves.sql).

-- ledger_seal extends the hash chain by up to p_limit transactions, in
-- (writer xid, id) order, taking only transactions whose writer and every
-- earlier writer have finished, so no row can later appear behind the
-- chain. One sealer at a time (the head row lock); never on the write path.
CREATE OR REPLACE FUNCTION ledger_seal(p_limit int) RETURNS int
LANGUAGE plpgsql AS $$
DECLARE
    horizon xid8 := pg_snapshot_xmin(pg_current_snapshot());
    h ledger_chain_head;
    r record;
    n int := 0;
BEGIN
    SELECT * INTO h FROM ledger_chain_head FOR UPDATE;
    FOR r IN WITH b AS (SELECT t.id, t.writer_xid FROM ledger_transactions t
                        WHERE (t.writer_xid, t.id) > (h.last_xid, h.last_tx) AND t.writer_xid < horizon
                        ORDER BY t.writer_xid, t.id LIMIT p_limit)
             SELECT b.id, b.writer_xid, x.leaf AS digest
             FROM b JOIN ledger_leaves(ARRAY(SELECT id FROM b)) x ON x.tx_id = b.id
             ORDER BY b.writer_xid, b.id
    LOOP
        h.seq := h.seq + 1;
        h.last_hash := sha256(h.last_hash || convert_to(r.digest, 'UTF8'));
        h.last_xid := r.writer_xid;
        h.last_tx := r.id;
        INSERT INTO ledger_chain (seq, tx_id, hash) VALUES (h.seq, r.id, h.last_hash);
        n := n + 1;
    END LOOP;
    IF n > 0 THEN
        UPDATE ledger_chain_head SET seq = h.seq, last_xid = h.last_xid, last_tx = h.last_tx, last_hash = h.last_hash;
    END IF;
    RETURN n;
END $$;

-- ledger_chain_check recomputes the chain and returns the first sequence
-- number whose hash does not match (NULL when the chain is intact).
CREATE OR REPLACE FUNCTION ledger_chain_check() RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
    r record;
    prev bytea := '\x';
    expect bigint := 1;
BEGIN
    FOR r IN SELECT c.seq, c.hash, x.tx_id AS tid, x.leaf AS digest
             FROM ledger_chain c
             LEFT JOIN ledger_leaves(ARRAY(SELECT tx_id FROM ledger_chain)) x ON x.tx_id = c.tx_id
             ORDER BY c.seq
    LOOP
        IF r.seq <> expect OR r.tid IS NULL THEN
            RETURN expect;
        END IF;
        prev := sha256(prev || convert_to(r.digest, 'UTF8'));
        IF prev <> r.hash THEN
            RETURN r.seq;
        END IF;
        expect := expect + 1;
    END LOOP;
    IF (SELECT seq FROM ledger_chain_head) <> expect - 1 OR (SELECT last_hash FROM ledger_chain_head) <> prev THEN
        RETURN expect;
    END IF;
    RETURN NULL;
END $$;
