package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
)

// Languages the web app speaks; the first is the default.
var Languages = []string{"it", "en"}

// Catalogue maps a language to its messages, key → text.
type Catalogue map[string]map[string]string

// LoadCatalogue reads i18n/<lang>/*.json (one file per domain, so work on
// several domains never edits the same file) for every language, and checks
// that each language has exactly the keys of the default one: a missing
// translation is a start-up error, not a blank on a page.
func LoadCatalogue(fsys fs.FS) (Catalogue, error) {
	c := Catalogue{}
	for _, lang := range Languages {
		files, err := fs.Glob(fsys, "i18n/"+lang+"/*.json")
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			part := map[string]string{}
			if err := json.Unmarshal(b, &part); err != nil {
				return nil, fmt.Errorf("%s: %w", f, err)
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					return nil, fmt.Errorf("%s: key %q is defined twice", f, k)
				}
				m[k] = v
			}
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("i18n/%s: no messages", lang)
		}
		c[lang] = m
	}
	def := c[Languages[0]]
	for _, lang := range Languages[1:] {
		if missing := diffKeys(def, c[lang]); len(missing) > 0 {
			return nil, fmt.Errorf("i18n/%s lacks %v", lang, missing)
		}
		if extra := diffKeys(c[lang], def); len(extra) > 0 {
			return nil, fmt.Errorf("i18n/%s has keys the default language lacks: %v", lang, extra)
		}
	}
	return c, nil
}

func diffKeys(a, b map[string]string) []string {
	var out []string
	for k := range a {
		if _, ok := b[k]; !ok {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// T returns the message key in lang. A key missing from the catalogue
// shows as itself, so the mistake is visible on the page and in tests.
func (c Catalogue) T(lang, key string) string {
	if s, ok := c[lang][key]; ok {
		return s
	}
	return key
}
