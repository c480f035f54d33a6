package webui_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The provider's profile and offering forms show every mistake at once,
// each next to its field, the times' ones in their rows, and save
// nothing.
func TestProviderFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	staff := catalogtest.Provider(t, a.DB, a.Catalog, catalogtest.Admin(t, a.DB), "Tutto Sbagliato", "097042", true)
	b := k.Browser(a.URL(), k.User(identitytest.Org{ID: staff.OrgID, Kind: auth.OrgProvider}, auth.RoleProviderStaff))

	res, page := b.PostForm("/erogatore/profilo", url.Values{"legal_name": {"X"}, "legal_form": {"social_cooperative"}, "vat_number": {"123"},
		"fiscal_code": {"nope"}, "town": {"Qzxwvk"}, "email": {"non-una-email"}, "website": {"www.example.com"}})
	if res.StatusCode != 422 {
		t.Fatalf("profile form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "profile", page, "legal_name", "vat_number", "fiscal_code", "town", "email", "website")

	res, page = b.PostForm("/erogatore/offerte/nuova", url.Values{"title": {"Y"}, "category": {"sport"}, "price": {"dodici"}, "unit": {"hour"},
		"town": {"Qzxwvk"}, "status": {"active"}, "slot_date_0": {"2030-12-01"}, "slot_time_0": {""}, "slot_minutes_0": {"60"}, "slot_places_0": {"5"}})
	if res.StatusCode != 422 {
		t.Fatalf("offering form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "offering", page, "title", "price", "town")
	if !strings.Contains(page, `<p class="field-error" id="slots-error">`) {
		t.Error("offering: the times are not said to need fixing")
	}
	if !regexp.MustCompile(`id="slot-0-time"[^>]*aria-invalid="true"`).MatchString(page) || !strings.Contains(page, "Scegli l&#39;ora di inizio.") {
		t.Error("offering: the time missing from the first row is not marked in its row")
	}
	var n int
	if err := a.DB.Get(&n, `SELECT count(*) FROM offerings WHERE provider_id = $1`, staff.OrgID); err != nil || n != 0 {
		t.Fatalf("refused forms saved %d offerings (%v)", n, err)
	}
}
