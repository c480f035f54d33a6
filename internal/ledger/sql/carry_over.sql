-- ledger_carry_over moves what is left of an expired lot into a new lot of
-- the same account with a later expiry (p: key, lot_id, expires_at). No
-- money moves, so the transaction has no entries; the lot moves record it.
CREATE OR REPLACE FUNCTION ledger_carry_over(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    beg record;
    l ledger_lots;
    path text;
    c record;
BEGIN
    SELECT * INTO l FROM ledger_lots WHERE id = (p->>'lot_id')::bigint;
    IF NOT FOUND THEN
        PERFORM ledger_raise('RL002', 'lot not found', jsonb_build_object('lot_id', p->'lot_id'));
    END IF;
    IF (p->>'expires_at') IS NULL THEN
        PERFORM ledger_raise('RL003', 'a carried-over lot needs a new expiry', '{"field":"expires_at"}');
    END IF;
    beg := ledger_begin('carry_over', p, 'lot_expiry.carry_over', 'posted', NULL, NULL, NULL, NULL);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    -- the balance row lock serialises every lot change of the account
    SELECT a.path INTO path FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
    WHERE a.id = l.account_id AND b.shard = 0 FOR UPDATE OF b;
    SELECT * INTO c FROM ledger_consume_lots(tx_id, beg.at, l.account_id, path, (p->>'amount')::bigint, NULL,
                                             ARRAY[l.id], NULL);
    INSERT INTO ledger_lots (account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
    VALUES (l.account_id, tx_id, l.id, (p->>'expires_at')::timestamptz, l.categories, l.attrs,
            (p->>'amount')::bigint, (p->>'amount')::bigint);
END $$;
