-- +goose Up
-- Money taken back from providers paid by Stripe transfer, by transfer
-- reversals (internal/redemption/reclaim.go), for two reasons:
--   * a connected account's own bank payout failed (payout.failed on the
--     Connect endpoint): shown to the provider, and the money is brought
--     back to the platform and owed on its payable again;
--   * a refund of a voucher the provider was already paid for was
--     advanced from its receivable and, 60 days on, no payout has netted
--     it yet.
CREATE TABLE provider_bank_failures (
    stripe_payout_id  text PRIMARY KEY,
    provider_id       uuid NOT NULL REFERENCES providers(organisation_id),
    amount_cents      bigint NOT NULL CHECK (amount_cents > 0),
    failure_code      text NOT NULL DEFAULT '',
    failure_message   text NOT NULL DEFAULT '',
    failed_at         timestamptz NOT NULL,
    reclaimed_cents   bigint NOT NULL DEFAULT 0 CHECK (reclaimed_cents >= 0),
    resolved_at       timestamptz,
    last_error        text NOT NULL DEFAULT '',
    next_attempt_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX provider_bank_failures_provider_idx ON provider_bank_failures (provider_id, failed_at DESC);
CREATE INDEX provider_bank_failures_open_idx ON provider_bank_failures (next_attempt_at) WHERE resolved_at IS NULL;

-- What a refund advanced from the receivable, settled first in, first out
-- by the next payouts.
CREATE TABLE refund_advances (
    key              text PRIMARY KEY,
    provider_id      uuid NOT NULL REFERENCES providers(organisation_id),
    amount_cents     bigint NOT NULL CHECK (amount_cents > 0),
    settled_cents    bigint NOT NULL DEFAULT 0 CHECK (settled_cents >= 0),
    reclaimed_cents  bigint NOT NULL DEFAULT 0 CHECK (reclaimed_cents >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    last_error       text NOT NULL DEFAULT '',
    next_attempt_at  timestamptz NOT NULL DEFAULT now(),
    CHECK (settled_cents + reclaimed_cents <= amount_cents)
);
CREATE INDEX refund_advances_open_idx ON refund_advances (provider_id, created_at) WHERE settled_cents + reclaimed_cents < amount_cents;

-- Each reversal of a transfer: its key is Stripe's idempotency key and
-- the ledger's, so a retry is the same reversal.
CREATE TABLE payout_reversals (
    key                 text PRIMARY KEY,
    payout_id           uuid NOT NULL REFERENCES provider_payouts(id),
    amount_cents        bigint NOT NULL CHECK (amount_cents > 0),
    stripe_reversal_id  text NOT NULL,
    tx_id               bigint NOT NULL,
    created_at          timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE provider_payouts ADD COLUMN reversed_cents bigint NOT NULL DEFAULT 0
    CHECK (reversed_cents >= 0 AND reversed_cents <= amount_cents);

-- +goose Down
ALTER TABLE provider_payouts DROP COLUMN reversed_cents;
DROP TABLE payout_reversals;
DROP TABLE refund_advances;
DROP TABLE provider_bank_failures;
