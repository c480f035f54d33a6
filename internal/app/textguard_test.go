package app_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// do sends one request and returns the status and the body.
func do(t *testing.T, client *http.Client, req *http.Request) (int, string) {
	t.Helper()
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// multipartBody encodes fields (and, when fileName is set, a file in field
// "file") as a browser sends a form with enctype multipart/form-data.
func multipartBody(fields map[string]string, fileName string) (io.Reader, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for k, v := range fields {
		_ = w.WriteField(k, v)
	}
	if fileName != "" {
		fw, _ := w.CreateFormFile("file", fileName)
		_, _ = fw.Write([]byte("email,name\n"))
	}
	_ = w.Close()
	return &buf, w.FormDataContentType()
}

// A NUL or bytes that are not UTF-8 in any field of the sign-in form —
// URL-encoded or multipart, as a browser may send either — are a 400 page
// that names the field, never a 500.
func TestBadBytesInWebFormsNameTheField(t *testing.T) {
	a := apptest.Start(t)
	jar, _ := cookiejar.New(nil)
	client := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if res, _ := get(t, client, a.URL()+"/login"); res.StatusCode != 200 {
		t.Fatalf("sign-in page: %d", res.StatusCode)
	}
	base, _ := url.Parse(a.URL())
	var csrf string
	for _, ck := range jar.Cookies(base) {
		if ck.Name == "csrf" {
			csrf = ck.Value
		}
	}
	for _, c := range []struct {
		name, field string
		fields      map[string]string
		file        string
		multipart   bool
	}{
		{"multipart, NUL in the e-mail", "email", map[string]string{"email": "anna\x00@example.com", "password": "password123"}, "", true},
		{"multipart, Latin-1 in the password", "password", map[string]string{"email": "anna@example.com", "password": "perch\xe9"}, "", true},
		{"multipart, a file name that is not text", "file", map[string]string{"email": "anna@example.com", "password": "x"}, "elenco\xff.csv", true},
		{"URL-encoded, NUL in the e-mail", "email", map[string]string{"email": "anna\x00@example.com", "password": "password123"}, "", false},
	} {
		c.fields["_csrf"] = csrf
		var req *http.Request
		if c.multipart {
			body, ctype := multipartBody(c.fields, c.file)
			req, _ = http.NewRequest("POST", a.URL()+"/login", body)
			req.Header.Set("Content-Type", ctype)
		} else {
			form := url.Values{}
			for k, v := range c.fields {
				form.Set(k, v)
			}
			req, _ = http.NewRequest("POST", a.URL()+"/login", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		st, page := do(t, client, req)
		if st != http.StatusBadRequest || !strings.Contains(page, `id="error-field">`+c.field+`<`) {
			t.Errorf("%s: %d, want 400 naming %q:\n%s", c.name, st, c.field, page)
		}
	}
}

// The API names the field with bad bytes in every body it reads: a JSON
// key or string by its path, a query parameter, a text body as "body", a
// CSV cell by its row and column; nothing is written.
func TestBadBytesInAPIRequestsNameTheField(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	token := k.Token(k.As(auth.OrgCompany, auth.RoleCompanyAdmin))
	call := func(method, path, ctype, body string) (int, map[string]any) {
		t.Helper()
		req, _ := http.NewRequest(method, a.URL()+"/api/v1"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if ctype != "" {
			req.Header.Set("Content-Type", ctype)
		}
		st, raw := do(t, http.DefaultClient, req)
		var out map[string]any
		_ = json.Unmarshal([]byte(raw), &out)
		return st, out
	}
	details := func(out map[string]any) map[string]any { d, _ := out["details"].(map[string]any); return d }
	const js = "application/json"
	for _, c := range []struct{ name, method, path, ctype, body, field string }{
		{"NUL escape in a JSON string", "POST", "/users/invitations", js, `{"email":"a@example.com","name":"Ann\u0000a","roles":["employee"]}`, "name"},
		{"Latin-1 in a JSON string", "POST", "/users/invitations", js, "{\"email\":\"a@example.com\",\"name\":\"Nicol\xf2\",\"roles\":[\"employee\"]}", "name"},
		{"NUL in a JSON array", "POST", "/users/invitations", js, `{"email":"a@example.com","name":"Anna","roles":["employee","x\u0000"]}`, "roles[1]"},
		{"NUL in a JSON key", "POST", "/users/invitations", js, `{"email":"a@example.com","na\u0000me":"Anna"}`, "body"},
		{"NUL in a query parameter", "GET", "/users?organisation_id=%00", "", "", "organisation_id"},
		{"NUL in a text body", "POST", "/users/invitations", "text/plain", "hello\x00", "body"},
	} {
		st, out := call(c.method, c.path, c.ctype, c.body)
		if st != http.StatusBadRequest || out["code"] != "invalid" || details(out)["field"] != c.field {
			t.Errorf("%s: %d %v, want 400 invalid naming %q", c.name, st, out, c.field)
		}
	}
	// CSV: the cell's row and column. (Bytes that are not UTF-8 are no
	// error there: a CSV file is read as Windows-1252 then, as Excel saves it.)
	file := "email;nome\nanna.bad@example.com;Anna\x00\nnicolo.bad@example.com\x00;Nicol\xf2\n"
	st, out := call("POST", "/users/invitations/csv", "text/csv", file)
	rows, _ := details(out)["rows"].([]any)
	if st != http.StatusBadRequest || len(rows) != 2 {
		t.Fatalf("CSV with bad cells: %d %v, want 400 with two rows", st, out)
	}
	for i, want := range []struct {
		row   float64
		field string
	}{{2, "name"}, {3, "email"}} {
		r := rows[i].(map[string]any)
		if r["row"] != want.row || r["field"] != want.field {
			t.Errorf("CSV row error %d: %v, want row %v field %s", i, r, want.row, want.field)
		}
	}
	var users int
	_ = a.DB.Get(&users, `SELECT count(*) FROM users WHERE email LIKE '%.bad@example.com'`)
	if users != 0 {
		t.Fatalf("%d users invited from a refused file", users)
	}
}
