-- +goose Up
-- The double-entry ledger's tables (docs/ledger.md, package internal/ledger).
-- The functions that write them, and their triggers, are not migrations:
-- they live in internal/ledger/sql/, one current file per concern, and are
-- applied after the numbered migrations (internal/db, migrations.Engines).
--
-- Sign convention: an entry's amount is signed in one universal direction,
-- credit positive and debit negative, so every transaction sums to zero per
-- asset and all entries of the ledger sum to zero. Balances are kept on the
-- account's normal side (credit-normal accounts: credits - debits; debit-normal:
-- debits - credits), which is what floors are checked against.

CREATE TABLE ledger_accounts (
    id           bigserial PRIMARY KEY,
    path         text NOT NULL UNIQUE CHECK (path ~ '^[a-z][a-z0-9_-]*(:[A-Za-z0-9_.-]+)*$' AND length(path) <= 200),
    asset        text NOT NULL DEFAULT 'EUR' CHECK (asset ~ '^[A-Z][A-Z0-9_]{1,15}$'),
    kind         text NOT NULL CHECK (kind IN ('asset', 'liability', 'equity', 'revenue', 'expense')),
    normal_side  text NOT NULL CHECK (normal_side IN ('debit', 'credit')),
    floor        bigint,          -- minimum available balance; NULL: no floor
    lots         boolean NOT NULL DEFAULT false,  -- credits are lots, debits consume them
    shards       smallint NOT NULL DEFAULT 1 CHECK (shards BETWEEN 1 AND 64),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'frozen', 'closed')),
    metadata     jsonb NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK (NOT lots OR normal_side = 'credit')   -- lots are credit balances: wallets, fund accounts
);

-- Materialised balances on the normal side, one row per shard. Hot accounts
-- (fund pool, fees) have several shards: a credit increments one of them, a
-- debit locks them all. fillfactor leaves room for HOT updates.
CREATE TABLE ledger_balances (
    account_id   bigint NOT NULL REFERENCES ledger_accounts (id),
    shard        smallint NOT NULL,
    posted       bigint NOT NULL DEFAULT 0,
    pending_out  bigint NOT NULL DEFAULT 0 CHECK (pending_out >= 0 OR shard > 0),
    pending_in   bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (account_id, shard)
) WITH (fillfactor = 50);

CREATE TABLE ledger_split_policies (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL CHECK (name ~ '^[a-z0-9_-]{1,64}$'),
    version       int NOT NULL CHECK (version > 0),
    valid_from    timestamptz NOT NULL,
    fund_bps      int NOT NULL CHECK (fund_bps BETWEEN 0 AND 10000),
    fee_bps       int NOT NULL CHECK (fee_bps BETWEEN 0 AND 10000),
    remainder_to  text NOT NULL CHECK (remainder_to IN ('provider', 'fund', 'fee')),
    created_at    timestamptz NOT NULL DEFAULT now(),
    CHECK (fund_bps + fee_bps <= 10000),
    UNIQUE (name, version),
    UNIQUE (name, valid_from)
);

CREATE TABLE ledger_transactions (
    id               bigserial PRIMARY KEY,
    idempotency_key  text NOT NULL UNIQUE,
    request_hash     bytea NOT NULL,
    kind             text NOT NULL CHECK (length(kind) BETWEEN 1 AND 64),  -- format checked by the Go API
    status           text NOT NULL CHECK (status IN ('posted', 'pending', 'captured', 'voided', 'expired')),
    reference        text NOT NULL DEFAULT '',
    effective_at     timestamptz NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    expires_at       timestamptz,            -- holds only
    resolved_at      timestamptz,            -- holds: when captured, voided or expired
    hold_id          bigint,                 -- captures: the hold they resolve
    reverses_id      bigint,                 -- reversals: the original
    policy_id        bigint,                 -- split transactions: the policy version applied
    split            jsonb,                  -- {gross, provider, fund, fee} of a split transaction
    metadata         jsonb NOT NULL DEFAULT '{}',
    -- The writing transaction's id orders the asynchronous hash chain: once
    -- every xid below X has finished, no new row can appear below X.
    writer_xid       xid8 NOT NULL DEFAULT pg_current_xact_id(),
    CHECK ((status = 'posted') = (expires_at IS NULL) OR status <> 'posted'),
    CHECK ((status IN ('posted', 'pending')) = (resolved_at IS NULL))
);
CREATE INDEX ledger_transactions_pending_idx ON ledger_transactions (expires_at) WHERE status = 'pending';
CREATE UNIQUE INDEX ledger_transactions_capture_idx ON ledger_transactions (hold_id) WHERE hold_id IS NOT NULL;
CREATE INDEX ledger_transactions_reverses_idx ON ledger_transactions (reverses_id) WHERE reverses_id IS NOT NULL;
CREATE INDEX ledger_transactions_chain_idx ON ledger_transactions (writer_xid, id);

-- The write-path tables carry no foreign keys on purpose: a foreign key
-- takes a KEY SHARE lock on the referenced row, which on the hot accounts
-- (and the split policy every redemption uses) turns each write into a
-- multixact and serialises them. The write functions resolve every
-- reference and `ledger verify` checks referential integrity.
CREATE TABLE ledger_entries (
    id            bigserial PRIMARY KEY,
    tx_id         bigint NOT NULL,
    account_id    bigint NOT NULL,
    amount        bigint NOT NULL CHECK (amount <> 0),   -- credit > 0, debit < 0
    effective_at  timestamptz NOT NULL
);
CREATE INDEX ledger_entries_tx_idx ON ledger_entries (tx_id);
CREATE INDEX ledger_entries_account_idx ON ledger_entries (account_id, id);

-- Lots: wallet credits (origin, plan, categories, expiry) and fund
-- contributor lots. remaining changes as lots are consumed and restored;
-- every change is a row in ledger_lot_moves.
CREATE TABLE ledger_lots (
    id          bigserial PRIMARY KEY,
    account_id  bigint NOT NULL,
    tx_id       bigint NOT NULL,                 -- the transaction that created it
    parent_id   bigint,                          -- carried over from / moved along from
    expires_at  timestamptz,
    categories  text[] NOT NULL DEFAULT '{}',    -- empty: any category
    attrs       jsonb NOT NULL DEFAULT '{}',     -- origin, plan, contributor, policy version …
    amount      bigint NOT NULL CHECK (amount > 0),
    remaining   bigint NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
    -- live (remaining > 0) is what the partial indexes filter on, rather than
    -- remaining itself: an update of remaining that leaves the lot live
    -- changes no indexed value and stays a HOT update (no index inserts);
    -- only the update that empties or revives a lot touches the indexes.
    live        boolean GENERATED ALWAYS AS (remaining > 0) STORED,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX ledger_lots_spend_idx ON ledger_lots (account_id, expires_at, id) WHERE live;
CREATE INDEX ledger_lots_expiry_idx ON ledger_lots (expires_at) WHERE live AND expires_at IS NOT NULL;

-- amount > 0: consumed by tx_id; amount < 0: restored by tx_id, giving back
-- what against_tx had consumed (void, partial capture, refund).
CREATE TABLE ledger_lot_moves (
    tx_id       bigint NOT NULL,
    lot_id      bigint NOT NULL,
    amount      bigint NOT NULL CHECK (amount <> 0),
    against_tx  bigint
);
CREATE INDEX ledger_lot_moves_tx_idx ON ledger_lot_moves (tx_id);
CREATE INDEX ledger_lot_moves_against_idx ON ledger_lot_moves (against_tx) WHERE against_tx IS NOT NULL;
CREATE INDEX ledger_lot_moves_lot_idx ON ledger_lot_moves (lot_id);

-- The hash chain, sealed asynchronously by ledger_seal.
CREATE TABLE ledger_chain (
    seq    bigint PRIMARY KEY,
    tx_id  bigint NOT NULL UNIQUE,
    hash   bytea NOT NULL
);
CREATE TABLE ledger_chain_head (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    seq        bigint NOT NULL DEFAULT 0,
    last_xid   xid8 NOT NULL DEFAULT '0',
    last_tx    bigint NOT NULL DEFAULT 0,
    last_hash  bytea NOT NULL DEFAULT '\x'
);
INSERT INTO ledger_chain_head DEFAULT VALUES;


-- The application's database role. Roles are cluster-wide, so it may exist
-- already (another database of the same cluster). It may read and append
-- to the ledger; it can change a hold's status and nothing else of a
-- transaction, and it can never update or delete entries.
-- +goose StatementBegin
DO $$
BEGIN
    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'reciproca_app') THEN
        CREATE ROLE reciproca_app NOLOGIN;
    END IF;
EXCEPTION WHEN duplicate_object OR unique_violation THEN
    NULL;  -- created concurrently by another database's migration
END $$;
-- +goose StatementEnd
GRANT USAGE ON SCHEMA public TO reciproca_app;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO reciproca_app;
GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO reciproca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO reciproca_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public GRANT USAGE, SELECT ON SEQUENCES TO reciproca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_transactions, ledger_entries, ledger_lot_moves, ledger_chain FROM reciproca_app;
GRANT UPDATE (status, resolved_at) ON ledger_transactions TO reciproca_app;
REVOKE DELETE, TRUNCATE ON ledger_accounts, ledger_balances, ledger_lots, ledger_split_policies, ledger_chain_head FROM reciproca_app;

-- +goose Down
DROP TABLE ledger_chain_head, ledger_chain, ledger_lot_moves, ledger_lots, ledger_entries,
           ledger_transactions, ledger_split_policies, ledger_balances, ledger_accounts CASCADE;
