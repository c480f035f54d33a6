package identity

import (
	"context"
	"strings"
	"time"

	rmail "github.com/reciproca/reciproca/internal/mail"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Invitation and password-reset links live this long.
const (
	InvitationTTL    = 7 * 24 * time.Hour
	PasswordResetTTL = time.Hour
)

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

// Invite creates an invited user and mails them a one-time link to set
// their password. With an idempotency key (the actor's own, see
// db.Idempotent) a retry of the same invitation returns the user as the
// first call answered, and mails nobody again. Errors: invalid, forbidden,
// not_found (organisation), conflict (the e-mail already has an account,
// or the key was used for a different request or is in use).
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
	req := Invitation{OrgID: o.ID, Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Roles: in.Roles}
	var out User
	_, err = db.Idempotent(ctx, s.db, keyScope(actor, "invite"), idempotencyKey, req, &out, func(tx *sqlx.Tx) error {
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

// createInvited inserts users (status invited), their roles, one-time
// links and the invitation mails, all in tx. The e-mails must be valid.
func (s *Service) createInvited(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, o *Organisation, ins []Invitation) ([]uuid.UUID, error) {
	emails, names := make([]string, len(ins)), make([]string, len(ins))
	for i, in := range ins {
		emails[i], names[i] = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	}
	ids, err := insertInvitedUsers(ctx, tx, o.ID, emails, names)
	if db.IsUniqueViolation(err, "users_email_key") {
		return nil, apperr.New(apperr.Conflict, "this e-mail address already has an account").With("field", "email")
	}
	if err != nil {
		return nil, err
	}
	roles := make([][]auth.Role, len(ids))
	tokens, hashes := make([]string, len(ids)), make([][]byte, len(ids))
	for i := range ids {
		roles[i] = ins[i].Roles
		tokens[i] = randomToken()
		hashes[i] = hashToken(tokens[i])
	}
	if err := insertRoles(ctx, tx, ids, roles); err != nil {
		return nil, err
	}
	if err := insertOneTimeTokens(ctx, tx, ids, hashes, purposeInvitation, time.Now().Add(InvitationTTL)); err != nil {
		return nil, err
	}
	for i := range ids {
		m, err := invitationMail(s.cfg.BaseURL, emails[i], names[i], o.Name, tokens[i])
		if err != nil {
			return nil, err
		}
		if err := rmail.Enqueue(ctx, tx, m); err != nil {
			return nil, err
		}
		if err := audit(ctx, tx, Event{Name: EventUserInvited, ActorID: &actor.UserID, OrgID: &o.ID, SubjectID: &ids[i],
			Email: emails[i], IP: auth.ClientIP(ctx), Details: map[string]any{"roles": ins[i].Roles}}); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// oneTimeToken returns the user of a live one-time link and locks it.
// Errors: not_found (unknown, used or expired: one message for all).
func oneTimeToken(ctx context.Context, q sqlx.QueryerContext, token, purpose string) (*userRow, error) {
	uid, err := lockOneTimeToken(ctx, q, hashToken(token), purpose)
	if err != nil {
		return nil, err
	}
	u, err := userByID(ctx, q, uid)
	if apperr.Is(err, apperr.NotFound) {
		return nil, errDeadLink
	}
	return u, err
}

// InvitationInfo is what the accept-invitation page shows.
type InvitationInfo struct {
	Email   string
	Name    string
	OrgName string
}

// Invitation returns who an invitation link is for. Errors: not_found.
func (s *Service) Invitation(ctx context.Context, token string) (*InvitationInfo, error) {
	u, err := oneTimeToken(ctx, s.db, token, purposeInvitation)
	if err != nil {
		return nil, apperr.Wrap(err, "reading invitation")
	}
	if u.Status != "invited" {
		return nil, errDeadLink
	}
	return &InvitationInfo{Email: u.Email, Name: u.Name, OrgName: u.OrgName}, nil
}

// AcceptInvitation sets the invitee's password (and name, if given) and
// activates the account; the link stops working. Errors: invalid
// (password policy), not_found (bad or used link).
func (s *Service) AcceptInvitation(ctx context.Context, token, name, password string) (*User, error) {
	var out *User
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := oneTimeToken(ctx, tx, token, purposeInvitation)
		if err != nil {
			return err
		}
		if u.Status != "invited" {
			return errDeadLink
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
		if err := activateInvited(ctx, tx, u.ID, hashPassword(s.cfg.Argon2, password), name); err != nil {
			return err
		}
		if err := useOneTimeTokens(ctx, tx, u.ID, purposeInvitation); err != nil {
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
