package seed

import (
	"context"
	"testing"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// The demo catalogue loads, loads only once, and is searchable: a visitor
// near Lecco finds babysitting, and nothing of a provider awaiting approval.
func TestCatalogSeed(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	if _, err := Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	if n, err := Run(ctx, dbx); err != nil || n != 0 {
		t.Fatalf("second run loaded %d sets (%v), want none", n, err)
	}
	var providers, offerings, categories int
	if err := dbx.Get(&providers, `SELECT count(*) FROM providers`); err != nil {
		t.Fatal(err)
	}
	if err := dbx.Get(&offerings, `SELECT count(*) FROM offerings`); err != nil {
		t.Fatal(err)
	}
	if err := dbx.Get(&categories, `SELECT count(DISTINCT category) FROM offerings`); err != nil {
		t.Fatal(err)
	}
	if providers != 30 || offerings != 150 || categories != len(catalog.Categories()) {
		t.Fatalf("%d providers, %d offerings in %d categories", providers, offerings, categories)
	}
	svc := catalog.NewService(dbx, nil, nil) // search needs neither Stripe nor organisations
	lecco := catalog.LatLon{Lat: 45.85589, Lon: 9.39704}
	page, err := svc.Search(ctx, catalog.SearchQuery{Text: "baby sitter", Near: &lecco, RadiusKm: 30, Sort: catalog.SortDistance})
	if err != nil || len(page.Items) == 0 {
		t.Fatalf("babysitting near Lecco: %v %v", page.Items, err)
	}
	for _, o := range page.Items {
		if o.ProviderName == "Cooperativa Sociale Nuovi Orizzonti" {
			t.Fatalf("an unapproved provider's offering was found: %s", o.Title)
		}
	}
}
