// Package identitytest lets any domain's tests act as any role: it writes
// organisations and users straight into the test database and signs them
// in, with an API bearer token or a browser session.
//
//	a := apptest.Start(t)
//	k := identitytest.New(t, a.DB, a.Identity)
//	acme := k.Org(identity.OrgCompany, "Acme")
//	hr := k.User(acme, identity.RoleCompanyAdmin)
//	req.Header.Set("Authorization", "Bearer "+k.Token(hr))   // API
//	web := k.Browser(a.URL(), hr)                            // web, CSRF handled
//	res, body := web.Get("/account")
package identitytest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

// Password is the password of every user created here.
const Password = "Password-di-prova-1"

// cheap are argon2id parameters fast enough for tests; a hash records its
// parameters, so sign-in verifies it (and re-hashes with the real ones).
var cheap = identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}

// Kit creates organisations and users in one test database.
type Kit struct {
	t   testing.TB
	db  *sqlx.DB
	svc *identity.Service
	n   atomic.Int64
	// hash of Password, computed once.
	hash string
}

// New returns a kit for a database and its identity service (a running
// app's a.DB and a.Identity, or a service of the test's own). It does not
// know the app: a domain's test helpers stand beside the app, not on it.
func New(t testing.TB, dbx *sqlx.DB, svc *identity.Service) *Kit {
	return &Kit{t: t, db: dbx, svc: svc, hash: identity.HashPassword(cheap, Password)}
}

// Org is an organisation created for a test.
type Org struct {
	ID   uuid.UUID
	Kind auth.OrgKind
	Name string
}

// User is a user created for a test; Password is identitytest.Password.
type User struct {
	ID         uuid.UUID
	Org        Org
	Email      string
	Name       string
	Roles      []auth.Role
	TOTPSecret string // set for roles that require a second factor
}

// Principal is the user as the domain services see a caller.
func (u *User) Principal() *auth.Principal {
	return &auth.Principal{UserID: u.ID, OrgID: u.Org.ID, OrgKind: u.Org.Kind, Email: u.Email, Name: u.Name, Roles: u.Roles}
}

// Org creates an active organisation of kind; an empty name gets one.
func (k *Kit) Org(kind auth.OrgKind, name string) Org {
	k.t.Helper()
	if name == "" {
		name = fmt.Sprintf("%s %d", kind, k.n.Add(1))
	}
	o := Org{Kind: kind, Name: name}
	if err := k.db.Get(&o.ID, `INSERT INTO organisations (kind, name) VALUES ($1, $2) RETURNING id`, kind, name); err != nil {
		k.t.Fatalf("identitytest: creating organisation: %v", err)
	}
	return o
}

// User creates an active user of org holding roles, with Password and, for
// the roles that require it, a confirmed TOTP second factor.
func (k *Kit) User(org Org, roles ...auth.Role) *User {
	k.t.Helper()
	if len(roles) == 0 {
		k.t.Fatal("identitytest: a user needs at least one role")
	}
	n := k.n.Add(1)
	u := &User{Org: org, Roles: roles, Name: fmt.Sprintf("Utente %s %d", roles[0], n),
		Email: fmt.Sprintf("%s.%d.%s@test.example", roles[0], n, randHex(3))}
	p := u.Principal()
	var secret *string
	if p.NeedsSecondFactor() {
		u.TOTPSecret = "JBSWY3DPEHPK3PXP" + strings.ToUpper(randBase32(16))
		sealed := identity.SealTOTPSecret(k.svc.Config().TOTPKey, u.TOTPSecret)
		secret = &sealed
	}
	err := k.db.Get(&u.ID, `INSERT INTO users (organisation_id, email, name, password_hash, status, totp_secret, totp_enabled_at)
		VALUES ($1, $2, $3, $4, 'active', $5, CASE WHEN $5::text IS NULL THEN NULL ELSE now() END) RETURNING id`,
		org.ID, u.Email, u.Name, k.hash, secret)
	if err != nil {
		k.t.Fatalf("identitytest: creating user: %v", err)
	}
	for _, r := range roles {
		if _, err := k.db.Exec(`INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, u.ID, r); err != nil {
			k.t.Fatalf("identitytest: adding role %s: %v", r, err)
		}
	}
	return u
}

// As creates an organisation of kind and a user in it with roles.
func (k *Kit) As(kind auth.OrgKind, roles ...auth.Role) *User {
	k.t.Helper()
	return k.User(k.Org(kind, ""), roles...)
}

// Token returns an API access token for u (send as "Bearer <token>").
func (k *Kit) Token(u *User) string {
	k.t.Helper()
	tok, err := k.svc.TokensFor(context.Background(), u.ID)
	if err != nil {
		k.t.Fatalf("identitytest: issuing token: %v", err)
	}
	return tok.AccessToken
}

// SessionCookie returns a browser session cookie for u.
func (k *Kit) SessionCookie(u *User) *http.Cookie {
	k.t.Helper()
	s, err := k.svc.SessionFor(context.Background(), u.ID)
	if err != nil {
		k.t.Fatalf("identitytest: opening session: %v", err)
	}
	return &http.Cookie{Name: k.svc.SessionCookie(), Value: s.Token, Path: "/"}
}

// Browser is an HTTP client acting as a signed-in browser: it carries the
// session cookie and the CSRF token (cookie and form field), and does not
// follow redirects so tests can assert them.
type Browser struct {
	t      testing.TB
	base   string
	csrf   string
	Client *http.Client
}

// Browser returns a browser signed in as u (nil: a visitor) on the app at
// base (e.g. a.URL()).
func (k *Kit) Browser(base string, u *User) *Browser {
	k.t.Helper()
	jar, _ := cookiejar.New(nil)
	b := &Browser{t: k.t, base: base, csrf: randHex(16), Client: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
	bu, err := url.Parse(base)
	if err != nil {
		k.t.Fatal(err)
	}
	cookies := []*http.Cookie{{Name: "csrf", Value: b.csrf, Path: "/"}}
	if u != nil {
		cookies = append(cookies, k.SessionCookie(u))
	}
	jar.SetCookies(bu, cookies)
	return b
}

// CSRF is the token to put in the _csrf field of hand-built forms (e.g.
// multipart uploads); PostForm and Do add it themselves.
func (b *Browser) CSRF() string { return b.csrf }

// Get fetches path and returns the response and its body.
func (b *Browser) Get(path string) (*http.Response, string) {
	b.t.Helper()
	return b.Do(http.MethodGet, path, nil)
}

// PostForm submits a form to path with the CSRF token added.
func (b *Browser) PostForm(path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	form.Set("_csrf", b.csrf)
	return b.Do(http.MethodPost, path, strings.NewReader(form.Encode()))
}

// Do sends a request (a form body when body is not nil).
func (b *Browser) Do(method, path string, body io.Reader) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set(echoCSRFHeader, b.csrf)
	res, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res, string(out)
}

// echoCSRFHeader also carries the token, for non-form requests.
const echoCSRFHeader = "X-CSRF-Token"

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randBase32(n int) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}
