-- +goose Up
-- written_at: the clock at the moment a transaction was written
-- (clock_timestamp(), not now(), which is the start of the caller's
-- database transaction and may be long before). Expiries (of lots, of a
-- hold being captured) are judged by it, and the verifier checks lot
-- consumption against it. NULL for transactions written before it existed.
ALTER TABLE ledger_transactions ADD COLUMN written_at timestamptz;
ALTER TABLE ledger_transactions ALTER COLUMN written_at SET DEFAULT clock_timestamp();

-- category: what a consumption of a lot paid for (the debit's category;
-- NULL: any), as it was then (an offering's category can change later).
-- The verifier checks it against the lot's categories.
ALTER TABLE ledger_lot_moves ADD COLUMN category text;

-- +goose Down
ALTER TABLE ledger_lot_moves DROP COLUMN category;
ALTER TABLE ledger_transactions DROP COLUMN written_at;
