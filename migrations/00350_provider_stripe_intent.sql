-- +goose Up
-- Connect onboarding records its intent before it calls Stripe: the
-- idempotency key of the account's creation, committed first, so that a
-- retry after a crash or a timeout (or a second click at the same time)
-- asks Stripe with the same key and gets the same account.
ALTER TABLE providers ADD COLUMN stripe_account_key uuid;

-- +goose Down
ALTER TABLE providers DROP COLUMN stripe_account_key;
