package catalog

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/db"
)

// The store: plain SQL, every function takes sqlx.ExtContext so that the
// use case decides the transaction.

const placeCols = `code, name, province_code, province_name, region_name, postcodes, lat, lon, population`

type placeRow struct {
	Place
	Postcodes pq.StringArray `db:"postcodes"`
}

func (r placeRow) place() Place {
	p := r.Place
	p.Postcodes = []string(r.Postcodes)
	return p
}

func getPlace(ctx context.Context, q sqlx.ExtContext, code string) (Place, error) {
	var r placeRow
	err := sqlx.GetContext(ctx, q, &r, `SELECT `+placeCols+` FROM places WHERE code = $1`, code)
	if errors.Is(err, sql.ErrNoRows) {
		return Place{}, errNoPlace
	}
	if err != nil {
		return Place{}, db.MapError(err, "place")
	}
	return r.place(), nil
}

// findPlaces matches a postcode exactly, else the name: prefix matches
// first, then by trigram similarity, larger towns first among equals.
func findPlaces(ctx context.Context, q sqlx.ExtContext, text string, limit int) ([]Place, error) {
	var rows []placeRow
	var err error
	if isPostcode(text) {
		err = sqlx.SelectContext(ctx, q, &rows, `SELECT `+placeCols+` FROM places WHERE postcodes @> ARRAY[$1]
			ORDER BY population DESC LIMIT $2`, text, limit)
	} else {
		err = sqlx.SelectContext(ctx, q, &rows, `SELECT `+placeCols+` FROM places
			WHERE name_folded LIKE catalog_fold($1) || '%' OR name_folded % catalog_fold($1)
			ORDER BY (name_folded = catalog_fold($1)) DESC, (name_folded LIKE catalog_fold($1) || '%') DESC,
			         similarity(name_folded, catalog_fold($1)) DESC, population DESC
			LIMIT $2`, escapeLike(text), limit)
	}
	if err != nil {
		return nil, db.MapError(err, "place")
	}
	out := make([]Place, len(rows))
	for i, r := range rows {
		out[i] = r.place()
	}
	return out, nil
}

func isPostcode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

const providerCols = `pr.organisation_id, pr.legal_name, pr.legal_form, pr.vat_number, pr.fiscal_code, pr.address,
	pr.place_code, pl.name AS place_name, pl.province_code, pr.email, pr.phone, pr.website, pr.description,
	pr.logo_photo_id, pr.fund_pledge_bps, pr.status, pr.status_note, pr.reviewed_at, pr.requeued_at, pr.stripe_account_id,
	pr.stripe_details_submitted, pr.stripe_charges_enabled, pr.stripe_payouts_enabled, pr.stripe_updated_at,
	pr.created_at, pr.updated_at`

const providerFrom = ` FROM providers pr JOIN places pl ON pl.code = pr.place_code `

func getProvider(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, forUpdate bool) (Provider, error) {
	var p Provider
	query := `SELECT ` + providerCols + providerFrom + ` WHERE pr.organisation_id = $1`
	if forUpdate {
		query += ` FOR UPDATE OF pr`
	}
	err := sqlx.GetContext(ctx, q, &p, query, id)
	return p, db.MapError(err, "provider")
}

func listProviders(ctx context.Context, q sqlx.ExtContext, status ProviderStatus) ([]Provider, error) {
	var out []Provider
	query := `SELECT ` + providerCols + providerFrom
	var args []any
	if status != "" {
		query += ` WHERE pr.status = $1`
		args = append(args, status)
	}
	query += ` ORDER BY pr.created_at, pr.organisation_id`
	err := sqlx.SelectContext(ctx, q, &out, query, args...)
	return out, db.MapError(err, "provider")
}

func upsertProvider(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, in ProfileInput) error {
	var vat *string
	if in.VATNumber != "" {
		vat = &in.VATNumber
	}
	_, err := q.ExecContext(ctx, `INSERT INTO providers (organisation_id, legal_name, legal_form, vat_number, fiscal_code,
			address, place_code, email, phone, website, description, fund_pledge_bps)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		ON CONFLICT (organisation_id) DO UPDATE SET legal_name = EXCLUDED.legal_name, legal_form = EXCLUDED.legal_form,
			vat_number = EXCLUDED.vat_number, fiscal_code = EXCLUDED.fiscal_code, address = EXCLUDED.address,
			place_code = EXCLUDED.place_code, email = EXCLUDED.email, phone = EXCLUDED.phone, website = EXCLUDED.website,
			description = EXCLUDED.description, fund_pledge_bps = EXCLUDED.fund_pledge_bps, updated_at = now()`,
		id, in.LegalName, in.LegalForm, vat, in.FiscalCode, in.Address, in.PlaceCode, in.Email, in.Phone,
		in.Website, in.Description, in.FundPledgeBps)
	if db.IsUniqueViolation(err, "providers_vat_idx") {
		return invalidField("vat_number", "another provider is already registered with this VAT number")
	}
	return db.MapError(err, "provider")
}

func setProviderStatus(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, status ProviderStatus, note string, by uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE providers SET status = $2, status_note = $3, reviewed_by = $4,
		reviewed_at = now(), requeued_at = NULL, updated_at = now() WHERE organisation_id = $1`, id, status, note, by)
	return db.MapError(err, "provider")
}

// requeueProvider puts a reviewed provider back in the approval queue,
// keeping its previous review for the record.
func requeueProvider(ctx context.Context, q sqlx.ExtContext, id uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE providers SET status = 'pending', requeued_at = now(), updated_at = now()
		WHERE organisation_id = $1`, id)
	return db.MapError(err, "provider")
}

const offeringCols = `o.id, o.provider_id, pr.legal_name AS provider_name, pr.legal_form AS provider_form, pr.logo_photo_id AS provider_logo_id, o.title,
	o.description, o.category, o.price_cents, o.unit, o.address, o.place_code, pl.name AS place_name,
	pl.province_code, o.lat, o.lon, o.service_radius_km, o.availability, o.status, lb.evidence AS label_evidence, lb.valid_until AS label_valid_until, o.photo_id,
	o.created_at, o.updated_at`

const offeringFrom = ` FROM offerings o JOIN providers pr ON pr.organisation_id = o.provider_id
	JOIN places pl ON pl.code = o.place_code ` + labelJoin

// getOffering returns an offering; with owner set, only one of owner's.
func getOffering(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, owner *uuid.UUID) (Offering, error) {
	var o Offering
	err := sqlx.GetContext(ctx, q, &o, `SELECT `+offeringCols+offeringFrom+`
		WHERE o.id = $1 AND ($2::uuid IS NULL OR o.provider_id = $2)`, id, owner)
	return o, db.MapError(err, "offering")
}

func getVisibleOffering(ctx context.Context, q sqlx.ExtContext, id uuid.UUID) (Offering, error) {
	var o Offering
	err := sqlx.GetContext(ctx, q, &o, `SELECT `+offeringCols+offeringFrom+`
		WHERE o.id = $1 AND o.status = 'active' AND pr.status = 'approved'`, id)
	return o, db.MapError(err, "offering")
}

func listProviderOfferings(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID) ([]Offering, error) {
	var out []Offering
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+offeringCols+offeringFrom+`
		WHERE o.provider_id = $1 ORDER BY o.created_at DESC, o.id`, providerID)
	return out, db.MapError(err, "offering")
}

// resolvedOffering is an input whose place and coordinates are known.
type resolvedOffering struct {
	OfferingInput
	lat, lon float64
	keywords string
}

func insertOffering(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, in resolvedOffering) (uuid.UUID, error) {
	var id uuid.UUID
	err := sqlx.GetContext(ctx, q, &id, `INSERT INTO offerings (provider_id, title, description, category, keywords,
			price_cents, unit, address, place_code, lat, lon, service_radius_km, availability, status)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`,
		providerID, in.Title, in.Description, in.Category, in.keywords, in.PriceCents, in.Unit, in.Address,
		in.PlaceCode, in.lat, in.lon, in.ServiceRadiusKm, in.Availability, in.Status)
	return id, db.MapError(err, "offering")
}

func updateOffering(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, in resolvedOffering) error {
	_, err := q.ExecContext(ctx, `UPDATE offerings SET title = $2, description = $3, category = $4, keywords = $5,
			price_cents = $6, unit = $7, address = $8, place_code = $9, lat = $10, lon = $11, service_radius_km = $12,
			availability = $13, status = $14, updated_at = now()
		WHERE id = $1`,
		id, in.Title, in.Description, in.Category, in.keywords, in.PriceCents, in.Unit, in.Address,
		in.PlaceCode, in.lat, in.lon, in.ServiceRadiusKm, in.Availability, in.Status)
	return db.MapError(err, "offering")
}

func setOfferingStatus(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, status OfferingStatus) error {
	_, err := q.ExecContext(ctx, `UPDATE offerings SET status = $2, updated_at = now() WHERE id = $1`, id, status)
	return db.MapError(err, "offering")
}

// replaceSlots makes the offering's upcoming slots the ones given. A
// slot given with the start of an upcoming one keeps that slot's id, so
// the places its bookings took still count; others are added, and
// upcoming slots not given are removed. Slots that have ended are the
// bookings' history and stay.
func replaceSlots(ctx context.Context, q sqlx.ExtContext, offeringID uuid.UUID, slots []SlotInput) error {
	var existing []Slot
	if err := sqlx.SelectContext(ctx, q, &existing, `SELECT id, starts_at, ends_at, capacity FROM offering_slots
		WHERE offering_id = $1 AND ends_at > now() ORDER BY starts_at, id`, offeringID); err != nil {
		return db.MapError(err, "slot")
	}
	kept := map[uuid.UUID]bool{}
	for _, s := range slots {
		i := slices.IndexFunc(existing, func(e Slot) bool { return !kept[e.ID] && e.StartsAt.Equal(s.StartsAt) })
		var err error
		if i >= 0 {
			kept[existing[i].ID] = true
			_, err = q.ExecContext(ctx, `UPDATE offering_slots SET ends_at = $2, capacity = $3 WHERE id = $1`,
				existing[i].ID, s.EndsAt, s.Capacity)
		} else {
			_, err = q.ExecContext(ctx, `INSERT INTO offering_slots (offering_id, starts_at, ends_at, capacity)
				VALUES ($1, $2, $3, $4)`, offeringID, s.StartsAt, s.EndsAt, s.Capacity)
		}
		if err != nil {
			return db.MapError(err, "slot")
		}
	}
	for _, e := range existing {
		if !kept[e.ID] {
			if _, err := q.ExecContext(ctx, `DELETE FROM offering_slots WHERE id = $1`, e.ID); err != nil {
				return db.MapError(err, "slot")
			}
		}
	}
	return nil
}

// listSlots returns the slots that end after from, in time order.
func listSlots(ctx context.Context, q sqlx.ExtContext, offeringID uuid.UUID, from time.Time) ([]Slot, error) {
	var out []Slot
	err := sqlx.SelectContext(ctx, q, &out, `SELECT id, starts_at, ends_at, capacity FROM offering_slots
		WHERE offering_id = $1 AND ends_at > $2 ORDER BY starts_at, id`, offeringID, from)
	return out, db.MapError(err, "slot")
}

func insertPhoto(ctx context.Context, q sqlx.ExtContext, orgID uuid.UUID, p Photo) (uuid.UUID, error) {
	var id uuid.UUID
	err := sqlx.GetContext(ctx, q, &id, `INSERT INTO catalog_photos (organisation_id, content_type, width, height, data)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, orgID, p.ContentType, p.Width, p.Height, p.Data)
	return id, db.MapError(err, "photo")
}

func getPhoto(ctx context.Context, q sqlx.ExtContext, id uuid.UUID) (Photo, error) {
	var p Photo
	err := sqlx.GetContext(ctx, q, &p, `SELECT id, content_type, width, height, data, created_at FROM catalog_photos WHERE id = $1`, id)
	return p, db.MapError(err, "photo")
}

func setOfferingPhoto(ctx context.Context, q sqlx.ExtContext, offeringID, photoID uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE offerings SET photo_id = $2, updated_at = now() WHERE id = $1`, offeringID, photoID)
	return db.MapError(err, "offering")
}

func setProviderLogo(ctx context.Context, q sqlx.ExtContext, providerID, photoID uuid.UUID) error {
	_, err := q.ExecContext(ctx, `UPDATE providers SET logo_photo_id = $2, updated_at = now() WHERE organisation_id = $1`, providerID, photoID)
	return db.MapError(err, "provider")
}
