-- +goose Up
-- Company funding (internal/funding): top-ups by card (Stripe Checkout) and
-- by bank transfer, what Stripe and the bank later take back (refunds,
-- disputes) and the open items a shortfall leaves. Money itself is only in
-- the ledger (company:{id}:budget, platform:stripe, platform:bank …); these
-- rows are the state machines and references that drive its postings, and
-- every posting's idempotency key is made from our own ids.
CREATE TABLE funding_topups (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id        uuid NOT NULL REFERENCES organisations(id),
    channel           text NOT NULL CHECK (channel IN ('card', 'bank')),
    -- card: what the company pays; bank: what it said it would transfer
    amount            bigint NOT NULL CHECK (amount > 0),
    -- card: pending (no Checkout Session yet) → open → processing (an
    -- asynchronous method) → paid | failed | expired. bank: open until the
    -- company's money is recorded (the status stays open; credited says how much).
    status            text NOT NULL CHECK (status IN ('pending', 'open', 'processing', 'paid', 'failed', 'expired')),
    requested_by      uuid REFERENCES users(id),
    -- the idempotency key of the Checkout Session's creation, kept from the
    -- first request on, so a retry asks Stripe with the same key
    stripe_key        uuid NOT NULL DEFAULT gen_random_uuid(),
    checkout_session  text,
    checkout_url      text,
    payment_intent    text,
    -- the RF creditor reference (ISO 11649) the transfer must carry
    reference         text UNIQUE,
    -- credited to the budget so far (card: once, the amount; bank: the sum of credited receipts)
    credited          bigint NOT NULL DEFAULT 0,
    -- what Stripe refunded in total (charge.amount_refunded), booked so far
    refunded          bigint NOT NULL DEFAULT 0,
    -- Stripe's processing fee, once read from the balance transaction
    fee               bigint,
    -- the dispute: none | withdrawn (funds taken) | reinstated; and how it closed
    dispute_state     text NOT NULL DEFAULT 'none' CHECK (dispute_state IN ('none', 'withdrawn', 'reinstated')),
    dispute_amount    bigint NOT NULL DEFAULT 0,
    dispute_outcome   text,
    paid_at           timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK (channel = 'card' OR reference IS NOT NULL)
);
CREATE INDEX funding_topups_company_idx ON funding_topups (company_id, created_at DESC);
CREATE INDEX funding_topups_payment_intent_idx ON funding_topups (payment_intent) WHERE payment_intent IS NOT NULL;
CREATE INDEX funding_topups_fee_due_idx ON funding_topups (paid_at) WHERE channel = 'card' AND status = 'paid' AND fee IS NULL;

-- Money received by bank transfer, recorded by a platform admin against a
-- top-up's reference. Above the confirmation threshold it counts only once
-- a second platform admin confirms.
CREATE TABLE funding_bank_receipts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    topup_id      uuid NOT NULL REFERENCES funding_topups(id),
    amount        bigint NOT NULL CHECK (amount > 0),
    -- the bank's transaction reference (CRO/TRN), upper case, spaces removed
    cro           text NOT NULL UNIQUE CHECK (cro <> ''),
    value_date    date NOT NULL,
    status        text NOT NULL CHECK (status IN ('awaiting_confirmation', 'credited')),
    recorded_by   uuid NOT NULL REFERENCES users(id),
    recorded_at   timestamptz NOT NULL DEFAULT now(),
    confirmed_by  uuid REFERENCES users(id),
    confirmed_at  timestamptz,
    ledger_tx     bigint,
    CHECK (confirmed_by IS NULL OR confirmed_by <> recorded_by),
    CHECK ((status = 'credited') = (ledger_tx IS NOT NULL))
);
CREATE INDEX funding_bank_receipts_topup_idx ON funding_bank_receipts (topup_id);

-- What the budget could not cover when Stripe took money back (a refund,
-- a withdrawn dispute): booked to company:{id}:receivable so that
-- platform:stripe still equals Stripe's balance, shown to the company and
-- resolved by a platform admin.
CREATE TABLE funding_open_items (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id   uuid NOT NULL REFERENCES organisations(id),
    topup_id     uuid NOT NULL REFERENCES funding_topups(id),
    cause        text NOT NULL CHECK (cause IN ('refund', 'dispute')),
    amount       bigint NOT NULL CHECK (amount > 0),
    status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'resolved')),
    -- budget: taken from the budget later; transfer: the company paid it;
    -- write_off: a platform loss; reinstated: Stripe gave the dispute back
    resolution   text CHECK (resolution IN ('budget', 'transfer', 'write_off', 'reinstated')),
    note         text NOT NULL DEFAULT '',
    resolved_by  uuid REFERENCES users(id),
    resolved_at  timestamptz,
    created_at   timestamptz NOT NULL DEFAULT now(),
    CHECK ((status = 'resolved') = (resolution IS NOT NULL))
);
CREATE INDEX funding_open_items_company_idx ON funding_open_items (company_id, created_at DESC);

-- The end of a company's contract: a platform admin returns its
-- unallocated budget by bank transfer (company budget → platform:bank).
CREATE TABLE funding_contract_ends (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    company_id   uuid NOT NULL REFERENCES organisations(id),
    amount       bigint NOT NULL CHECK (amount > 0),
    iban         text NOT NULL,
    -- the outgoing transfer's CRO/TRN, as on the platform's bank statement
    cro          text NOT NULL UNIQUE CHECK (cro <> ''),
    value_date   date NOT NULL,
    note         text NOT NULL DEFAULT '',
    ledger_tx    bigint NOT NULL,
    done_by      uuid NOT NULL REFERENCES users(id),
    done_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX funding_contract_ends_company_idx ON funding_contract_ends (company_id);

-- +goose Down
DROP TABLE funding_contract_ends;
DROP TABLE funding_open_items;
DROP TABLE funding_bank_receipts;
DROP TABLE funding_topups;
