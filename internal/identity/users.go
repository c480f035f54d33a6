package identity

import (
	"context"
	"net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
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
	SiteID      *uuid.UUID // the company site they work at, if chosen
}

func (u userRow) user() User {
	p := u.principal()
	return User{ID: u.ID, OrgID: u.OrgID, OrgName: u.OrgName, OrgKind: u.OrgKind, Email: u.Email, Name: u.Name,
		Status: u.Status, Roles: p.Roles, TOTPEnabled: u.TOTPEnabled, CreatedAt: u.CreatedAt, SiteID: u.SiteID}
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
	out := u.user()
	return &out, nil
}

// visibleUser returns a user the actor manages. Errors: forbidden,
// not_found (no such user, or another tenant's).
func (s *Service) visibleUser(ctx context.Context, q sqlx.QueryerContext, actor *auth.Principal, id uuid.UUID) (*userRow, error) {
	if _, err := s.managedOrg(ctx, q, actor, uuid.Nil); err != nil {
		return nil, err
	}
	u, err := userByID(ctx, q, id)
	if err != nil {
		return nil, err
	}
	if u.OrgID != actor.OrgID && !actor.Has(auth.RolePlatformAdmin) {
		return nil, errNoUser
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
	rows, err := usersOf(ctx, s.db, o.ID)
	if err != nil {
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
			if err := replaceRoles(ctx, tx, u.ID, up.Roles); err != nil {
				return err
			}
			if err := audit(ctx, tx, Event{Name: EventRoleChanged, ActorID: &actor.UserID, OrgID: &u.OrgID, SubjectID: &u.ID,
				Email: u.Email, IP: auth.ClientIP(ctx), Details: map[string]any{"before": before, "after": up.Roles}}); err != nil {
				return err
			}
			// Sessions re-read roles on every request; API tokens carry them,
			// so end the refresh families to apply the change at once.
			if err := revokeRefreshTokens(ctx, tx, u.ID); err != nil {
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
	s.revoked.forget(id)
	return out, nil
}

func (s *Service) setStatus(ctx context.Context, tx *sqlx.Tx, actor *auth.Principal, u *userRow, status string) error {
	ev := Event{ActorID: &actor.UserID, OrgID: &u.OrgID, SubjectID: &u.ID, Email: u.Email, IP: auth.ClientIP(ctx)}
	switch status {
	case "deactivated":
		if u.Status == "deactivated" {
			return nil
		}
		if err := deactivateUser(ctx, tx, u.ID); err != nil {
			return err
		}
		if err := revokeUserCredentials(ctx, tx, u.ID, nil); err != nil {
			return err
		}
		ev.Name = EventUserDeactivated
	case "active":
		if u.Status != "deactivated" {
			return nil
		}
		// Someone who never accepted the invitation goes back to invited.
		if err := reactivateUser(ctx, tx, u.ID); err != nil {
			return err
		}
		ev.Name = EventUserActivated
	default:
		return invalidField("status", "status must be active or deactivated")
	}
	return audit(ctx, tx, ev)
}
