package catalog

import "testing"

func TestParseEuro(t *testing.T) {
	for in, want := range map[string]int64{"14": 1400, "14,5": 1450, "14.50": 1450, "€ 1.200,00": 120000, " 0,99 ": 99} {
		got, err := ParseEuro(in)
		if err != nil || got != want {
			t.Errorf("ParseEuro(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "-3", "abc", "1,234", "12,3,4", "€"} {
		if _, err := ParseEuro(bad); err == nil {
			t.Errorf("ParseEuro(%q) accepted", bad)
		}
	}
}
