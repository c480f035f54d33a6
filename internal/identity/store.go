package identity

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// The store: plain SQL over sqlx.ExtContext, so the calling use case owns
// the transaction. Nothing here decides anything.

// userRow is a user with what sign-in needs to know.
type userRow struct {
	ID           uuid.UUID      `db:"id"`
	OrgID        uuid.UUID      `db:"organisation_id"`
	OrgKind      auth.OrgKind   `db:"kind"`
	OrgName      string         `db:"org_name"`
	OrgActive    bool           `db:"org_active"`
	Email        string         `db:"email"`
	Name         string         `db:"name"`
	PasswordHash sql.NullString `db:"password_hash"`
	Status       string         `db:"status"`
	TOTPSecret   sql.NullString `db:"totp_secret"`
	TOTPEnabled  bool           `db:"totp_enabled"`
	Roles        pq.StringArray `db:"roles"`
	CreatedAt    time.Time      `db:"created_at"`
}

const userSelect = `
SELECT u.id, u.organisation_id, o.kind, o.name AS org_name, o.status = 'active' AS org_active,
       u.email, u.name, u.password_hash, u.status, u.totp_secret,
       u.totp_enabled_at IS NOT NULL AS totp_enabled, u.created_at,
       COALESCE((SELECT array_agg(r.role ORDER BY r.role) FROM user_roles r WHERE r.user_id = u.id), '{}') AS roles
FROM users u JOIN organisations o ON o.id = u.organisation_id`

func (u userRow) principal() *auth.Principal {
	roles := make([]auth.Role, len(u.Roles))
	for i, r := range u.Roles {
		roles[i] = auth.Role(r)
	}
	return &auth.Principal{UserID: u.ID, OrgID: u.OrgID, OrgKind: u.OrgKind, Email: u.Email, Name: u.Name, Roles: roles}
}

// canSignIn reports whether the account may be used at all.
func (u userRow) canSignIn() bool {
	return u.Status == "active" && u.OrgActive && u.PasswordHash.Valid && len(u.Roles) > 0
}

// needsTOTP reports whether the user holds a role that requires a second
// factor.
func (u userRow) needsTOTP() bool { return u.principal().NeedsSecondFactor() }

func userByEmail(ctx context.Context, q sqlx.QueryerContext, email string) (*userRow, error) {
	return getUser(ctx, q, userSelect+` WHERE u.email = $1`, email)
}

func userByID(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (*userRow, error) {
	return getUser(ctx, q, userSelect+` WHERE u.id = $1`, id)
}

// getUser returns (nil, nil) when there is no such user.
func getUser(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*userRow, error) {
	var u userRow
	err := sqlx.GetContext(ctx, q, &u, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	return &u, nil
}

func setPasswordHash(ctx context.Context, q sqlx.ExecerContext, id uuid.UUID, hash string) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2, updated_at = now() WHERE id = $1`, id, hash)
	return err
}

// refreshRow is one refresh token of a family.
type refreshRow struct {
	ID        uuid.UUID    `db:"id"`
	FamilyID  uuid.UUID    `db:"family_id"`
	UserID    uuid.UUID    `db:"user_id"`
	ExpiresAt time.Time    `db:"expires_at"`
	RotatedAt sql.NullTime `db:"rotated_at"`
	RevokedAt sql.NullTime `db:"revoked_at"`
}

func insertRefresh(ctx context.Context, q sqlx.ExecerContext, family, user uuid.UUID, hash []byte, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO refresh_tokens (family_id, user_id, token_hash, expires_at) VALUES ($1, $2, $3, $4)`,
		family, user, hash, expires)
	return err
}

// refreshForUpdate locks the token row so two concurrent refreshes with the
// same token cannot both succeed; (nil, nil) when unknown.
func refreshForUpdate(ctx context.Context, q sqlx.QueryerContext, hash []byte) (*refreshRow, error) {
	var r refreshRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT id, family_id, user_id, expires_at, rotated_at, revoked_at
		FROM refresh_tokens WHERE token_hash = $1 FOR UPDATE`, hash)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	return &r, err
}

func markRotated(ctx context.Context, q sqlx.ExecerContext, id uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET rotated_at = now() WHERE id = $1`, id)
	return err
}

func revokeFamily(ctx context.Context, q sqlx.ExecerContext, family uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL`, family)
	return err
}

// revokeUserCredentials ends every sign-in of a user: refresh tokens and
// browser sessions.
func revokeUserCredentials(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID) error {
	if _, err := q.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, user); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE user_id = $1`, user)
	return err
}

func insertSession(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hash []byte, expires time.Time) error {
	_, err := q.ExecContext(ctx, `INSERT INTO web_sessions (token_hash, user_id, expires_at) VALUES ($1, $2, $3)`, hash, user, expires)
	return err
}

// sessionUser returns the user of a live session, or nil.
func sessionUser(ctx context.Context, q sqlx.QueryerContext, hash []byte) (*userRow, error) {
	return getUser(ctx, q, userSelect+` JOIN web_sessions s ON s.user_id = u.id WHERE s.token_hash = $1 AND s.expires_at > now()`, hash)
}

func deleteSession(ctx context.Context, q sqlx.ExecerContext, hash []byte) error {
	_, err := q.ExecContext(ctx, `DELETE FROM web_sessions WHERE token_hash = $1`, hash)
	return err
}

// throttleState is how a throttle key stands.
type throttleState struct {
	Failures    int          `db:"failures"`
	LockedUntil sql.NullTime `db:"locked_until"`
}

func lockedUntil(ctx context.Context, q sqlx.QueryerContext, keys []string) (time.Time, error) {
	var t sql.NullTime
	err := sqlx.GetContext(ctx, q, &t, `SELECT max(locked_until) FROM auth_throttle WHERE key = ANY($1) AND locked_until > now()`, pq.Array(keys))
	return t.Time, err
}

// recordFailure counts a failure for key within window; when failures
// reach limit the key is locked for lock. It returns the new state.
func recordFailure(ctx context.Context, q sqlx.QueryerContext, key string, limit int, window, lock time.Duration) (throttleState, error) {
	var st throttleState
	err := sqlx.GetContext(ctx, q, &st, `
INSERT INTO auth_throttle AS a (key, failures, window_start) VALUES ($1, 1, now())
ON CONFLICT (key) DO UPDATE SET
    failures = CASE WHEN a.window_start < now() - $2::interval THEN 1 ELSE a.failures + 1 END,
    window_start = CASE WHEN a.window_start < now() - $2::interval THEN now() ELSE a.window_start END
RETURNING failures, locked_until`, key, window.String())
	if err != nil {
		return st, err
	}
	if st.Failures >= limit {
		err = sqlx.GetContext(ctx, q, &st, `UPDATE auth_throttle SET locked_until = now() + $2::interval, failures = 0, window_start = now()
			WHERE key = $1 RETURNING failures, locked_until`, key, lock.String())
	}
	return st, err
}

func clearThrottle(ctx context.Context, q sqlx.ExecerContext, key string) error {
	_, err := q.ExecContext(ctx, `DELETE FROM auth_throttle WHERE key = $1`, key)
	return err
}

// Event is one security event for the audit log.
type Event struct {
	Name      string
	ActorID   *uuid.UUID
	OrgID     *uuid.UUID
	SubjectID *uuid.UUID
	Email     string
	IP        string
	Details   map[string]any
}

// The audit events.
const (
	EventLoginSucceeded  = "login_succeeded"
	EventLoginFailed     = "login_failed"
	EventLoginLocked     = "login_locked"
	EventLockout         = "lockout"
	EventRefreshReuse    = "refresh_token_reuse"
	EventLogout          = "logout"
	EventRoleChanged     = "role_changed"
	EventUserInvited     = "user_invited"
	EventUserActivated   = "user_activated"
	EventUserDeactivated = "user_deactivated"
	EventPasswordReset   = "password_reset"
	EventTOTPEnabled     = "totp_enabled"
	EventRecoveryUsed    = "recovery_code_used"
)

func audit(ctx context.Context, q sqlx.ExecerContext, e Event) error {
	details, _ := json.Marshal(e.Details)
	if e.Details == nil {
		details = []byte("{}")
	}
	var email *string
	if e.Email != "" {
		email = &e.Email
	}
	_, err := q.ExecContext(ctx, `INSERT INTO audit_log (event, actor_id, organisation_id, subject_id, email, ip, details)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, e.Name, e.ActorID, e.OrgID, e.SubjectID, email, e.IP, details)
	return err
}

// orgByID returns organisation id. Errors: not_found.
func orgByID(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (*Organisation, error) {
	var o Organisation
	err := sqlx.GetContext(ctx, q, &o, `SELECT id, kind, name, status, created_at FROM organisations WHERE id = $1`, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "no such organisation")
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading organisation")
	}
	return &o, nil
}
