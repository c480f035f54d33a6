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

// The store (store*.go) is all of identity's SQL: plain statements over
// sqlx's Queryer/Execer, so the calling use case owns the transaction.
// Nothing here decides anything. A read of one row that finds none
// answers apperr not_found (as db.MapError does in the other domains),
// never (nil, nil).

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
	AuthEpoch    int            `db:"auth_epoch"` // see accessClaims.Epoch
	SiteID       *uuid.UUID     `db:"site_id"`    // where they work, if they said
}

const userSelect = `
SELECT u.id, u.organisation_id, o.kind, o.name AS org_name, o.status = 'active' AS org_active,
       u.email, u.name, u.password_hash, u.status, u.totp_secret,
       u.totp_enabled_at IS NOT NULL AS totp_enabled, u.created_at, u.auth_epoch, u.site_id,
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

var errNoUser = apperr.New(apperr.NotFound, "no such user")

// getUser reads one userRow. Errors: not_found.
func getUser(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*userRow, error) {
	var u userRow
	err := sqlx.GetContext(ctx, q, &u, query, args...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoUser
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

// usersOf returns the users of organisation org, by name.
func usersOf(ctx context.Context, q sqlx.QueryerContext, org uuid.UUID) ([]userRow, error) {
	var rows []userRow
	err := sqlx.SelectContext(ctx, q, &rows, userSelect+` WHERE u.organisation_id = $1 ORDER BY lower(u.name), u.email`, org)
	return rows, err
}

// insertInvitedUsers adds users of org with status invited, skipping an
// address that already has an account (also one added by a concurrent
// transaction), and returns the new users' ids by lower-cased e-mail.
func insertInvitedUsers(ctx context.Context, q sqlx.QueryerContext, org uuid.UUID, emails, names []string) (map[string]uuid.UUID, error) {
	var rows []struct {
		ID    uuid.UUID `db:"id"`
		Email string    `db:"email"`
	}
	err := sqlx.SelectContext(ctx, q, &rows, `INSERT INTO users (organisation_id, email, name, status)
		SELECT $1, e, n, 'invited' FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(e, n, i) ORDER BY i
		ON CONFLICT (email) DO NOTHING
		RETURNING id, lower(email) AS email`, org, pq.Array(emails), pq.Array(names))
	out := make(map[string]uuid.UUID, len(rows))
	for _, r := range rows {
		out[r.Email] = r.ID
	}
	return out, err
}

// insertRoles gives users[i] the roles roles[i], in one statement.
func insertRoles(ctx context.Context, q sqlx.ExecerContext, users []uuid.UUID, roles [][]auth.Role) error {
	var us, rs []string
	for i, u := range users {
		for _, r := range roles[i] {
			us, rs = append(us, u.String()), append(rs, string(r))
		}
	}
	_, err := q.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) SELECT u::uuid, r FROM unnest($1::text[], $2::text[]) AS t(u, r)`,
		pq.Array(us), pq.Array(rs))
	return err
}

// replaceRoles makes roles the user's only roles.
func replaceRoles(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, roles []auth.Role) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, user); err != nil {
		return err
	}
	return insertRoles(ctx, q, []uuid.UUID{user}, [][]auth.Role{roles})
}

func deactivateUser(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET status = 'deactivated', updated_at = now() WHERE id = $1`, user)
	return err
}

// reactivateUser makes a deactivated user active again, or invited when
// they never accepted their invitation.
func reactivateUser(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END,
		updated_at = now() WHERE id = $1`, user)
	return err
}

// activateInvited sets an invitee's password and name and activates them.
func activateInvited(ctx context.Context, q sqlx.ExecerContext, user uuid.UUID, hash, name string) error {
	_, err := q.ExecContext(ctx, `UPDATE users SET password_hash = $2, name = $3, status = 'active', updated_at = now() WHERE id = $1`,
		user, hash, name)
	return err
}

func insertOrganisation(ctx context.Context, q sqlx.QueryerContext, n NewOrganisation) (Organisation, error) {
	var o Organisation
	err := sqlx.GetContext(ctx, q, &o, `INSERT INTO organisations (kind, name) VALUES ($1, $2) RETURNING id, kind, name, status, created_at`, n.Kind, n.Name)
	return o, err
}

// organisations lists every organisation, or only one (only not nil), by
// kind and name.
func organisations(ctx context.Context, q sqlx.QueryerContext, only *uuid.UUID) ([]Organisation, error) {
	var out []Organisation
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, kind, name, status, created_at FROM organisations
		WHERE $1::uuid IS NULL OR id = $1 ORDER BY kind, lower(name)`, only)
	return out, err
}

// auditEntries returns up to limit events older than before, newest first.
func auditEntries(ctx context.Context, q sqlx.QueryerContext, before int64, limit int) ([]AuditEntry, error) {
	var out []AuditEntry
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, at, event, actor_id, organisation_id, subject_id, email, ip, details::text AS details
		FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	return out, err
}

// insertImport records a CSV import that starts now.
func insertImport(ctx context.Context, q sqlx.QueryerContext, org, createdBy uuid.UUID, total int) (uuid.UUID, error) {
	var id uuid.UUID
	err := sqlx.GetContext(ctx, q, &id, `INSERT INTO invitation_imports (organisation_id, created_by, total_rows)
		VALUES ($1, $2, $3) RETURNING id`, org, createdBy, total)
	return id, err
}

func importProgress(ctx context.Context, q sqlx.ExecerContext, id uuid.UUID, done, total int) error {
	_, err := q.ExecContext(ctx, `UPDATE invitation_imports SET done_rows = $2, total_rows = $3 WHERE id = $1`, id, done, total)
	return err
}

// finishImport records how an import ended.
func finishImport(ctx context.Context, q sqlx.ExecerContext, id uuid.UUID, status string, invited int, msg string, rows []RowError) error {
	raw, err := json.Marshal(rows)
	if err != nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE invitation_imports SET status = $2, invited = $3, message = $4, errors = $5,
		done_rows = CASE WHEN $2 = 'done' THEN total_rows ELSE done_rows END, finished_at = now() WHERE id = $1`,
		id, status, invited, msg, raw)
	return err
}

// importOf returns import id of organisation org. Errors: not_found.
func importOf(ctx context.Context, q sqlx.QueryerContext, org, id uuid.UUID) (Import, error) {
	var im Import
	err := sqlx.GetContext(ctx, q, &im, `SELECT id, organisation_id, status, total_rows, done_rows, invited, message, errors, created_at, finished_at
		FROM invitation_imports WHERE id = $1 AND organisation_id = $2`, id, org)
	if errors.Is(err, sql.ErrNoRows) {
		return im, apperr.New(apperr.NotFound, "no such import")
	}
	return im, err
}

// addToCounter adds n to key's counter for the current window (windows of
// length window from the Unix epoch) unless that would pass limit. It
// returns the new count, or -1 and the time left in the window when it
// would pass. Older windows of key are dropped on the way.
func addToCounter(ctx context.Context, q sqlx.QueryerContext, key string, n, limit int, window time.Duration) (int, time.Duration, error) {
	var row struct {
		Count int     `db:"count"`
		Left  float64 `db:"left_s"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
WITH w AS (SELECT date_bin($4::interval, now(), timestamptz 'epoch') AS start),
gone AS (DELETE FROM rate_counters WHERE key = $1 AND window_start < (SELECT start FROM w)),
up AS (
    INSERT INTO rate_counters AS c (key, window_start, count) SELECT $1, start, $2::int FROM w WHERE $2::int <= $3::int
    ON CONFLICT (key, window_start) DO UPDATE SET count = c.count + $2::int WHERE c.count + $2::int <= $3::int
    RETURNING count)
SELECT COALESCE((SELECT count FROM up), -1) AS count,
       extract(epoch FROM (SELECT start FROM w) + $4::interval - now()) AS left_s`, key, n, limit, window.String())
	return row.Count, time.Duration(row.Left * float64(time.Second)), err
}
