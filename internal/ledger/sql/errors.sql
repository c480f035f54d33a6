CREATE OR REPLACE FUNCTION ledger_raise(p_code text, p_message text, p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    -- RL001 insufficient_funds, RL002 not_found, RL003 invalid, RL004 conflict;
    -- DETAIL is JSON with the fields the Go side puts in the error.
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = coalesce(p_detail, '{}')::text;
END $$;
