package identity

import (
	"io/fs"
	"strings"
	"testing"
)

// Every mail exists in every language and renders its link in each: a mail
// added in one language only, or a template that drops the link, fails here.
func TestMailsInEveryLanguage(t *testing.T) {
	names, err := fs.Glob(mailFS, "mails/"+mailLanguages[0]+"/*.txt")
	if err != nil || len(names) == 0 {
		t.Fatalf("no mail templates: %v", err)
	}
	for _, p := range names {
		name := strings.TrimSuffix(p[strings.LastIndex(p, "/")+1:], ".txt")
		m, err := composeMail("anna@example.test", name, mailLink{Name: "Anna", Org: "Coop Sole", Link: "https://x.test/l?token=T0K"})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := strings.Count(m.Body, "https://x.test/l?token=T0K"); got != len(mailLanguages) {
			t.Errorf("%s: the link appears %d times, want once per language (%d)", name, got, len(mailLanguages))
		}
		if strings.Count(m.Subject, " / ") != len(mailLanguages)-1 || strings.Contains(m.Subject, "\n") {
			t.Errorf("%s: subject %q", name, m.Subject)
		}
		if err := m.Validate(); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}
