-- +goose Up
-- Entries are read by account (history, keyset by id) and by transaction.
-- Their key is (account_id, id): the account history's index is the
-- primary key, and a posting inserts into two indexes instead of three
-- (id alone comes from a sequence and is unique anyway). (This migration
-- also created ledger_post_batch; the ledger's functions now live in
-- internal/ledger/sql/.)
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pkey, ADD PRIMARY KEY (account_id, id);
DROP INDEX ledger_entries_account_idx;

-- +goose Down
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);
ALTER TABLE ledger_entries DROP CONSTRAINT ledger_entries_pkey, ADD PRIMARY KEY (id);
