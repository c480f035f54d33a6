package mail

import (
	"fmt"
	"io/fs"
	"strings"
	"text/template"
)

// Templates are a domain's plain-text mails, one file per language in
// <dir>/<lang>/<name>.txt: the first line is the subject, the rest the
// body. People have no language setting yet, so each mail goes out in
// every language, the first (Italian) first.
type Templates struct {
	langs  []string
	byLang map[string]*template.Template
}

// MustTemplates parses the templates of langs under dir of fsys; a broken
// template panics at start-up.
func MustTemplates(fsys fs.FS, dir string, langs ...string) *Templates {
	ts := &Templates{langs: langs, byLang: map[string]*template.Template{}}
	for _, l := range langs {
		ts.byLang[l] = template.Must(template.New(l).Option("missingkey=error").ParseFS(fsys, dir+"/"+l+"/*.txt"))
	}
	return ts
}

// Compose renders mail name for to in every language: the subjects joined
// by " / ", the bodies one after the other.
func (ts *Templates) Compose(to, name string, data any) (Message, error) {
	var subjects, bodies []string
	for _, l := range ts.langs {
		var b strings.Builder
		if err := ts.byLang[l].ExecuteTemplate(&b, name+".txt", data); err != nil {
			return Message{}, fmt.Errorf("mail %s (%s): %w", name, l, err)
		}
		subject, body, _ := strings.Cut(b.String(), "\n")
		subjects = append(subjects, strings.TrimSpace(subject))
		bodies = append(bodies, strings.TrimLeft(body, "\n"))
	}
	return Message{To: to, Subject: strings.Join(subjects, " / "), Body: strings.Join(bodies, "\n--\n\n")}, nil
}
