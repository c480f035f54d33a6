package catalog_test

import (
	"bytes"
	"context"
	"image"
	"image/color"
	"image/png"
	"slices"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
)

// ISTAT codes of municipalities the tests use.
const (
	lecco      = "097042"
	merate     = "097048"
	oggiono    = "097057"
	valmadrera = "097083"
	como       = "013075"
	milano     = "015146"
)

type fixture struct {
	dbx   *sqlx.DB
	svc   *catalog.Service
	admin *auth.Principal
}

func newFixture(t *testing.T) fixture {
	dbx := dbtest.Open(t)
	// identity answers the catalogue's question about organisation kinds,
	// as it does in the app.
	orgs := identity.New(dbx, identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}})
	return fixture{dbx: dbx, svc: catalog.NewService(dbx, nil, orgs), admin: catalogtest.Admin(t, dbx)}
}

var ctx = context.Background()

func titles(p catalog.SearchPage) []string {
	var out []string
	for _, o := range p.Items {
		out = append(out, o.Title)
	}
	return out
}

func mustSearch(t *testing.T, svc *catalog.Service, q catalog.SearchQuery) catalog.SearchPage {
	t.Helper()
	page, err := svc.Search(ctx, q)
	if err != nil {
		t.Fatalf("search %+v: %v", q, err)
	}
	return page
}

func wantCode(t *testing.T, err error, code apperr.Code, field string) {
	t.Helper()
	if !apperr.Is(err, code) {
		t.Fatalf("got error %v, want code %s", err, code)
	}
	if field != "" {
		var ae *apperr.Error
		if !asAppErr(err, &ae) || ae.Fields["field"] != field {
			t.Fatalf("error %v does not name field %q", err, field)
		}
	}
}

func asAppErr(err error, target **apperr.Error) bool {
	ae, ok := err.(*apperr.Error)
	if ok {
		*target = ae
	}
	return ok
}

func TestItalianSearch(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale La Vela", lecco, true)
	catalogtest.Offering(t, f.svc, staff, "Fisioterapia a domicilio", "physiotherapy", lecco, 4500)
	catalogtest.Offering(t, f.svc, staff, "Servizio di babysitter serale", "childcare", lecco, 1200)
	catalogtest.Offering(t, f.svc, staff, "Attività motoria per la terza età", "sport", lecco, 800)
	catalogtest.Offering(t, f.svc, staff, "Corso di inglese per adulti", "courses", lecco, 2000)
	catalogtest.Offering(t, f.svc, staff, "Stireria con ritiro in azienda", "laundry", lecco, 1500)

	cases := []struct {
		q    string
		want string
	}{
		{"fisioterapista", "Fisioterapia a domicilio"},
		{"baby sitter", "Servizio di babysitter serale"},
		{"baby-sitter", "Servizio di babysitter serale"},
		{"attivita motorie", "Attività motoria per la terza età"},
		{"ETÀ", "Attività motoria per la terza età"},
		{"corsi inglese", "Corso di inglese per adulti"},
		{"stiro", "Stireria con ritiro in azienda"},  // category synonym
		{"fisioterapia", "Fisioterapia a domicilio"}, // the plain word still works
		{"fisoterapia", "Fisioterapia a domicilio"},  // a typo: trigram similarity
		{"tata", "Servizio di babysitter serale"},    // category keywords
	}
	for _, c := range cases {
		page := mustSearch(t, f.svc, catalog.SearchQuery{Text: c.q})
		got := titles(page)
		if len(got) == 0 || got[0] != c.want {
			t.Errorf("search %q: got %q, want %q first", c.q, got, c.want)
		}
	}
	if got := titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "pizzeria"})); len(got) != 0 {
		t.Errorf("search pizzeria found %q, want nothing", got)
	}
	// Category filter narrows a text search.
	if got := titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "domicilio", Category: "childcare"})); len(got) != 0 {
		t.Errorf("domicilio in childcare found %q", got)
	}
}

func TestSearchByDistance(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Associazione Km0", lecco, true)
	places := map[string]string{"Milano": milano, "Merate": merate, "Lecco": lecco, "Como": como, "Valmadrera": valmadrera, "Oggiono": oggiono}
	for name, code := range places {
		catalogtest.Offering(t, f.svc, staff, "Doposcuola a "+name, "after_school", code, 1000)
	}
	lc, err := f.svc.Place(ctx, lecco)
	if err != nil {
		t.Fatal(err)
	}
	near := catalog.LatLon{Lat: lc.Lat, Lon: lc.Lon}
	page := mustSearch(t, f.svc, catalog.SearchQuery{Near: &near, RadiusKm: 100})
	want := []string{"Doposcuola a Lecco", "Doposcuola a Valmadrera", "Doposcuola a Oggiono", "Doposcuola a Merate", "Doposcuola a Como", "Doposcuola a Milano"}
	if got := titles(page); !slices.Equal(got, want) {
		t.Fatalf("by distance from Lecco: got %q, want %q", got, want)
	}
	prev := -1.0
	for _, o := range page.Items {
		exact := catalog.DistanceKm(near, catalog.LatLon{Lat: o.Lat, Lon: o.Lon})
		if o.DistanceKm == nil || *o.DistanceKm < prev || abs(*o.DistanceKm-exact) > 0.5 {
			t.Fatalf("%s: distance %v km, haversine %.1f km, previous %.1f", o.Title, o.DistanceKm, exact, prev)
		}
		prev = *o.DistanceKm
	}
	// Within 20 km of Lecco: Milano (~45 km) and Como (~24 km) are out.
	page = mustSearch(t, f.svc, catalog.SearchQuery{Near: &near, RadiusKm: 20, Text: "doposcuola", Sort: catalog.SortDistance})
	if got := titles(page); !slices.Equal(got, want[:4]) {
		t.Fatalf("within 20 km: got %q, want %q", got, want[:4])
	}
	// Without a radius, a search near a point keeps to the default one.
	page = mustSearch(t, f.svc, catalog.SearchQuery{Near: &near})
	if got := titles(page); !slices.Equal(got, want[:4]) {
		t.Fatalf("near Lecco without a radius: got %q, want the %d within %d km", got, 4, catalog.DefaultRadiusKm)
	}
	// An order that cannot apply falls back to the default one instead of failing.
	page = mustSearch(t, f.svc, catalog.SearchQuery{Text: "doposcuola", Sort: catalog.SortDistance})
	if len(page.Items) != len(want) {
		t.Fatalf("by distance without a point: %q", titles(page))
	}
	page = mustSearch(t, f.svc, catalog.SearchQuery{Near: &near, Sort: catalog.SortRelevance})
	if got := titles(page); !slices.Equal(got, want[:4]) {
		t.Fatalf("by relevance without text: got %q, want nearest first", got)
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func TestPagination(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Paginata", lecco, true)
	for i := 0; i < 7; i++ {
		catalogtest.Offering(t, f.svc, staff, "Lezione di nuoto "+string(rune('A'+i)), "sport", lecco, int64(1000+100*(i%3)))
	}
	for _, sort := range []catalog.Sort{catalog.SortPrice, catalog.SortRelevance} {
		seen := map[uuid.UUID]bool{}
		cursor := ""
		var prices []int64
		for pages := 0; ; pages++ {
			if pages > 5 {
				t.Fatal("pagination does not end")
			}
			page := mustSearch(t, f.svc, catalog.SearchQuery{Text: "nuoto", Sort: sort, Limit: 3, Cursor: cursor})
			for _, o := range page.Items {
				if seen[o.ID] {
					t.Fatalf("sort %s: %s twice", sort, o.Title)
				}
				seen[o.ID] = true
				prices = append(prices, o.PriceCents)
			}
			if page.NextCursor == "" {
				break
			}
			cursor = page.NextCursor
		}
		if len(seen) != 7 {
			t.Fatalf("sort %s: paged through %d offerings, want 7", sort, len(seen))
		}
		if sort == catalog.SortPrice && !slices.IsSorted(prices) {
			t.Fatalf("prices not ascending: %v", prices)
		}
	}
	_, err := f.svc.Search(ctx, catalog.SearchQuery{Cursor: "garbage"})
	wantCode(t, err, apperr.Invalid, "cursor")
}

func TestHiddenOfferings(t *testing.T) {
	f := newFixture(t)
	approved := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Approvata", lecco, true)
	pending := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Impresa In Attesa", lecco, false)
	paused := catalogtest.Offering(t, f.svc, approved, "Yoga in pausa", "sport", lecco, 1000)
	if _, err := f.svc.SetOfferingStatus(ctx, approved, paused, catalog.OfferingPaused); err != nil {
		t.Fatal(err)
	}
	unapproved := catalogtest.Offering(t, f.svc, pending, "Yoga non approvato", "sport", lecco, 1000)
	visible := catalogtest.Offering(t, f.svc, approved, "Yoga visibile", "sport", lecco, 1000)

	lc, _ := f.svc.Place(ctx, lecco)
	near := catalog.LatLon{Lat: lc.Lat, Lon: lc.Lon}
	for _, q := range []catalog.SearchQuery{{Text: "yoga"}, {Category: "sport"}, {Near: &near}, {}} {
		if got := titles(mustSearch(t, f.svc, q)); !slices.Equal(got, []string{"Yoga visibile"}) {
			t.Errorf("search %+v: got %q, want only the visible one", q, got)
		}
	}
	for _, id := range []uuid.UUID{paused, unapproved} {
		if _, err := f.svc.Offering(ctx, id); !apperr.Is(err, apperr.NotFound) {
			t.Errorf("public page of a hidden offering: %v, want not_found", err)
		}
	}
	if _, err := f.svc.Offering(ctx, visible); err != nil {
		t.Fatal(err)
	}
	// The owner still sees the paused one.
	if o, err := f.svc.ManagedOffering(ctx, approved, paused); err != nil || o.Status != catalog.OfferingPaused {
		t.Fatalf("owner's paused offering: %+v %v", o.Status, err)
	}
	// Once approved, the provider's offerings appear; rejecting hides them again.
	if _, err := f.svc.ReviewProvider(ctx, f.admin, pending.OrgID, true, ""); err != nil {
		t.Fatal(err)
	}
	if got := titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "yoga"})); len(got) != 2 {
		t.Fatalf("after approval: %q", got)
	}
	if _, err := f.svc.ReviewProvider(ctx, f.admin, pending.OrgID, false, ""); !apperr.Is(err, apperr.Invalid) {
		t.Fatalf("rejection without a note: %v", err)
	}
	if _, err := f.svc.ReviewProvider(ctx, f.admin, pending.OrgID, false, "Documenti mancanti"); err != nil {
		t.Fatal(err)
	}
	if got := titles(mustSearch(t, f.svc, catalog.SearchQuery{Text: "yoga"})); len(got) != 1 {
		t.Fatalf("after rejection: %q", got)
	}
}

func TestTenantIsolation(t *testing.T) {
	f := newFixture(t)
	a := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa A", lecco, true)
	b := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa B", lecco, true)
	employee := catalogtest.Employee(t, f.dbx)
	id := catalogtest.Offering(t, f.svc, a, "Doposcuola di A", "after_school", lecco, 1000)
	before, _ := f.svc.ManagedOffering(ctx, a, id)

	in := catalog.OfferingInput{Title: "Rubato", Category: "sport", PriceCents: 1, Unit: "hour", PlaceCode: lecco}
	jpeg := pngBytes(t, 10, 10)
	for _, c := range []struct {
		who  string
		p    *auth.Principal
		code apperr.Code
	}{{"another provider", b, apperr.NotFound}, {"an employee", employee, apperr.Forbidden}, {"nobody", nil, apperr.Unauthorized}} {
		_, err := f.svc.ManagedOffering(ctx, c.p, id)
		wantCode(t, err, c.code, "")
		_, err = f.svc.UpdateOffering(ctx, c.p, id, in)
		wantCode(t, err, c.code, "")
		_, err = f.svc.SetOfferingStatus(ctx, c.p, id, catalog.OfferingPaused)
		wantCode(t, err, c.code, "")
		_, err = f.svc.AddOfferingPhoto(ctx, c.p, id, jpeg)
		wantCode(t, err, c.code, "")
		_, err = f.svc.ProviderOfferings(ctx, c.p, a.OrgID)
		wantCode(t, err, c.code, "")
		_, err = f.svc.CreateOffering(ctx, c.p, a.OrgID, in, "")
		wantCode(t, err, c.code, "")
		_, err = f.svc.Provider(ctx, c.p, a.OrgID)
		wantCode(t, err, c.code, "")
		_, err = f.svc.SaveProfile(ctx, c.p, a.OrgID, catalog.ProfileInput{LegalName: "Preso", LegalForm: "association", FiscalCode: catalogtest.VAT(1), PlaceCode: lecco})
		wantCode(t, err, c.code, "")
		_, err = f.svc.ReviewProvider(ctx, c.p, a.OrgID, false, "no")
		if c.p != nil {
			wantCode(t, err, apperr.Forbidden, "")
		}
	}
	after, _ := f.svc.ManagedOffering(ctx, a, id)
	if after.Title != before.Title || after.Status != before.Status || after.PhotoID != nil || !after.UpdatedAt.Equal(before.UpdatedAt) {
		t.Fatalf("offering changed by others: before %+v after %+v", before, after)
	}
	list, err := f.svc.ProviderOfferings(ctx, b, b.OrgID)
	if err != nil || len(list) != 0 {
		t.Fatalf("B lists %d offerings (%v), want none of A's", len(list), err)
	}
	// A platform admin may act on any provider.
	if _, err := f.svc.SetOfferingStatus(ctx, f.admin, id, catalog.OfferingPaused); err != nil {
		t.Fatalf("admin pausing: %v", err)
	}
	// Only a provider organisation has a provider profile: a platform admin
	// giving one to a company, or to an organisation that does not exist,
	// gets not_found and nothing is written.
	profile := catalog.ProfileInput{LegalName: "Non un erogatore", LegalForm: "association", FiscalCode: catalogtest.VAT(2), PlaceCode: lecco}
	for _, org := range []uuid.UUID{employee.OrgID, uuid.New()} {
		_, err := f.svc.SaveProfile(ctx, f.admin, org, profile)
		wantCode(t, err, apperr.NotFound, "")
	}
	if n := count(t, f.dbx, `SELECT count(*) FROM providers WHERE legal_name = 'Non un erogatore'`); n != 0 {
		t.Fatalf("%d profiles written for organisations that are not providers", n)
	}
}

func TestRefusedInputChangesNothing(t *testing.T) {
	f := newFixture(t)
	org := catalogtest.Org(t, f.dbx, auth.OrgProvider, "Nuova Impresa")
	staff := catalogtest.User(t, f.dbx, org, auth.OrgProvider, auth.RoleProviderStaff)
	good := catalog.ProfileInput{LegalName: "Nuova Impresa srl", LegalForm: catalog.FormBusiness,
		VATNumber: catalogtest.VAT(42), FiscalCode: catalogtest.VAT(42), PlaceCode: lecco}
	badVAT := good
	badVAT.VATNumber = "12345678901" // check digit wrong
	_, err := f.svc.SaveProfile(ctx, staff, org, badVAT)
	wantCode(t, err, apperr.Invalid, "vat_number")
	badCF := good
	badCF.FiscalCode = "RSSMRA85T10A562T"
	_, err = f.svc.SaveProfile(ctx, staff, org, badCF)
	wantCode(t, err, apperr.Invalid, "fiscal_code")
	badPlace := good
	badPlace.PlaceCode = "999999"
	_, err = f.svc.SaveProfile(ctx, staff, org, badPlace)
	wantCode(t, err, apperr.Invalid, "place_code")
	if n := count(t, f.dbx, `SELECT count(*) FROM providers`); n != 0 {
		t.Fatalf("%d providers saved from invalid input", n)
	}
	if _, err := f.svc.SaveProfile(ctx, staff, org, good); err != nil {
		t.Fatal(err)
	}
	// The same VAT number cannot register twice.
	org2 := catalogtest.Org(t, f.dbx, auth.OrgProvider, "Copia")
	staff2 := catalogtest.User(t, f.dbx, org2, auth.OrgProvider, auth.RoleProviderStaff)
	_, err = f.svc.SaveProfile(ctx, staff2, org2, good)
	wantCode(t, err, apperr.Invalid, "vat_number")

	in := catalog.OfferingInput{Title: "Pulizie", Category: "concierge", PriceCents: -500, Unit: "hour", PlaceCode: lecco}
	_, err = f.svc.CreateOffering(ctx, staff, org, in, "")
	wantCode(t, err, apperr.Invalid, "price_cents")
	in.PriceCents, in.Category = 500, "gioielleria"
	_, err = f.svc.CreateOffering(ctx, staff, org, in, "")
	wantCode(t, err, apperr.Invalid, "category")
	in.Category, in.Photo = "concierge", []byte("<html>not a photo</html>")
	_, err = f.svc.CreateOffering(ctx, staff, org, in, "")
	wantCode(t, err, apperr.Invalid, "photo")
	in.Photo = nil
	if n := count(t, f.dbx, `SELECT count(*) FROM offerings`); n != 0 {
		t.Fatalf("%d offerings saved from invalid input", n)
	}
	in.Category = "concierge"
	o, err := f.svc.CreateOffering(ctx, staff, org, in, "key-1")
	if err != nil {
		t.Fatal(err)
	}
	// A retry with the same key returns the same offering.
	again, err := f.svc.CreateOffering(ctx, staff, org, in, "key-1")
	if err != nil || again.ID != o.ID {
		t.Fatalf("retry made %v (%v), want %v", again.ID, err, o.ID)
	}
	in.PriceCents = -1
	_, err = f.svc.UpdateOffering(ctx, staff, o.ID, in)
	wantCode(t, err, apperr.Invalid, "price_cents")

	// Uploads: not an image, too large, damaged.
	for _, data := range map[string][]byte{
		"text":      []byte("%PDF-1.4 this is not an image"),
		"too large": append(pngBytes(t, 20, 20), make([]byte, catalog.MaxPhotoBytes)...),
		"damaged":   pngBytes(t, 20, 20)[:60],
		"empty":     nil,
	} {
		_, err := f.svc.AddOfferingPhoto(ctx, staff, o.ID, data)
		wantCode(t, err, apperr.Invalid, "photo")
	}
	if n := count(t, f.dbx, `SELECT count(*) FROM catalog_photos`); n != 0 {
		t.Fatalf("%d photos stored from refused uploads", n)
	}
	after, _ := f.svc.ManagedOffering(ctx, staff, o.ID)
	if after.PriceCents != 500 || after.PhotoID != nil {
		t.Fatalf("offering changed by refused input: %+v", after)
	}
}

func count(t *testing.T, dbx *sqlx.DB, q string) int {
	t.Helper()
	var n int
	if err := dbx.Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}

func pngBytes(t testing.TB, w, h int) []byte {
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := 0; x < w; x++ {
		for y := 0; y < h; y++ {
			img.Set(x, y, color.RGBA{uint8(x), uint8(y), 200, 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestPhotoUpload(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Foto Coop", lecco, true)
	id := catalogtest.Offering(t, f.svc, staff, "Corso di fotografia", "courses", lecco, 3000)
	ph, err := f.svc.AddOfferingPhoto(ctx, staff, id, pngBytes(t, 2400, 1600))
	if err != nil {
		t.Fatal(err)
	}
	stored, err := f.svc.Photo(ctx, ph.ID)
	if err != nil {
		t.Fatal(err)
	}
	img, format, err := image.Decode(bytes.NewReader(stored.Data))
	if err != nil || format != "jpeg" || img.Bounds().Dx() != 1200 || img.Bounds().Dy() != 800 {
		t.Fatalf("stored photo: %s %v %v", format, img.Bounds(), err)
	}
	o, _ := f.svc.Offering(ctx, id)
	if o.PhotoID == nil || *o.PhotoID != ph.ID {
		t.Fatalf("offering photo %v, want %v", o.PhotoID, ph.ID)
	}
}

func TestPlaces(t *testing.T) {
	f := newFixture(t)
	// No postcodes are shipped (see docs/places.md); an operator who loads
	// them gets postcode search.
	if _, err := f.dbx.Exec(`UPDATE places SET postcodes = '{23900}' WHERE code = $1`, lecco); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]string{"lecco": "Lecco", "23900": "Lecco", "Barzano": "Barzanò", "calolzio": "Calolziocorte",
		"Milano": "Milano", "uggiate con ronago": "Uggiate con Ronago", "Lecco ": "Lecco", "paderno d'adda": "Paderno d'Adda"} {
		got, err := f.svc.FindPlaces(ctx, q, 5)
		if err != nil || len(got) == 0 || got[0].Name != want {
			t.Errorf("places %q: %v %v, want %s first", q, got, err, want)
		}
	}
	var n int
	if err := f.dbx.Get(&n, `SELECT count(*) FROM places WHERE province_code = 'LC'`); err != nil || n != 84 {
		t.Fatalf("%d municipalities in the province of Lecco (%v), want 84", n, err)
	}
	if err := f.dbx.Get(&n, `SELECT count(*) FROM places`); err != nil || n < 7800 {
		t.Fatalf("%d municipalities in Italy (%v)", n, err)
	}
}
