package identity

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Site is a place where a company's people work: the catalogue's "near"
// starts from an employee's site, and km0 figures count from it. Where it
// is on the map comes from PlaceCode, the ISTAT code of its municipality
// (the catalogue's places).
type Site struct {
	ID        uuid.UUID `db:"id"`
	OrgID     uuid.UUID `db:"organisation_id"`
	Name      string    `db:"name"`
	Address   string    `db:"address"`
	PlaceCode string    `db:"place_code"`
	Employees int       `db:"employees"` // people who work there
}

// SiteInput is what recording a site takes. PlaceCode is resolved by the
// caller from the catalogue's places (a town typed by a person).
type SiteInput struct {
	Name, Address, PlaceCode string
}

// Validate checks every field at once (details.fields, the first also as
// details.field), so a form can mark them all; as saved (it normalises a
// copy: a name of blanks is none).
func (in SiteInput) Validate() error {
	in.normalise()
	var name, address, place error
	if l := len([]rune(in.Name)); l == 0 || l > 200 {
		name = apperr.New(apperr.Invalid, "the site's name must be 1 to 200 characters long").With("field", "name").With("reason", "site")
	}
	if len([]rune(in.Address)) > 300 {
		address = invalidField("address", "the address must be at most 300 characters long")
	}
	if len(in.PlaceCode) != 6 || strings.Trim(in.PlaceCode, "0123456789") != "" {
		place = invalidField("place_code", "unknown municipality: choose one from the list")
	}
	return apperr.AllInvalid(name, address, place)
}

func (in *SiteInput) normalise() {
	in.Name, in.Address, in.PlaceCode = strings.Join(strings.Fields(in.Name), " "), strings.TrimSpace(in.Address), strings.TrimSpace(in.PlaceCode)
}

const siteSelect = `SELECT s.id, s.organisation_id, s.name, s.address, s.place_code,
	(SELECT count(*) FROM users u WHERE u.site_id = s.id AND u.status <> 'deactivated') AS employees
	FROM company_sites s`

var errNoSite = apperr.New(apperr.NotFound, "no such site")

// Sites returns the sites of the caller's organisation, by name: every
// member may read them (an employee picks theirs). Another kind of
// organisation has none.
func (s *Service) Sites(ctx context.Context, actor *auth.Principal) ([]Site, error) {
	if actor == nil {
		return nil, apperr.New(apperr.Unauthorized, "authentication required")
	}
	out := []Site{}
	err := sqlx.SelectContext(ctx, s.db, &out, siteSelect+` WHERE s.organisation_id = $1 ORDER BY lower(s.name)`, actor.OrgID)
	return out, apperr.Wrap(err, "listing sites")
}

// Site returns one site of the caller's organisation. Errors: not_found
// (also another organisation's).
func (s *Service) Site(ctx context.Context, actor *auth.Principal, id uuid.UUID) (*Site, error) {
	if actor == nil {
		return nil, apperr.New(apperr.Unauthorized, "authentication required")
	}
	return siteOf(ctx, s.db, actor.OrgID, id)
}

func siteOf(ctx context.Context, q sqlx.QueryerContext, org, id uuid.UUID) (*Site, error) {
	var st Site
	err := sqlx.GetContext(ctx, q, &st, siteSelect+` WHERE s.id = $1 AND s.organisation_id = $2`, id, org)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, errNoSite
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading site")
	}
	return &st, nil
}

// companyAdmin checks actor runs a company's people. Errors: forbidden.
func companyAdmin(actor *auth.Principal) error {
	if actor == nil {
		return apperr.New(apperr.Unauthorized, "authentication required")
	}
	if actor.OrgKind != auth.OrgCompany || !actor.Has(auth.RoleCompanyAdmin) {
		return apperr.New(apperr.Forbidden, "only a company's administrators record its sites")
	}
	return nil
}

// SaveSite records a new site of the admin's company (id zero) or changes
// one. Saving a new site again with the same name, address and town (a
// form sent twice) answers the site the first call made; another site of
// the same name is refused. Errors: invalid (every field at fault; name
// reason "taken" for a name in use), forbidden, not_found.
func (s *Service) SaveSite(ctx context.Context, actor *auth.Principal, id uuid.UUID, in SiteInput) (*Site, error) {
	if err := companyAdmin(actor); err != nil {
		return nil, err
	}
	in.normalise()
	if err := in.Validate(); err != nil {
		return nil, err
	}
	var out *Site
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		// One writer of a company's sites at a time: the name check below
		// then sees a site another request is saving.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM organisations WHERE id = $1 FOR NO KEY UPDATE`, actor.OrgID); err != nil {
			return err
		}
		var same Site
		err := sqlx.GetContext(ctx, tx, &same, siteSelect+` WHERE s.organisation_id = $1 AND lower(btrim(s.name)) = lower($2)`,
			actor.OrgID, in.Name)
		switch {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return err
		case id == uuid.Nil && same.Address == in.Address && same.PlaceCode == in.PlaceCode:
			out = &same // the same form again
			return nil
		case same.ID != id:
			return apperr.New(apperr.Invalid, "another site is called %q", in.Name).With("field", "name").With("reason", "taken")
		}
		if id == uuid.Nil {
			err = tx.GetContext(ctx, &id, `INSERT INTO company_sites (organisation_id, name, address, place_code) VALUES ($1, $2, $3, $4) RETURNING id`,
				actor.OrgID, in.Name, in.Address, in.PlaceCode)
		} else {
			var res sql.Result
			res, err = tx.ExecContext(ctx, `UPDATE company_sites SET name = $3, address = $4, place_code = $5, updated_at = now()
				WHERE id = $1 AND organisation_id = $2`, id, actor.OrgID, in.Name, in.Address, in.PlaceCode)
			if n, _ := rowsAffected(res, err); err == nil && n == 0 {
				return errNoSite
			}
		}
		if err != nil {
			return err
		}
		if err := audit(ctx, tx, Event{Name: EventSiteSaved, ActorID: &actor.UserID, OrgID: &actor.OrgID, IP: auth.ClientIP(ctx),
			Details: map[string]any{"site": id, "name": in.Name, "place_code": in.PlaceCode}}); err != nil {
			return err
		}
		out, err = siteOf(ctx, tx, actor.OrgID, id)
		return err
	})
	if err != nil {
		return nil, apperr.Wrap(err, "saving site")
	}
	return out, nil
}

func rowsAffected(res sql.Result, err error) (int64, error) {
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteSite removes a site of the admin's company; the people who worked
// there have no site until they pick another. Deleting it again changes
// nothing. Errors: forbidden.
func (s *Service) DeleteSite(ctx context.Context, actor *auth.Principal, id uuid.UUID) error {
	if err := companyAdmin(actor); err != nil {
		return err
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM company_sites WHERE id = $1 AND organisation_id = $2`, id, actor.OrgID)
		if n, err := rowsAffected(res, err); err != nil || n == 0 {
			return err
		}
		return audit(ctx, tx, Event{Name: EventSiteDeleted, ActorID: &actor.UserID, OrgID: &actor.OrgID, IP: auth.ClientIP(ctx),
			Details: map[string]any{"site": id}})
	})
	return apperr.Wrap(err, "deleting site")
}

// SetUserSite says where user works (site nil: nowhere in particular).
// People pick their own; an organisation's admins pick for its people.
// The site must be of the user's organisation. Errors: invalid (field
// site_id), forbidden, not_found (user).
func (s *Service) SetUserSite(ctx context.Context, actor *auth.Principal, user uuid.UUID, site *uuid.UUID) error {
	if actor == nil {
		return apperr.New(apperr.Unauthorized, "authentication required")
	}
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		u, err := userByID(ctx, tx, user)
		if user != actor.UserID && err == nil {
			u, err = s.visibleUser(ctx, tx, actor, user)
		}
		if err != nil {
			return err
		}
		if site != nil {
			if _, err := siteOf(ctx, tx, u.OrgID, *site); apperr.Is(err, apperr.NotFound) {
				return apperr.New(apperr.Invalid, "no such site in the organisation").With("field", "site_id")
			} else if err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET site_id = $2, updated_at = now() WHERE id = $1`, user, site)
		return err
	})
	return apperr.Wrap(err, "setting site")
}

// UserSite returns where user works, or nil when they have not said.
func (s *Service) UserSite(ctx context.Context, user uuid.UUID) (*Site, error) {
	var st Site
	err := sqlx.GetContext(ctx, s.db, &st, siteSelect+` JOIN users su ON su.site_id = s.id WHERE su.id = $1`, user)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, apperr.Wrap(err, "reading site")
	}
	return &st, nil
}

// siteIDs maps the site names of a company (lower-cased, spaces folded)
// to their ids, for an invitation file's "sede" column.
func siteIDs(ctx context.Context, q sqlx.QueryerContext, org uuid.UUID) (map[string]uuid.UUID, error) {
	var rows []Site
	if err := sqlx.SelectContext(ctx, q, &rows, siteSelect+` WHERE s.organisation_id = $1`, org); err != nil {
		return nil, err
	}
	out := make(map[string]uuid.UUID, len(rows))
	for _, r := range rows {
		out[siteKey(r.Name)] = r.ID
	}
	return out, nil
}

// siteKey is how a site's name is matched: case and spacing do not count.
func siteKey(name string) string { return strings.ToLower(strings.Join(strings.Fields(name), " ")) }

// setSites records where newly invited users work, in one statement.
func setSites(ctx context.Context, q sqlx.ExecerContext, users, sites []uuid.UUID) error {
	if len(users) == 0 {
		return nil
	}
	us, ss := make([]string, len(users)), make([]string, len(sites))
	for i := range users {
		us[i], ss[i] = users[i].String(), sites[i].String()
	}
	_, err := q.ExecContext(ctx, `UPDATE users u SET site_id = t.s::uuid FROM unnest($1::text[], $2::text[]) AS t(u, s) WHERE u.id = t.u::uuid`,
		pq.Array(us), pq.Array(ss))
	return err
}
