package identitytest

import (
	"regexp"
	"testing"
)

// MarkedInvalid fails t for each field of a refused form's page that is
// not marked invalid (aria-invalid on the input with that id) with its
// message next to it (the paragraph <id>-error): how every form shows
// every mistake at once.
func MarkedInvalid(t testing.TB, form, page string, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if !regexp.MustCompile(`id="`+regexp.QuoteMeta(id)+`"[^>]*aria-invalid="true"`).MatchString(page) ||
			!regexp.MustCompile(`<p class="field-error" id="`+regexp.QuoteMeta(id)+`-error">[^<]+</p>`).MatchString(page) {
			t.Errorf("%s: the field %s is not marked with its message", form, id)
		}
	}
}
