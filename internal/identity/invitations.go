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
	// Site is the name of the organisation's site the person works at
	// ("" for none); see Site.
	Site string `json:",omitempty"`
	// Employee is HR's data of an invited employee (invitation file
	// columns), recorded by the EmployeeRecorder when one is set.
	Employee EmployeeData `json:",omitzero"`
}

// Validate checks the invitation for an organisation of kind. Every field
// at fault is named (details.fields), the first also as details.field
// with its message, so a form can mark them all at once.
func (in Invitation) Validate(kind auth.OrgKind) error {
	return apperr.AllInvalid(validEmail(in.Email), validName(in.Name), validRoles(kind, in.Roles))
}

// CheckNewAccount checks the name and password of someone accepting an
// invitation for email, every field at once, without spending the link:
// for a form that refuses something else as well (two passwords that
// differ). Errors: invalid (fields name and password).
func CheckNewAccount(name, password, email string) error {
	return apperr.AllInvalid(validName(name), checkPasswordPolicy(password, email))
}

func validName(name string) error {
	if l := len([]rune(strings.TrimSpace(name))); l == 0 || l > 200 {
		return invalidField("name", "the name must be 1 to 200 characters long")
	}
	return nil
}

// InvitationSent is what an invitation answers. It is the same whether or
// not the address already had an account: who has one is personal data.
type InvitationSent struct {
	OrgID uuid.UUID
	Email string
	Name  string
	Roles []auth.Role
}

// Invite invites someone: a new address becomes an invited user of the
// organisation and is mailed a one-time link to set their password; an
// address that already has an account (in any organisation) is mailed a
// neutral note that someone tried to invite it, and its account stays as
// it is — a person belongs to one organisation. The answer is the same
// either way. Invitations are throttled (takeInvitationQuota). With an
// idempotency key (the actor's own, see db.Idempotent) a retry of the same
// invitation answers as the first call did and mails nobody again.
// Errors: invalid, forbidden, not_found (organisation), rate_limited,
// conflict (the key was used for a different request or is in use).
func (s *Service) Invite(ctx context.Context, actor *auth.Principal, in Invitation, idempotencyKey string) (*InvitationSent, error) {
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
	req := Invitation{OrgID: o.ID, Email: strings.TrimSpace(in.Email), Name: strings.TrimSpace(in.Name), Roles: in.Roles, Site: siteKey(in.Site)}
	out := InvitationSent{OrgID: o.ID, Email: req.Email, Name: req.Name, Roles: req.Roles}
	_, err = db.Idempotent(ctx, s.db, keyScope(actor, "invite"), idempotencyKey, req, &out, func(tx *sqlx.Tx) error {
		if err := s.takeInvitationQuota(ctx, tx, actor, 1); err != nil {
			return err
		}
		return s.createInvited(ctx, tx, actor, o, []Invitation{in})
	})
	if err != nil {
		return nil, apperr.Wrap(err, "inviting")
	}
	return &out, nil
}

// createInvited inserts users (status invited), their roles, one-time
// links and the invitation mails, all in tx; an address that already has
// an account, whoever's it is, gets the neutral mail instead and nothing
// else changes. The e-mails must be valid.
func (s *Service) createInvited(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, o *Organisation, ins []Invitation) error {
	emails, names := make([]string, len(ins)), make([]string, len(ins))
	for i, in := range ins {
		emails[i], names[i] = strings.TrimSpace(in.Email), strings.TrimSpace(in.Name)
	}
	created, err := insertInvitedUsers(ctx, tx, o.ID, emails, names)
	if err != nil {
		return err
	}
	var ids []uuid.UUID
	var roles [][]auth.Role
	var tokens []string
	var hashes [][]byte
	var fresh []int // indexes into ins of the users created
	for i := range ins {
		id, ok := created[strings.ToLower(emails[i])]
		if !ok {
			if err := s.tellExisting(ctx, tx, actor, o, emails[i]); err != nil {
				return err
			}
			continue
		}
		tok := randomToken()
		ids, roles, fresh = append(ids, id), append(roles, ins[i].Roles), append(fresh, i)
		tokens, hashes = append(tokens, tok), append(hashes, hashToken(tok))
	}
	if len(ids) == 0 {
		return nil
	}
	if err := insertRoles(ctx, tx, ids, roles); err != nil {
		return err
	}
	if err := placeInvited(ctx, tx, o.ID, ids, ins, fresh); err != nil {
		return err
	}
	if err := insertOneTimeTokens(ctx, tx, ids, hashes, purposeInvitation, time.Now().Add(InvitationTTL)); err != nil {
		return err
	}
	if err := s.recordEmployees(ctx, tx, o.ID, ids, fresh, ins); err != nil {
		return err
	}
	for j, i := range fresh {
		m, err := invitationMail(s.cfg.BaseURL, emails[i], names[i], o.Name, tokens[j])
		if err != nil {
			return err
		}
		if err := rmail.Enqueue(ctx, tx, m); err != nil {
			return err
		}
		if err := audit(ctx, tx, Event{Name: EventUserInvited, ActorID: &actor.UserID, OrgID: &o.ID, SubjectID: &ids[j],
			Email: emails[i], IP: auth.ClientIP(ctx), Details: map[string]any{"roles": ins[i].Roles}}); err != nil {
			return err
		}
	}
	return nil
}

// placeInvited records the sites of the users just invited (ids[j] is
// ins[fresh[j]]). Errors: invalid (field site: no such site).
func placeInvited(ctx context.Context, tx *sqlx.Tx, org uuid.UUID, ids []uuid.UUID, ins []Invitation, fresh []int) error {
	var byName map[string]uuid.UUID
	var users, sites []uuid.UUID
	for j, i := range fresh {
		if ins[i].Site == "" {
			continue
		}
		if byName == nil {
			var err error
			if byName, err = siteIDs(ctx, tx, org); err != nil {
				return err
			}
		}
		site, ok := byName[siteKey(ins[i].Site)]
		if !ok {
			return apperr.New(apperr.Invalid, "no site is called %q", ins[i].Site).With("field", "site")
		}
		users, sites = append(users, ids[j]), append(sites, site)
	}
	return setSites(ctx, tx, users, sites)
}

// tellExisting mails the owner of an existing account that o tried to
// invite them, and records it; nothing else changes.
func (s *Service) tellExisting(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, o *Organisation, email string) error {
	m, err := invitedAgainMail(s.cfg.BaseURL, email, o.Name)
	if err != nil {
		return err
	}
	if err := rmail.Enqueue(ctx, tx, m); err != nil {
		return err
	}
	return audit(ctx, tx, Event{Name: EventInviteExisting, ActorID: &actor.UserID, OrgID: &o.ID, Email: email, IP: auth.ClientIP(ctx)})
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
		name = strings.TrimSpace(name)
		if name == "" {
			name = u.Name
		}
		if err := CheckNewAccount(name, password, u.Email); err != nil {
			return err
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
