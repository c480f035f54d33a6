-- +goose Up
-- Redemption: an employee books a service and gets a nominative voucher
-- (DM 25/3/2016: one service at its full face value); the provider
-- validates it. Money never lives here: the voucher points at its ledger
-- hold and at the transactions that resolved it (internal/redemption).
--
-- The voucher keeps what was booked as it was at that moment (title,
-- price, category, tax bucket, the slot's times): later edits of the
-- offering change nothing here. slot_id has no foreign key because the
-- catalogue replaces an offering's slots when it is edited; the slot's
-- capacity is checked against the vouchers holding a place in it, under
-- the slot row's lock.
CREATE TABLE vouchers (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    code              text NOT NULL UNIQUE CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{9}$'),
    employee_id       uuid NOT NULL REFERENCES users(id),
    company_id        uuid NOT NULL REFERENCES organisations(id),
    provider_id       uuid NOT NULL REFERENCES providers(organisation_id),
    offering_id       uuid NOT NULL REFERENCES offerings(id),
    offering_title    text NOT NULL,
    category          text NOT NULL,
    tax_bucket        text NOT NULL,
    unit              text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity BETWEEN 1 AND 100),
    unit_price_cents  bigint NOT NULL CHECK (unit_price_cents > 0),
    amount_cents      bigint NOT NULL CHECK (amount_cents > 0),
    slot_id           uuid,
    starts_at         timestamptz,                -- the slot's times, when booked in a slot
    ends_at           timestamptz,
    cancel_until      timestamptz NOT NULL,       -- the employee may cancel until then
    validate_from     timestamptz NOT NULL,       -- start of the service's day, Italian time
    validate_until    timestamptz NOT NULL,       -- end of the grace period
    status            text NOT NULL DEFAULT 'booked' CHECK (status IN
                        ('booked', 'validated', 'no_show', 'cancelled', 'expired', 'refunded', 'partly_refunded')),
    hold_id           bigint NOT NULL UNIQUE,     -- ledger hold on the wallet
    capture_tx_id     bigint UNIQUE,              -- ledger capture at validation or no-show
    pledge_tx_id      bigint,                     -- the provider's pledge to the fund, if any
    policy_version    integer,
    provider_cents    bigint,
    fund_cents        bigint,
    fee_cents         bigint,
    pledge_cents      bigint NOT NULL DEFAULT 0,
    refunded_cents    bigint NOT NULL DEFAULT 0 CHECK (refunded_cents BETWEEN 0 AND amount_cents),
    resolved_at       timestamptz,                -- validated, no-show, cancelled or expired
    resolved_by       uuid REFERENCES users(id),
    note              text NOT NULL DEFAULT '',   -- no-show note or cancellation reason, shown to the employee
    created_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (status IN ('booked', 'cancelled', 'expired') OR capture_tx_id IS NOT NULL)
);
CREATE INDEX vouchers_employee_idx ON vouchers (employee_id, created_at DESC);
CREATE INDEX vouchers_provider_idx ON vouchers (provider_id, validate_from);
CREATE INDEX vouchers_slot_idx ON vouchers (slot_id) WHERE slot_id IS NOT NULL AND status IN ('booked', 'validated', 'no_show');
CREATE INDEX vouchers_expiry_idx ON vouchers (validate_until) WHERE status = 'booked';

-- A refund after validation: a ledger reversal of part (or all) of the
-- split, with its reason.
CREATE TABLE voucher_refunds (
    id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    voucher_id      uuid NOT NULL REFERENCES vouchers(id),
    amount_cents    bigint NOT NULL CHECK (amount_cents > 0),
    provider_cents  bigint NOT NULL,
    fund_cents      bigint NOT NULL,
    fee_cents       bigint NOT NULL,
    pledge_cents    bigint NOT NULL DEFAULT 0,
    reason          text NOT NULL CHECK (length(btrim(reason)) > 0),
    reversal_tx_id  bigint NOT NULL,
    pledge_reversal_tx_id bigint,
    refunded_by     uuid NOT NULL REFERENCES users(id),
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX voucher_refunds_voucher_idx ON voucher_refunds (voucher_id, created_at);

-- +goose Down
DROP TABLE voucher_refunds;
DROP TABLE vouchers;
