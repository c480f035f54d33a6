-- +goose Up
-- Treasury moves: the platform's Stripe account uses manual payouts, so
-- money moves between the Stripe balance (platform:stripe) and the bank
-- account (platform:bank) only when a platform admin records it: a payout
-- of the Stripe balance to the bank, or a top-up of the Stripe balance
-- from the bank before provider transfers need it. Each move is one ledger
-- transaction (tx_id); reference is Stripe's payout id or the bank's CRO.
CREATE TABLE treasury_moves (
    id           uuid PRIMARY KEY,
    direction    text NOT NULL CHECK (direction IN ('to_bank', 'to_stripe')),
    amount_cents bigint NOT NULL CHECK (amount_cents > 0),
    reference    text NOT NULL DEFAULT '' CHECK (length(reference) <= 100),
    note         text NOT NULL DEFAULT '' CHECK (length(note) <= 500),
    tx_id        bigint NOT NULL,
    created_by   uuid NOT NULL REFERENCES users (id),
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX treasury_moves_created_idx ON treasury_moves (created_at DESC);

-- Connect fees: what Stripe takes from the platform's balance for Connect
-- (active accounts, payouts), read from Stripe's balance transactions of
-- type stripe_fee and booked as a platform expense (platform:connect-fees),
-- once per Stripe id.
CREATE TABLE connect_fees (
    stripe_id         text PRIMARY KEY,
    amount_cents      bigint NOT NULL,
    description       text NOT NULL DEFAULT '',
    stripe_created_at timestamptz NOT NULL,
    tx_id             bigint NOT NULL,
    booked_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX connect_fees_created_idx ON connect_fees (stripe_created_at DESC);

-- +goose Down
DROP TABLE connect_fees;
DROP TABLE treasury_moves;
