-- +goose Up
-- The app (serve, worker) connects as reciproca_app; only migrations run
-- as the owner. The role may log in: it has no password, so over password
-- authentication it logs in only once the operator gives it one
-- (ALTER ROLE reciproca_app PASSWORD '…'); trust or peer authentication
-- (the development and test clusters) needs none.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT (SELECT rolcanlogin FROM pg_roles WHERE rolname = 'reciproca_app') THEN
        ALTER ROLE reciproca_app LOGIN;
    END IF;
END $$;
-- +goose StatementEnd

-- An account's floor and status are the owner's to change: the app changes
-- a status only through ledger_set_account_status (sql/accounts.sql), which
-- records who and why here, and a floor not at all. Split policies are
-- versioned, never edited.
REVOKE UPDATE ON ledger_accounts, ledger_split_policies FROM reciproca_app;

CREATE TABLE ledger_account_changes (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL,
    field       text NOT NULL,
    old_value   text,
    new_value   text,
    actor       text NOT NULL CHECK (actor <> ''),
    reason      text NOT NULL CHECK (reason <> ''),
    changed_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_account_changes_account_idx ON ledger_account_changes (account_id, id);
REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON ledger_account_changes FROM reciproca_app;
REVOKE USAGE ON SEQUENCE ledger_account_changes_id_seq FROM reciproca_app;

-- +goose Down
DROP TABLE ledger_account_changes;
GRANT UPDATE ON ledger_accounts, ledger_split_policies TO reciproca_app;
