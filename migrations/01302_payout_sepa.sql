-- +goose Up
-- Provider payouts by SEPA credit transfer (internal/redemption/sepa.go):
-- for a provider without a Stripe account able to receive transfers. The
-- provider gives the account it is paid to; a platform admin exports the
-- queued payouts as one CBI payment file from platform:bank (the payouts
-- are then "sent"), marks the file executed when the bank has paid it
-- (each payout's hold is captured: "paid"), and records a payout the bank
-- rejected or returned ("returned": the hold voided, or the capture
-- reversed, so the money is owed on the payable again).
CREATE TABLE provider_bank_accounts (
    provider_id  uuid PRIMARY KEY REFERENCES providers(organisation_id),
    holder       text NOT NULL CHECK (length(btrim(holder)) BETWEEN 1 AND 70),
    iban         text NOT NULL CHECK (iban ~ '^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$'),
    updated_by   uuid REFERENCES users(id),
    updated_at   timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE payout_batches (
    id            uuid PRIMARY KEY,
    message_id    text NOT NULL UNIQUE,
    execution_on  date NOT NULL,
    status        text NOT NULL DEFAULT 'exported' CHECK (status IN ('exported', 'executed')),
    created_by    uuid REFERENCES users(id),
    created_at    timestamptz NOT NULL DEFAULT now(),
    executed_by   uuid REFERENCES users(id),
    executed_at   timestamptz
);

ALTER TABLE provider_payouts
    ADD COLUMN batch_id       uuid REFERENCES payout_batches(id),
    ADD COLUMN end_to_end_id  text,
    ADD COLUMN creditor_name  text,
    ADD COLUMN creditor_iban  text,
    ADD COLUMN return_tx_id   bigint UNIQUE,
    ADD COLUMN return_reason  text NOT NULL DEFAULT '';
ALTER TABLE provider_payouts DROP CONSTRAINT provider_payouts_status_check;
ALTER TABLE provider_payouts ADD CONSTRAINT provider_payouts_status_check
    CHECK (status IN ('queued', 'sent', 'paid', 'failed', 'returned'));
-- A paid payout has its capture; a returned one may have had it (returned
-- after the bank paid), then also its reversal.
ALTER TABLE provider_payouts DROP CONSTRAINT provider_payouts_check1;
ALTER TABLE provider_payouts ADD CONSTRAINT provider_payouts_capture_check
    CHECK ((status = 'paid') <= (capture_tx_id IS NOT NULL) AND (capture_tx_id IS NULL OR status IN ('paid', 'returned'))
           AND (return_tx_id IS NULL OR capture_tx_id IS NOT NULL));
ALTER TABLE provider_payouts ADD CONSTRAINT provider_payouts_batch_check
    CHECK ((status = 'sent') <= (batch_id IS NOT NULL) AND (batch_id IS NULL OR method = 'sepa'));
CREATE INDEX provider_payouts_batch_idx ON provider_payouts (batch_id) WHERE batch_id IS NOT NULL;
CREATE INDEX provider_payouts_sepa_queued_idx ON provider_payouts (created_at) WHERE status = 'queued' AND method = 'sepa';

-- +goose Down
DROP INDEX provider_payouts_sepa_queued_idx;
DROP INDEX provider_payouts_batch_idx;
ALTER TABLE provider_payouts DROP CONSTRAINT provider_payouts_batch_check;
ALTER TABLE provider_payouts DROP CONSTRAINT provider_payouts_capture_check;
ALTER TABLE provider_payouts ADD CONSTRAINT provider_payouts_check1 CHECK ((status = 'paid') = (capture_tx_id IS NOT NULL));
ALTER TABLE provider_payouts DROP CONSTRAINT provider_payouts_status_check;
ALTER TABLE provider_payouts ADD CONSTRAINT provider_payouts_status_check CHECK (status IN ('queued', 'paid', 'failed'));
ALTER TABLE provider_payouts DROP COLUMN return_reason, DROP COLUMN return_tx_id, DROP COLUMN creditor_iban,
    DROP COLUMN creditor_name, DROP COLUMN end_to_end_id, DROP COLUMN batch_id;
DROP TABLE payout_batches;
DROP TABLE provider_bank_accounts;
