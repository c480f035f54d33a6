-- Immutability: entries, transactions and the chain are never updated or
-- deleted, by anyone; the one exception is a hold's guarded status change.
CREATE OR REPLACE FUNCTION ledger_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND TG_TABLE_NAME = 'ledger_transactions' THEN
        IF OLD.status = 'pending' AND NEW.status IN ('captured', 'voided', 'expired')
           AND OLD.resolved_at IS NULL AND NEW.resolved_at IS NOT NULL
           AND (to_jsonb(NEW) - 'status' - 'resolved_at') = (to_jsonb(OLD) - 'status' - 'resolved_at') THEN
            RETURN NEW;
        END IF;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'RL005',
        MESSAGE = format('%s is append-only: %s refused', TG_TABLE_NAME, TG_OP);
END $$;

CREATE OR REPLACE TRIGGER ledger_transactions_immutable BEFORE UPDATE OR DELETE ON ledger_transactions
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_transactions_no_truncate BEFORE TRUNCATE ON ledger_transactions
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_entries_immutable BEFORE UPDATE OR DELETE ON ledger_entries
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_entries_no_truncate BEFORE TRUNCATE ON ledger_entries
    FOR EACH STATEMENT EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_lot_moves_immutable BEFORE UPDATE OR DELETE ON ledger_lot_moves
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
CREATE OR REPLACE TRIGGER ledger_chain_immutable BEFORE UPDATE OR DELETE ON ledger_chain
    FOR EACH ROW EXECUTE FUNCTION ledger_immutable();
