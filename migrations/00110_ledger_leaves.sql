-- +goose Up
-- The audit log's leaves cover the lots a transaction created
-- (ledger_leaves, internal/ledger/sql/leaves.sql): find them by transaction.
CREATE INDEX IF NOT EXISTS ledger_lots_tx_idx ON ledger_lots (tx_id);

-- +goose Down
DROP INDEX IF EXISTS ledger_lots_tx_idx;
