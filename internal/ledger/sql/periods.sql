-- Periods: a platform admin closes the ledger up to an instant (nothing may
-- take effect at or before it afterwards), and permits one transaction to
-- be backdated further than 7 days. Both run with the owner's rights
-- (SECURITY DEFINER): the app role cannot write these tables itself, so
-- every close and every permission records who gave it and why.

-- ledger_closed_through is the instant the ledger is closed through (NULL:
-- nothing closed). Writers read it (the app role may read these tables)
-- with a plain SELECT, whose table lock a close waits for: a close never
-- lands under a write that checked the one before. PL/pgSQL so that the
-- SELECT's plan is cached (a SQL function is planned at every call).
CREATE OR REPLACE FUNCTION ledger_closed_through() RETURNS timestamptz
LANGUAGE plpgsql STABLE AS $$
BEGIN
    RETURN (SELECT max(p.through) FROM ledger_closed_periods p);
END $$;

-- ledger_backdate_granted is how far back the transaction under key p_key
-- may take effect by a platform admin's permission (NULL: none).
CREATE OR REPLACE FUNCTION ledger_backdate_granted(p_key text) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
    SELECT g.earliest FROM ledger_backdate_grants g WHERE g.key = p_key
$$;

-- ledger_close_period closes the ledger through p_through (at most now).
-- It locks the table against every writer checking it, so writes in
-- flight finish first and later ones see the close. Closing never reopens:
-- an earlier instant than the current close changes nothing. Returns the
-- instant the ledger is closed through.
CREATE OR REPLACE FUNCTION ledger_close_period(p_through timestamptz, p_actor text, p_reason text) RETURNS timestamptz
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    cur timestamptz;
BEGIN
    IF coalesce(p_actor, '') = '' OR coalesce(p_reason, '') = '' THEN
        PERFORM ledger_raise('RL003', 'closing a period names who closes it and why', '{"field":"reason"}');
    END IF;
    IF p_through IS NULL OR p_through > clock_timestamp() THEN
        PERFORM ledger_raise('RL003', 'a period can be closed up to now at most', '{"field":"through"}');
    END IF;
    LOCK TABLE ledger_closed_periods IN ACCESS EXCLUSIVE MODE;
    cur := ledger_closed_through();
    IF cur IS NOT NULL AND cur >= p_through THEN
        RETURN cur;
    END IF;
    INSERT INTO ledger_closed_periods (through, actor, reason) VALUES (p_through, p_actor, p_reason);
    RETURN p_through;
END $$;

-- ledger_grant_backdate permits the transaction to be written under key
-- p_key to take effect as early as p_earliest: further back than the 7
-- days anyone may, but never in a closed period nor in an earlier tax year
-- (ledger_check_effective still refuses those). One permission per key;
-- the same one again is a no-op, another is a conflict.
CREATE OR REPLACE FUNCTION ledger_grant_backdate(p_key text, p_earliest timestamptz, p_actor text, p_reason text)
RETURNS void
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    old timestamptz;
BEGIN
    IF coalesce(p_actor, '') = '' OR coalesce(p_reason, '') = '' THEN
        PERFORM ledger_raise('RL003', 'a permission to backdate names who gives it and why', '{"field":"reason"}');
    END IF;
    IF coalesce(p_key, '') = '' OR length(p_key) > 200 THEN
        PERFORM ledger_raise('RL003', 'an idempotency key of 1 to 200 characters is required', '{"field":"key"}');
    END IF;
    IF p_earliest IS NULL OR p_earliest >= clock_timestamp() THEN
        PERFORM ledger_raise('RL003', 'a permission to backdate names an instant in the past', '{"field":"effective_at"}');
    END IF;
    INSERT INTO ledger_backdate_grants (key, earliest, actor, reason) VALUES (p_key, p_earliest, p_actor, p_reason)
    ON CONFLICT (key) DO NOTHING;
    IF NOT FOUND THEN
        old := ledger_backdate_granted(p_key);
        IF old IS DISTINCT FROM p_earliest THEN
            PERFORM ledger_raise('RL004', 'this transaction already has a permission to backdate to another instant',
                                 jsonb_build_object('key', p_key));
        END IF;
    END IF;
END $$;

REVOKE ALL ON FUNCTION ledger_close_period(timestamptz, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_close_period(timestamptz, text, text) TO reciproca_app;
REVOKE ALL ON FUNCTION ledger_grant_backdate(text, timestamptz, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_grant_backdate(text, timestamptz, text, text) TO reciproca_app;
