package catalog_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/seed"
)

// qualityCase is what an employee in Lecco types into the search box, in
// their own words, and what they hope to see first: one of want (titles of
// the demo catalogue), or an offering of provider.
type qualityCase struct {
	q        string
	want     []string
	provider string
}

// qualityTable is written from the employee's side: everyday words, a
// trade for the service, a condition for the care, an object for the
// errand, typos, joined and split words, provider names. It is a sample of
// how people ask, not a list the synonyms were written from; the platform
// checks search with queries of its own as well.
var qualityTable = []qualityCase{
	// children
	{q: "babysitter", want: []string{"Babysitter a domicilio", "Baby sitter per emergenze"}},
	{q: "baby sitter", want: []string{"Babysitter a domicilio", "Baby sitter per emergenze"}},
	{q: "babysiter", want: []string{"Babysitter a domicilio", "Baby sitter per emergenze"}},
	{q: "tata", want: []string{"Baby sitter per emergenze", "Babysitter a domicilio"}},
	{q: "bimbo con la febbre", want: []string{"Baby sitter per emergenze", "Babysitter a domicilio"}},
	{q: "asilo nido", want: []string{"Micronido part-time"}},
	{q: "nido per bimbi piccoli", want: []string{"Micronido part-time"}},
	{q: "ludoteca", want: []string{"Spazio gioco genitori e bambini"}},
	{q: "aiuto con i compiti", want: []string{"Aiuto compiti medie", "Doposcuola per la scuola primaria"}},
	{q: "dopo scuola", want: []string{"Doposcuola per la scuola primaria"}},
	{q: "ripetizioni di matematica", want: []string{"Ripetizioni di matematica e inglese"}},
	{q: "figlio dislessico", want: []string{"Metodo di studio per ragazzi con DSA"}},
	{q: "campo estivo", want: []string{"Centro estivo in oratorio", "Campus estivo di vela sul lago", "Settimana in montagna in Valsassina"}},
	{q: "grest", want: []string{"Centro estivo in oratorio"}},
	{q: "vela ragazzi estate", want: []string{"Campus estivo di vela sul lago"}},
	// elderly parents
	{q: "badante", want: []string{"Ricerca e affiancamento badante"}},
	{q: "badante per mia madre", want: []string{"Ricerca e affiancamento badante"}},
	{q: "assistenza nonni a casa", want: []string{"Assistenza domiciliare anziani"}},
	{q: "nonna con alzheimer", want: []string{"Centro diurno per anziani", "Gruppo di sostegno per chi assiste"}},
	{q: "casa di riposo", want: []string{"Ricoveri di sollievo", "Centro diurno per anziani"}},
	{q: "aiuto per chi assiste un genitore", want: []string{"Sportello per caregiver familiari", "Gruppo di sostegno per chi assiste"}},
	// health
	{q: "fisioterapista", want: []string{"Fisioterapia a domicilio", "Riabilitazione sportiva"}},
	{q: "fisoterapia", want: []string{"Fisioterapia a domicilio", "Riabilitazione sportiva"}},
	{q: "mal di schiena", want: []string{"Ginnastica posturale in piccoli gruppi"}},
	{q: "operato al ginocchio", want: []string{"Riabilitazione sportiva"}},
	{q: "massaggio", want: []string{"Linfodrenaggio e massoterapia"}},
	{q: "psicologo", want: []string{"Colloqui con lo psicologo"}},
	{q: "psicolgo", want: []string{"Colloqui con lo psicologo"}},
	{q: "ansia da lavoro", want: []string{"Colloqui con lo psicologo"}},
	{q: "supporto psicologico", want: []string{"Colloqui con lo psicologo", "Consulenza per genitori", "Gruppo di sostegno per chi assiste"}},
	{q: "ci stiamo separando", want: []string{"Mediazione familiare"}},
	// courses and leisure
	{q: "corso di inglese", want: []string{"Corso di inglese per adulti"}},
	{q: "lezioni inglese lecco", want: []string{"Corso di inglese per adulti", "Ripetizioni di matematica e inglese"}},
	{q: "spid", want: []string{"Informatica di base e SPID"}},
	{q: "usare il computer", want: []string{"Informatica di base e SPID"}},
	{q: "italiano per stranieri", want: []string{"Italiano per stranieri"}},
	{q: "pronto soccorso bambini", want: []string{"Primo soccorso pediatrico"}},
	{q: "piscina per bambini", want: []string{"Corso di nuoto per bambini"}},
	{q: "corso yoga", want: []string{"Yoga e pilates"}},
	{q: "pilates", want: []string{"Yoga e pilates"}},
	{q: "palestra", want: []string{"Abbonamento palestra"}},
	{q: "scalare", want: []string{"Arrampicata in falesia"}},
	{q: "camminate in gruppo", want: []string{"Gruppi di cammino"}},
	{q: "chitarra", want: []string{"Lezioni di musica"}},
	{q: "biglietti teatro", want: []string{"Abbonamento al teatro"}},
	{q: "fotografia", want: []string{"Laboratorio di fotografia"}},
	// errands
	{q: "spesa a casa", want: []string{"Spesa a domicilio"}},
	{q: "commissioni", want: []string{"Maggiordomo aziendale"}},
	{q: "pagare bollette", want: []string{"Maggiordomo aziendale"}},
	{q: "orlo ai pantaloni", want: []string{"Piccole riparazioni sartoriali"}},
	{q: "stirare camicie", want: []string{"Stireria con ritiro in azienda", "Lavanderia e stireria a domicilio"}},
	{q: "lavare il piumone", want: []string{"Lavaggio tende e piumoni"}},
	{q: "tagliando macchina", want: []string{"Revisione e lavaggio auto"}},
	{q: "abbonamento pullman", want: []string{"Abbonamento annuale autobus"}},
	{q: "treno per milano", want: []string{"Abbonamento treno Lecco-Milano"}},
	{q: "traghetto", want: []string{"Abbonamento battelli del lago"}},
	// providers by name
	{q: "germoglio", provider: "Cooperativa sociale Il Germoglio"},
	{q: "ponte sport", provider: "ASD Ponte Sport"},
	{q: "universita popolare", provider: "Università Popolare del Lario"},
	{q: "lavanderia verde", provider: "Lavanderia Verde"},
}

// TestSearchQuality runs the quality table over the demo catalogue twice:
// as an employee who gives no place (all offerings, by relevance) and as one
// near Lecco (default radius and order). A query passes when its first
// result is one it hopes for. The score must stay at or above 90%; it is
// reported in docs/benchmarks.md.
func TestSearchQuality(t *testing.T) {
	dbx := dbtest.Open(t)
	if _, err := seed.Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	orgs := identity.New(dbx, identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}})
	svc := catalog.NewService(dbx, nil, orgs)
	lecco := catalog.LatLon{Lat: 45.85589, Lon: 9.39704}
	passed, total := 0, 0
	var failures []string
	for _, c := range qualityTable {
		for _, near := range []*catalog.LatLon{nil, &lecco} {
			page, err := svc.Search(ctx, catalog.SearchQuery{Text: c.q, Near: near})
			if err != nil {
				t.Fatalf("%q: %v", c.q, err)
			}
			total++
			ok := len(page.Items) > 0 && (slices.Contains(c.want, page.Items[0].Title) ||
				c.provider != "" && page.Items[0].ProviderName == c.provider)
			if ok {
				passed++
				continue
			}
			where := "anywhere"
			if near != nil {
				where = "near Lecco"
			}
			got := titles(page)
			if len(got) > 3 {
				got = got[:3]
			}
			failures = append(failures, fmt.Sprintf("%q %s: got %q", c.q, where, got))
		}
	}
	score := float64(passed) / float64(total) * 100
	t.Logf("search quality: %d of %d (%.1f%%) over %d queries", passed, total, score, len(qualityTable))
	if len(failures) > 0 {
		t.Logf("misses:\n  %s", strings.Join(failures, "\n  "))
	}
	if score < 90 {
		t.Errorf("search quality %.1f%% is below 90%%", score)
	}
}
