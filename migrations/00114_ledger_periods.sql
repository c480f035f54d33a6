-- +goose Up
-- tax_bucket: the tax rule (TUIR art. 51: art51_c2_f_bis …) of the
-- category a consumption of a lot paid for, as the caller said it was then
-- (a category's bucket can change later). NULL: not given.
ALTER TABLE ledger_lot_moves ADD COLUMN tax_bucket text;

-- Closed periods: a platform admin closes the ledger up to an instant;
-- nothing may take effect at or before it (ledger_check_effective). A close
-- is never undone; the latest one is in force. Written only through
-- ledger_close_period (sql/periods.sql), which records who and why.
CREATE TABLE ledger_closed_periods (
    id         bigserial PRIMARY KEY,
    through    timestamptz NOT NULL,
    actor      text NOT NULL CHECK (actor <> ''),
    reason     text NOT NULL CHECK (reason <> ''),
    closed_at  timestamptz NOT NULL DEFAULT clock_timestamp(),
    CHECK (through <= closed_at)
);

-- Backdating beyond 7 days: a platform admin's explicit permission for the
-- one transaction written under idempotency key "key" to take effect as
-- early as "earliest" (never in a closed period, nor in an earlier tax
-- year). Written only through ledger_grant_backdate, which records who and
-- why.
CREATE TABLE ledger_backdate_grants (
    id          bigserial PRIMARY KEY,
    key         text NOT NULL UNIQUE,
    earliest    timestamptz NOT NULL,
    actor       text NOT NULL CHECK (actor <> ''),
    reason      text NOT NULL CHECK (reason <> ''),
    granted_at  timestamptz NOT NULL DEFAULT clock_timestamp()
);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ledger_closed_periods, ledger_backdate_grants FROM reciproca_app;
REVOKE USAGE ON SEQUENCE ledger_closed_periods_id_seq, ledger_backdate_grants_id_seq FROM reciproca_app;

-- +goose Down
DROP TABLE ledger_backdate_grants, ledger_closed_periods;
ALTER TABLE ledger_lot_moves DROP COLUMN tax_bucket;
