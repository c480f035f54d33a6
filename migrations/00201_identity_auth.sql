-- +goose Up
-- Sign-in state: second factor, refresh-token families, browser sessions,
-- one-time links (invitation, password reset), throttling and the security
-- audit log. Secrets are only ever stored hashed (sha-256 of a 256-bit
-- random token; argon2id for passwords).
ALTER TABLE users
    ADD COLUMN totp_secret      text,          -- base32; set when TOTP is enabled or being set up
    ADD COLUMN totp_enabled_at  timestamptz,   -- NULL: TOTP not (yet) confirmed
    ADD COLUMN totp_last_step   bigint,        -- last 30 s step whose code was accepted (no replay)
    ADD COLUMN updated_at       timestamptz NOT NULL DEFAULT now();

-- A refresh token belongs to a family (one sign-in). Using a token rotates
-- it: the old row gets rotated_at, a new row joins the family. Presenting
-- a rotated token again is reuse: the whole family is revoked.
CREATE TABLE refresh_tokens (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    family_id   uuid NOT NULL,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    token_hash  bytea NOT NULL UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    rotated_at  timestamptz,
    revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);

-- Browser sessions: the cookie carries a random token, the row its hash.
-- Kept in the database (not in memory) so any app server can serve any
-- request and sign-out or deactivation takes effect at once.
CREATE TABLE web_sessions (
    token_hash    bytea PRIMARY KEY,
    user_id       uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at    timestamptz NOT NULL DEFAULT now(),
    expires_at    timestamptz NOT NULL,
    last_seen_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);

-- One-time links mailed to a person: accept an invitation, reset a password.
CREATE TABLE user_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    purpose     text NOT NULL CHECK (purpose IN ('invitation', 'password_reset')),
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX user_tokens_user_idx ON user_tokens (user_id, purpose);

CREATE TABLE recovery_codes (
    user_id    uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    code_hash  bytea NOT NULL,
    used_at    timestamptz,
    PRIMARY KEY (user_id, code_hash)
);

-- Failed sign-ins counted per e-mail address (whether or not it exists, so
-- a lockout says nothing about existence) and per client address.
CREATE TABLE auth_throttle (
    key           text PRIMARY KEY,     -- 'email:<addr>' or 'ip:<addr>'
    failures      integer NOT NULL DEFAULT 0,
    window_start  timestamptz NOT NULL DEFAULT now(),
    locked_until  timestamptz
);

-- Security events, append-only. Readable by platform admins.
CREATE TABLE audit_log (
    id               bigserial PRIMARY KEY,
    at               timestamptz NOT NULL DEFAULT now(),
    event            text NOT NULL,
    actor_id         uuid,
    organisation_id  uuid,
    subject_id       uuid,
    email            citext,
    ip               text NOT NULL DEFAULT '',
    details          jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_log_at_idx ON audit_log (at DESC);
CREATE INDEX audit_log_org_idx ON audit_log (organisation_id, at DESC);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE auth_throttle;
DROP TABLE recovery_codes;
DROP TABLE user_tokens;
DROP TABLE web_sessions;
DROP TABLE refresh_tokens;
ALTER TABLE users DROP COLUMN totp_secret, DROP COLUMN totp_enabled_at, DROP COLUMN totp_last_step, DROP COLUMN updated_at;
