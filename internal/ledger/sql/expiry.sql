-- The expiry sweep's own write: the only path that takes from a lot that
-- has expired, and that names the lot it takes from. Callers cannot do
-- either through ledger_post or ledger_hold (internal/ledger
-- SweepExpiredLots is its only caller).

-- ledger_dispose_lot disposes of what is left of one expired lot (p:
-- lot_id, action, to, expires_at, attrs):
--   return     the remainder goes to "to" (the company budget);
--   donate     it goes to "to" (a fund pool) as a contributor lot with attrs;
--   carry_over a new lot of the same account expiring at expires_at takes
--              it (no money moves: the transaction has no entries, its lot
--              moves record it).
-- It locks the lot's account (the balance row: every lot change of the
-- account waits for it), then reads the lot: what is left is its
-- unreserved remainder (holds consumed theirs when they were placed). With
-- nothing left it does nothing and returns no transaction. The key is
-- made here, from the lot and how many moves it has had: a lot that gets
-- money back after a disposal (a voided hold) is disposed of again under a
-- new key, and two sweepers disposing of the same state write it once.
CREATE OR REPLACE FUNCTION ledger_dispose_lot(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    l ledger_lots;
    path text;
    n_moves bigint;
    beg record;
    c record;
    action text := p->>'action';
    req jsonb;
    n_entries int;
BEGIN
    SELECT a.path INTO path FROM ledger_lots x JOIN ledger_accounts a ON a.id = x.account_id
    JOIN ledger_balances b ON b.account_id = a.id AND b.shard = 0
    WHERE x.id = (p->>'lot_id')::bigint FOR UPDATE OF b;
    IF NOT FOUND THEN
        PERFORM ledger_raise('RL002', 'lot not found', jsonb_build_object('lot_id', p->'lot_id'));
    END IF;
    SELECT * INTO l FROM ledger_lots WHERE id = (p->>'lot_id')::bigint;
    IF l.remaining = 0 THEN
        replayed := false;
        RETURN;
    END IF;
    IF l.expires_at IS NULL OR l.expires_at > clock_timestamp() THEN
        PERFORM ledger_raise('RL003', format('lot %s has not expired', l.id), jsonb_build_object('lot_id', l.id));
    END IF;
    IF action NOT IN ('return', 'donate', 'carry_over') OR (action <> 'carry_over' AND p->>'to' IS NULL) THEN
        PERFORM ledger_raise('RL003', 'an expired lot is returned, donated or carried over', '{"field":"action"}');
    END IF;
    IF action = 'carry_over' AND ((p->>'expires_at') IS NULL OR (p->>'expires_at')::timestamptz <= clock_timestamp()) THEN
        PERFORM ledger_raise('RL003', 'a carried-over lot must expire in the future', '{"field":"expires_at"}');
    END IF;
    SELECT count(*) INTO n_moves FROM ledger_lot_moves m WHERE m.lot_id = l.id;
    req := p || jsonb_build_object('key', format('lot-expiry:%s:%s', l.id, n_moves), 'amount', l.remaining,
                                   'kind', 'lot_expiry.' || action, 'metadata', jsonb_build_object('lot_id', l.id));
    beg := ledger_begin('dispose_lot', req, 'lot_expiry.' || action, 'posted', NULL, NULL, NULL, NULL);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    IF action = 'carry_over' THEN
        c := ledger_consume_lots(tx_id, beg.at, l.account_id, path, l.remaining, NULL, NULL, ARRAY[l.id], NULL);
        INSERT INTO ledger_lots (account_id, tx_id, parent_id, expires_at, categories, attrs, amount, remaining)
        VALUES (l.account_id, tx_id, l.id, (p->>'expires_at')::timestamptz, l.categories, l.attrs, l.remaining, l.remaining);
        RETURN;
    END IF;
    n_entries := ledger_apply(tx_id, beg.eff, beg.at, 'sweep', jsonb_build_array(jsonb_build_object(
        'from', path, 'to', p->>'to', 'amount', l.remaining, 'only_lots', jsonb_build_array(l.id),
        'lot', CASE WHEN action = 'donate' THEN jsonb_build_object('attrs', coalesce(p->'attrs', '{}')) END)),
        NULL, NULL);
END $$;
