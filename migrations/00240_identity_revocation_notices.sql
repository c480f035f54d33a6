-- +goose Up
-- Revocation notices: every committed change that may end a user's
-- sign-ins (the revocation epoch, the user's status or organisation, a role
-- added or removed, the user deleted) announces the user's id on channel
-- identity_revocations, and a change of an organisation's status announces
-- "*" (all). App servers listen (identity.ListenForRevocations) and drop
-- what they remembered of the user, so an access token of an ended sign-in
-- stops on every server a few milliseconds after the commit, and a server
-- can remember a user's epoch for as long as it listens instead of asking
-- the database on every request. NOTIFY is sent at commit, and folds
-- repeated payloads of one transaction into one.
-- +goose StatementBegin
CREATE FUNCTION identity_revocation_notice() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'organisations' THEN
        PERFORM pg_notify('identity_revocations', '*');
    ELSIF TG_TABLE_NAME = 'users' THEN
        PERFORM pg_notify('identity_revocations', (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END)::text);
    ELSE -- user_roles
        PERFORM pg_notify('identity_revocations', (CASE WHEN TG_OP = 'DELETE' THEN OLD.user_id ELSE NEW.user_id END)::text);
        IF TG_OP = 'UPDATE' AND OLD.user_id <> NEW.user_id THEN
            PERFORM pg_notify('identity_revocations', OLD.user_id::text);
        END IF;
    END IF;
    RETURN NULL;
END $$;
-- +goose StatementEnd

CREATE TRIGGER users_revocation_notice AFTER UPDATE ON users FOR EACH ROW
    WHEN (OLD.auth_epoch IS DISTINCT FROM NEW.auth_epoch OR OLD.status IS DISTINCT FROM NEW.status
        OR OLD.organisation_id IS DISTINCT FROM NEW.organisation_id)
    EXECUTE FUNCTION identity_revocation_notice();
CREATE TRIGGER users_deleted_revocation_notice AFTER DELETE ON users FOR EACH ROW
    EXECUTE FUNCTION identity_revocation_notice();
CREATE TRIGGER user_roles_revocation_notice AFTER INSERT OR UPDATE OR DELETE ON user_roles FOR EACH ROW
    EXECUTE FUNCTION identity_revocation_notice();
CREATE TRIGGER organisations_revocation_notice AFTER UPDATE ON organisations FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status)
    EXECUTE FUNCTION identity_revocation_notice();

-- +goose Down
DROP TRIGGER organisations_revocation_notice ON organisations;
DROP TRIGGER user_roles_revocation_notice ON user_roles;
DROP TRIGGER users_deleted_revocation_notice ON users;
DROP TRIGGER users_revocation_notice ON users;
DROP FUNCTION identity_revocation_notice();
