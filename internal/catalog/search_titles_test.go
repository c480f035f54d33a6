package catalog_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/seed"
)

// Ranking titles first answers most first pages of a search across the
// country, and whenever a search is answered by a first try, its pages are
// the ones ranking every match gives: the same offerings in the same order,
// the same cursors, page after page.
func TestSearchFirstTriesAreExact(t *testing.T) {
	dbx := dbtest.Open(t)
	if _, err := seed.Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	// Many offerings per title, and providers whose names hold the words
	// of other titles (a word a title lacks may be in the provider's name:
	// the update also feeds the titles' words through the update trigger).
	generateCatalogue(t, dbx, 3000)
	dbx.MustExec(`UPDATE providers SET legal_name = legal_name || ' ' ||
		(ARRAY['Yoga', 'Stireria', 'Babysitter', 'Spesa', 'Teatro', 'Tata', 'Corso'])[1 + abs(hashtext(legal_name)) % 7]
		WHERE legal_name LIKE 'Erogatore %' AND abs(hashtext(legal_name)) % 5 = 0`)
	// Some offerings change title: the old titles stay known, with fewer
	// offerings or none.
	dbx.MustExec(`UPDATE offerings SET title = 'Yoga e ' || lower(title) WHERE abs(hashtext(id::text)) % 40 = 0`)
	// and some have no keywords, so that a synonym the title lacks is
	// in some of its offerings' documents and not in others.
	dbx.MustExec(`UPDATE offerings SET keywords = '' WHERE abs(hashtext(id::text)) % 3 = 0`)
	// A third of them move around Lecco (up to ~20 km), so that searches
	// near it meet titles with many offerings, as in a real province.
	dbx.MustExec(`UPDATE offerings SET lat = 45.85589 + (abs(hashtext(id::text || 'a')) % 3000 - 1500) / 10000.0,
		lon = 9.39704 + (abs(hashtext(id::text || 'o')) % 4000 - 2000) / 10000.0
		WHERE provider_id IN (SELECT organisation_id FROM providers WHERE legal_name LIKE 'Erogatore %') AND abs(hashtext(id::text)) % 3 = 0`)
	dbx.MustExec(`ANALYZE`) // as autovacuum would, soon after (see settle)
	orgs := identity.New(dbx, identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}})
	svc := catalog.NewService(dbx, nil, orgs)

	texts := []string{"corso", "per bambini a domicilio", "yoga stireria", "erogatore", "qualificato",
		"babysitter per famiglie", "spesa", "tata serale", "corso di inglese per adulti", "teatro yoga", "zzyzx"}
	for _, c := range qualityTable {
		texts = append(texts, c.q)
	}
	for _, words := range benchWords {
		texts = append(texts, words...)
	}
	maxPrice := int64(8000)
	lecco := catalog.LatLon{Lat: 45.85589, Lon: 9.39704}
	towns := []catalog.LatLon{lecco, {Lat: 45.46427, Lon: 9.18951}, {Lat: 41.9028, Lon: 12.4964}, {Lat: 46.13205, Lon: 9.37714}}
	answered, nearAnswered := 0, 0
	for i, text := range texts {
		q := catalog.SearchQuery{Text: text}
		ok, err := svc.TitlesFirstAnswers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			answered++
		}
		if ok, err = svc.TitlesFirstAnswers(ctx, catalog.SearchQuery{Text: text, Near: &lecco, Limit: 5}); err != nil {
			t.Fatal(err)
		} else if ok {
			nearAnswered++
		}
		samePages(t, svc, q, 1)
		samePages(t, svc, catalog.SearchQuery{Text: text, Limit: 5}, 2)
		if i%2 == 0 {
			samePages(t, svc, catalog.SearchQuery{Text: text, Category: benchCategory(i), Limit: 7}, 1)
		} else {
			samePages(t, svc, catalog.SearchQuery{Text: text, MaxPrice: &maxPrice, Limit: 3}, 1)
		}
		// Near a point by relevance titles are ranked first too: every
		// text, from towns where the catalogue is dense and sparse, with
		// radii and filters.
		near := towns[i%len(towns)]
		samePages(t, svc, catalog.SearchQuery{Text: text, Near: &near, Limit: 5}, 2)
		samePages(t, svc, catalog.SearchQuery{Text: text, Near: &near, RadiusKm: float64(5 + i%4*15)}, 1)
		if i%3 == 0 {
			samePages(t, svc, catalog.SearchQuery{Text: text, Near: &lecco, Category: benchCategory(i), Limit: 4}, 1)
			samePages(t, svc, catalog.SearchQuery{Text: text, Near: &lecco, MaxPrice: &maxPrice, Limit: 3}, 1)
		}
		if i%5 == 0 {
			sameCount(t, svc, catalog.SearchQuery{Text: text, Near: &near})
			sameCount(t, svc, catalog.SearchQuery{Text: text, Category: benchCategory(i)})
		}
		if i%6 == 0 { // the searches near a point by distance, whose statements share the ranking
			samePages(t, svc, catalog.SearchQuery{Text: text, Near: &lecco, Sort: catalog.SortDistance, Limit: 5}, 2)
		}
	}
	// Browsing with no words and no place: the first offerings of each
	// title first, page after page, past the first round of titles.
	samePages(t, svc, catalog.SearchQuery{Limit: 5}, 3)
	samePages(t, svc, catalog.SearchQuery{Limit: 50}, 14)
	samePages(t, svc, catalog.SearchQuery{MaxPrice: &maxPrice, Limit: 7}, 2)
	samePages(t, svc, catalog.SearchQuery{Category: "sport", Limit: 9}, 2)
	t.Logf("ranking titles first answered %d of %d first pages, near Lecco %d", answered, len(texts), nearAnswered)
	if answered < len(texts)/3 || nearAnswered < len(texts)/3 {
		t.Errorf("ranking titles first answered %d (near Lecco %d) of %d first pages, want at least a third", answered, nearAnswered, len(texts))
	}
}

// samePages compares the first pages of q as Search gives them with the
// same pages ranking every match.
func samePages(t *testing.T, svc *catalog.Service, q catalog.SearchQuery, pages int) {
	t.Helper()
	fast, exact := q, q
	for page := 1; page <= pages; page++ {
		got, err := svc.Search(ctx, fast)
		if err != nil {
			t.Fatal(err)
		}
		want, err := svc.SearchEveryMatch(ctx, exact)
		if err != nil {
			t.Fatal(err)
		}
		if g, w := describe(got), describe(want); g != w {
			t.Fatalf("%+v page %d:\n got %s\nwant %s", q, page, g, w)
		}
		if got.NextCursor == "" {
			return
		}
		fast.Cursor, exact.Cursor = got.NextCursor, want.NextCursor
	}
}

// sameCount checks the number of results a page says (asked on its first
// and second page) against the results themselves, read page after page:
// exact up to 200, "more than 200" past it.
func sameCount(t *testing.T, svc *catalog.Service, q catalog.SearchQuery) {
	t.Helper()
	q.Count, q.Limit = true, 50
	first, err := svc.Search(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	found, page := 0, first
	for {
		found += len(page.Items)
		if page.NextCursor == "" || found > 200 {
			break
		}
		next := q
		next.Cursor = page.NextCursor
		if page, err = svc.Search(ctx, next); err != nil {
			t.Fatal(err)
		}
		if *page.Total != *first.Total || page.TotalMore != first.TotalMore {
			t.Fatalf("%+v: the second page says %d (more %v), the first %d (more %v)", q, *page.Total, page.TotalMore, *first.Total, first.TotalMore)
		}
	}
	if want := min(found, 200); *first.Total != want || first.TotalMore != (found > 200) {
		t.Fatalf("%+v: total %d (more %v), found %d", q, *first.Total, first.TotalMore, found)
	}
}

// benchCategory is one of the categories, the i-th in turn.
func benchCategory(i int) string {
	cats := catalog.Categories()
	return cats[i%len(cats)].Code
}

func describe(p catalog.SearchPage) string {
	ids := make([]string, len(p.Items))
	for i, o := range p.Items {
		ids[i] = fmt.Sprintf("%s %q", o.ID.String()[:8], o.Title)
	}
	return fmt.Sprintf("[%s] next %q", strings.Join(ids, ", "), p.NextCursor)
}
