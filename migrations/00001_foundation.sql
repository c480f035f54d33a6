-- +goose Up
-- Extensions every later domain relies on: accent-insensitive Italian
-- full-text search and case-insensitive e-mail addresses.
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS citext;
CREATE EXTENSION IF NOT EXISTS pgcrypto;

-- seed_runs records which demo data sets have been loaded, so `seed` is idempotent.
CREATE TABLE seed_runs (
    name       text PRIMARY KEY,
    loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- +goose Down
DROP TABLE seed_runs;
