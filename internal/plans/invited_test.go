package plans_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// rowErrors are the rows a refused invitation file lists.
func rowErrors(err error) []identity.RowError {
	var ae *apperr.Error
	if errors.As(err, &ae) {
		rows, _ := ae.Fields["rows"].([]identity.RowError)
		return rows
	}
	return nil
}

// The invitation file takes HR's columns (categoria, matricola, codice
// fiscale): a row whose category the company lacks or whose tax code is
// wrong refuses the whole file, saying which row and cell; a good file
// records the data with each invited employee, who then shows on HR's
// list with it, a matricola without a category waiting for one.
func TestInvitationFileRecordsHRData(t *testing.T) {
	a := apptest.Start(t)
	ctx := t.Context()
	k := identitytest.New(t, a.DB, a.Identity)
	company := k.Org(auth.OrgCompany, "Acme")
	hr := k.User(company, auth.RoleCompanyAdmin)
	if _, err := a.Plans.SaveCategory(ctx, hr.Principal(), "impiegati", "Impiegati"); err != nil {
		t.Fatal(err)
	}
	file := "email;nome;categoria;matricola;codice fiscale\n" +
		"anna@acme.example;Anna Neri;Impiegati;M-1;rssmra80a01f205x\n" +
		"bruno@acme.example;Bruno Gialli;;B-2;\n" +
		"carla@acme.example;Carla Blu;operai;M-3;RSSMRA80A01F205X\n" +
		"dario@acme.example;Dario Rosa;impiegati;M-4;XYZ\n"
	_, err := a.Identity.InviteCSV(ctx, hr.Principal(), company.ID, strings.NewReader(file), nil, "")
	msg := ""
	if err != nil {
		msg = err.Error()
	}
	var rows []struct {
		Row    int
		Field  string
		Reason string
	}
	for _, r := range rowErrors(err) {
		rows = append(rows, struct {
			Row    int
			Field  string
			Reason string
		}{r.Row, r.Field, r.Reason})
	}
	if len(rows) != 2 || rows[0].Row != 4 || rows[0].Reason != "employee_category" || rows[1].Row != 5 || rows[1].Reason != "employee_tax_code" {
		t.Fatalf("a file with an unknown category and a bad tax code: %v %+v", msg, rows)
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM users WHERE organisation_id = $1 AND status = 'invited'`, company.ID); err != nil || n != 0 {
		t.Fatalf("a refused file invited %d people (%v)", n, err)
	}
	file = strings.ReplaceAll(strings.ReplaceAll(file, ";operai;", ";impiegati;"), ";XYZ", ";")
	if n, err := a.Identity.InviteCSV(ctx, hr.Principal(), company.ID, strings.NewReader(file), nil, ""); err != nil || n != 4 {
		t.Fatalf("the corrected file: %d, %v", n, err)
	}
	list, err := a.Plans.Employees(ctx, hr.Principal())
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	for _, e := range list {
		got[e.Email] = e.Category + "/" + e.EmployeeNumber + "/" + e.TaxCode
	}
	want := map[string]string{"anna@acme.example": "impiegati/M-1/RSSMRA80A01F205X", "bruno@acme.example": "/B-2/",
		"carla@acme.example": "impiegati/M-3/RSSMRA80A01F205X", "dario@acme.example": "impiegati/M-4/"}
	for email, w := range want {
		if got[email] != w {
			t.Fatalf("%s has %q, want %q (all: %v)", email, got[email], w, got)
		}
	}
}
