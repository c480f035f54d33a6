-- +goose Up
-- redemption_tx_split returns the split a ledger transaction recorded,
-- read with a snapshot of its own (a PL/pgSQL function's statements take
-- one when they run): a validation captures the hold and records the
-- split on the voucher in one statement, whose own snapshot is older than
-- the capture's row (internal/redemption, validate_alone.go).
-- +goose StatementBegin
CREATE FUNCTION redemption_tx_split(p_tx bigint) RETURNS jsonb
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    RETURN (SELECT t.split FROM ledger_transactions t WHERE t.id = p_tx);
END $$;
-- +goose StatementEnd

-- +goose Down
DROP FUNCTION redemption_tx_split(bigint);
