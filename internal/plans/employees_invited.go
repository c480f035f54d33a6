package plans

import (
	"context"
	"strings"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/identity"
)

// HR data that comes with invitations (the invitation file's category,
// matricola and codice fiscale columns): identity carries it, the plans
// domain checks it before the file is imported and records it with each
// invited employee, in the same transaction.

var _ identity.EmployeeRecorder = (*Service)(nil)

// CheckEmployees checks the HR data of invitations to company org: the
// category, when given, must be one of the company's; the tax code and
// employee number as SaveEmployee checks them.
func (s *Service) CheckEmployees(ctx context.Context, q sqlx.QueryerContext, org uuid.UUID, data []identity.EmployeeData) ([]error, error) {
	var codes []string
	if err := sqlx.SelectContext(ctx, q, &codes, `SELECT code FROM employee_categories WHERE company_id = $1`, org); err != nil {
		return nil, db.MapError(err, "categories")
	}
	known := map[string]bool{}
	for _, c := range codes {
		known[c] = true
	}
	out := make([]error, len(data))
	for i, d := range data {
		switch {
		case d.Category != "" && !known[strings.ToLower(d.Category)]:
			out[i] = invalid("category", "no category %q in your company", d.Category)
		default:
			if e := checkHRFields(d.TaxCode, d.EmployeeNumber); e != nil {
				out[i] = e
			}
		}
	}
	return out, nil
}

// checkHRFields checks a tax code and an employee number as HR types
// them (the tax code upper-cased).
func checkHRFields(taxCode, number string) *apperr.Error {
	switch {
	case taxCode != "" && !taxCodeRe.MatchString(taxCode):
		return invalid("tax_code", "%q is not an Italian tax code (16 characters)", taxCode)
	case len(number) > 40:
		return invalid("employee_number", "an employee number is at most 40 characters")
	}
	return nil
}

// RecordEmployee records an invited employee's HR data inside the
// invitation's transaction and opens their wallet. An invitee who is not
// an employee (an HR administrator only) has no HR data: it is ignored.
// Without a category the data waits for HR to set one.
func (s *Service) RecordEmployee(ctx context.Context, tx *sqlx.Tx, org, user uuid.UUID, d identity.EmployeeData) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO employees (user_id, company_id, category_id, employee_number, tax_code)
		SELECT $1, $2, (SELECT c.id FROM employee_categories c WHERE c.company_id = $2 AND c.code = $3), $4, $5
		WHERE EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = $1 AND r.role = 'employee')
		ON CONFLICT (user_id) DO NOTHING`, user, org, strings.ToLower(d.Category), strings.TrimSpace(d.EmployeeNumber),
		strings.ToUpper(strings.TrimSpace(d.TaxCode)))
	if err != nil {
		return db.MapError(err, "employee")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return ensureWallet(ctx, tx, user)
}
