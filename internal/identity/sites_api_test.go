package identity_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// A company admin records the company's sites through the API (a retry
// answers the same site, also two at once), changes and removes them; an
// employee reads them and picks theirs; another company's admin and
// employee see none of them (404) and cannot pick them; bad input names
// every field at fault and changes nothing.
func TestCompanySitesAPI(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	employee := k.User(hr.Org, auth.RoleEmployee)
	otherHR := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	otherEmployee := k.User(otherHR.Org, auth.RoleEmployee)
	tok, empTok, otherTok, otherEmpTok := k.Token(hr), k.Token(employee), k.Token(otherHR), k.Token(otherEmployee)
	call := func(what, method, path, token string, body any, want int) map[string]any {
		t.Helper()
		st, out := apptest.Call(t, a, method, path, token, body)
		if st != want {
			t.Fatalf("%s: %d %v, want %d", what, st, out, want)
		}
		return out
	}

	lecco := map[string]any{"name": "Stabilimento di Lecco", "address": "Via Valsugana 12", "place_code": "097042"}
	// Two at once, then a retry: one site.
	var wg sync.WaitGroup
	ids := make([]any, 3)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, out := apptest.Call(t, a, "POST", "/company-sites", tok, lecco)
			ids[i] = out["id"]
		}()
	}
	wg.Wait()
	site := call("the same site again", "POST", "/company-sites", tok, lecco, 201)
	ids[2] = site["id"]
	if ids[0] == nil || ids[0] != ids[1] || ids[1] != ids[2] {
		t.Fatalf("the same site three times made %v", ids)
	}
	if place, _ := site["place"].(map[string]any); place["name"] != "Lecco" || place["province_code"] != "LC" || site["employees"] != 0.0 {
		t.Fatalf("the site: %v", site)
	}
	id := site["id"].(string)

	// Every field at fault at once; a name in use; nothing saved.
	out := call("a bad site", "POST", "/company-sites", tok, map[string]any{"name": " ", "place_code": "999999"}, 400)
	if d, _ := out["details"].(map[string]any); out["code"] != "invalid" || !sameFields(d["fields"], "name", "place_code") {
		t.Fatalf("a bad site: %v", out)
	}
	out = call("a name in use", "POST", "/company-sites", tok, map[string]any{"name": "stabilimento  di LECCO", "place_code": "097048"}, 400)
	if d, _ := out["details"].(map[string]any); d["field"] != "name" || d["reason"] != "taken" {
		t.Fatalf("a name in use: %v", out)
	}
	merate := call("a second site", "POST", "/company-sites", tok, map[string]any{"name": "Uffici di Merate", "place_code": "097048"}, 201)
	if list := call("the list", "GET", "/company-sites", empTok, nil, 200)["list"].([]any); len(list) != 2 ||
		list[0].(map[string]any)["name"] != "Stabilimento di Lecco" {
		t.Fatalf("the employee's list: %v", list)
	}

	// The employee picks a site, and reads it back.
	call("an employee records a site", "POST", "/company-sites", empTok, lecco, 403)
	mine := call("the employee picks Lecco", "PUT", "/me/site", empTok, map[string]any{"site_id": id}, 200)
	if s, _ := mine["site"].(map[string]any); s["id"] != id {
		t.Fatalf("the employee's site: %v", mine)
	}
	if s, _ := call("the site's people", "GET", "/company-sites/"+id, tok, nil, 200)["employees"].(float64); s != 1 {
		t.Fatalf("Lecco has %v people, want 1", s)
	}

	// Another company sees none of it and changes nothing.
	call("another admin reads it", "GET", "/company-sites/"+id, otherTok, nil, 404)
	call("another admin changes it", "PUT", "/company-sites/"+id, otherTok, map[string]any{"name": "Preso", "place_code": "097042"}, 404)
	call("another admin removes it", "DELETE", "/company-sites/"+id, otherTok, nil, 404)
	call("another company's employee picks it", "PUT", "/me/site", otherEmpTok, map[string]any{"site_id": id}, 400)
	if list := call("another company's list", "GET", "/company-sites", otherEmpTok, nil, 200)["list"].([]any); len(list) != 0 {
		t.Fatalf("another company lists %v", list)
	}
	if s := call("after the other company tried", "GET", "/company-sites/"+id, empTok, nil, 200); s["name"] != "Stabilimento di Lecco" {
		t.Fatalf("the site became %v", s)
	}

	// Changed, then removed: its people have no site until they pick one.
	changed := call("renaming", "PUT", "/company-sites/"+id, tok, map[string]any{"name": "Sede di Lecco", "address": "Via Valsugana 14",
		"place_code": "097042"}, 200)
	if changed["name"] != "Sede di Lecco" || changed["address"] != "Via Valsugana 14" || changed["id"] != id {
		t.Fatalf("renamed: %v", changed)
	}
	call("removing it", "DELETE", "/company-sites/"+id, tok, nil, 204)
	call("removing it again", "DELETE", "/company-sites/"+id, tok, nil, 404)
	if mine := call("the employee's site after", "GET", "/me/site", empTok, nil, 200); mine["site"] != nil {
		t.Fatalf("the employee still works at %v", mine["site"])
	}
	call("the employee picks Merate", "PUT", "/me/site", empTok, map[string]any{"site_id": merate["id"]}, 200)
	if mine := call("then none", "PUT", "/me/site", empTok, map[string]any{"site_id": nil}, 200); mine["site"] != nil {
		t.Fatalf("after choosing none: %v", mine)
	}
}

// sameFields reports whether a details.fields value names exactly want.
func sameFields(v any, want ...string) bool {
	list, _ := v.([]any)
	var got []string
	for _, f := range list {
		s, _ := f.(string)
		got = append(got, s)
	}
	slices.Sort(got)
	return slices.Equal(got, want)
}
