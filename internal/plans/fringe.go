package plans

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

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// RuleSet is the dated rule set in force: the fringe ceilings and the PdR
// limits (welfare_rule_sets).
type RuleSet struct {
	ValidFrom          time.Time `json:"valid_from" db:"valid_from"`
	FringeCeiling      int64     `json:"fringe_ceiling_cents" db:"fringe_ceiling_cents"`
	FringeWithChildren int64     `json:"fringe_children_cents" db:"fringe_children_cents"`
	PdRCap             int64     `json:"pdr_cap_cents" db:"pdr_cap_cents"`
	PdRIncomeCeiling   int64     `json:"pdr_income_ceiling_cents" db:"pdr_income_ceiling_cents"`
	// PdRTaxRateBP is the substitute tax on a PdR paid in cash, in basis
	// points (500: 5%); converting into welfare is tax-free.
	PdRTaxRateBP int    `json:"pdr_tax_rate_bp" db:"pdr_tax_rate_bp"`
	Source       string `json:"source" db:"source"`
}

// RulesFor returns the rule set in force for tax year (on its 1 January).
func RulesFor(ctx context.Context, q sqlx.QueryerContext, year int) (RuleSet, error) {
	var r RuleSet
	err := sqlx.GetContext(ctx, q, &r, `SELECT * FROM welfare_rule_sets WHERE valid_from <= make_date($1, 12, 31)
		ORDER BY valid_from DESC LIMIT 1`, year)
	if errors.Is(err, sql.ErrNoRows) {
		return r, apperr.New(apperr.NotFound, "no welfare rule set for %d", year)
	}
	return r, db.MapError(err, "rule set")
}

// FringeRoom is an employee's fringe-benefit meter for one tax year.
type FringeRoom struct {
	Year     int   `json:"tax_year"`
	Children bool  `json:"children"` // a declaration of dependent children is in force
	Ceiling  int64 `json:"ceiling_cents"`
	Platform int64 `json:"platform_cents"` // counted by the platform (vouchers issued)
	Outside  int64 `json:"outside_cents"`  // recorded by HR
	// Remaining is what may still be given without crossing the ceiling
	// (never below zero).
	Remaining int64 `json:"remaining_cents"`
}

// Room reads user's meter for year.
func Room(ctx context.Context, q sqlx.QueryerContext, user uuid.UUID, year int) (FringeRoom, error) {
	rules, err := RulesFor(ctx, q, year)
	if err != nil {
		return FringeRoom{}, err
	}
	r := FringeRoom{Year: year}
	err = sqlx.GetContext(ctx, q, &r.Children, `SELECT coalesce((SELECT cardinality(tax_codes) > 0 FROM children_declarations
		WHERE user_id = $1 AND valid_from <= make_date($2, 12, 31) ORDER BY valid_from DESC, declared_at DESC LIMIT 1), false)`, user, year)
	if err != nil {
		return r, db.MapError(err, "children declaration")
	}
	err = q.QueryRowxContext(ctx, `SELECT
		coalesce((SELECT sum(amount_cents) FROM fringe_meter WHERE user_id = $1 AND tax_year = $2), 0)::bigint,
		coalesce((SELECT sum(amount_cents) FROM fringe_outside WHERE user_id = $1 AND tax_year = $2), 0)::bigint`,
		user, year).Scan(&r.Platform, &r.Outside)
	if err != nil {
		return r, db.MapError(err, "fringe meter")
	}
	r.Ceiling = rules.FringeCeiling
	if r.Children {
		r.Ceiling = rules.FringeWithChildren
	}
	r.Remaining = max(r.Ceiling-r.Platform-r.Outside, 0)
	return r, nil
}

// ChargeFringe moves user's meter for year by cents inside the caller's
// transaction: + when a fringe-type voucher is issued, − on its
// cancellation, expiry or refund. A charge that would take the year past
// the ceiling is refused (conflict, reason fringe_ceiling, with the
// remaining room): crossing it would make the whole year's amount
// taxable. The reference makes it idempotent: the same reference again
// changes nothing. Charges of one employee and year are serialised.
//
// Errors: invalid (zero amount, empty reference), conflict (ceiling),
// not_found (no rule set for the year).
func ChargeFringe(ctx context.Context, tx *sqlx.Tx, user uuid.UUID, year int, cents int64, reference string) (FringeRoom, error) {
	if cents == 0 || reference == "" || len(reference) > 200 {
		return FringeRoom{}, invalid("amount_cents", "a fringe charge needs a non-zero amount and a reference")
	}
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('fringe:' || $1 || ':' || $2, 0))`, user.String(), year); err != nil {
		return FringeRoom{}, err
	}
	var done bool
	if err := tx.GetContext(ctx, &done, `SELECT EXISTS (SELECT 1 FROM fringe_meter WHERE reference = $1)`, reference); err != nil || done {
		if err != nil {
			return FringeRoom{}, err
		}
		return Room(ctx, tx, user, year)
	}
	room, err := Room(ctx, tx, user, year)
	if err != nil {
		return room, err
	}
	if cents > 0 && room.Platform+room.Outside+cents > room.Ceiling {
		return room, apperr.New(apperr.Conflict, "this would take the fringe benefits of %d past the ceiling of %s: %s left",
			year, euro(room.Ceiling), euro(room.Remaining)).With("reason", "fringe_ceiling").With("remaining_cents", room.Remaining)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO fringe_meter (reference, user_id, tax_year, amount_cents) VALUES ($1, $2, $3, $4)`,
		reference, user, year, cents); err != nil {
		return room, db.MapError(err, "fringe charge")
	}
	return Room(ctx, tx, user, year)
}

// MyFringeRoom is the caller's own meter for year.
func (s *Service) MyFringeRoom(ctx context.Context, p *auth.Principal, year int) (FringeRoom, error) {
	if p == nil || !p.Has(auth.RoleEmployee) {
		return FringeRoom{}, apperr.New(apperr.Forbidden, "only employees have a fringe-benefit meter")
	}
	return Room(ctx, s.db, p.UserID, year)
}

// DeclareChildren records the caller's dependent children (their tax
// codes) from validFrom; an empty list withdraws the declaration.
//
// Errors: forbidden, invalid (tax_codes, valid_from).
func (s *Service) DeclareChildren(ctx context.Context, p *auth.Principal, taxCodes []string, validFrom time.Time) error {
	if p == nil || !p.Has(auth.RoleEmployee) {
		return apperr.New(apperr.Forbidden, "only employees declare their dependent children")
	}
	codes := make([]string, 0, len(taxCodes))
	for _, c := range taxCodes {
		c = strings.ToUpper(strings.TrimSpace(c))
		if c == "" {
			continue
		}
		if !taxCodeRe.MatchString(c) {
			return invalid("tax_codes", "%q is not an Italian tax code (16 characters)", c)
		}
		codes = append(codes, c)
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	if validFrom.IsZero() || validFrom.Year() < 2000 || validFrom.After(time.Now().AddDate(1, 0, 0)) {
		return invalid("valid_from", "give the date the declaration holds from")
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO children_declarations (user_id, tax_codes, valid_from) VALUES ($1, $2, $3)`,
		p.UserID, pq.Array(codes), validFrom)
	return db.MapError(err, "children declaration")
}

// OutsideFringe is a fringe benefit HR gave outside the platform.
type OutsideFringe struct {
	UserID      uuid.UUID
	Year        int
	Kind        string // utilities, rent, mortgage_interest, fuel, other
	AmountCents int64
	Note        string
}

// RecordOutsideFringe records a fringe benefit the company gave an
// employee outside the platform; it counts against the same ceiling.
// HR records what was given, so crossing the ceiling is not refused here
// (the room then shows zero, and the platform blocks further charges).
//
// Errors: forbidden, not_found (employee of another company), invalid.
func (s *Service) RecordOutsideFringe(ctx context.Context, p *auth.Principal, in OutsideFringe) (FringeRoom, error) {
	company, err := companyOf(p)
	if err != nil {
		return FringeRoom{}, err
	}
	switch {
	case !slices.Contains([]string{"utilities", "rent", "mortgage_interest", "fuel", "other"}, in.Kind):
		return FringeRoom{}, invalid("kind", "the kind is utilities, rent, mortgage_interest, fuel or other")
	case in.AmountCents <= 0 || in.AmountCents > MaxRuleAmount:
		return FringeRoom{}, invalid("amount_cents", "the amount must be between 1 cent and €1,000,000")
	case in.Year < 2000 || in.Year > 2100:
		return FringeRoom{}, invalid("tax_year", "the tax year must be between 2000 and 2100")
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO fringe_outside (company_id, user_id, tax_year, kind, amount_cents, note, created_by)
		SELECT $1, u.id, $3, $4, $5, $6, $7 FROM users u WHERE u.id = $2 AND u.organisation_id = $1`,
		company, in.UserID, in.Year, in.Kind, in.AmountCents, strings.TrimSpace(in.Note), p.UserID)
	if err != nil {
		return FringeRoom{}, db.MapError(err, "outside fringe benefit")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return FringeRoom{}, apperr.New(apperr.NotFound, "no employee with this id in your company").With("field", "user_id")
	}
	return Room(ctx, s.db, in.UserID, in.Year)
}
