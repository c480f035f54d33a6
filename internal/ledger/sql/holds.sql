-- ledger_resolve moves a hold out of pending with one state-guarded update:
-- of any number of concurrent captures, voids and expiries exactly one
-- succeeds; the others get a conflict naming the hold's status.
CREATE OR REPLACE FUNCTION ledger_resolve(p_hold bigint, p_status text, p_force boolean, p_at timestamptz) RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
    st text;
    exp timestamptz;
    sides jsonb;
BEGIN
    UPDATE ledger_transactions t SET status = p_status, resolved_at = p_at
    WHERE t.id = p_hold AND t.status = 'pending' AND (p_force OR t.expires_at > p_at);
    IF NOT FOUND THEN
        SELECT t.status, t.expires_at INTO st, exp FROM ledger_transactions t WHERE t.id = p_hold;
        IF NOT FOUND OR st NOT IN ('pending', 'captured', 'voided', 'expired') THEN
            PERFORM ledger_raise('RL002', format('hold %s not found', p_hold), jsonb_build_object('hold_id', p_hold));
        END IF;
        IF st = 'pending' THEN st := 'expired'; END IF;
        PERFORM ledger_raise('RL004', format('hold %s is already %s', p_hold, st),
                             jsonb_build_object('hold_id', p_hold, 'status', st));
    END IF;
    SELECT jsonb_agg(jsonb_build_object('id', e.account_id, 'u', e.amount, 'rel', true)) INTO sides
    FROM ledger_entries e WHERE e.tx_id = p_hold;
    RETURN sides;
END $$;

-- ledger_capture captures a hold, fully (no postings, no split: what was
-- held is posted) or partly (postings and/or split that take from the held
-- accounts at most what was held, and pay only the hold's own parties:
-- ledger_capture_parties); the rest is released, lots included.
CREATE OR REPLACE FUNCTION ledger_capture(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sp record;
    n_entries int;
    beg record;
    v_hold bigint := (p->>'hold_id')::bigint;
    rel jsonb;
    post_sides jsonb;
    postings jsonb := ledger_own_postings(p->'postings');
    pol_id bigint;
    s jsonb := p->'split';
    split_rec jsonb;
    e jsonb;
BEGIN
    IF v_hold IS NULL THEN
        PERFORM ledger_raise('RL003', 'hold_id is required', '{"field":"hold_id"}');
    END IF;
    IF NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.id = v_hold) THEN
        PERFORM ledger_raise('RL002', format('hold %s not found', v_hold), jsonb_build_object('hold_id', v_hold));
    END IF;
    IF s IS NOT NULL THEN
        sp := ledger_split_postings(s, coalesce((p->>'effective_at')::timestamptz, clock_timestamp()));
        pol_id := sp.policy_id; split_rec := sp.split;
        postings := postings || sp.postings;
    END IF;
    beg := ledger_begin('capture', p, 'capture', 'posted', v_hold, NULL, pol_id, split_rec);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    rel := ledger_resolve(v_hold, 'captured', false, beg.at);
    e := ledger_capture_parties(v_hold, p->'postings', s);
    IF e IS NOT NULL THEN
        PERFORM ledger_raise_error(e);
    END IF;
    IF jsonb_array_length(postings) = 0 THEN
        SELECT jsonb_agg(jsonb_set(x, '{rel}', 'false')) INTO post_sides FROM jsonb_array_elements(rel) x;
    END IF;
    n_entries := ledger_apply(tx_id, beg.eff, beg.at, 'capture',
                         CASE WHEN jsonb_array_length(postings) > 0 THEN postings END,
                         rel || coalesce(post_sides, '[]'), ARRAY[v_hold]);
END $$;

-- ledger_void releases a hold (p_status voided, or expired for the
-- sweeper). The release is a transaction of its own, kind
-- hold_release.voided or hold_release.expired, naming the hold (hold_id:
-- like a capture, at most one per hold), without entries (the hold's
-- entries, resolved, no longer count as pending), whose lot moves give
-- the hold's lots back: so the audit log covers those moves, as it covers
-- a capture's. Its key is made from the hold. Returns the release's id.
CREATE OR REPLACE FUNCTION ledger_void(p_hold bigint, p_status text) RETURNS bigint
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    rel jsonb;
    n_entries int;
    beg record;
BEGIN
    rel := ledger_resolve(p_hold, p_status, true, clock_timestamp());
    beg := ledger_begin('release', jsonb_build_object('key', format('hold-release:%s', p_hold),
                                                      'kind', 'hold_release.' || p_status),
                        'hold_release.' || p_status, 'posted', p_hold, NULL, NULL, NULL);
    n_entries := ledger_apply(beg.tx_id, beg.at, beg.at, 'void', NULL, rel, ARRAY[p_hold]);
    RETURN beg.tx_id;
END $$;

-- ledger_capture_parties: a capture pays only the hold's own parties. Its
-- postings credit accounts the hold credited (its destination); a split's
-- provider part goes to such an account, and its fund and fee parts to the
-- hot accounts every redemption credits (sharded: the fund pool, the
-- platform fees), never to a wallet. Otherwise a capture could credit
-- another employee's wallet, creating a lot with no expiry and no
-- categories: credits laundered. Returns the refusal, or NULL.
CREATE OR REPLACE FUNCTION ledger_capture_parties(p_hold bigint, p_postings jsonb, s jsonb) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
    bad text;
BEGIN
    SELECT x.path INTO bad FROM (
        SELECT j->>'to' AS path FROM jsonb_array_elements(coalesce(p_postings, '[]')) j
        UNION ALL SELECT s->>'provider' WHERE s IS NOT NULL) x
    WHERE NOT EXISTS (SELECT 1 FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id
                      WHERE e.tx_id = p_hold AND e.amount > 0 AND a.path = x.path)
    LIMIT 1;
    IF NOT FOUND AND s IS NOT NULL THEN
        SELECT x.path INTO bad FROM (VALUES (s->>'fund'), (s->>'fees')) x(path)
        WHERE NOT EXISTS (SELECT 1 FROM ledger_accounts a WHERE a.path = x.path AND a.shards > 1)
        LIMIT 1;
    END IF;
    IF bad IS NULL THEN
        RETURN NULL;
    END IF;
    RETURN ledger_error('RL003', format('a capture pays only the parties of hold %s, not %s', p_hold, bad),
                        jsonb_build_object('hold_id', p_hold, 'account', bad));
END $$;
