-- +goose Up
-- schema_engines records which version (a hash of the files) of each SQL
-- engine is installed. An engine is a set of functions and triggers kept
-- as current source files, not as migrations (migrations.Engines; the
-- ledger's lives in internal/ledger/sql/); internal/db re-applies it after
-- the numbered migrations whenever its files change.
CREATE TABLE schema_engines (
    name        text PRIMARY KEY,
    hash        text NOT NULL,
    applied_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE schema_engines;
