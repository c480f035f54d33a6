-- +goose Up
-- Sign-in throttling slows down instead of locking out: the owner of an
-- account under attack is mailed an unlock link, which trusts the browser
-- it is opened in (a device cookie, stored hashed) so that browser signs
-- in past the e-mail's throttle while the attack goes on.
ALTER TABLE user_tokens DROP CONSTRAINT user_tokens_purpose_check;
ALTER TABLE user_tokens ADD CONSTRAINT user_tokens_purpose_check CHECK (purpose IN ('invitation', 'password_reset', 'unlock'));

CREATE TABLE trusted_devices (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX trusted_devices_user_idx ON trusted_devices (user_id);

-- When the owner of a throttled e-mail was last mailed an unlock link.
ALTER TABLE auth_throttle ADD COLUMN unlock_mailed_at timestamptz;

-- +goose Down
ALTER TABLE auth_throttle DROP COLUMN unlock_mailed_at;
DROP TABLE trusted_devices;
DELETE FROM user_tokens WHERE purpose = 'unlock';
ALTER TABLE user_tokens DROP CONSTRAINT user_tokens_purpose_check;
ALTER TABLE user_tokens ADD CONSTRAINT user_tokens_purpose_check CHECK (purpose IN ('invitation', 'password_reset'));
