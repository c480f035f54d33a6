-- +goose Up
-- Provider payouts: what the platform owes a provider (its payable) paid
-- out by a Stripe Connect transfer, or by SEPA credit transfer for a
-- provider without Stripe. A payout is a ledger hold on the payable from
-- the moment it is created; the worker makes the transfer (the payout's
-- id is Stripe's idempotency key) and captures the hold on success, voids
-- it on a permanent refusal (internal/redemption/payout.go).
CREATE TABLE provider_payouts (
    id                  uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    provider_id         uuid NOT NULL REFERENCES providers(organisation_id),
    amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
    method              text NOT NULL CHECK (method IN ('stripe', 'sepa')),
    status              text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'paid', 'failed')),
    hold_id             bigint NOT NULL UNIQUE,
    capture_tx_id       bigint UNIQUE,
    stripe_account_id   text,
    stripe_transfer_id  text,
    attempts            integer NOT NULL DEFAULT 0,
    next_attempt_at     timestamptz NOT NULL DEFAULT now(),
    last_error          text NOT NULL DEFAULT '',
    requested_by        uuid REFERENCES users(id),   -- NULL: the weekly schedule
    created_at          timestamptz NOT NULL DEFAULT now(),
    resolved_at         timestamptz,
    CHECK (method = 'sepa' OR stripe_account_id IS NOT NULL),
    CHECK ((status = 'paid') = (capture_tx_id IS NOT NULL))
);
-- One open payout per provider: a second request waits for the first.
CREATE UNIQUE INDEX provider_payouts_open_idx ON provider_payouts (provider_id) WHERE status = 'queued';
CREATE INDEX provider_payouts_due_idx ON provider_payouts (next_attempt_at) WHERE status = 'queued' AND method = 'stripe';
CREATE INDEX provider_payouts_provider_idx ON provider_payouts (provider_id, created_at DESC);

-- The vouchers a payout pays, for its statement: those validated (or
-- charged as no-shows) before it was created and in no earlier payout.
ALTER TABLE vouchers ADD COLUMN payout_id uuid REFERENCES provider_payouts(id);
CREATE INDEX vouchers_unpaid_idx ON vouchers (provider_id) WHERE payout_id IS NULL AND capture_tx_id IS NOT NULL;

-- The fund pool a validation's share went to (a refund takes it back
-- from there).
ALTER TABLE vouchers ADD COLUMN fund_account text;

-- +goose Down
ALTER TABLE vouchers DROP COLUMN fund_account;
ALTER TABLE vouchers DROP COLUMN payout_id;
DROP TABLE provider_payouts;
