-- +goose Up
-- A per-user revocation epoch. Every access token carries the epoch its
-- user had when it was signed; ending sign-ins (password change or reset,
-- sign-out, a role change, deactivation, a stolen refresh token) adds one,
-- and app servers refuse a token of an older epoch within seconds (they
-- cache the epoch briefly) instead of letting it live to its expiry.
ALTER TABLE users ADD COLUMN auth_epoch integer NOT NULL DEFAULT 0;

-- +goose Down
ALTER TABLE users DROP COLUMN auth_epoch;
