-- +goose Up
-- Credits of employees who left (internal/plans/leavers.go): after the
-- leaving day the plans worker reserves what is left in their wallet with
-- a ledger hold (one row per hold), so nothing more can be spent; each
-- hold expires with the lots it reserves, which the expiry sweep then
-- disposes of by their plan's residual policy. HR undoing the leaving
-- date voids the holds.
CREATE TABLE leaver_freezes (
    hold_tx       bigint PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users(id),
    company_id    uuid NOT NULL REFERENCES organisations(id),
    amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
    created_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX leaver_freezes_user_idx ON leaver_freezes (user_id);

-- +goose Down
DROP TABLE leaver_freezes;
