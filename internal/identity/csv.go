package identity

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
)

// MaxCSVRows bounds one upload.
const MaxCSVRows = 10000

// maxCSVBytes bounds one upload's size.
const maxCSVBytes = 4 << 20

// maxReportedRows bounds how many row errors are reported (the total is
// always given).
const maxReportedRows = 200

// RowError is one problem in an uploaded file; Row is the line number as a
// spreadsheet shows it (the header is row 1). Reason is a stable key the
// web turns into the reader's language (identity.csv.reason.<reason>),
// Value the cell it is about (for duplicate: the earlier row); Message is
// the same in English, for the API.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field"`
	Reason  string `json:"reason,omitempty"`
	Value   string `json:"value,omitempty"`
	Message string `json:"message"`
}

// csvRow is a parsed line.
type csvRow struct {
	line int
	in   Invitation
}

// invitationColumn is a column of the invitation file: the headings people
// give it and how its cell (trimmed; "" when the file lacks the column)
// fills the row's invitation. set returns the problem with the cell, or
// nil. Columns are applied in this order.
type invitationColumn struct {
	csvfile.Column
	set func(in *Invitation, kind auth.OrgKind, cell string) *RowError
}

// invitationColumns are the columns an invitation file may have; others
// are ignored. A new column is one more entry.
var invitationColumns = []invitationColumn{
	{csvfile.Column{Name: "email", Required: true, Headings: []string{"email", "e-mail", "mail", "indirizzo email", "indirizzo e-mail", "posta elettronica"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError { in.Email = cell; return nil }},
	{csvfile.Column{Name: "name", Required: true, Headings: []string{"name", "nome", "nome e cognome", "nominativo", "full name", "first name"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError { in.Name = cell; return nil }},
	{csvfile.Column{Name: "surname", Headings: []string{"cognome", "surname", "last name"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError {
			in.Name = strings.TrimSpace(in.Name + " " + cell)
			return nil
		}},
	{csvfile.Column{Name: "roles", Headings: []string{"role", "roles", "ruolo", "ruoli"}}, setRoles},
	// The name of one of the company's sites; checked against them when
	// the file is imported.
	{csvfile.Column{Name: "site", Headings: []string{"sede", "sede di lavoro", "site", "office", "stabilimento", "filiale"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError { in.Site = cell; return nil }},
	{csvfile.Column{Name: "category", Headings: []string{"categoria", "categoria omogenea", "category", "employee category"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError {
			in.Employee.Category = strings.ToLower(cell)
			return nil
		}},
	{csvfile.Column{Name: "employee_number", Headings: []string{"matricola", "numero di matricola", "employee number", "employee id"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError {
			in.Employee.EmployeeNumber = cell
			return nil
		}},
	{csvfile.Column{Name: "tax_code", Headings: []string{"codice fiscale", "cf", "tax code", "fiscal code"}},
		func(in *Invitation, _ auth.OrgKind, cell string) *RowError {
			in.Employee.TaxCode = strings.ToUpper(cell)
			return nil
		}},
}

// setRoles reads the roles cell: codes or their names in Italian or
// English, several separated by "|" or ","; none means employee in a
// company.
func setRoles(in *Invitation, kind auth.OrgKind, cell string) *RowError {
	if cell == "" && kind == auth.OrgCompany {
		cell = string(auth.RoleEmployee)
	}
	for _, name := range strings.FieldsFunc(cell, func(r rune) bool { return r == '|' || r == ',' }) {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		r, ok := roleNamed(name, kind)
		switch {
		case !ok:
			return &RowError{Field: "roles", Reason: "role_unknown", Value: name, Message: fmt.Sprintf("%q is not a role", name)}
		case !slices.Contains(auth.KindRoles[kind], r):
			return &RowError{Field: "roles", Reason: "role_kind", Value: string(r),
				Message: fmt.Sprintf("role %s cannot be held in an organisation of kind %s", r, kind)}
		case slices.Contains(in.Roles, r):
			return &RowError{Field: "roles", Reason: "role_twice", Value: string(r), Message: fmt.Sprintf("role %s is listed twice", r)}
		}
		in.Roles = append(in.Roles, r)
	}
	if len(in.Roles) == 0 {
		return &RowError{Field: "roles", Reason: "roles", Message: "at least one role is required"}
	}
	return nil
}

// roleNames are the names offices write for roles, besides the codes
// (normalised like headings: "company_admin" reads "company admin").
var roleNames = map[string]auth.Role{
	"dipendente": auth.RoleEmployee, "dipendenti": auth.RoleEmployee, "collaboratore": auth.RoleEmployee,
	"amministratore hr": auth.RoleCompanyAdmin, "responsabile hr": auth.RoleCompanyAdmin, "hr": auth.RoleCompanyAdmin,
	"risorse umane": auth.RoleCompanyAdmin, "hr admin": auth.RoleCompanyAdmin,
	"personale": auth.RoleProviderStaff, "personale dell'erogatore": auth.RoleProviderStaff, "staff": auth.RoleProviderStaff,
	"gestore": auth.RoleFundManager, "gestore del fondo": auth.RoleFundManager,
	"operatore": auth.RoleCaseWorker, "operatore sociale": auth.RoleCaseWorker, "operatrice sociale": auth.RoleCaseWorker,
	"approvatore": auth.RoleFundApprover, "approvatore del fondo": auth.RoleFundApprover,
	"revisore": auth.RoleAuditor, "amministratore della piattaforma": auth.RolePlatformAdmin,
}

// roleNamed reads one role name. "amministratore" (or "admin") is the
// administrator role of the organisation's kind.
func roleNamed(name string, kind auth.OrgKind) (auth.Role, bool) {
	n := csvfile.Heading(name)
	switch n {
	case "amministratore", "amministratrice", "admin", "administrator":
		for _, r := range auth.KindRoles[kind] {
			if slices.Contains(auth.AdminRoles, r) {
				return r, true
			}
		}
	}
	if r, ok := roleNames[n]; ok {
		return r, true
	}
	for _, r := range auth.AllRoles {
		if n == csvfile.Heading(string(r)) {
			return r, true
		}
	}
	return "", false
}

// fileError is the invalid error about the whole file; reason is a stable
// key (form.invalid.file.<reason> on the web).
func fileError(reason, format string, args ...any) *apperr.Error {
	return apperr.New(apperr.Invalid, format, args...).With("field", "file").With("reason", reason)
}

// parseInvitationCSV reads a file with a header row naming the columns
// (invitationColumns: email and name at least), as spreadsheets save it:
// comma, semicolon or tab separated, UTF-8 with or without a byte-order
// mark or Windows-1252 (csvfile). Every row is checked; all problems are
// returned. Errors (the file as a whole): invalid.
func parseInvitationCSV(raw []byte, kind auth.OrgKind) ([]csvRow, []RowError, error) {
	if len(raw) > maxCSVBytes {
		return nil, nil, fileError("too_large", "the file is larger than 4 MB")
	}
	cr := csvfile.NewReader(csvfile.Text(raw))
	header, err := cr.Read()
	if err != nil {
		return nil, nil, fileError("empty", "the file is empty or not CSV")
	}
	cols := make([]csvfile.Column, len(invitationColumns))
	for i, c := range invitationColumns {
		cols[i] = c.Column
	}
	col, missing := csvfile.MapHeader(header, cols)
	if len(missing) > 0 {
		return nil, nil, fileError("header", "the first row must name the columns: email, name and optionally role (missing: %s)",
			strings.Join(missing, ", ")).With("missing", missing)
	}
	var rows []csvRow
	var errs []RowError
	seen := map[string]int{}
	for {
		rec, err := cr.Read()
		line, _ := cr.FieldPos(0) // where the record starts, as a spreadsheet counts rows
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				errs = append(errs, RowError{Row: pe.StartLine, Field: "file", Reason: "syntax", Message: pe.Err.Error()})
				continue
			}
			return nil, nil, fileError("empty", "the file is not valid CSV")
		}
		if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
			continue // blank line
		}
		if len(rows)+len(errs) >= MaxCSVRows {
			return nil, nil, fileError("too_many_rows", "the file has more than %d rows: split it", MaxCSVRows)
		}
		in, e := readInvitation(rec, header, col, kind)
		if e == nil {
			if prev, dup := seen[strings.ToLower(in.Email)]; dup {
				e = &RowError{Field: "email", Reason: "duplicate", Value: strconv.Itoa(prev), Message: fmt.Sprintf("%s is already on row %d", in.Email, prev)}
			}
		}
		if e != nil {
			e.Row = line
			errs = append(errs, *e)
			continue
		}
		seen[strings.ToLower(in.Email)] = line
		rows = append(rows, csvRow{line: line, in: in})
	}
	if len(rows) == 0 && len(errs) == 0 {
		return nil, nil, fileError("no_rows", "the file has no rows below the header")
	}
	return rows, errs, nil
}

// readInvitation fills an invitation from one record, or says what is
// wrong with it.
func readInvitation(rec, header []string, col map[string]int, kind auth.OrgKind) (Invitation, *RowError) {
	var in Invitation
	for i, cell := range rec {
		if strings.IndexByte(cell, 0) >= 0 {
			return in, &RowError{Field: columnAt(i, header, col), Reason: "nul", Message: "contains a NUL character"}
		}
	}
	for _, c := range invitationColumns {
		cell := ""
		if i, ok := col[c.Name]; ok && i < len(rec) {
			cell = strings.TrimSpace(rec[i])
		}
		if e := c.set(&in, kind, cell); e != nil {
			return in, e
		}
	}
	if err := in.Validate(kind); err != nil {
		var ae *apperr.Error
		errors.As(err, &ae)
		f := apperr.FieldOf(err)
		v := ""
		if f == "email" {
			v = in.Email
		}
		return in, &RowError{Field: f, Reason: f, Value: v, Message: ae.Message}
	}
	return in, nil
}

// columnAt names column i: as this import knows it (email, name, …), else
// its heading, else its number.
func columnAt(i int, header []string, col map[string]int) string {
	for name, j := range col {
		if j == i {
			return name
		}
	}
	if i < len(header) && strings.TrimSpace(header[i]) != "" && strings.IndexByte(header[i], 0) < 0 {
		return strings.TrimSpace(header[i])
	}
	return fmt.Sprintf("column %d", i+1)
}

// rowsError is the invalid error that lists the rows at fault.
func rowsError(errs []RowError) error {
	n := len(errs)
	if len(errs) > maxReportedRows {
		errs = errs[:maxReportedRows]
	}
	return apperr.New(apperr.Invalid, "%d row(s) have errors: nothing was imported", n).With("rows", errs).With("error_count", n)
}

// rowErrorsOf returns the row errors of a refused import (as built above),
// or nil.
func rowErrorsOf(err error) []RowError {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		r, _ := ae.Fields["rows"].([]RowError)
		return r
	}
	return nil
}
