package webui_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

var homeLinkRE = regexp.MustCompile(`<li class="card"><a href="([^"]+)">`)

// Every role lands on its own home page after signing in, and every link
// there opens a page that role may see: no dead ends, no forbidden pages.
func TestEachRoleLandsOnAHomeOfPagesThatExist(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	want := map[auth.Role][]string{
		auth.RoleEmployee:      {"/portafoglio", "/catalogo", "/buoni", "/account"},
		auth.RoleCompanyAdmin:  {"/users", "/catalogo", "/azienda/fondo", "/azienda/piani"},
		auth.RoleProviderStaff: {"/erogatore", "/erogatore/offerte/nuova", "/erogatore/convalida"},
		auth.RoleFundManager:   {"/users", "/fondo", "/account"},
		auth.RolePlatformAdmin: {"/admin/erogatori", "/admin/audit"},
	}
	for role, must := range want {
		var kind auth.OrgKind
		for kd, roles := range auth.KindRoles {
			for _, r := range roles {
				if r == role {
					kind = kd
				}
			}
		}
		u := k.As(kind, role)
		b := k.Browser(a.URL(), nil)
		form := url.Values{"email": {u.Email}, "password": {identitytest.Password}}
		if u.TOTPSecret != "" {
			form.Set("totp", identity.TOTPCode(u.TOTPSecret, time.Now()))
		}
		res, _ := b.PostForm("/login", form)
		if res.StatusCode != 303 || res.Header.Get("Location") != "/home" {
			t.Fatalf("%s signs in: %d → %q, want their home page", role, res.StatusCode, res.Header.Get("Location"))
		}
		res, page := b.Get("/home")
		if res.StatusCode != 200 {
			t.Fatalf("%s home: %d", role, res.StatusCode)
		}
		var links []string
		for _, m := range homeLinkRE.FindAllStringSubmatch(page, -1) {
			links = append(links, m[1])
			r, _ := b.Get(m[1])
			if r.StatusCode == 303 { // a provider without a profile is sent to write it
				r, _ = b.Get(r.Header.Get("Location"))
			}
			if r.StatusCode != 200 {
				t.Errorf("%s home links to %s, which answers %d", role, m[1], r.StatusCode)
			}
		}
		for _, l := range must {
			if !strings.Contains(strings.Join(links, " ")+" ", l+" ") {
				t.Errorf("%s home links %v, want %s among them", role, links, l)
			}
		}
	}
}
