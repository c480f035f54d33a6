package identity_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/auth"
)

var mailLink = regexp.MustCompile(`https?://\S+/invite\?token=\S+`)

// A platform admin creates an organisation on the web, lands on its page,
// and invites its first administrator there: only the roles of that kind
// of organisation are offered, a role of another kind is refused with the
// form kept, and the invitee's link names the new organisation.
func TestPlatformAdminInvitesFirstAdminFromOrganisationPage(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	b := k.Browser(a.URL(), admin)

	res, _ := b.PostForm("/admin/organisations", url.Values{"name": {"Consorzio Aurora"}, "kind": {"fund"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.HasPrefix(loc, "/admin/organisations/") {
		t.Fatalf("creating the organisation: %d %s, want its page", res.StatusCode, loc)
	}
	orgID := strings.TrimPrefix(loc, "/admin/organisations/")
	res, page := b.Get(loc)
	if res.StatusCode != 200 || !strings.Contains(page, "Consorzio Aurora") || !strings.Contains(page, "Nessuno ancora.") {
		t.Fatalf("organisation page: %d", res.StatusCode)
	}
	for _, r := range auth.KindRoles[auth.OrgFund] {
		if !strings.Contains(page, `<option value="`+string(r)+`"`) {
			t.Errorf("the form does not offer %s", r)
		}
	}
	if !strings.Contains(page, `value="fund_manager" selected`) {
		t.Error("the fund's administrator role is not preselected")
	}
	if strings.Contains(page, `value="employee"`) || strings.Contains(page, `value="company_admin"`) {
		t.Error("the form offers company roles for a fund")
	}
	if strings.Contains(page, `action="/users/import"`) {
		t.Error("the CSV upload (own organisation only) is offered on another organisation's page")
	}
	// The list of organisations links to the page.
	if _, list := b.Get("/admin/organisations"); !strings.Contains(list, `href="`+loc+`"`) || !strings.Contains(list, "Nome dell&#39;organizzazione") ||
		!strings.Contains(list, ">Attiva<") || strings.Contains(list, ">active<") {
		t.Error("the organisations list does not link to the organisation's page, or does not name its columns and statuses in Italian")
	}

	// A company role cannot be given in a fund: refused, form kept, nobody invited.
	form := url.Values{"email": {"marta.gallo@example.com"}, "name": {"Marta Gallo"}, "role": {"company_admin"}, "form_key": {"k1"}}
	res, page = b.PostForm(loc+"/invite", form)
	if res.StatusCode != 400 || !strings.Contains(page, "marta.gallo@example.com") || !strings.Contains(page, `role="alert"`) {
		t.Fatalf("company role in a fund: %d, want 400 with the form kept", res.StatusCode)
	}
	if n := mailsTo(t, a, "marta.gallo@example.com"); n != 0 {
		t.Fatalf("a refused invitation mailed %d times", n)
	}

	form.Set("role", "fund_manager")
	form.Set("form_key", "k2")
	for i := 0; i < 2; i++ { // the second is a double submission
		res, _ = b.PostForm(loc+"/invite", form)
		if res.StatusCode != 303 || res.Header.Get("Location") != loc+"?invited=1" {
			t.Fatalf("inviting (submission %d): %d %s", i+1, res.StatusCode, res.Header.Get("Location"))
		}
	}
	_, page = b.Get(loc + "?invited=1")
	if !strings.Contains(page, "Invito inviato.") || !strings.Contains(page, "Marta Gallo") || !strings.Contains(page, "Gestore del fondo") {
		t.Fatal("the page does not show the invited administrator")
	}
	var status, org string
	var roles []string
	if err := a.DB.QueryRow(`SELECT u.status, u.organisation_id FROM users u WHERE email = 'marta.gallo@example.com'`).Scan(&status, &org); err != nil {
		t.Fatal(err)
	}
	if err := a.DB.Select(&roles, `SELECT role FROM user_roles r JOIN users u ON u.id = r.user_id WHERE email = 'marta.gallo@example.com' ORDER BY role`); err != nil {
		t.Fatal(err)
	}
	if status != "invited" || org != orgID || strings.Join(roles, ",") != "fund_manager" {
		t.Fatalf("invited user: %s in %s with %v", status, org, roles)
	}
	var body string
	if err := a.DB.Get(&body, `SELECT body FROM mail_outbox WHERE to_addr = 'marta.gallo@example.com'`); err != nil {
		t.Fatalf("exactly one mail expected: %v", err)
	}
	link := mailLink.FindString(body)
	if link == "" || !strings.Contains(body, "Consorzio Aurora") {
		t.Fatalf("the mail lacks the link or the organisation: %s", body)
	}
	u, _ := url.Parse(link)
	if res, page := k.Browser(a.URL(), nil).Get(u.RequestURI()); res.StatusCode != 200 || !strings.Contains(page, "Consorzio Aurora") {
		t.Fatalf("the invitation link: %d", res.StatusCode)
	}

	// Another organisation's admin has no such page.
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	if res, _ := k.Browser(a.URL(), hr).Get(loc); res.StatusCode != 403 {
		t.Fatalf("company admin on the organisation page: %d, want 403", res.StatusCode)
	}
}
