package identity_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The organisation, password and invitation forms show every mistake at
// once, each next to its field, and keep what was typed (never a
// password); a refused invitation form spends nothing.
func TestFormsShowEveryErrorAtOnce(t *testing.T) {
	t.Parallel()
	a, k := start(t)

	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	res, page := k.Browser(a.URL(), admin).PostForm("/admin/organisations", url.Values{"name": {strings.Repeat("Ditta ", 40)}, "kind": {"cooperativa"}})
	if res.StatusCode != 400 {
		t.Fatalf("organisation form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "organisation", page, "org-name", "kind")
	if !strings.Contains(page, "Scrivi il nome dell&#39;organizzazione") || !strings.Contains(page, `value="Ditta Ditta`) {
		t.Error("organisation: the name's message speaks of a person, or the name typed was lost")
	}

	emp := k.As(auth.OrgCompany, auth.RoleEmployee)
	res, page = k.Browser(a.URL(), emp).PostForm("/account/password", url.Values{"current_password": {"sbagliata!"}, "password": {"corta"}})
	if res.StatusCode != 400 {
		t.Fatalf("password form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "password", page, "current_password", "password")

	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	if res, _ := k.Browser(a.URL(), hr).PostForm("/users/invite", url.Values{"email": {"ospite.moduli@example.com"}, "name": {"Ospite"}, "role": {"employee"}}); res.StatusCode != 303 {
		t.Fatalf("invite: %d", res.StatusCode)
	}
	token := strings.SplitN(lastLink(t, a.DB, "ospite.moduli@example.com"), "token=", 2)[1]
	b := k.Browser(a.URL(), nil)
	long := strings.Repeat("Nome ", 50)
	res, page = b.PostForm("/invite", url.Values{"token": {token}, "name": {long}, "password": {"corta"}, "password2": {"diversa"}})
	if res.StatusCode != 400 {
		t.Fatalf("invitation form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "invitation", page, "name", "password", "password2")
	if !strings.Contains(page, `value="`+strings.TrimSpace(long)) && !strings.Contains(page, `value="`+long) {
		t.Error("invitation: the name typed was lost")
	}
	if strings.Contains(page, `value="corta"`) {
		t.Error("invitation: the password was sent back")
	}
	res, page = b.PostForm("/invite", url.Values{"token": {token}, "name": {long}, "password": {"una password lunga e buona"}, "password2": {"una password lunga e buona"}})
	if res.StatusCode != 400 {
		t.Fatalf("invitation form with only the name wrong: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "invitation", page, "name")
	if res, _ := b.PostForm("/invite", url.Values{"token": {token}, "name": {"Ospite Moduli"}, "password": {"una password lunga e buona"}, "password2": {"una password lunga e buona"}}); res.StatusCode != 303 {
		t.Fatalf("the corrected invitation form: %d (the link was spent by a refusal?)", res.StatusCode)
	}

	res, page = b.PostForm("/password/reset", url.Values{"token": {"qualsiasi"}, "password": {"corta"}, "password2": {"altra"}})
	if res.StatusCode != 400 {
		t.Fatalf("reset form: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "reset", page, "password", "password2")
}
