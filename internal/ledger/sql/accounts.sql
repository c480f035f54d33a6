-- ledger_set_account_status freezes, closes or reopens an account and
-- records the change (who, why) in ledger_account_changes. It runs with its
-- owner's rights (SECURITY DEFINER): the app role may not update
-- ledger_accounts itself, so this is the only way it changes a status.
CREATE OR REPLACE FUNCTION ledger_set_account_status(p_path text, p_status text, p_actor text, p_reason text)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, public AS $$
DECLARE
    acc record;
BEGIN
    IF p_status NOT IN ('open', 'frozen', 'closed') THEN
        PERFORM ledger_raise('RL003', 'status must be open, frozen or closed', '{"field":"status"}');
    END IF;
    IF coalesce(p_actor, '') = '' OR coalesce(p_reason, '') = '' THEN
        PERFORM ledger_raise('RL003', 'a status change names who makes it and why', '{"field":"reason"}');
    END IF;
    SELECT a.id, a.status INTO acc FROM ledger_accounts a WHERE a.path = p_path FOR UPDATE;
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF acc.status <> p_status THEN
        UPDATE ledger_accounts SET status = p_status WHERE id = acc.id;
        INSERT INTO ledger_account_changes (account_id, field, old_value, new_value, actor, reason)
        VALUES (acc.id, 'status', acc.status, p_status, p_actor, p_reason);
    END IF;
    RETURN true;
END $$;
REVOKE ALL ON FUNCTION ledger_set_account_status(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION ledger_set_account_status(text, text, text, text) TO reciproca_app;
