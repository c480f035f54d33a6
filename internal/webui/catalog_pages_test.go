package webui_test

import (
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The offering page speaks to who is looking: a visitor is asked to sign
// in, an employee gets the booking form, the provider's staff can edit it;
// the tax rule shows to HR and the provider, not to employees or visitors.
func TestOfferingPageSpeaksToItsViewer(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	admin := catalogtest.Admin(t, a.DB)
	staff := catalogtest.Provider(t, a.DB, a.Catalog, admin, "Nonni Felici", "097042", true)
	id := catalogtest.Offering(t, a.Catalog, staff, "Compagnia agli anziani", "elder_care", "097042", 1500)
	path := "/catalogo/" + id.String()
	own := k.User(identitytest.Org{ID: staff.OrgID, Kind: auth.OrgProvider}, auth.RoleProviderStaff)
	for _, c := range []struct {
		who           *identitytest.User
		want, notWant []string
	}{
		{nil, []string{`id="book-sign-in"`}, []string{`id="book-form"`, `id="edit-offering"`, "TUIR"}},
		{k.As(auth.OrgCompany, auth.RoleEmployee), []string{`id="book-form"`}, []string{`id="book-sign-in"`, `id="edit-offering"`, "TUIR"}},
		{own, []string{`id="edit-offering"`, `href="/erogatore/offerte/` + id.String() + `"`, "TUIR"}, []string{`id="book-form"`, `id="book-sign-in"`}},
		{k.As(auth.OrgCompany, auth.RoleCompanyAdmin), []string{"TUIR", `id="offering-other"`}, []string{`id="edit-offering"`, `id="book-form"`}},
	} {
		res, page := k.Browser(a.URL(), c.who).Get(path)
		who := "visitor"
		if c.who != nil {
			who = string(c.who.Roles[0])
		}
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", who, res.StatusCode)
		}
		for _, w := range c.want {
			if !strings.Contains(page, w) {
				t.Errorf("%s: the page lacks %s", who, w)
			}
		}
		for _, w := range c.notWant {
			if strings.Contains(page, w) {
				t.Errorf("%s: the page shows %s", who, w)
			}
		}
	}
}

// "Within 20 km" without a place asks for a town instead of being ignored.
func TestRadiusWithoutAPlaceAsksForATown(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	b := identitytest.New(t, a.DB, a.Identity).Browser(a.URL(), nil)
	_, page := b.Get("/catalogo?q=&vicino=&raggio=20")
	if !strings.Contains(page, `aria-invalid="true" aria-describedby="vicino-error"`) || !strings.Contains(page, "scrivi un comune") {
		t.Fatal("a radius without a place was not questioned next to the place field")
	}
	if _, page := b.Get("/catalogo?q=&vicino=&raggio="); strings.Contains(page, "vicino-error") {
		t.Fatal("any distance without a place was refused")
	}
}
