-- ledger_split_parts divides gross by a policy: each share is rounded down
-- and the remainder (always < 3 cents) goes to the stated party, so the parts
-- sum to gross exactly. internal/ledger.SplitAmount is the same arithmetic.
-- A one-row SQL table function, so the planner inlines it where it is joined.
CREATE OR REPLACE FUNCTION ledger_split_parts(gross bigint, fund_bps int, fee_bps int, remainder_to text)
RETURNS TABLE (provider bigint, fund bigint, fee bigint)
LANGUAGE sql IMMUTABLE ROWS 1 AS $$
    SELECT x.pv + CASE WHEN remainder_to NOT IN ('fund', 'fee') THEN x.rem ELSE 0 END,
           x.fd + CASE WHEN remainder_to = 'fund' THEN x.rem ELSE 0 END,
           x.fe + CASE WHEN remainder_to = 'fee' THEN x.rem ELSE 0 END
    FROM (SELECT y.pv, y.fd, y.fe, gross - y.pv - y.fd - y.fe AS rem
          FROM (SELECT gross * (10000 - fund_bps - fee_bps) / 10000 AS pv, gross * fund_bps / 10000 AS fd,
                       gross * fee_bps / 10000 AS fe) y) x
$$;

-- ledger_split_postings turns a split request into its three postings
-- (zero parts left out) by the policy in force at p_at, and returns the
-- policy and the parts to record on the transaction. A gross amount out of
-- range, or no policy in force, raises (ledger_split_check). The fund's
-- part goes to the day lot of its company, policy version and day
-- (ledger_day_lot); the caller's fund_attrs are recorded whole on the
-- transaction's split. One query (the policy and its parts); the postings
-- are built with simple expressions, which costs a third of building them
-- in SQL (jsonb_agg over VALUES). Callers assign its result (a simple
-- expression, no executor start).
CREATE OR REPLACE FUNCTION ledger_split_postings(s jsonb, p_at timestamptz,
                                      OUT postings jsonb, OUT policy_id bigint, OUT split jsonb)
LANGUAGE plpgsql STABLE AS $$
DECLARE
    pol record;
BEGIN
    IF jsonb_typeof(s->'gross') IS DISTINCT FROM 'number' THEN
        PERFORM ledger_split_check(s, NULL);
    END IF;
    SELECT sp.id, sp.name, sp.version, pr.provider, pr.fund, pr.fee INTO pol
    FROM (SELECT * FROM ledger_split_policies x WHERE x.name = s->>'policy' AND x.valid_from <= p_at
          ORDER BY x.valid_from DESC LIMIT 1) sp
    CROSS JOIN LATERAL ledger_split_parts((s->>'gross')::bigint, sp.fund_bps, sp.fee_bps, sp.remainder_to) pr;
    IF NOT FOUND OR (s->>'gross')::bigint <= 0 OR (s->>'gross')::bigint > 1000000000000 THEN
        PERFORM ledger_split_check(s, pol.id);
    END IF;
    postings := '[]';
    IF pol.provider > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'provider',
            'amount', pol.provider, 'category', s->>'category', 'tax_bucket', s->>'tax_bucket'));
    END IF;
    IF pol.fund > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'fund',
            'amount', pol.fund, 'category', s->>'category', 'tax_bucket', s->>'tax_bucket',
            'lot', ledger_day_lot(s->'fund_attrs', pol.name, pol.version, p_at)));
    END IF;
    IF pol.fee > 0 THEN
        postings := postings || jsonb_build_array(jsonb_build_object('from', s->>'from', 'to', s->>'fees',
            'amount', pol.fee, 'category', s->>'category', 'tax_bucket', s->>'tax_bucket'));
    END IF;
    policy_id := pol.id;
    split := jsonb_build_object('gross', (s->>'gross')::bigint, 'provider', pol.provider, 'fund', pol.fund,
                                'fee', pol.fee, 'policy', pol.name, 'version', pol.version,
                                'fund_attrs', coalesce(s->'fund_attrs', '{}'));
END $$;

-- ledger_split_check refuses a split request without a valid gross amount
-- or without a policy in force (pol_id NULL).
CREATE OR REPLACE FUNCTION ledger_split_check(s jsonb, pol_id bigint) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF jsonb_typeof(s->'gross') IS DISTINCT FROM 'number' OR (s->>'gross')::numeric <= 0
       OR (s->>'gross')::numeric > 1000000000000 THEN
        PERFORM ledger_raise('RL003', 'the gross amount of a split must be between 1 cent and 10 billion euro',
                             '{"field":"split.gross"}');
    END IF;
    IF pol_id IS NULL THEN
        PERFORM ledger_raise('RL002', format('no split policy %s in force', s->>'policy'),
                             jsonb_build_object('policy', s->>'policy'));
    END IF;
END $$;
