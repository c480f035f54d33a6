-- Errors. The ledger's functions refuse a request with one of four codes,
-- which the Go side maps to application errors (internal/ledger mapError):
-- RL001 insufficient_funds, RL002 not_found, RL003 invalid, RL004 conflict
-- (RL005, raised by the immutability trigger: forbidden). The DETAIL is
-- JSON with the fields the Go side puts in the error. The batch does not
-- raise: it returns the same {code, message, detail} document in the
-- refused request's place.

-- ledger_raise raises a refusal.
CREATE OR REPLACE FUNCTION ledger_raise(p_code text, p_message text, p_detail jsonb DEFAULT '{}') RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = p_code, MESSAGE = p_message, DETAIL = coalesce(p_detail, '{}')::text;
END $$;

-- ledger_raise_error raises a refusal given as a {code, message, detail} document.
CREATE OR REPLACE FUNCTION ledger_raise_error(e jsonb) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = e->>'code', MESSAGE = e->>'message', DETAIL = coalesce(e->'detail', '{}')::text;
END $$;

-- ledger_no_entries refuses a transaction whose postings cancel out: a
-- transaction without entries would move nothing and break the rule that
-- every transaction has entries.
CREATE OR REPLACE FUNCTION ledger_no_entries() RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT ledger_error('RL003', 'the postings cancel out: a transaction must move money', '{"field":"postings"}')
$$;

-- ledger_error builds a refusal document.
CREATE OR REPLACE FUNCTION ledger_error(p_code text, p_message text, p_detail jsonb) RETURNS jsonb
LANGUAGE sql IMMUTABLE AS $$
    SELECT jsonb_build_object('code', p_code, 'message', p_message, 'detail', p_detail)
$$;
