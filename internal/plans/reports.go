package plans

import (
	"context"
	"slices"
	"sort"
	"strings"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// MinGroup is the smallest number of people a report figure may be about.
// A cell about fewer is suppressed: its figures are withheld (zero here,
// "<5" on the page and in the CSV), never computed and then hidden by the
// page, so the API cannot leak them either. Company reports never show a
// service category or a provider per person.
const MinGroup = 5

// ReportFilter is the scope of a report: the plans of a plan year, or one
// of them.
type ReportFilter struct {
	Year   int
	PlanID *uuid.UUID
}

// Report is HR's view of how a year's welfare went, in aggregates only.
type Report struct {
	Year int `json:"year"`
	// PlanID is the one plan reported on; nil: every plan of the year.
	PlanID *uuid.UUID `json:"plan_id"`
	// Plans are the year's plans (the choices of the filter).
	Plans         []ReportPlan       `json:"plans"`
	Participation []ParticipationRow `json:"participation"`
	Spend         []SpendRow         `json:"spend"`
	Residuals     []ResidualRow      `json:"residuals"`
}

// ReportPlan names a plan in a report.
type ReportPlan struct {
	ID   uuid.UUID `json:"id" db:"id"`
	Name string    `json:"name" db:"name"`
	Kind string    `json:"kind" db:"kind"`
	// Policy is the plan's residual policy.
	Policy string `json:"residual_policy" db:"residual_policy"`
}

// ParticipationRow is how many of a plan's credited employees used any
// of its credit. Suppressed when the credited, the users or the others
// are fewer than MinGroup: each of the three is a group of people.
type ParticipationRow struct {
	Plan       ReportPlan `json:"plan"`
	Suppressed bool       `json:"suppressed"`
	Credited   int        `json:"credited"`
	Users      int        `json:"users"`
	// RatePct is Users of Credited, in whole percent (rounded down).
	RatePct int `json:"rate_pct"`
}

// SpendRow is what the scope's credits paid for under one tax bucket, net
// of refunds and cancellations, and by how many people. Suppressed under
// MinGroup people.
type SpendRow struct {
	TaxBucket  string `json:"tax_bucket"`
	Suppressed bool   `json:"suppressed"`
	People     int    `json:"people"`
	Cents      int64  `json:"cents"`
}

// ResidualRow is what expired unused in the scope and where it went: the
// outcome is the policy actually applied (a carry-over plan's credits
// return to the budget once carried over or past their new date; a PdR
// plan's go to the pension fund or payroll). Credit carried over and
// later expired again counts under both outcomes. Suppressed under
// MinGroup people.
type ResidualRow struct {
	Outcome    string `json:"outcome"`
	Suppressed bool   `json:"suppressed"`
	People     int    `json:"people"`
	Cents      int64  `json:"cents"`
}

// WelfareReport builds the report of the caller's company for filter.
//
// Errors: forbidden, invalid (year), not_found (a plan of another
// company or year).
func (s *Service) WelfareReport(ctx context.Context, p *auth.Principal, f ReportFilter) (Report, error) {
	company, err := companyOf(p)
	if err != nil {
		return Report{}, err
	}
	if f.Year < 2000 || f.Year > 2100 {
		return Report{}, invalid("year", "the year must be between 2000 and 2100")
	}
	r := Report{Year: f.Year, PlanID: f.PlanID, Plans: []ReportPlan{}, Participation: []ParticipationRow{}, Spend: []SpendRow{},
		Residuals: []ResidualRow{}}
	if err := s.db.SelectContext(ctx, &r.Plans, `SELECT id, name, kind, residual_policy FROM welfare_plans
		WHERE company_id = $1 AND plan_year = $2 ORDER BY starts_on, name, id`, company, f.Year); err != nil {
		return Report{}, db.MapError(err, "plans")
	}
	scope := r.Plans
	if f.PlanID != nil {
		i := slices.IndexFunc(r.Plans, func(pl ReportPlan) bool { return pl.ID == *f.PlanID })
		if i < 0 {
			return Report{}, apperr.New(apperr.NotFound, "no plan of this year with this id in your company").With("field", "plan_id")
		}
		scope = r.Plans[i : i+1]
	}
	ids := make([]string, len(scope))
	byID := map[string]ReportPlan{}
	for i, pl := range scope {
		ids[i] = pl.ID.String()
		byID[ids[i]] = pl
	}
	if err := s.participation(ctx, company, scope, &r); err != nil {
		return Report{}, err
	}
	moves, err := s.planMoves(ctx, company, ids)
	if err != nil {
		return Report{}, err
	}
	spend, residual := map[string]*group{}, map[string]*group{}
	for _, m := range moves {
		if m.Expiry == "" {
			add(spend, m.TaxBucket, m.UserID, m.Cents)
			continue
		}
		outcome := m.Expiry
		if pl := byID[m.PlanID]; pl.Kind == PdR {
			outcome = pl.Policy
		}
		add(residual, outcome, m.UserID, m.Cents)
	}
	for _, k := range sortedKeys(spend) {
		g := spend[k]
		row := SpendRow{TaxBucket: k, Suppressed: len(g.people) < MinGroup}
		if !row.Suppressed {
			row.People, row.Cents = len(g.people), g.cents
		}
		r.Spend = append(r.Spend, row)
	}
	for _, k := range sortedKeys(residual) {
		g := residual[k]
		row := ResidualRow{Outcome: k, Suppressed: len(g.people) < MinGroup}
		if !row.Suppressed {
			row.People, row.Cents = len(g.people), g.cents
		}
		r.Residuals = append(r.Residuals, row)
	}
	return r, nil
}

// group sums money over a set of people.
type group struct {
	people map[uuid.UUID]bool
	cents  int64
}

func add(groups map[string]*group, key string, user uuid.UUID, cents int64) {
	g := groups[key]
	if g == nil {
		g = &group{people: map[uuid.UUID]bool{}}
		groups[key] = g
	}
	g.people[user] = true
	g.cents += cents
}

func sortedKeys(m map[string]*group) []string {
	keys := make([]string, 0, len(m))
	for k, g := range m {
		if g.cents != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// participation fills one row per plan of scope: the employees credited
// by it (its allocations' credited items) and those of them who used any
// of its credit, net of what came back.
func (s *Service) participation(ctx context.Context, company uuid.UUID, scope []ReportPlan, r *Report) error {
	ids := make([]string, len(scope))
	for i, pl := range scope {
		ids[i] = pl.ID.String()
	}
	var rows []struct {
		PlanID   uuid.UUID `db:"plan_id"`
		Credited int       `db:"credited"`
		Users    int       `db:"users"`
	}
	err := s.db.SelectContext(ctx, &rows, `
		WITH credited AS (
			SELECT DISTINCT a.plan_id, i.user_id FROM welfare_allocations a JOIN welfare_allocation_items i ON i.allocation_id = a.id
			WHERE a.company_id = $1 AND a.plan_id = ANY($2::text[]::uuid[]) AND i.tx_id IS NOT NULL),
		used AS (`+usedByPlanSQL+`)
		SELECT c.plan_id, count(*) AS credited, count(u.user_id) AS users
		FROM credited c LEFT JOIN used u ON u.plan_id = c.plan_id AND u.user_id = c.user_id
		GROUP BY c.plan_id`, company, pq.Array(ids))
	if err != nil {
		return db.MapError(err, "participation")
	}
	counts := map[uuid.UUID]ParticipationRow{}
	for _, row := range rows {
		counts[row.PlanID] = ParticipationRow{Credited: row.Credited, Users: row.Users}
	}
	for _, pl := range scope {
		c := counts[pl.ID]
		row := ParticipationRow{Plan: pl}
		if c.Credited < MinGroup || c.Users < MinGroup || c.Credited-c.Users < MinGroup {
			row.Suppressed = true
		} else {
			row.Credited, row.Users, row.RatePct = c.Credited, c.Users, c.Users*100/c.Credited
		}
		r.Participation = append(r.Participation, row)
	}
	return nil
}

// usedByPlanSQL lists (plan_id, user_id) of the company $1's employees who
// used credit of plans $2 (text[]): a net consumption of the plan's lots
// by anything but the expiry sweep, not a pending booking.
const usedByPlanSQL = `
	SELECT (l.attrs->>'plan_id')::uuid AS plan_id, e.user_id
	` + walletLotMoves + `
	WHERE e.company_id = $1 AND l.attrs->>'plan_id' = ANY($2::text[])
	  AND t.kind NOT LIKE 'lot_expiry.%' AND t.status <> 'pending' AND coalesce(orig.kind, '') NOT LIKE 'lot_expiry.%'
	GROUP BY 1, 2 HAVING sum(m.amount) > 0`

// planMove is one employee's net use of a plan's credit under one tax
// bucket (Expiry empty), or what of it the expiry sweep disposed of by
// one action (Expiry: return, donate or carry_over).
type planMove struct {
	PlanID    string    `db:"plan_id"`
	UserID    uuid.UUID `db:"user_id"`
	TaxBucket string    `db:"tax_bucket"`
	Expiry    string    `db:"expiry"`
	Cents     int64     `db:"cents"`
}

// planMoves reads the lot moves of the company's employees' lots of plans
// ids, summed per employee: spending by tax bucket (as the payroll export
// counts it) and expiry by action.
func (s *Service) planMoves(ctx context.Context, company uuid.UUID, ids []string) ([]planMove, error) {
	var out []planMove
	err := s.db.SelectContext(ctx, &out, `
		SELECT l.attrs->>'plan_id' AS plan_id, e.user_id,
		       CASE WHEN t.kind LIKE 'lot_expiry.%' THEN '' ELSE coalesce(m.tax_bucket, c.tax_bucket, 'unknown') END AS tax_bucket,
		       CASE WHEN t.kind LIKE 'lot_expiry.%' THEN substr(t.kind, 12) ELSE '' END AS expiry,
		       sum(m.amount)::bigint AS cents
		`+walletLotMoves+`
		WHERE e.company_id = $1 AND l.attrs->>'plan_id' = ANY($2::text[])
		  AND t.status <> 'pending' AND coalesce(orig.kind, '') NOT LIKE 'lot_expiry.%'
		GROUP BY 1, 2, 3, 4
		HAVING sum(m.amount) <> 0`, company, pq.Array(ids))
	for i := range out {
		out[i].Expiry = strings.TrimSpace(out[i].Expiry)
	}
	return out, db.MapError(err, "report moves")
}
