package catalog

import (
	"regexp"
	"strings"
)

// ValidVATNumber reports whether s is an Italian VAT number (partita IVA):
// eleven digits whose last is the Luhn-style check digit of the first ten.
// Organisations' fiscal codes have the same form.
func ValidVATNumber(s string) bool {
	if len(s) != 11 {
		return false
	}
	sum := 0
	for i := 0; i < 11; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		d := int(c - '0')
		if i == 10 {
			return (10-sum%10)%10 == d
		}
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return false
}

// personCode is the shape of a person's codice fiscale, letting digits be
// replaced by letters (omocodia).
var personCode = regexp.MustCompile(`^[A-Z]{6}[0-9LMNPQRSTUV]{2}[ABCDEHLMPRST][0-9LMNPQRSTUV]{2}[A-Z][0-9LMNPQRSTUV]{3}[A-Z]$`)

// oddValues are the check-character weights of characters in odd (1-based)
// positions of a codice fiscale, for 0-9 then A-Z.
var oddValues = [36]int{1, 0, 5, 7, 9, 13, 15, 17, 19, 21,
	1, 0, 5, 7, 9, 13, 15, 17, 19, 21, 2, 4, 18, 20, 11, 3, 6, 8, 12, 14, 16, 10, 22, 25, 24, 23}

// ValidFiscalCode reports whether s is a valid Italian fiscal code: an
// organisation's (eleven digits, checked like a VAT number) or a person's
// (sixteen characters whose last is the check character of the others).
func ValidFiscalCode(s string) bool {
	if len(s) == 11 {
		return ValidVATNumber(s)
	}
	if !personCode.MatchString(s) {
		return false
	}
	sum := 0
	for i := 0; i < 15; i++ {
		c := s[i]
		idx := int(c - '0')
		if c >= 'A' {
			idx = 10 + int(c-'A')
		}
		if i%2 == 0 { // odd position, 1-based
			sum += oddValues[idx]
		} else if c >= 'A' {
			sum += int(c - 'A')
		} else {
			sum += int(c - '0')
		}
	}
	return s[15] == byte('A'+sum%26)
}

// normaliseTaxID removes spaces and an "IT" prefix and upper-cases.
func normaliseTaxID(s string) string {
	s = strings.ToUpper(strings.Join(strings.Fields(s), ""))
	if len(s) == 13 && strings.HasPrefix(s, "IT") {
		s = s[2:]
	}
	return s
}
