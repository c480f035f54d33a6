package catalog_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
)

// Search ranks rather than refuses: a word in no offering lowers the rank
// but finds the rest; provider names and descriptions are searched; a typo
// finds what the right spelling finds; a short word does not drag in
// unrelated offerings.
func TestSearchRanksRatherThanRefuses(t *testing.T) {
	f := newFixture(t)
	melograno := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Il Melograno", lecco, true)
	other := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Associazione Altrove", merate, true)
	catalogtest.Offering(t, f.svc, melograno, "Yoga dolce", "sport", lecco, 1000)
	catalogtest.Offering(t, f.svc, melograno, "Babysitter serale", "childcare", lecco, 1200)
	catalogtest.Offering(t, f.svc, other, "Baby sitter nel weekend", "childcare", merate, 1300)
	catalogtest.Offering(t, f.svc, other, "Corso di nuoto", "sport", merate, 900)

	search := func(text string) []string {
		t.Helper()
		return titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: text}))
	}
	if got := search("yoga zzyzx"); len(got) == 0 || got[0] != "Yoga dolce" {
		t.Errorf("a word in no offering emptied the search: %q", got)
	}
	if got := search("corso di yoga"); len(got) < 2 || got[0] != "Yoga dolce" && got[0] != "Corso di nuoto" {
		t.Errorf("corso di yoga: %q, want both the yoga and the course", got)
	}
	if got := search("melograno"); !slices.Equal(sorted(got), []string{"Babysitter serale", "Yoga dolce"}) {
		t.Errorf("a provider's name: %q, want its two offerings", got)
	}
	// The provider's description is searched, and a new one is found at once.
	if _, err := f.dbx.Exec(`UPDATE providers SET description = 'Laboratori di ceramica per tutti' WHERE organisation_id = $1`, other.OrgID); err != nil {
		t.Fatal(err)
	}
	if got := search("ceramica"); !slices.Equal(sorted(got), []string{"Baby sitter nel weekend", "Corso di nuoto"}) {
		t.Errorf("a provider's new description: %q", got)
	}
	// Joined, split and misspelt: the same two offerings.
	for _, q := range []string{"babysitter", "baby sitter", "babysiter", "baby-sitter"} {
		if got := search(q); !slices.Equal(sorted(got), []string{"Baby sitter nel weekend", "Babysitter serale"}) {
			t.Errorf("%q: %q, want both babysitting offerings", q, got)
		}
	}
	// Short words are not corrected into other words.
	for _, q := range []string{"yoyo", "nuto", "ora", "sitar", "curso"} {
		if got := search(q); len(got) != 0 {
			t.Errorf("%q found %q, want nothing", q, got)
		}
	}
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

// Near a point the best match comes first among the near ones (relevance
// and distance blended); one title offered by many providers does not
// fill the page; a search that finds nothing within its radius says how
// far the nearest match is; the count is the number of results.
func TestSearchNearAPoint(t *testing.T) {
	f := newFixture(t)
	lc, err := f.svc.Place(ctx, lecco)
	if err != nil {
		t.Fatal(err)
	}
	near := catalog.LatLon{Lat: lc.Lat, Lon: lc.Lon}
	next := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Palestra Sotto Casa", lecco, true)
	catalogtest.Offering(t, f.svc, next, "Ginnastica per la schiena", "sport", lecco, 1000) // "Servizio di prova: ..." only
	far := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Studio Pilates Oggiono", oggiono, true)
	catalogtest.Offering(t, f.svc, far, "Pilates", "sport", oggiono, 1000)
	if _, err := f.dbx.Exec(`UPDATE offerings SET description = 'Anche esercizi di pilates' WHERE title = 'Ginnastica per la schiena'`); err != nil {
		t.Fatal(err)
	}
	got := titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "pilates", Near: &near}))
	if !slices.Equal(got, []string{"Pilates", "Ginnastica per la schiena"}) {
		t.Errorf("pilates near Lecco: %q, want the title match 10 km away before the passing mention next door", got)
	}
	got = titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "pilates", Near: &near, Sort: catalog.SortDistance}))
	if !slices.Equal(got, []string{"Ginnastica per la schiena", "Pilates"}) {
		t.Errorf("pilates near Lecco by distance: %q, want the nearest first when asked", got)
	}

	for i := range 6 {
		staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, fmt.Sprintf("Cooperativa Stiro %d", i), lecco, true)
		catalogtest.Offering(t, f.svc, staff, "Stireria a domicilio", "laundry", lecco, int64(1000+i))
	}
	stiro := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Sartoria Lariana", valmadrera, true)
	catalogtest.Offering(t, f.svc, stiro, "Stireria e piccole riparazioni", "laundry", valmadrera, 1500)
	page := mustSearch(t, f.svc, catalog.SearchQuery{Text: "stireria", Near: &near, Limit: 3, Count: true})
	if got := titles(page); len(got) != 3 || !slices.Contains(got, "Stireria e piccole riparazioni") {
		t.Errorf("stireria: first page %q, want the other title among six identical ones", got)
	}
	if page.Total == nil || *page.Total != 7 {
		t.Errorf("stireria: total %v, want 7", page.Total)
	}
	seen := len(page.Items)
	for page.NextCursor != "" {
		page = mustSearch(t, f.svc, catalog.SearchQuery{Text: "stireria", Near: &near, Limit: 3, Cursor: page.NextCursor})
		seen += len(page.Items)
	}
	if seen != 7 {
		t.Errorf("paging through stireria: %d results, want 7", seen)
	}

	page = mustSearch(t, f.svc, catalog.SearchQuery{Text: "arrampicata", Near: &near})
	if len(page.Items) != 0 || page.NearestKm != nil {
		t.Errorf("arrampicata (in no offering): %q, nearest %v, want nothing at all", titles(page), page.NearestKm)
	}
	milan := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Guide di Milano", milano, true)
	catalogtest.Offering(t, f.svc, milan, "Arrampicata indoor", "sport", milano, 2000)
	page = mustSearch(t, f.svc, catalog.SearchQuery{Text: "arrampicata", Near: &near, Count: true})
	if len(page.Items) != 0 || page.NearestKm == nil || *page.NearestKm < 40 || *page.NearestKm > 50 || *page.Total != 0 {
		t.Errorf("arrampicata near Lecco: %q, nearest %v km, want none within 20 km and Milano about 45 km away", titles(page), page.NearestKm)
	}
}

// Across the whole country, titles that match are ranked first and the
// rest is read only when needed: paging through gives every result once,
// the passing mentions after the title matches.
func TestSearchTitleMatchesFirst(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Associazione Respiro", lecco, true)
	for i := range 24 {
		catalogtest.Offering(t, f.svc, staff, fmt.Sprintf("Yoga livello %d", i), "sport", lecco, 1000)
	}
	mention := catalogtest.Offering(t, f.svc, staff, "Ginnastica dolce", "sport", lecco, 1000)
	if _, err := f.dbx.Exec(`UPDATE offerings SET description = 'Con esercizi presi dallo yoga' WHERE id = $1`, mention); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for range 5 {
		page := mustSearch(t, f.svc, catalog.SearchQuery{Text: "yoga", Limit: 10, Cursor: cursor})
		got = append(got, titles(page)...)
		if cursor = page.NextCursor; cursor == "" {
			break
		}
	}
	if len(got) != 25 || got[24] != "Ginnastica dolce" || len(slices.Compact(sorted(got))) != 25 {
		t.Fatalf("yoga, paged by 10: %d results %q, want 25 once each, the mention last", len(got), got)
	}
}

// Nearest first reads only the nearest offerings from the index: many
// offerings at one address (the same distance) across the edge of that
// read still page through exactly once each, nearest first.
func TestSearchByDistancePagesThroughOneAddress(t *testing.T) {
	f := newFixture(t)
	p := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Tutto Qui", lecco, true)
	want := map[string]bool{}
	for i := range 17 {
		title := fmt.Sprintf("Lezione di yoga %02d", i)
		catalogtest.Offering(t, f.svc, p, title, "sport", lecco, 1000)
		want[title] = true
	}
	for _, title := range []string{"Yoga a Valmadrera", "Yoga a Merate"} {
		code := map[string]string{"Yoga a Valmadrera": valmadrera, "Yoga a Merate": merate}[title]
		catalogtest.Offering(t, f.svc, p, title, "sport", code, 1000)
		want[title] = true
	}
	near := catalog.LatLon{Lat: 45.85589, Lon: 9.39704}
	for _, text := range []string{"", "yoga"} {
		seen := map[string]bool{}
		prev, cursor := -1.0, ""
		for pages := 0; ; pages++ {
			if pages > 10 {
				t.Fatal("paging does not end")
			}
			page := mustSearch(t, f.svc, catalog.SearchQuery{Text: text, Near: &near, RadiusKm: 30, Sort: catalog.SortDistance, Limit: 2, Cursor: cursor})
			for _, o := range page.Items {
				if seen[o.Title] || *o.DistanceKm < prev {
					t.Fatalf("%q: %s again or out of order (%.3f km after %.3f)", text, o.Title, *o.DistanceKm, prev)
				}
				seen[o.Title], prev = true, *o.DistanceKm
			}
			if cursor = page.NextCursor; cursor == "" {
				break
			}
		}
		if len(seen) != len(want) {
			t.Errorf("%q: paged through %d offerings, want %d", text, len(seen), len(want))
		}
	}
}
