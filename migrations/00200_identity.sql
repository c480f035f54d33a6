-- +goose Up
-- Organisations and their people. Every tenant-owned row in the product
-- refers to an organisation, and every query is scoped by it.
CREATE TABLE organisations (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    kind        text NOT NULL CHECK (kind IN ('company', 'provider', 'fund', 'platform')),
    name        text NOT NULL CHECK (length(btrim(name)) > 0),
    status      text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'suspended')),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    organisation_id  uuid NOT NULL REFERENCES organisations(id),
    email            citext NOT NULL UNIQUE,
    name             text NOT NULL DEFAULT '',
    password_hash    text,            -- NULL until the invitation is accepted
    status           text NOT NULL DEFAULT 'invited' CHECK (status IN ('invited', 'active', 'deactivated')),
    created_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_organisation_idx ON users (organisation_id);

CREATE TABLE user_roles (
    user_id  uuid NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    role     text NOT NULL CHECK (role IN ('employee', 'company_admin', 'provider_staff', 'fund_manager',
                                           'case_worker', 'fund_approver', 'platform_admin', 'auditor')),
    PRIMARY KEY (user_id, role)
);

-- +goose Down
DROP TABLE user_roles;
DROP TABLE users;
DROP TABLE organisations;
