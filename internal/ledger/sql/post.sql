-- ledger_post: a posted transaction is a batch of one, whose error is
-- raised (p_lock as ledger_post_batch's); a hold ("hold": true) is placed
-- by ledger_hold.
CREATE OR REPLACE FUNCTION ledger_post(p jsonb, p_lock boolean DEFAULT false, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    r jsonb;
    h record;
BEGIN
    IF coalesce((p->>'hold')::boolean, false) THEN
        h := ledger_hold(p);
        tx_id := h.tx_id;
        replayed := h.replayed;
        RETURN;
    END IF;
    r := ledger_post_batch(jsonb_build_array(p), p_lock)->0;
    IF r ? 'code' THEN
        PERFORM ledger_raise_error(r);
    END IF;
    tx_id := (r->>'tx_id')::bigint;
    replayed := (r->>'replayed')::boolean;
END $$;

-- ledger_hold places a hold (p has "hold": true and "expires_at"). With
-- "split" it adds the three-way split of a gross amount by the policy in
-- force at the effective time, recording the policy and the parts on the
-- transaction. (Called without "hold" it would write a posted transaction
-- through ledger_apply; ledger_post sends those to ledger_post_batch.)
CREATE OR REPLACE FUNCTION ledger_hold(p jsonb, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql SET plan_cache_mode = force_generic_plan AS $$
DECLARE
    sp record;
    n_entries int;
    beg record;
    hold boolean := coalesce((p->>'hold')::boolean, false);
    postings jsonb := ledger_own_postings(p->'postings');
    pol_id bigint;
    s jsonb := p->'split';
    split_rec jsonb;
BEGIN
    IF s IS NOT NULL THEN
        sp := ledger_split_postings(s, coalesce((p->>'effective_at')::timestamptz, clock_timestamp()));
        pol_id := sp.policy_id; split_rec := sp.split;
        postings := postings || sp.postings;
    END IF;
    IF hold AND (p->>'expires_at') IS NULL THEN
        PERFORM ledger_raise('RL003', 'a hold needs an expiry time', '{"field":"expires_at"}');
    END IF;
    IF jsonb_array_length(postings) = 0 THEN
        PERFORM ledger_raise('RL003', 'a transaction needs at least one posting', '{"field":"postings"}');
    END IF;
    beg := ledger_begin(CASE WHEN hold THEN 'hold' ELSE 'post' END, p, CASE WHEN hold THEN 'hold' ELSE 'transfer' END,
                      CASE WHEN hold THEN 'pending' ELSE 'posted' END, NULL, NULL, pol_id, split_rec);
    tx_id := beg.tx_id;
    replayed := beg.replayed;
    IF replayed THEN
        RETURN;
    END IF;
    n_entries := ledger_apply(tx_id, beg.eff, beg.at, CASE WHEN hold THEN 'hold' ELSE 'post' END, postings, NULL, NULL);
END $$;
