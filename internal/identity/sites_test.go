package identity_test

import (
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

// A company records its sites: every field at fault is named at once, the
// same form sent twice (or twice at once) makes one site, another site of
// the same name is refused, and nobody else can see or change them.
func TestCompanySites(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	ctx := t.Context()
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)

	_, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, identity.SiteInput{Name: " ", Address: strings.Repeat("x", 301), PlaceCode: ""})
	fields, _ := detail(err, "fields").([]string)
	if apperr.CodeOf(err) != apperr.Invalid || !slices.Equal(fields, []string{"name", "address", "place_code"}) {
		t.Fatalf("an empty form: %v %v, want invalid naming name, address and place_code", err, fields)
	}

	in := identity.SiteInput{Name: "Stabilimento  di Lecco", Address: "Via Valsugana 12", PlaceCode: "097042"}
	var wg sync.WaitGroup
	ids := make([]uuid.UUID, 2)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, in)
			if err != nil {
				t.Errorf("saving the site: %v", err)
				return
			}
			ids[i] = s.ID
		}()
	}
	wg.Wait()
	if ids[0] != ids[1] {
		t.Fatalf("the same form twice made two sites: %v", ids)
	}
	again, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, in)
	if err != nil || again.ID != ids[0] || again.Name != "Stabilimento di Lecco" {
		t.Fatalf("the form again: %+v %v", again, err)
	}
	_, err = a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, identity.SiteInput{Name: "stabilimento di lecco", PlaceCode: "097048"})
	if apperr.FieldOf(err) != "name" || detail(err, "reason") != "taken" {
		t.Fatalf("another site of the same name: %v, want invalid name taken", err)
	}
	merate, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, identity.SiteInput{Name: "Uffici di Merate", PlaceCode: "097048"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.SaveSite(ctx, hr.Principal(), merate.ID, identity.SiteInput{Name: "Stabilimento di Lecco", PlaceCode: "097048"}); apperr.FieldOf(err) != "name" {
		t.Fatalf("renaming to a name in use: %v", err)
	}
	if s, err := a.Identity.SaveSite(ctx, hr.Principal(), merate.ID, identity.SiteInput{Name: "Uffici di Merate", Address: "Via Roma 5", PlaceCode: "097048"}); err != nil || s.Address != "Via Roma 5" {
		t.Fatalf("changing the address: %+v %v", s, err)
	}

	// An employee reads them but records none; another company sees none
	// of them and changes nothing.
	emp := k.User(hr.Org, auth.RoleEmployee)
	if list, err := a.Identity.Sites(ctx, emp.Principal()); err != nil || len(list) != 2 || list[0].Name != "Stabilimento di Lecco" {
		t.Fatalf("the employee's list: %+v %v", list, err)
	}
	if _, err := a.Identity.SaveSite(ctx, emp.Principal(), uuid.Nil, in); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("an employee records a site: %v, want forbidden", err)
	}
	other := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	if list, _ := a.Identity.Sites(ctx, other.Principal()); len(list) != 0 {
		t.Fatalf("another company sees %+v", list)
	}
	if _, err := a.Identity.Site(ctx, other.Principal(), merate.ID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company reads a site: %v", err)
	}
	if _, err := a.Identity.SaveSite(ctx, other.Principal(), merate.ID, in); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company changes a site: %v, want not_found", err)
	}
	if err := a.Identity.DeleteSite(ctx, other.Principal(), merate.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Identity.Site(ctx, hr.Principal(), merate.ID); err != nil {
		t.Fatalf("another company deleted a site: %v", err)
	}
}

// People pick their own site, admins pick for their people, a site of
// another company is refused, and deleting a site leaves its people with
// none.
func TestPickingASite(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	ctx := t.Context()
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	emp, colleague := k.User(hr.Org, auth.RoleEmployee), k.User(hr.Org, auth.RoleEmployee)
	lecco, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, identity.SiteInput{Name: "Lecco", PlaceCode: "097042"})
	if err != nil {
		t.Fatal(err)
	}
	other := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	foreign, err := a.Identity.SaveSite(ctx, other.Principal(), uuid.Nil, identity.SiteInput{Name: "Monza", PlaceCode: "108033"})
	if err != nil {
		t.Fatal(err)
	}

	if err := a.Identity.SetUserSite(ctx, emp.Principal(), emp.ID, &lecco.ID); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Identity.UserSite(ctx, emp.ID); err != nil || s == nil || s.ID != lecco.ID {
		t.Fatalf("the employee's site: %+v %v", s, err)
	}
	if err := a.Identity.SetUserSite(ctx, emp.Principal(), emp.ID, &foreign.ID); apperr.FieldOf(err) != "site_id" {
		t.Fatalf("another company's site: %v, want invalid site_id", err)
	}
	if err := a.Identity.SetUserSite(ctx, emp.Principal(), colleague.ID, &lecco.ID); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("an employee picks a colleague's site: %v, want forbidden", err)
	}
	if err := a.Identity.SetUserSite(ctx, other.Principal(), colleague.ID, nil); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company's admin: %v, want not_found", err)
	}
	if err := a.Identity.SetUserSite(ctx, hr.Principal(), colleague.ID, &lecco.ID); err != nil {
		t.Fatal(err)
	}
	if s, _ := a.Identity.Site(ctx, hr.Principal(), lecco.ID); s.Employees != 2 {
		t.Fatalf("the site counts %d people, want 2", s.Employees)
	}
	if err := a.Identity.DeleteSite(ctx, hr.Principal(), lecco.ID); err != nil {
		t.Fatal(err)
	}
	if s, err := a.Identity.UserSite(ctx, emp.ID); err != nil || s != nil {
		t.Fatalf("after the site was deleted: %+v %v, want none", s, err)
	}
	if err := a.Identity.DeleteSite(ctx, hr.Principal(), lecco.ID); err != nil {
		t.Fatalf("deleting it again: %v", err)
	}
}

// An invitation file may name each person's site ("sede"); a name the
// company does not have is a row error and nobody is invited.
func TestCSVSiteColumn(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	ctx := t.Context()
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	lecco, err := a.Identity.SaveSite(ctx, hr.Principal(), uuid.Nil, identity.SiteInput{Name: "Stabilimento di Lecco", PlaceCode: "097042"})
	if err != nil {
		t.Fatal(err)
	}
	file := "email;nome;sede\nsede.uno@example.com;Uno;stabilimento di  LECCO\nsede.due@example.com;Due;Milano\nsede.tre@example.com;Tre;\n"
	_, err = a.Identity.InviteCSV(ctx, hr.Principal(), uuid.Nil, strings.NewReader(file), nil, "")
	rows, _ := detail(err, "rows").([]identity.RowError)
	if len(rows) != 1 || rows[0].Row != 3 || rows[0].Field != "site" || rows[0].Reason != "site_unknown" || rows[0].Value != "Milano" {
		t.Fatalf("an unknown site: %v %+v, want one error on row 3", err, rows)
	}
	file = strings.Replace(file, "Milano", "", 1)
	if n, err := a.Identity.InviteCSV(ctx, hr.Principal(), uuid.Nil, strings.NewReader(file), nil, ""); err != nil || n != 3 {
		t.Fatalf("the corrected file: %d %v", n, err)
	}
	var got []string
	if err := a.DB.Select(&got, `SELECT u.name || ':' || COALESCE(s.name, '-') FROM users u LEFT JOIN company_sites s ON s.id = u.site_id
		WHERE u.email LIKE 'sede.%' ORDER BY u.email`); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "Due:-,Tre:-,Uno:Stabilimento di Lecco" {
		t.Fatalf("sites of the invited: %v", got)
	}
	if s, _ := a.Identity.Site(ctx, hr.Principal(), lecco.ID); s.Employees != 1 {
		t.Fatalf("the site counts %d people, want 1", s.Employees)
	}
}

// detail returns the detail key of an application error, or nil.
func detail(err error, key string) any {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return nil
	}
	return ae.Fields[key]
}
