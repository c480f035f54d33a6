-- +goose Up
-- A provider whose legal details (legal name, legal form, VAT number,
-- fiscal code) change after a review goes back to the approval queue.
-- requeued_at says when and why it is pending again; the previous review
-- (reviewed_by, reviewed_at, status_note) is kept so that the platform
-- admin sees it was approved before. A new review clears requeued_at.
ALTER TABLE providers ADD COLUMN requeued_at timestamptz;

-- +goose Down
ALTER TABLE providers DROP COLUMN requeued_at;
