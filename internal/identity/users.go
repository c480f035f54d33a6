package identity

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	rmail "github.com/reciproca/reciproca/internal/mail"
)

// Invitation and password-reset links live this long.
const (
	InvitationTTL    = 7 * 24 * time.Hour
	PasswordResetTTL = time.Hour
)

// User is a person as organisation admins see them.
type User struct {
	ID          uuid.UUID
	OrgID       uuid.UUID
	OrgName     string
	OrgKind     auth.OrgKind
	Email       string
	Name        string
	Status      string // invited, active, deactivated
	Roles       []auth.Role
	TOTPEnabled bool
	CreatedAt   time.Time
}

func (u userRow) user() User {
	p := u.principal()
	return User{ID: u.ID, OrgID: u.OrgID, OrgName: u.OrgName, OrgKind: u.OrgKind, Email: u.Email, Name: u.Name,
		Status: u.Status, Roles: p.Roles, TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt}
}

// Organisation is a tenant.
type Organisation struct {
	ID        uuid.UUID    `db:"id"`
	Kind      auth.OrgKind `db:"kind"`
	Name      string       `db:"name"`
	Status    string       `db:"status"`
	CreatedAt time.Time    `db:"created_at"`
}

// NewOrganisation is what creating an organisation takes.
type NewOrganisation struct {
	Kind auth.OrgKind
	Name string
}

// Validate checks kind and name.
func (n NewOrganisation) Validate() error {
	if _, ok := auth.KindRoles[n.Kind]; !ok {
		return invalidField("kind", "kind must be company, provider, fund or platform")
	}
	if l := len([]rune(strings.TrimSpace(n.Name))); l == 0 || l > 200 {
		return invalidField("name", "the name must be 1 to 200 characters long")
	}
	return nil
}

// Invitation asks someone to join an organisation.
type Invitation struct {
	// OrgID is the organisation to join; zero means the admin's own. Only
	// platform admins may invite into another organisation.
	OrgID uuid.UUID
	Email string
	Name  string
	Roles []auth.Role
}

// Validate checks the invitation for an organisation of kind.
func (in Invitation) Validate(kind auth.OrgKind) error {
	if err := validEmail(in.Email); err != nil {
		return err
	}
	if l := len([]rune(strings.TrimSpace(in.Name))); l == 0 || l > 200 {
		return invalidField("name", "the name must be 1 to 200 characters long")
	}
	return validRoles(kind, in.Roles)
}

func validEmail(s string) error {
	a, err := mail.ParseAddress(strings.TrimSpace(s))
	if err != nil || a.Address != strings.TrimSpace(s) || len(s) > 320 || !strings.Contains(a.Address, ".") {
		return invalidField("email", "%q is not a valid e-mail address", s)
	}
	return nil
}

func validRoles(kind auth.OrgKind, roles []auth.Role) error {
	if len(roles) == 0 {
		return invalidField("roles", "at least one role is required")
	}
	for i, r := range roles {
		if !slices.Contains(auth.KindRoles[kind], r) {
			return invalidField("roles", "role %q cannot be held in an organisation of kind %s (allowed: %v)", r, kind, auth.KindRoles[kind])
		}
		if slices.Contains(roles[:i], r) {
			return invalidField("roles", "role %q is listed twice", r)
		}
	}
	return nil
}

// UserUpdate changes a user; nil fields stay as they are.
type UserUpdate struct {
	Roles  []auth.Role
	Status *string // "active" or "deactivated"
}

// loadUser reads a user as admins see them. Errors: not_found.
func loadUser(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (*User, error) {
	u, err := userByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, apperr.New(apperr.NotFound, "no such user")
	}
	out := u.user()
	return &out, nil
}

// managedOrg returns the organisation the actor manages: orgID (zero: their
// own). Errors: forbidden (not an admin), not_found (another tenant, unless
// platform admin, or no such organisation).
func (s *Service) managedOrg(ctx context.Context, q sqlx.QueryerContext, actor *auth.Principal, orgID uuid.UUID) (*Organisation, error) {
	if actor == nil {
		return nil, apperr.New(apperr.Unauthorized, "authentication required")
	}
	if !actor.Has(auth.AdminRoles...) {
		return nil, apperr.New(apperr.Forbidden, "only an organisation's administrators manage its users")
	}
	if orgID == uuid.Nil {
		orgID = actor.OrgID
	}
	if orgID != actor.OrgID && !actor.Has(auth.RolePlatformAdmin) {
		return nil, apperr.New(apperr.NotFound, "no such organisation")
	}
	return orgByID(ctx, q, orgID)
}

// visibleUser returns a user the actor manages. Errors: forbidden,
// not_found (no such user, or another tenant's).
func (s *Service) visibleUser(ctx context.Context, q sqlx.QueryerContext, actor *auth.Principal, id uuid.UUID) (*userRow, error) {
	if _, err := s.managedOrg(ctx, q, actor, uuid.Nil); err != nil {
		return nil, err
	}
	u, err := userByID(ctx, q, id)
	if err != nil {
		return nil, apperr.Wrap(err, "reading user")
	}
	if u == nil || (u.OrgID != actor.OrgID && !actor.Has(auth.RolePlatformAdmin)) {
		return nil, apperr.New(apperr.NotFound, "no such user")
	}
	return u, nil
}

// ListUsers returns the users of the actor's organisation (orgID zero), or
// of orgID for a platform admin, by name. Errors: forbidden, not_found.
func (s *Service) ListUsers(ctx context.Context, actor *auth.Principal, orgID uuid.UUID) ([]User, error) {
	o, err := s.managedOrg(ctx, s.db, actor, orgID)
	if err != nil {
		return nil, err
	}
	var rows []userRow
	if err := sqlx.SelectContext(ctx, s.db, &rows, userSelect+` WHERE u.organisation_id = $1 ORDER BY lower(u.name), u.email`, o.ID); err != nil {
		return nil, apperr.Wrap(err, "listing users")
	}
	out := make([]User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out, nil
}

// GetUser returns one user the actor manages. Errors: forbidden, not_found.
func (s *Service) GetUser(ctx context.Context, actor *auth.Principal, id uuid.UUID) (*User, error) {
	u, err := s.visibleUser(ctx, s.db, actor, id)
	if err != nil {
		return nil, err
	}
	out := u.user()
	return &out, nil
}

// Invite creates an invited user and mails them a one-time link to set
// their password. With an idempotency key (scoped to the actor's
// organisation) a retry of the same invitation returns the user as the
// first call answered, and mails nobody again. Errors: invalid, forbidden,
// not_found (organisation), conflict (the e-mail already has an account,
// or the key was used for a different request).
func (s *Service) Invite(ctx context.Context, actor *auth.Principal, in Invitation, idempotencyKey string) (*User, error) {
	o, err := s.managedOrg(ctx, s.db, actor, in.OrgID)
	if err != nil {
		return nil, err
	}
	if err := s.canGrant(actor, in.Roles); err != nil {
		return nil, err
	}
	if err := in.Validate(o.Kind); err != nil {
		return nil, err
	}
	hash := requestHash("invite", o.ID, strings.TrimSpace(in.Email), strings.TrimSpace(in.Name), in.Roles)
	var out User
	_, err = s.idempotent(ctx, actor, idempotencyKey, "invite", hash, &out, func(tx *sqlx.Tx) error {
		ids, err := s.createInvited(ctx, tx, actor, o, []Invitation{in})
		if err != nil {
			return err
		}
		u, err := loadUser(ctx, tx, ids[0])
		if err == nil {
			out = *u
		}
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "inviting")
	}
	return &out, nil
}

// canGrant refuses roles only a platform admin may give (platform_admin
// and auditor of the platform are checked by kind anyway).
func (s *Service) canGrant(actor *auth.Principal, roles []auth.Role) error {
	if actor.Has(auth.RolePlatformAdmin) {
		return nil
	}
	if slices.Contains(roles, auth.RolePlatformAdmin) {
		return apperr.New(apperr.Forbidden, "only platform administrators grant that role")
	}
	return nil
}

// createInvited inserts users (status invited), their roles, one-time
// links and the invitation mails, all in tx. The e-mails must be valid.
func (s *Service) createInvited(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, o *Organisation, ins []Invitation) ([]uuid.UUID, error) {
	emails, names := make([]string, len(ins)), make([]string, len(ins))
	for i, in := range ins {
		emails[i], names[i] = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	}
	var ids []uuid.UUID
	err := sqlx.SelectContext(ctx, tx, &ids, `INSERT INTO users (organisation_id, email, name, status)
		SELECT $1, e, n, 'invited' FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS t(e, n, i) ORDER BY i
		RETURNING id`, o.ID, pq.Array(emails), pq.Array(names))
	if db.IsUniqueViolation(err, "users_email_key") {
		return nil, apperr.New(apperr.Conflict, "this e-mail address already has an account").With("field", "email")
	}
	if err != nil {
		return nil, err
	}
	var roleUsers, roles []string
	tokens, hashes := make([]string, len(ids)), make([][]byte, len(ids))
	for i, id := range ids {
		for _, r := range ins[i].Roles {
			roleUsers, roles = append(roleUsers, id.String()), append(roles, string(r))
		}
		tokens[i] = randomToken()
		hashes[i] = hashToken(tokens[i])
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) SELECT u::uuid, r FROM unnest($1::text[], $2::text[]) AS t(u, r)`,
		pq.Array(roleUsers), pq.Array(roles)); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at)
		SELECT h, u::uuid, 'invitation', $3 FROM unnest($1::bytea[], $2::text[]) AS t(h, u)`,
		pq.ByteaArray(hashes), pq.Array(uuidStrings(ids)), time.Now().Add(InvitationTTL)); err != nil {
		return nil, err
	}
	for i := range ids {
		if err := rmail.Enqueue(ctx, tx, invitationMail(s.cfg.BaseURL, emails[i], names[i], o.Name, tokens[i])); err != nil {
			return nil, err
		}
		if err := audit(ctx, tx, Event{Name: EventUserInvited, ActorID: &actor.UserID, OrgID: &o.ID, SubjectID: &ids[i],
			Email: emails[i], IP: auth.ClientIP(ctx), Details: map[string]any{"roles": ins[i].Roles}}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func uuidStrings(ids []uuid.UUID) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = id.String()
	}
	return out
}

// UpdateUser changes a user's roles or status (deactivate / reactivate).
// Deactivating ends every sign-in of the user at once. Admins cannot
// change their own roles or deactivate themselves (so an organisation is
// never left without its admin by mistake). Errors: invalid, forbidden,
// not_found.
func (s *Service) UpdateUser(ctx context.Context, actor *auth.Principal, id uuid.UUID, up UserUpdate) (*User, error) {
	var out *User
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := s.visibleUser(ctx, tx, actor, id)
		if err != nil {
			return err
		}
		if u.ID == actor.UserID {
			return apperr.New(apperr.Forbidden, "you cannot change your own roles or status")
		}
		if up.Roles != nil {
			if err := s.canGrant(actor, up.Roles); err != nil {
				return err
			}
			if err := validRoles(u.OrgKind, up.Roles); err != nil {
				return err
			}
			before := u.principal().Roles
			if _, err := tx.ExecContext(ctx, `DELETE FROM user_roles WHERE user_id = $1`, u.ID); err != nil {
				return err
			}
			for _, r := range up.Roles {
				if _, err := tx.ExecContext(ctx, `INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, u.ID, r); err != nil {
					return err
				}
			}
			if err := audit(ctx, tx, Event{Name: EventRoleChanged, ActorID: &actor.UserID, OrgID: &u.OrgID, SubjectID: &u.ID,
				Email: u.Email, IP: auth.ClientIP(ctx), Details: map[string]any{"before": before, "after": up.Roles}}); err != nil {
				return err
			}
			// Sessions re-read roles on every request; API tokens carry them,
			// so end the refresh families to apply the change at once.
			if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, u.ID); err != nil {
				return err
			}
		}
		if up.Status != nil {
			if err := s.setStatus(ctx, tx, actor, u, *up.Status); err != nil {
				return err
			}
		}
		out, err = loadUser(ctx, tx, id)
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "updating user")
	}
	return out, nil
}

func (s *Service) setStatus(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, u *userRow, status string) error {
	ev := Event{ActorID: &actor.UserID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)}
	switch status {
	case "deactivated":
		if u.Status == "deactivated" {
			return nil
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET status = 'deactivated', updated_at = now() WHERE id = $1`, u.ID); err != nil {
			return err
		}
		if err := revokeUserCredentials(ctx, tx, u.ID); err != nil {
			return err
		}
		ev.Name = EventUserDeactivated
	case "active":
		if u.Status != "deactivated" {
			return nil
		}
		// Someone who never accepted the invitation goes back to invited.
		if _, err := tx.ExecContext(ctx, `UPDATE users SET status = CASE WHEN password_hash IS NULL THEN 'invited' ELSE 'active' END,
			updated_at = now() WHERE id = $1`, u.ID); err != nil {
			return err
		}
		ev.Name = EventUserActivated
	default:
		return invalidField("status", "status must be active or deactivated")
	}
	return audit(ctx, tx, ev)
}

// oneTimeToken returns the user of a live one-time link and locks it.
// Errors: not_found (unknown, used or expired: one message for all).
func oneTimeToken(ctx context.Context, q sqlx.QueryerContext, token, purpose string) (*userRow, error) {
	var uid uuid.UUID
	err := sqlx.GetContext(ctx, q, &uid, `SELECT user_id FROM user_tokens
		WHERE token_hash = $1 AND purpose = $2 AND used_at IS NULL AND expires_at > now() FOR UPDATE`, hashToken(token), purpose)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")
	}
	if err != nil {
		return nil, err
	}
	u, err := userByID(ctx, q, uid)
	if err != nil {
		return nil, err
	}
	if u == nil {
		return nil, apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")
	}
	return u, nil
}

// InvitationInfo is what the accept-invitation page shows.
type InvitationInfo struct {
	Email   string
	Name    string
	OrgName string
}

// Invitation returns who an invitation link is for. Errors: not_found.
func (s *Service) Invitation(ctx context.Context, token string) (*InvitationInfo, error) {
	u, err := oneTimeToken(ctx, s.db, token, "invitation")
	if err != nil {
		return nil, apperr.Wrap(err, "reading invitation")
	}
	if u.Status != "invited" {
		return nil, apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")
	}
	return &InvitationInfo{Email: u.Email, Name: u.Name, OrgName: u.OrgName}, nil
}

// AcceptInvitation sets the invitee's password (and name, if given) and
// activates the account; the link stops working. Errors: invalid
// (password policy), not_found (bad or used link).
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password string) (*User, error) {
	var out *User
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := oneTimeToken(ctx, tx, token, "invitation")
		if err != nil {
			return err
		}
		if u.Status != "invited" {
			return apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")
		}
		if err := checkPasswordPolicy(password, u.Email); err != nil {
			return err
		}
		name = strings.TrimSpace(name)
		if name == "" {
			name = u.Name
		}
		if l := len([]rune(name)); l == 0 || l > 200 {
			return invalidField("name", "the name must be 1 to 200 characters long")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $2, name = $3, status = 'active', updated_at = now() WHERE id = $1`,
			u.ID, hashPassword(s.cfg.Argon2, password), name); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND purpose = 'invitation' AND used_at IS NULL`, u.ID); err != nil {
			return err
		}
		if err := audit(ctx, tx, Event{Name: EventUserActivated, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)}); err != nil {
			return err
		}
		u.Name, u.Status = name, "active"
		uu := u.user()
		out = &uu
		return nil
	})
	if err != nil {
		return nil, apperr.Wrap(err, "accepting invitation")
	}
	return out, nil
}

// RequestPasswordReset mails a reset link when email belongs to an active
// account, and does nothing otherwise: the answer is the same either way.
// Requests per address are throttled like failed sign-ins.
func (s *Service) RequestPasswordReset(ctx context.Context, email string) error {
	email = normEmail(email)
	if validEmail(email) != nil {
		return nil
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		key := "reset:" + email
		until, err := lockedUntil(ctx, tx, []string{key})
		if err != nil || !until.IsZero() {
			return err
		}
		if _, err := recordFailure(ctx, tx, key, s.cfg.MaxFailures, time.Hour, time.Hour); err != nil {
			return err
		}
		u, err := userByEmail(ctx, tx, email)
		if err != nil || u == nil || !u.canSignIn() {
			return err
		}
		tok := randomToken()
		if _, err := tx.ExecContext(ctx, `INSERT INTO user_tokens (token_hash, user_id, purpose, expires_at) VALUES ($1, $2, 'password_reset', $3)`,
			hashToken(tok), u.ID, time.Now().Add(PasswordResetTTL)); err != nil {
			return err
		}
		return rmail.Enqueue(ctx, tx, resetMail(s.cfg.BaseURL, u.Email, u.Name, tok))
	})
	return apperr.Wrap(err, "requesting password reset")
}

// ResetPassword sets a new password through a reset link, ends every
// other sign-in of the account and lifts a sign-in lockout. Errors:
// invalid (password policy), not_found (bad, used or expired link).
func (s *Service) ResetPassword(ctx context.Context, token, password string) error {
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := oneTimeToken(ctx, tx, token, "password_reset")
		if err != nil {
			return err
		}
		if !u.canSignIn() {
			return apperr.New(apperr.NotFound, "this link is not valid any more: it was used already or has expired")
		}
		if err := checkPasswordPolicy(password, u.Email); err != nil {
			return err
		}
		if err := setPasswordHash(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, password)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE user_tokens SET used_at = now() WHERE user_id = $1 AND purpose = 'password_reset' AND used_at IS NULL`, u.ID); err != nil {
			return err
		}
		if err := revokeUserCredentials(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := clearThrottle(ctx, tx, "email:"+normEmail(u.Email)); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventPasswordReset, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)})
	})
	return apperr.Wrap(err, "resetting password")
}

// ChangePassword changes the caller's password after checking the current
// one; other sign-ins of the account end. Errors: invalid, unauthorized.
func (s *Service) ChangePassword(ctx context.Context, actor *auth.Principal, current, next string) error {
	u, err := s.activeUser(ctx, s.db, actor.UserID)
	if err != nil {
		return err
	}
	if ok, _ := verifyPassword(s.cfg.Argon2, u.PasswordHash.String, current); !ok {
		return apperr.New(apperr.Invalid, "the current password is not right").With("field", "current_password")
	}
	if err := checkPasswordPolicy(next, u.Email); err != nil {
		return err
	}
	return apperr.Wrap(db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := setPasswordHash(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, next)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`, u.ID); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: EventPasswordReset, ActorID: &u.ID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email,
			IP: auth.ClientIP(ctx), Details: map[string]any{"how": "changed"}})
	}), "changing password")
}

// CreateOrganisation adds a tenant. Errors: invalid, forbidden (platform
// admins only).
func (s *Service) CreateOrganisation(ctx context.Context, actor *auth.Principal, n NewOrganisation) (*Organisation, error) {
	if !actor.Has(auth.RolePlatformAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only platform administrators create organisations")
	}
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var o Organisation
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		if err := tx.GetContext(ctx, &o, `INSERT INTO organisations (kind, name) VALUES ($1, $2) RETURNING id, kind, name, status, created_at`, n.Kind, n.Name); err != nil {
			return err
		}
		return audit(ctx, tx, Event{Name: "organisation_created", ActorID: &actor.UserID, OrgID: &o.ID, IP: auth.ClientIP(ctx),
			Details: map[string]any{"kind": n.Kind, "name": n.Name}})
	})
	if err != nil {
		return nil, apperr.Wrap(err, "creating organisation")
	}
	return &o, nil
}

// ListOrganisations returns every organisation for platform staff
// (platform admin, platform auditor), else only the caller's own.
func (s *Service) ListOrganisations(ctx context.Context, actor *auth.Principal) ([]Organisation, error) {
	var out []Organisation
	q := `SELECT id, kind, name, status, created_at FROM organisations`
	args := []any{}
	if actor.OrgKind != auth.OrgPlatform {
		q += ` WHERE id = $1`
		args = append(args, actor.OrgID)
	}
	if err := sqlx.SelectContext(ctx, s.db, &out, q+` ORDER BY kind, lower(name)`, args...); err != nil {
		return nil, apperr.Wrap(err, "listing organisations")
	}
	return out, nil
}

// GetOrganisation returns one organisation: the caller's own, or any for
// platform staff. Errors: not_found.
func (s *Service) GetOrganisation(ctx context.Context, actor *auth.Principal, id uuid.UUID) (*Organisation, error) {
	if id != actor.OrgID && actor.OrgKind != auth.OrgPlatform {
		return nil, apperr.New(apperr.NotFound, "no such organisation")
	}
	return orgByID(ctx, s.db, id)
}

// OrgKind returns the kind of organisation id, for the domains that must
// know whether an organisation is, say, a provider. Errors: not_found.
func (s *Service) OrgKind(ctx context.Context, id uuid.UUID) (auth.OrgKind, error) {
	o, err := orgByID(ctx, s.db, id)
	if err != nil {
		return "", err
	}
	return o.Kind, nil
}

// AuditEntry is one security event.
type AuditEntry struct {
	ID        int64      `db:"id"`
	At        time.Time  `db:"at"`
	Event     string     `db:"event"`
	ActorID   *uuid.UUID `db:"actor_id"`
	OrgID     *uuid.UUID `db:"organisation_id"`
	SubjectID *uuid.UUID `db:"subject_id"`
	Email     *string    `db:"email"`
	IP        string     `db:"ip"`
	Details   string     `db:"details"`
}

// AuditLog returns security events, newest first: up to limit (1-500)
// older than before (0: the newest). Errors: forbidden (platform admins
// only).
func (s *Service) AuditLog(ctx context.Context, actor *auth.Principal, limit int, before int64) ([]AuditEntry, error) {
	if !actor.Has(auth.RolePlatformAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only platform administrators read the security audit log")
	}
	if limit < 1 || limit > 500 {
		return nil, invalidField("limit", "limit must be between 1 and 500")
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	var out []AuditEntry
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT id, at, event, actor_id, organisation_id, subject_id, email, ip, details::text AS details
		FROM audit_log WHERE id < $1 ORDER BY id DESC LIMIT $2`, before, limit)
	return out, apperr.Wrap(err, "reading audit log")
}

// invitationMail and resetMail are bilingual: the recipient has not chosen
// a language yet.
func invitationMail(base, to, name, org, token string) rmail.Message {
	link := base + "/invite?token=" + token
	return rmail.Message{To: to, Subject: fmt.Sprintf("Invito a Reciproca da %s / Invitation to Reciproca", org),
		Body: fmt.Sprintf(`Ciao %[1]s,

%[2]s ti ha invitato su Reciproca. Per attivare il tuo account scegli una password da questo link (vale 7 giorni, una sola volta):

%[3]s

--

Hello %[1]s,

%[2]s has invited you to Reciproca. To activate your account, choose a password at this link (valid for 7 days, once):

%[3]s
`, name, org, link)}
}

func resetMail(base, to, name, token string) rmail.Message {
	link := base + "/password/reset?token=" + token
	return rmail.Message{To: to, Subject: "Reimposta la password / Reset your password",
		Body: fmt.Sprintf(`Ciao %[1]s,

per scegliere una nuova password apri questo link (vale un'ora, una sola volta):

%[2]s

Se non l'hai chiesto tu, ignora questo messaggio: la password resta quella di prima.

--

Hello %[1]s,

to choose a new password open this link (valid for one hour, once):

%[2]s

If you did not ask for this, ignore this message: your password stays as it was.
`, name, link)}
}
