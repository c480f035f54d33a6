-- +goose Up
-- Contributor lots are grouped: one lot per (fund account, company, split
-- policy version, day of the effective time, balance shard) instead of one
-- per redemption (internal/ledger/sql/lots.sql, ledger_grow_lots; docs/
-- ledger.md "Day lots"). A day lot is created by the first contribution of
-- its group and grows with the later ones: its amount (what its creating
-- transaction put in, covered by that transaction's audit-log leaf) never
-- changes; each later contribution is a lot move with a negative amount
-- and no against_tx, made by the contributing transaction, and adds to
-- grown. So remaining = amount - sum(moves) still holds, and
-- remaining <= amount + grown replaces remaining <= amount.
--
-- group_key names the group (NULL: not a day lot); grown only grows, and
-- only together with remaining (the immutability trigger, sql/immutable.sql).
ALTER TABLE ledger_lots ADD COLUMN group_key text,
                        ADD COLUMN grown bigint NOT NULL DEFAULT 0 CHECK (grown >= 0);
ALTER TABLE ledger_lots DROP CONSTRAINT ledger_lots_check;  -- remaining >= 0 AND remaining <= amount
ALTER TABLE ledger_lots ADD CONSTRAINT ledger_lots_remaining_check CHECK (remaining >= 0 AND remaining <= amount + grown);
CREATE UNIQUE INDEX ledger_lots_group_idx ON ledger_lots (account_id, group_key) WHERE group_key IS NOT NULL;
-- a refund takes a fund's share back from the same company's live lots
CREATE INDEX ledger_lots_company_idx ON ledger_lots (account_id, (attrs->>'company'), id) WHERE live;

-- +goose Down
-- The engine's lot trigger names grown: drop it, and have the next migrate
-- install the engine again (its files then match these tables).
DROP TRIGGER IF EXISTS ledger_lots_immutable ON ledger_lots;
UPDATE schema_engines SET hash = 'stale' WHERE name = 'ledger';
DROP INDEX ledger_lots_company_idx;
DROP INDEX ledger_lots_group_idx;
ALTER TABLE ledger_lots DROP CONSTRAINT ledger_lots_remaining_check;
ALTER TABLE ledger_lots ADD CONSTRAINT ledger_lots_check CHECK (remaining >= 0 AND remaining <= amount);
ALTER TABLE ledger_lots DROP COLUMN grown, DROP COLUMN group_key;
