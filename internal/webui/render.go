package webui

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/auth"
)

// Page is what every template receives.
type Page struct {
	Lang      string
	OtherLang string
	Path      string // current path, for the language switch to come back to
	Dev       bool
	Version   string
	// User is the signed-in person, nil for visitors.
	User *auth.Principal
	// CSRF is the token every form that changes something must carry in
	// the hidden field _csrf ({{template "csrf" .}}).
	CSRF string
	Data any
}

// renderer holds, for each language, each page parsed with the base layout
// and a `t` function bound to that language.
type renderer struct {
	pages  map[string]map[string]*template.Template // lang → page → template
	assets map[string]string                        // file → URL with content hash
}

func newRenderer(fsys fs.FS, cat Catalogue) (*renderer, error) {
	r := &renderer{pages: map[string]map[string]*template.Template{}, assets: map[string]string{}}
	err := fs.WalkDir(fsys, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(b)
		name := strings.TrimPrefix(p, "static/")
		r.assets[name] = "/static/" + name + "?v=" + hex.EncodeToString(sum[:])[:12]
		return nil
	})
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, lang := range Languages {
		funcs := formatFuncs(lang, cat)
		for name, f := range (template.FuncMap{
			"t": func(key string) string { return cat.T(lang, key) },
			// tOr is t of key, or of fallback when the catalogue lacks key:
			// a code that gained a new value shows a word, never the key.
			"tOr": func(key, fallback string) string {
				if _, ok := cat[lang][key]; ok {
					return cat.T(lang, key)
				}
				return cat.T(lang, fallback)
			},
			// formKey issues a new form key each time a form is rendered.
			"formKey": newFormKey,
			"asset": func(name string) (string, error) {
				if u, ok := r.assets[name]; ok {
					return u, nil
				}
				return "", fmt.Errorf("unknown asset %q", name)
			},
		}) {
			funcs[name] = f
		}
		r.pages[lang] = map[string]*template.Template{}
		for _, f := range files {
			name := strings.TrimSuffix(path.Base(f), ".html")
			if name == "base" {
				continue
			}
			// Partials (templates/partials/*.html) are small blocks a
			// domain offers other pages, e.g. the booking form that the
			// offering page shows: every page can use them.
			t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "templates/base.html", "templates/partials/*.html", f)
			if err != nil {
				return nil, err
			}
			r.pages[lang][name] = t
		}
	}
	return r, nil
}

// render writes page with status. The page is executed into a buffer first
// so a template error never leaves half a page on the wire.
func (r *renderer) render(c echo.Context, status int, name string, p Page) error {
	t, ok := r.pages[p.Lang][name]
	if !ok {
		return fmt.Errorf("unknown page %q", name)
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "base", p); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Language", p.Lang)
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.HTMLBlob(status, buf.Bytes())
}

// staticCache is long because asset URLs carry their content hash.
const staticCache = "public, max-age=31536000, immutable"

func staticHandler(fsys fs.FS) echo.HandlerFunc {
	sub, _ := fs.Sub(fsys, "static")
	files := http.FileServer(http.FS(sub))
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", staticCache)
		http.StripPrefix("/static/", files).ServeHTTP(c.Response(), c.Request())
		return nil
	}
}
