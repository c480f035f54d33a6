package catalog

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// A search text's expansion is reused, but a changed synonym reaches
// searches within synonymsCheckEvery, and a search that runs too long
// answers unavailable rather than a database error.
func TestSearchExpansionsFollowSynonyms(t *testing.T) {
	ctx := context.Background()
	dbx := dbtest.Open(t)
	dbx.MustExec(`INSERT INTO organisations (id, kind, name) VALUES ('00000000-0000-0000-0000-00000000000a', 'provider', 'Navigazione Lario')`)
	dbx.MustExec(`INSERT INTO providers (organisation_id, legal_name, legal_form, fiscal_code, place_code, status)
		VALUES ('00000000-0000-0000-0000-00000000000a', 'Navigazione Lario', 'association', '00000000001', '097042', 'approved')`)
	for _, o := range [][2]string{{"Abbonamento battelli del lago", "transport_pass"}, {"Corso di nuoto per bambini", "sport"}} {
		dbx.MustExec(`INSERT INTO offerings (provider_id, title, category, price_cents, unit, place_code, lat, lon)
			VALUES ('00000000-0000-0000-0000-00000000000a', $1, $2, 1000, 'hour', '097042', 45.85589, 9.39704)`, o[0], o[1])
	}
	svc := NewService(dbx, nil, nil)
	clock := time.Now()
	svc.expansions.now = func() time.Time { return clock }
	first := func() string {
		t.Helper()
		page, err := svc.Search(ctx, SearchQuery{Text: "traghetto"})
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Items) == 0 {
			return ""
		}
		return page.Items[0].Title
	}
	if got := first(); got != "Abbonamento battelli del lago" {
		t.Fatalf("traghetto: first %q, want the lake's boats through the synonym", got)
	}
	if _, err := dbx.Exec(`UPDATE catalog_synonyms SET related = 'nuoto' WHERE term = 'traghetto'`); err != nil {
		t.Fatal(err)
	}
	if got := first(); got != "Abbonamento battelli del lago" {
		t.Fatalf("traghetto right after the change: %q, want the cached expansion", got)
	}
	clock = clock.Add(synonymsCheckEvery)
	if got := first(); got != "Corso di nuoto per bambini" {
		t.Fatalf("traghetto %s after the change: first %q, want the new synonym's swimming course", synonymsCheckEvery, got)
	}

	deadline, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-deadline.Done()
	_, err := search(deadline, dbx, svc.expansions, SearchQuery{Text: "yoga", Limit: 20, Sort: SortRelevance})
	var ae *apperr.Error
	if !errors.As(err, &ae) || ae.Code != apperr.Unavailable {
		t.Fatalf("a search past its time: %v, want unavailable", err)
	}
}
