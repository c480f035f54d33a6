-- Immutability: entries, transactions, lot moves and the audit log are never
-- updated or deleted, by anyone; the one exception is a hold's guarded
-- status change. No ledger table can be truncated (a TRUNCATE fires no row
-- trigger, so each table has a statement trigger of its own). A lot is
-- never deleted, and of its columns only remaining changes, and a day
-- lot's grown with it when it grows (the WHEN clause, checked without
-- calling anything, lets such an update through).
CREATE OR REPLACE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    was record;
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'ledger_transactions' THEN
        IF OLD.status = 'pending' AND NEW.status IN ('captured', 'voided', 'expired')
           AND OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL THEN
            -- every other column unchanged: the old row with the new
            -- status and resolved_at is the new row (a row comparison,
            -- which costs a tenth of comparing the rows as JSON, once for
            -- every hold a batch resolves)
            was := OLD;
            was.status := NEW.status;
            was.resolved_at := NEW.resolved_at;
            IF was IS NOT DISTINCT FROM NEW THEN
                RETURN NEW;
            END IF;
        END IF;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'RL005',
        MESSAGE = format('%s is append-only: %s refused', TG_TABLE_NAME, TG_OP);
END $$;

CREATE OR REPLACE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lot_moves_immutable BEFORE UPDATE OR DELETE ON ledger_lot_moves
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_immutable BEFORE UPDATE OR DELETE ON ledger_log
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_hashes_immutable BEFORE UPDATE OR DELETE ON ledger_log_hashes
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_checkpoints_immutable BEFORE UPDATE OR DELETE ON ledger_checkpoints
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_head_immutable BEFORE DELETE ON ledger_log_head
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();

CREATE OR REPLACE TRIGGER ledger_accounts_no_truncate BEFORE TRUNCATE ON ledger_accounts
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_balances_no_truncate BEFORE TRUNCATE ON ledger_balances
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_split_policies_no_truncate BEFORE TRUNCATE ON ledger_split_policies
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lots_no_truncate BEFORE TRUNCATE ON ledger_lots
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lot_moves_no_truncate BEFORE TRUNCATE ON ledger_lot_moves
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_no_truncate BEFORE TRUNCATE ON ledger_log
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_hashes_no_truncate BEFORE TRUNCATE ON ledger_log_hashes
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_log_head_no_truncate BEFORE TRUNCATE ON ledger_log_head
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_checkpoints_no_truncate BEFORE TRUNCATE ON ledger_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lots_immutable BEFORE UPDATE ON ledger_lots
    FOR EACH ROW WHEN (OLD.id IS DISTINCT FROM NEW.id OR OLD.account_id IS DISTINCT FROM NEW.account_id
                       OR OLD.tx_id IS DISTINCT FROM NEW.tx_id OR OLD.parent_id IS DISTINCT FROM NEW.parent_id
                       OR OLD.expires_at IS DISTINCT FROM NEW.expires_at OR OLD.categories IS DISTINCT FROM NEW.categories
                       OR OLD.attrs IS DISTINCT FROM NEW.attrs OR OLD.amount IS DISTINCT FROM NEW.amount
                       OR OLD.created_at IS DISTINCT FROM NEW.created_at
                       OR OLD.group_key IS DISTINCT FROM NEW.group_key
                       -- a day lot grows (ledger_grow_lots): grown and remaining by the same amount
                       OR NEW.grown < OLD.grown
                       OR (NEW.grown <> OLD.grown AND NEW.grown - OLD.grown <> NEW.remaining - OLD.remaining))
    EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lots_no_delete BEFORE DELETE ON ledger_lots
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
