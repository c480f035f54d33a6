package catalog_test

import (
	"html"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/seed"
)

var (
	cardTitleRE = regexp.MustCompile(`class="offer-title"><a href="/catalogo/([0-9a-f-]+)">([^<]*)</a>`)
	cardPriceRE = regexp.MustCompile(`class="offer-price"><strong>[^<]*</strong>[^·]*· ([^<]*)</p>`)
	nextRE      = regexp.MustCompile(`<a class="button" href="([^"]*)" rel="next">`)
)

// The demo catalogue browsed with no words and no place (a visitor): the
// first page shows no title twice and several categories, the same order
// at every load, and "Altri risultati" pages through every offering once.
// An employee who has not picked a site starts from the company's site.
func TestBrowsingTheCatalogue(t *testing.T) {
	a := apptest.Start(t)
	if _, err := seed.Run(ctx, a.DB); err != nil {
		t.Fatal(err)
	}
	k := identitytest.New(t, a.DB, a.Identity)
	visitor := k.Browser(a.URL(), nil)
	page := func(b *identitytest.Browser, path string) (ids, titles, categories []string, next, body string) {
		t.Helper()
		res, body := b.Get(path)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d", path, res.StatusCode)
		}
		for _, m := range cardTitleRE.FindAllStringSubmatch(body, -1) {
			ids, titles = append(ids, m[1]), append(titles, html.UnescapeString(m[2]))
		}
		for _, m := range cardPriceRE.FindAllStringSubmatch(body, -1) {
			categories = append(categories, m[1])
		}
		if m := nextRE.FindStringSubmatch(body); m != nil {
			next = html.UnescapeString(m[1])
		}
		return ids, titles, categories, next, body
	}

	ids, titles, categories, next, _ := page(visitor, "/catalogo")
	if len(titles) != 20 || len(categories) != 20 {
		t.Fatalf("first page: %d cards, %d categories read, want 20", len(titles), len(categories))
	}
	seen := map[string]bool{}
	for _, title := range titles {
		if seen[strings.ToLower(title)] {
			t.Errorf("the first page shows %q twice: %q", title, titles)
			break
		}
		seen[strings.ToLower(title)] = true
	}
	cats := map[string]bool{}
	for _, c := range categories {
		cats[c] = true
	}
	if len(cats) < 8 {
		t.Errorf("the first page shows %d categories, want at least 8: %q", len(cats), categories)
	}
	again, _, _, _, _ := page(visitor, "/catalogo")
	if strings.Join(again, ",") != strings.Join(ids, ",") {
		t.Errorf("the order changed between two loads")
	}
	// Paging reaches every searchable offering once.
	all := map[string]bool{}
	for _, id := range ids {
		all[id] = true
	}
	for pages := 1; next != ""; pages++ {
		if pages > 50 {
			t.Fatal("paging does not end")
		}
		var more []string
		more, _, _, next, _ = page(visitor, next)
		for _, id := range more {
			if all[id] {
				t.Fatalf("offering %s shown twice while paging", id)
			}
			all[id] = true
		}
	}
	var want int
	if err := a.DB.Get(&want, `SELECT count(*) FROM offerings o JOIN providers p ON p.organisation_id = o.provider_id
		WHERE o.status = 'active' AND p.status = 'approved'`); err != nil {
		t.Fatal(err)
	}
	if len(all) != want {
		t.Errorf("paging showed %d offerings, the catalogue has %d", len(all), want)
	}

	// An employee without a site of their own, in a company with two:
	// the catalogue starts from the one where most of its people work.
	emp := k.As(auth.OrgCompany, auth.RoleEmployee)
	colleague := k.User(emp.Org, auth.RoleEmployee)
	a.DB.MustExec(`INSERT INTO company_sites (organisation_id, name, place_code) VALUES ($1, 'Uffici di Milano', '015146')`, emp.Org.ID)
	a.DB.MustExec(`WITH s AS (INSERT INTO company_sites (organisation_id, name, place_code) VALUES ($1, 'Stabilimento', '097042') RETURNING id)
		UPDATE users SET site_id = (SELECT id FROM s) WHERE id = $2`, emp.Org.ID, colleague.ID)
	_, _, _, _, body := page(k.Browser(a.URL(), emp), "/catalogo")
	if !strings.Contains(body, `id="search-place"`) || !strings.Contains(body, "Lecco (LC)") || !strings.Contains(body, `class="distance"`) {
		t.Errorf("an employee without a site: the catalogue does not start near the company's main site (Lecco)")
	}
}
