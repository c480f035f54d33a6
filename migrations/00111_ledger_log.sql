-- +goose Up
-- The audit log replaces the linear hash chain: a Merkle tree over the
-- transactions' leaves (ledger_leaves), kept the way golang.org/x/mod's
-- sumdb/tlog keeps one (internal/ledger/log.go). The tree is rebuilt from
-- the transactions by the next seal: the chain's hashes covered an older
-- leaf format and nothing outside the database ever held them.
DROP TABLE ledger_chain, ledger_chain_head;

-- One row per leaf: seq is the leaf's index in the tree (from 0), hash its
-- record hash (tlog.RecordHash of the leaf text).
CREATE TABLE ledger_log (
    seq    bigint PRIMARY KEY CHECK (seq >= 0),
    tx_id  bigint NOT NULL UNIQUE,
    hash   bytea NOT NULL
);
-- The tree's stored hashes, at tlog.StoredHashIndex(level, n): what
-- inclusion and consistency proofs are made of.
CREATE TABLE ledger_log_hashes (
    idx   bigint PRIMARY KEY,
    hash  bytea NOT NULL
);
-- How far the log reaches: its size and root, and the last transaction
-- sealed in (writer xid, id) order.
CREATE TABLE ledger_log_head (
    id         boolean PRIMARY KEY DEFAULT true CHECK (id),
    size       bigint NOT NULL DEFAULT 0,
    root       bytea NOT NULL,
    last_xid   xid8 NOT NULL DEFAULT '0',
    last_tx    bigint NOT NULL DEFAULT 0,
    sealed_at  timestamptz
);
-- the root of the empty tree: sha256 of nothing
INSERT INTO ledger_log_head (root) VALUES (sha256(''::bytea));
-- The signed checkpoints published so far (each also went to the log and
-- to LEDGER_ROOTS_FILE, outside the database).
CREATE TABLE ledger_checkpoints (
    id          bigserial PRIMARY KEY,
    size        bigint NOT NULL,
    root        bytea NOT NULL,
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT ON ledger_log, ledger_log_hashes, ledger_checkpoints TO reciproca_app;
GRANT SELECT, UPDATE ON ledger_log_head TO reciproca_app;
GRANT USAGE, SELECT ON SEQUENCE ledger_checkpoints_id_seq TO reciproca_app;
REVOKE UPDATE, DELETE, TRUNCATE ON ledger_log, ledger_log_hashes, ledger_checkpoints FROM reciproca_app;
REVOKE INSERT, DELETE, TRUNCATE ON ledger_log_head FROM reciproca_app;

-- +goose Down
DROP TABLE ledger_checkpoints, ledger_log_head, ledger_log_hashes, ledger_log;
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
