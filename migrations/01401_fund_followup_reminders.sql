-- +goose Up
-- When the reminder of a follow-up went out: each follow-up is mailed
-- once, a week before it is due (or at once when recorded that late).
ALTER TABLE fund_followups ADD COLUMN reminded_at timestamptz;
CREATE INDEX fund_followups_remind_idx ON fund_followups (due_on) WHERE done_at IS NULL AND reminded_at IS NULL;

-- +goose Down
DROP INDEX fund_followups_remind_idx;
ALTER TABLE fund_followups DROP COLUMN reminded_at;
