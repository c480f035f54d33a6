package webui

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/web"
)

func TestFormatting(t *testing.T) {
	for _, c := range []struct{ got, want string }{
		{formatEuro(120050, "it"), "€ 1.200,50"},
		{formatEuro(120050, "en"), "€1,200.50"},
		{formatEuro(-5, "it"), "-€ 0,05"},
		{formatKm(0.84, "it"), "0,8 km"},
		{formatKm(3.5, "en"), "3.5 km"},
		{formatKm(28.6, "it"), "29 km"},
		{formatKm(9.97, "it"), "10 km"},
		{formatKm((*float64)(nil), "it"), ""},
		{formatKm(20, "en"), "20 km"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	at := time.Date(2026, 12, 1, 17, 30, 0, 0, time.UTC)
	funcs := formatFuncs("it", Catalogue{"it": {"k": "%d servizi"}})
	if got := funcs["datetime"].(func(any) string)(&at); got != "01/12/2026 18:30" {
		t.Errorf("datetime in Italian time: %q", got)
	}
	// a slot within a day says when it starts; a week's camp, from when to when
	camp := time.Date(2027, 6, 21, 6, 30, 0, 0, time.UTC)
	for _, c := range []struct {
		start, end time.Time
		want       string
	}{
		{at, at.Add(90 * time.Minute), "01/12/2026 18:30"},
		{at.Add(-18 * time.Hour), at.Add(-16*time.Hour - 30*time.Minute), "01/12/2026 00:30"}, // from 30 November to 1 December in UTC, one day in Italy
		{camp, camp.AddDate(0, 0, 4).Add(8*time.Hour + 30*time.Minute), "21/06/2027 08:30 – 25/06/2027 17:00"},
	} {
		if got := funcs["slot"].(func(time.Time, time.Time) string)(c.start, c.end); got != c.want {
			t.Errorf("slot %v–%v: %q, want %q", c.start, c.end, got, c.want)
		}
	}
	if got := funcs["tf"].(func(string, ...any) string)("k", 3); got != "3 servizi" {
		t.Errorf("tf: %q", got)
	}
	cat, err := LoadCatalogue(web.FS)
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string][2]string{"it": {"1 incontro", "2 incontri"}, "en": {"1 session", "2 sessions"}} {
		count := formatFuncs(lang, cat)["count"].(func(int, string) string)
		if one, two := count(1, "redemption.unit.session"), count(2, "redemption.unit.session"); one != want[0] || two != want[1] {
			t.Errorf("count in %s: %q, %q; want %q", lang, one, two, want)
		}
	}
}
