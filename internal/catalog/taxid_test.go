package catalog

import "testing"

func TestTaxIDs(t *testing.T) {
	for _, c := range []struct {
		id   string
		vat  bool
		fisc bool
	}{
		{"00743110157", true, true},   // 11 digits, valid check digit
		{"00743110158", false, false}, // wrong check digit
		{"0074311015", false, false},  // too short
		{"0074311015A", false, false},
		{"RSSMRA85T10A562S", false, true}, // a person's code
		{"RSSMRA85T10A562T", false, false},
		{"RSSMRA85T10A56NS", false, false}, // omocodia changes the check character
		{"rssmra85t10a562s", false, false}, // callers normalise case first
	} {
		if got := ValidVATNumber(c.id); got != c.vat {
			t.Errorf("ValidVATNumber(%q) = %v", c.id, got)
		}
		if got := ValidFiscalCode(c.id); got != c.fisc {
			t.Errorf("ValidFiscalCode(%q) = %v", c.id, got)
		}
	}
	if got := normaliseTaxID(" it 00743110157 "); got != "00743110157" {
		t.Errorf("normalise: %q", got)
	}
}
