package identity_test

import (
	"bytes"
	"io"
	"net/http"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/httpapi"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/webui"
)

// homeKind is the kind of organisation each role lives in.
var homeKind = map[auth.Role]auth.OrgKind{
	auth.RoleEmployee:      auth.OrgCompany,
	auth.RoleCompanyAdmin:  auth.OrgCompany,
	auth.RoleProviderStaff: auth.OrgProvider,
	auth.RoleFundManager:   auth.OrgFund,
	auth.RoleCaseWorker:    auth.OrgFund,
	auth.RoleFundApprover:  auth.OrgFund,
	auth.RolePlatformAdmin: auth.OrgPlatform,
	auth.RoleAuditor:       auth.OrgFund,
}

// world is two organisations of every kind, a user of every role in each,
// and one more plain member of each organisation (a tenant-owned object
// to look up).
type world struct {
	k       *identitytest.Kit
	orgs    map[auth.OrgKind][2]identitytest.Org
	callers []*identitytest.User // every role × both organisations
	member  map[uuid.UUID]*identitytest.User
	site    map[uuid.UUID]uuid.UUID // a site of each company
}

func newWorld(t *testing.T, a *app.App) *world {
	w := &world{k: identitytest.New(t, a.DB, a.Identity), orgs: map[auth.OrgKind][2]identitytest.Org{}, member: map[uuid.UUID]*identitytest.User{},
		site: map[uuid.UUID]uuid.UUID{}}
	for _, kind := range []auth.OrgKind{auth.OrgCompany, auth.OrgProvider, auth.OrgFund, auth.OrgPlatform} {
		pair := [2]identitytest.Org{w.k.Org(kind, string(kind)+" A"), w.k.Org(kind, string(kind)+" B")}
		w.orgs[kind] = pair
		for _, o := range pair {
			w.member[o.ID] = w.k.User(o, auth.KindRoles[kind][0])
			if kind == auth.OrgCompany {
				var site uuid.UUID
				if err := a.DB.Get(&site, `INSERT INTO company_sites (organisation_id, name, place_code) VALUES ($1, $2, '097042') RETURNING id`,
					o.ID, "Sede "+o.Name); err != nil {
					t.Fatal(err)
				}
				w.site[o.ID] = site
			}
		}
	}
	for _, r := range auth.AllRoles {
		for _, o := range w.orgs[homeKind[r]] {
			w.callers = append(w.callers, w.k.User(o, r))
		}
	}
	return w
}

// other is the organisation of the same kind as u's that is not u's.
func (w *world) other(u *identitytest.User) identitytest.Org {
	pair := w.orgs[u.Org.Kind]
	if pair[0].ID == u.Org.ID {
		return pair[1]
	}
	return pair[0]
}

// tenantParam says how to fill a path parameter that names a tenant-owned
// object: with one of the caller's own organisation, or another's. crossOK
// lists the roles that may see other tenants' objects of this kind.
// Domains add their tenant-scoped parameters here.
type tenantParam struct {
	own, foreign func(w *world, u *identitytest.User) string
	crossOK      []auth.Role
}

var tenantParams = map[string]tenantParam{
	"userId": {
		own:     func(w *world, u *identitytest.User) string { return w.member[u.Org.ID].ID.String() },
		foreign: func(w *world, u *identitytest.User) string { return w.member[w.other(u).ID].ID.String() },
		crossOK: []auth.Role{auth.RolePlatformAdmin},
	},
	"siteId": {
		own:     func(w *world, u *identitytest.User) string { return siteOr(w.site[u.Org.ID]) },
		foreign: func(w *world, u *identitytest.User) string { return siteOr(w.site[w.other(u).ID]) },
	},
	"organisationId": {
		own:     func(w *world, u *identitytest.User) string { return u.Org.ID.String() },
		foreign: func(w *world, u *identitytest.User) string { return w.other(u).ID.String() },
		// Platform staff see every organisation.
		crossOK: []auth.Role{auth.RolePlatformAdmin},
	},
}

// siteOr is a company's site, or any id for an organisation without one.
func siteOr(id uuid.UUID) string {
	if id == uuid.Nil {
		return uuid.NewString()
	}
	return id.String()
}

// validBodies are request bodies that pass validation, so a cross-tenant
// request reaches the handler (which must answer 404). They are only sent
// with another tenant's object, so they change nothing.
// webTenantParams are the tenant-scoped parameters of web routes, by
// route and parameter (":id" means different things on different pages).
var webTenantParams = map[string]tenantParam{
	"/users/:id":        tenantParams["userId"],
	"/users/:id/roles":  tenantParams["userId"],
	"/users/:id/status": tenantParams["userId"],
	"/users/:id/sede":   tenantParams["userId"],
	// Platform admins only, who may act on any organisation.
	"/admin/organisations/:id":        tenantParams["organisationId"],
	"/admin/organisations/:id/invite": tenantParams["organisationId"],
	"/azienda/dipendenti/:id":         tenantParams["userId"],
}

var validBodies = map[string]string{
	"PATCH /users/{userId}":                    `{"status":"deactivated"}`,
	"PUT /company-sites/{siteId}":              `{"name":"Sede presa","place_code":"097042"}`,
	"PUT /employees/{userId}":                  `{"category":"impiegati"}`,
	"POST /employees/{userId}/fringe-outside":  `{"tax_year":2026,"kind":"fuel","amount_cents":1}`,
	"PUT /plans/{planId}/pdr-bonuses/{userId}": `{"bonus_cents":1,"prior_income_cents":0}`,
}

var apiParam = regexp.MustCompile(`\{([^}]+)\}`)

// Every operation of the OpenAPI spec, with a session of every role from
// two organisations and without one: allowed roles get past the gate
// (neither 401 nor 403, never 5xx), others get 403, visitors 401; another
// tenant's object answers 404.
func TestAuthorizationMatrixAPI(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	w := newWorld(t, a)
	tokens := map[*identitytest.User]string{}
	for _, u := range w.callers {
		tokens[u] = w.k.Token(u)
	}
	spec, err := httpapi.GetSpec()
	if err != nil {
		t.Fatal(err)
	}
	paths := spec.Paths.InMatchingOrder()
	sort.Strings(paths)
	checked := 0
	for _, path := range paths {
		for method, op := range spec.Paths.Find(path).Operations() {
			public, roles, err := httpapi.RolesOf(op)
			if err != nil {
				t.Errorf("%s %s: %v", method, path, err)
				continue
			}
			body, ctype := "", ""
			if op.RequestBody != nil {
				for ct := range op.RequestBody.Value.Content {
					ctype = ct
				}
				body = "{}"
				if ctype == "text/csv" {
					body = "email,name\n"
				}
			}
			send := func(u *identitytest.User, target, b string) (int, string) {
				req, _ := http.NewRequest(method, a.URL()+httpapi.BasePath+target, strings.NewReader(b))
				if ctype != "" {
					req.Header.Set("Content-Type", ctype)
				}
				if u != nil {
					req.Header.Set("Authorization", "Bearer "+tokens[u])
				}
				res, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer res.Body.Close()
				raw, _ := io.ReadAll(res.Body)
				return res.StatusCode, string(raw)
			}
			fill := func(u *identitytest.User, foreign bool) (string, bool) {
				scoped := false
				return apiParam.ReplaceAllStringFunc(path, func(m string) string {
					name := m[1 : len(m)-1]
					if tp, ok := tenantParams[name]; ok && u != nil {
						scoped = true
						if foreign {
							return tp.foreign(w, u)
						}
						return tp.own(w, u)
					}
					return uuid.NewString()
				}), scoped
			}
			// A visitor.
			target, _ := fill(nil, false)
			st, raw := send(nil, target, body)
			if public {
				if st == 401 || st == 403 || st >= 500 {
					t.Errorf("%s %s is public but a visitor got %d %s", method, path, st, raw)
				}
			} else if st != 401 {
				t.Errorf("%s %s: visitor got %d, want 401", method, path, st)
			}
			for _, u := range w.callers {
				allowed := public || u.Principal().Has(roles...)
				target, scoped := fill(u, false)
				st, raw := send(u, target, body)
				switch {
				case st >= 500:
					t.Errorf("%s %s as %s: %d %s", method, path, u.Roles[0], st, raw)
				case allowed && (st == 401 || st == 403):
					t.Errorf("%s %s as %s of %s: %d, want allowed (%s)", method, path, u.Roles[0], u.Org.Name, st, raw)
				case !allowed && st != 403:
					t.Errorf("%s %s as %s: %d, want 403", method, path, u.Roles[0], st)
				}
				if !allowed || !scoped {
					continue
				}
				foreign, _ := fill(u, true)
				b := body
				if vb, ok := validBodies[method+" "+path]; ok {
					b = vb
				}
				st, raw = send(u, foreign, b)
				crossOK := false
				for _, m := range apiParam.FindAllStringSubmatch(path, -1) {
					crossOK = crossOK || u.Principal().Has(tenantParams[m[1]].crossOK...)
				}
				if !crossOK && st != 404 {
					t.Errorf("%s %s as %s of %s on another tenant's object: %d %s, want 404", method, path, u.Roles[0], u.Org.Name, st, raw)
				}
				if crossOK && (st == 404 || st == 403 || st >= 500) {
					t.Errorf("%s %s as %s on another organisation's object: %d, want allowed", method, path, u.Roles[0], st)
				}
			}
			checked++
		}
	}
	if checked < 15 {
		t.Fatalf("only %d operations checked: is the spec loaded?", checked)
	}
	// The cross-tenant updates changed nothing, except where a platform
	// admin may act on any organisation: each of the two deactivated the
	// member of the other platform organisation.
	var deactivated []uuid.UUID
	if err := a.DB.Select(&deactivated, `SELECT organisation_id FROM users WHERE status = 'deactivated' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	platforms := w.orgs[auth.OrgPlatform]
	if len(deactivated) != 2 || !slices.Contains(deactivated, platforms[0].ID) || !slices.Contains(deactivated, platforms[1].ID) {
		t.Errorf("deactivated users in organisations %v, want one in each platform organisation", deactivated)
	}
}

// Every web route: each declares its access (else the test fails), and a
// session of every role from two organisations is let in, sent away (403)
// or sent to sign in as the declaration says; another tenant's object
// answers 404.
func TestAuthorizationMatrixWeb(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	w := newWorld(t, a)
	routes := a.Echo.Routes()
	sort.Slice(routes, func(i, j int) bool { return routes[i].Path+routes[i].Method < routes[j].Path+routes[j].Method })
	checked := 0
	for _, r := range routes {
		if r.Path == httpapi.BasePath || strings.HasPrefix(r.Path, httpapi.BasePath+"/") || !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, r.Method) {
			continue // the API is walked from its spec
		}
		acc, ok := a.UI.AccessOf(r.Method, r.Path)
		if !ok && a.IsOperation(r.Method, r.Path) {
			acc, ok = webui.Public, true // probes, metrics, webhooks
		}
		if !ok {
			t.Errorf("web route %s %s declares no access: register it with UI.Handle", r.Method, r.Path)
			continue
		}
		fill := func(u *identitytest.User, foreign bool) (string, bool) {
			scoped := false
			parts := strings.Split(r.Path, "/")
			for i, p := range parts {
				switch {
				case p == "*":
					parts[i] = "app.css"
				case strings.HasPrefix(p, ":"):
					if tp, ok := webTenantParams[r.Path]; ok && u != nil {
						scoped = true
						if foreign {
							parts[i] = tp.foreign(w, u)
						} else {
							parts[i] = tp.own(w, u)
						}
					} else {
						parts[i] = uuid.NewString()
					}
				}
			}
			return strings.Join(parts, "/"), scoped
		}
		do := func(u *identitytest.User, target string) (int, string) {
			b := w.k.Browser(a.URL(), u) // a fresh session each time: some routes sign out
			var res *http.Response
			if r.Method == "GET" {
				res, _ = b.Get(target)
			} else {
				res, _ = b.Do(r.Method, target, bytes.NewReader(nil))
			}
			return res.StatusCode, res.Header.Get("Location")
		}
		target, _ := fill(nil, false)
		st, loc := do(nil, target)
		switch {
		case st >= 500:
			t.Errorf("%s %s as visitor: %d", r.Method, r.Path, st)
		case acc.IsPublic() && (st == 403 || strings.HasPrefix(loc, "/login?next=")):
			t.Errorf("%s %s is public but a visitor got %d %s", r.Method, r.Path, st, loc)
		case !acc.IsPublic() && !(st == 401 || (st == 303 && strings.HasPrefix(loc, "/login?next="))):
			t.Errorf("%s %s: visitor got %d %s, want sign-in", r.Method, r.Path, st, loc)
		}
		for _, u := range w.callers {
			allowed := acc.Allows(u.Principal())
			target, scoped := fill(u, false)
			st, loc := do(u, target)
			switch {
			case st >= 500:
				t.Errorf("%s %s as %s: %d", r.Method, r.Path, u.Roles[0], st)
			case allowed && (st == 403 || strings.HasPrefix(loc, "/login?next=") || (st == 401 && !acc.IsPublic())):
				t.Errorf("%s %s as %s: %d %s, want allowed", r.Method, r.Path, u.Roles[0], st, loc)
			case !allowed && st != 403:
				t.Errorf("%s %s as %s: %d, want 403", r.Method, r.Path, u.Roles[0], st)
			}
			if allowed && scoped {
				foreign, _ := fill(u, true)
				st, _ := do(u, foreign)
				crossOK := u.Principal().Has(webTenantParams[r.Path].crossOK...)
				if !crossOK && st != 404 {
					t.Errorf("%s %s as %s of %s on another tenant's object: %d, want 404", r.Method, r.Path, u.Roles[0], u.Org.Name, st)
				}
			}
		}
		checked++
	}
	if checked < 20 {
		t.Fatalf("only %d web routes checked", checked)
	}
}
