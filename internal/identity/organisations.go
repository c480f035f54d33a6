package identity

import (
	"context"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

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
	var name, kind error
	if l := len([]rune(strings.TrimSpace(n.Name))); l == 0 || l > 200 {
		name = invalidField("name", "the name must be 1 to 200 characters long").(*apperr.Error).With("reason", "organisation")
	}
	if _, ok := auth.KindRoles[n.Kind]; !ok {
		kind = invalidField("kind", "kind must be company, provider, fund or platform")
	}
	return apperr.AllInvalid(name, kind)
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

// CreateOrganisation adds a tenant. With an idempotency key (the actor's
// own, see db.Idempotent) a retry returns the organisation the first call
// made. Errors: invalid, forbidden (platform admins only), conflict (the
// key was used for another request, or is in use).
func (s *Service) CreateOrganisation(ctx context.Context, actor *auth.Principal, n NewOrganisation, idempotencyKey string) (*Organisation, error) {
	if !actor.Has(auth.RolePlatformAdmin) {
		return nil, apperr.New(apperr.Forbidden, "only platform administrators create organisations")
	}
	n.Name = strings.TrimSpace(n.Name)
	if err := n.Validate(); err != nil {
		return nil, err
	}
	var o Organisation
	_, err := db.Idempotent(ctx, s.db, keyScope(actor, "create_organisation"), idempotencyKey, n, &o, func(tx *sqlx.Tx) error {
		var err error
		if o, err = insertOrganisation(ctx, tx, n); err != nil {
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
	var only *uuid.UUID
	if actor.OrgKind != auth.OrgPlatform {
		only = &actor.OrgID
	}
	out, err := organisations(ctx, s.db, only)
	return out, apperr.Wrap(err, "listing organisations")
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
