package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/plans"
)

// plansSet gives both demo companies homogeneous categories, HR data for
// their employees and, from the budget the funding set paid for, an
// ordinary plan allocated to everyone (the year's plan, which expires on
// 31 December, and a small one that expires in ten days, so reminders and
// expiry have something to show); Officine Brianza also has a
// performance-bonus (PdR) plan with two employees' bonuses, one of them
// already partly converted (not yet credited: HR can allocate it).
var plansSet = set{
	name: "plans-v1",
	load: loadPlans,
}

// demoHR is what HR records about each demo employee.
var demoHR = map[string]struct {
	category, number, taxCode string
	hired                     string
	partTime                  int
}{
	"giulia.ferrari@officinebrianza.example": {"impiegati", "OB-0012", "FRRGLI85M41F704K", "2015-03-02", 100},
	"luca.galli@officinebrianza.example":     {"operai", "OB-0047", "GLLLCU90C12A794T", "2019-09-16", 100},
	"sara.brambilla@officinebrianza.example": {"operai", "OB-0103", "BRMSRA95T52E507U", "", 60},
	"andrea.russo@studioverdi.example":       {"impiegati", "SV-004", "RSSNDR88B03F205W", "2012-01-09", 100},
	"chiara.fontana@studioverdi.example":     {"quadri", "SV-011", "FNTCHR80E45L400Y", "", 100},
}

func loadPlans(ctx context.Context, tx *sqlx.Tx) error {
	svc := plans.New(nil, "")
	y := time.Now().Year()
	companies := []struct {
		id    uuid.UUID
		hr    string
		cats  map[string]string
		rules map[string]int64
	}{
		{OrgCompanyA, "hr@officinebrianza.example", map[string]string{"operai": "Operai", "impiegati": "Impiegati"},
			map[string]int64{"operai": 600_00, "impiegati": 500_00}},
		{OrgCompanyB, "hr@studioverdi.example", map[string]string{"impiegati": "Impiegati", "quadri": "Quadri"},
			map[string]int64{"impiegati": 400_00, "quadri": 700_00}},
	}
	for _, c := range companies {
		hr := &auth.Principal{OrgID: c.id, OrgKind: auth.OrgCompany, Roles: []auth.Role{auth.RoleCompanyAdmin}}
		if err := tx.GetContext(ctx, &hr.UserID, `SELECT id FROM users WHERE email = $1`, c.hr); err != nil {
			return fmt.Errorf("demo HR %s: %w", c.hr, err)
		}
		for code, name := range c.cats {
			if _, err := tx.ExecContext(ctx, `INSERT INTO employee_categories (company_id, code, name) VALUES ($1, $2, $3)
				ON CONFLICT DO NOTHING`, c.id, code, name); err != nil {
				return err
			}
		}
		for _, u := range demoUsers {
			d, ok := demoHR[u.email]
			if !ok || u.org != c.id {
				continue
			}
			var hired *time.Time
			if t, err := time.Parse(time.DateOnly, d.hired); err == nil {
				hired = &t
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO employees (user_id, company_id, category_id, employee_number, tax_code, hired_on, part_time_pct)
				SELECT u.id, $2, c.id, $4, $5, $6, $7 FROM users u, employee_categories c
				WHERE u.email = $1 AND c.company_id = $2 AND c.code = $3 ON CONFLICT DO NOTHING`,
				u.email, c.id, d.category, d.number, d.taxCode, hired, d.partTime); err != nil {
				return fmt.Errorf("HR data of %s: %w", u.email, err)
			}
		}
		// The budget is the funding data set's: paid card top-ups
		// (funding.SeedCardTopUp), so the reconciliation explains every
		// euro in it.
		if err := plans.EnsureBudget(ctx, tx, c.id); err != nil {
			return err
		}
		yearly := plans.PlanInput{Name: fmt.Sprintf("Welfare %d", y), Year: y, StartsOn: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC),
			EndsOn: time.Date(y, 12, 31, 0, 0, 0, 0, time.UTC), ResidualPolicy: plans.ResidualReturn, Rules: c.rules,
			Categories: []string{"childcare", "after_school", "summer_camp", "elder_care", "physiotherapy", "courses", "sport", "culture"}}
		soon := time.Now().AddDate(0, 0, 10)
		bonus := plans.PlanInput{Name: "Buono benessere d'autunno", Year: y, StartsOn: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC),
			EndsOn: time.Date(soon.Year(), soon.Month(), soon.Day(), 0, 0, 0, 0, time.UTC), ResidualPolicy: plans.ResidualDonate,
			Categories: []string{"sport", "physiotherapy"}, Rules: map[string]int64{}}
		for code := range c.rules {
			bonus.Rules[code] = 80_00
		}
		bonus.Year = bonus.EndsOn.Year()
		for _, in := range []plans.PlanInput{yearly, bonus} {
			id, err := svc.CreatePlanInTx(ctx, tx, hr, in)
			if err != nil {
				return err
			}
			if _, err := svc.AllocateInTx(ctx, tx, hr, id); err != nil {
				return fmt.Errorf("allocating %q of %s: %w", in.Name, c.id, err)
			}
		}
		if c.id == OrgCompanyA {
			pdr := plans.PlanInput{Kind: plans.PdR, Name: fmt.Sprintf("Premio di risultato %d", y), Year: y,
				StartsOn: time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC), EndsOn: time.Date(y+1, 6, 30, 0, 0, 0, 0, time.UTC),
				ResidualPolicy: plans.ResidualPensionFund, Categories: yearly.Categories}
			id, err := svc.CreatePlanInTx(ctx, tx, hr, pdr)
			if err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO pdr_bonuses (plan_id, user_id, company_id, bonus_cents, prior_income_cents,
					convert_cents, chosen_at, recorded_by)
				SELECT $1, u.id, $2, v.bonus, v.income, v.convert, CASE WHEN v.convert IS NOT NULL THEN now() END, $3
				FROM (VALUES ('giulia.ferrari@officinebrianza.example', 250000, 3800000, 150000),
				             ('luca.galli@officinebrianza.example', 180000, 3100000, NULL::bigint)) v(email, bonus, income, convert)
				JOIN users u ON u.email = v.email`, id, c.id, hr.UserID); err != nil {
				return fmt.Errorf("demo PdR bonuses: %w", err)
			}
		}
	}
	return nil
}
