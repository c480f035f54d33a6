-- Floors: the one rule every write path checks a debit against (the batch
-- in memory and again in its guarded update, the locking path in its
-- update), and the one refusal it gives. SQL functions, so the planner
-- inlines them where they are used: no call costs anything.

-- ledger_fits: an account whose available balance (posted - pending_out,
-- normal side) is p_available may change by p_change. Credits always fit;
-- a debit must leave the account at or above its floor (NULL: no floor).
CREATE OR REPLACE FUNCTION ledger_fits(p_available bigint, p_change bigint, p_floor bigint) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT p_floor IS NULL OR p_change >= 0 OR p_available + p_change >= p_floor
$$;

-- ledger_insufficient is the refusal of a debit that does not fit:
-- available is what the account could give above its floor.
CREATE OR REPLACE FUNCTION ledger_insufficient(p_path text, p_available bigint, p_floor bigint, p_required bigint)
RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
    SELECT ledger_error('RL001', format('insufficient funds on %s', p_path),
                        jsonb_build_object('account', p_path, 'available', p_available - p_floor, 'required', p_required))
$$;
