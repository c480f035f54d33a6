-- ledger_post writes one posted transaction or hold by the locking path
-- (ledger_hold, through ledger_apply), and raises its refusal. A batch of
-- one through ledger_post_batch costs more: its read, apply and write
-- stages and their arrays are a fixed cost that only a batch of several
-- shares out (docs/benchmarks.md). p_lock is ledger_post_batch's: the
-- locking path always locks what it changes, as it goes, in the global
-- order.
CREATE OR REPLACE FUNCTION ledger_post(p jsonb, p_lock boolean DEFAULT false, OUT tx_id bigint, OUT replayed boolean)
LANGUAGE plpgsql AS $$
DECLARE
    h record;
BEGIN
    h := ledger_hold(p);
    tx_id := h.tx_id;
    replayed := h.replayed;
END $$;

-- ledger_hold places a hold (p has "hold": true and "expires_at"), or
-- without "hold" writes a posted transaction, through ledger_apply. With
-- "split" it adds the three-way split of a gross amount by the policy in
-- force at the effective time, recording the policy and the parts on the
-- transaction.
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
