package identity

import (
	"context"
	"errors"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
)

// EmployeeData is what HR says of an invited employee in the invitation
// file: their homogeneous category's code, employee number and tax code.
// Identity only carries it; the EmployeeRecorder checks and records it.
type EmployeeData struct {
	Category       string
	EmployeeNumber string
	TaxCode        string
}

// Empty reports whether no HR data was given.
func (d EmployeeData) Empty() bool { return d == EmployeeData{} }

// EmployeeRecorder checks and records HR data of invited employees (the
// plans domain, set by the app).
type EmployeeRecorder interface {
	// CheckEmployees returns, for each of data of organisation org, nil or
	// an invalid error naming the field at fault (details.field).
	CheckEmployees(ctx context.Context, q sqlx.QueryerContext, org uuid.UUID, data []EmployeeData) ([]error, error)
	// RecordEmployee records user's data inside the invitation's tx.
	RecordEmployee(ctx context.Context, tx *sqlx.Tx, org, user uuid.UUID, d EmployeeData) error
}

// SetEmployeeRecorder makes invitations record their HR data through r.
func (s *Service) SetEmployeeRecorder(r EmployeeRecorder) { s.employees = r }

// checkEmployees returns the row errors of rows' HR data.
func (s *Service) checkEmployees(ctx context.Context, org uuid.UUID, rows []csvRow) ([]RowError, error) {
	var at []int
	var data []EmployeeData
	for i, row := range rows {
		if !row.in.Employee.Empty() {
			at, data = append(at, i), append(data, row.in.Employee)
		}
	}
	if len(data) == 0 {
		return nil, nil
	}
	if s.employees == nil {
		return []RowError{{Row: rows[at[0]].line, Field: "category", Reason: "employee_data",
			Message: "this platform records no HR data with invitations"}}, nil
	}
	faults, err := s.employees.CheckEmployees(ctx, s.db, org, data)
	if err != nil {
		return nil, err
	}
	var out []RowError
	for j, f := range faults {
		if f == nil {
			continue
		}
		var ae *apperr.Error
		errors.As(f, &ae)
		field := apperr.FieldOf(f)
		out = append(out, RowError{Row: rows[at[j]].line, Field: field, Reason: "employee_" + field, Value: valueOf(data[j], field), Message: ae.Message})
	}
	return out, nil
}

func valueOf(d EmployeeData, field string) string {
	switch field {
	case "category":
		return d.Category
	case "tax_code":
		return d.TaxCode
	}
	return d.EmployeeNumber
}

// recordEmployees records the HR data of the invitations ins[fresh[j]]
// whose users ids[j] were just created.
func (s *Service) recordEmployees(ctx context.Context, tx *sqlx.Tx, org uuid.UUID, ids []uuid.UUID, fresh []int, ins []Invitation) error {
	for j, i := range fresh {
		if ins[i].Employee.Empty() || s.employees == nil {
			continue
		}
		if err := s.employees.RecordEmployee(ctx, tx, org, ids[j], ins[i].Employee); err != nil {
			return err
		}
	}
	return nil
}
