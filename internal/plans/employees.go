package plans

import (
	"context"
	"database/sql"
	"errors"
	"regexp"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// EmployeeCategory is a company's homogeneous category of employees.
type EmployeeCategory struct {
	ID   uuid.UUID `json:"id" db:"id"`
	Code string    `json:"code" db:"code"`
	Name string    `json:"name" db:"name"`
}

var categoryCodeRe = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// SaveCategory creates a homogeneous category, or renames the one with
// the same code (safe to repeat).
//
// Errors: forbidden, invalid (code, name).
func (s *Service) SaveCategory(ctx context.Context, p *auth.Principal, code, name string) (EmployeeCategory, error) {
	company, err := companyOf(p)
	if err != nil {
		return EmployeeCategory{}, err
	}
	code, name = strings.ToLower(strings.TrimSpace(code)), strings.TrimSpace(name)
	if !categoryCodeRe.MatchString(code) {
		return EmployeeCategory{}, invalid("code", "a category code is 1–40 lower-case letters, digits, _ or -")
	}
	if name == "" || len([]rune(name)) > 100 {
		return EmployeeCategory{}, invalid("name", "a category needs a name of at most 100 characters")
	}
	var c EmployeeCategory
	err = s.db.GetContext(ctx, &c, `INSERT INTO employee_categories (company_id, code, name) VALUES ($1, $2, $3)
		ON CONFLICT (company_id, code) DO UPDATE SET name = EXCLUDED.name RETURNING id, code, name`, company, code, name)
	return c, db.MapError(err, "category")
}

// Categories lists the company's homogeneous categories.
func (s *Service) Categories(ctx context.Context, p *auth.Principal) ([]EmployeeCategory, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	out := []EmployeeCategory{}
	err = s.db.SelectContext(ctx, &out, `SELECT id, code, name FROM employee_categories WHERE company_id = $1 ORDER BY name`, company)
	return out, db.MapError(err, "categories")
}

// EmployeeInput is what HR records about an employee.
type EmployeeInput struct {
	UserID         uuid.UUID
	Category       string // the category's code
	EmployeeNumber string
	TaxCode        string
	HiredOn        *time.Time
	PartTimePct    int // 0: full time
	LeavesOn       *time.Time
}

// Employee is an employee as HR sees them, with their wallet balance.
type Employee struct {
	UserID         uuid.UUID  `json:"user_id" db:"user_id"`
	Name           string     `json:"name" db:"name"`
	Email          string     `json:"email" db:"email"`
	Category       string     `json:"category" db:"category"`
	CategoryName   string     `json:"category_name" db:"category_name"`
	EmployeeNumber string     `json:"employee_number" db:"employee_number"`
	TaxCode        string     `json:"tax_code" db:"tax_code"`
	HiredOn        *time.Time `json:"hired_on" db:"hired_on"`
	PartTimePct    int        `json:"part_time_pct" db:"part_time_pct"`
	LeavesOn       *time.Time `json:"leaves_on" db:"leaves_on"`
	BalanceCents   int64      `json:"balance_cents" db:"balance_cents"`
}

// taxCodeRe is an Italian codice fiscale (a person's: 16 characters).
var taxCodeRe = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// SaveEmployee records HR data of an employee of the caller's company and
// opens their wallet. The user must be an employee of that company
// (another company's user is not_found).
//
// Errors: forbidden, not_found (user, category), invalid (field named).
func (s *Service) SaveEmployee(ctx context.Context, p *auth.Principal, in EmployeeInput) (Employee, error) {
	company, err := companyOf(p)
	if err != nil {
		return Employee{}, err
	}
	in.TaxCode = strings.ToUpper(strings.TrimSpace(in.TaxCode))
	in.EmployeeNumber = strings.TrimSpace(in.EmployeeNumber)
	if e := checkHRFields(in.TaxCode, in.EmployeeNumber); e != nil {
		return Employee{}, e
	}
	switch {
	case in.PartTimePct < 0 || in.PartTimePct > 100:
		return Employee{}, invalid("part_time_pct", "part time is a percentage between 1 and 100")
	case in.HiredOn != nil && in.LeavesOn != nil && in.LeavesOn.Before(*in.HiredOn):
		return Employee{}, invalid("leaves_on", "the leaving date cannot be before the hire date")
	}
	if in.PartTimePct == 0 {
		in.PartTimePct = 100
	}
	err = db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var ok bool
		if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'employee'
			WHERE u.id = $1 AND u.organisation_id = $2)`, in.UserID, company); err != nil {
			return err
		}
		if !ok {
			return apperr.New(apperr.NotFound, "no employee with this id in your company").With("field", "user_id")
		}
		var cat uuid.UUID
		if err := tx.GetContext(ctx, &cat, `SELECT id FROM employee_categories WHERE company_id = $1 AND code = $2`, company, in.Category); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return apperr.New(apperr.NotFound, "no category %q in your company", in.Category).With("field", "category")
			}
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO employees (user_id, company_id, category_id, employee_number, tax_code, hired_on, part_time_pct, leaves_on)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
			ON CONFLICT (user_id) DO UPDATE SET category_id = $3, employee_number = $4, tax_code = $5, hired_on = $6,
				part_time_pct = $7, leaves_on = $8, updated_at = now()`,
			in.UserID, company, cat, in.EmployeeNumber, in.TaxCode, in.HiredOn, in.PartTimePct, in.LeavesOn); err != nil {
			return db.MapError(err, "employee")
		}
		if in.LeavesOn == nil || !in.LeavesOn.Before(today()) {
			if err := unfreeze(ctx, tx, in.UserID); err != nil { // still (or again) employed
				return err
			}
		}
		return ensureWallet(ctx, tx, in.UserID)
	})
	if err != nil {
		return Employee{}, err
	}
	list, err := s.employees(ctx, company, []uuid.UUID{in.UserID})
	if err != nil || len(list) == 0 {
		return Employee{}, db.MapError(err, "employee")
	}
	return list[0], nil
}

// Employees lists the company's employees (its users holding the employee
// role) with their HR data, when HR recorded it (Category is empty until
// then: such an employee gets nothing from a plan), and their wallet
// balance, by name.
func (s *Service) Employees(ctx context.Context, p *auth.Principal) ([]Employee, error) {
	company, err := companyOf(p)
	if err != nil {
		return nil, err
	}
	return s.employees(ctx, company, nil)
}

// employees reads employees of company (only those of ids when given).
// The balance is the wallet's available balance, read from the ledger's
// balance rows.
func (s *Service) employees(ctx context.Context, company uuid.UUID, ids []uuid.UUID) ([]Employee, error) {
	out := []Employee{}
	var filter any
	if ids != nil {
		filter = pq.Array(ids)
	}
	err := s.db.SelectContext(ctx, &out, `
		SELECT u.id AS user_id, u.name, u.email::text AS email, coalesce(c.code, '') AS category, coalesce(c.name, '') AS category_name,
		       coalesce(e.employee_number, '') AS employee_number, coalesce(e.tax_code, '') AS tax_code, e.hired_on,
		       coalesce(e.part_time_pct, 100) AS part_time_pct, e.leaves_on,
		       coalesce((SELECT sum(b.posted - b.pending_out) FROM ledger_accounts a JOIN ledger_balances b ON b.account_id = a.id
		                 WHERE a.path = 'employee:' || u.id || ':wallet'), 0)::bigint AS balance_cents
		FROM users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'employee'
		LEFT JOIN employees e ON e.user_id = u.id AND e.company_id = u.organisation_id
		LEFT JOIN employee_categories c ON c.id = e.category_id
		WHERE u.organisation_id = $1 AND ($2::uuid[] IS NULL OR u.id = ANY($2::uuid[]))
		ORDER BY u.name, u.email`, company, filter)
	return out, db.MapError(err, "employees")
}
