// Package sepa writes SEPA credit-transfer files in the variant Italian
// banks take through corporate banking: the CBI "CBIPaymentRequest"
// message (version 00.04.01, the ISO 20022 pain.001.001.09 subset CBI
// publishes), identified by the company's CUC. The inclusion fund pays
// creditors with it; provider payouts without Stripe use it too.
//
// A file is a pure function of its Batch: the same batch always gives the
// same bytes, with the same message id, so downloading it twice can never
// make a bank pay twice. It also checks IBANs by their checksum.
package sepa

import (
	"math/big"
	"strings"
)

// ibanLengths are the IBAN lengths of the SEPA countries (EPC409).
var ibanLengths = map[string]int{
	"AD": 24, "AT": 20, "BE": 16, "BG": 22, "CH": 21, "CY": 28, "CZ": 24, "DE": 22, "DK": 18, "EE": 20, "ES": 24,
	"FI": 18, "FR": 27, "GB": 22, "GI": 23, "GR": 27, "HR": 21, "HU": 28, "IE": 22, "IS": 26, "IT": 27, "LI": 21,
	"LT": 20, "LU": 20, "LV": 21, "MC": 27, "MT": 31, "NL": 18, "NO": 15, "PL": 28, "PT": 25, "RO": 24, "SE": 24,
	"SI": 19, "SK": 24, "SM": 27, "VA": 22,
}

// NormaliseIBAN removes spaces and upper-cases.
func NormaliseIBAN(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }

// ValidIBAN reports whether s (normalised) is the IBAN of a SEPA country
// with its length and a correct check (ISO 13616: mod 97 = 1).
func ValidIBAN(s string) bool {
	if len(s) < 5 || ibanLengths[s[:2]] != len(s) {
		return false
	}
	var digits strings.Builder
	for _, r := range s[4:] + s[:4] {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r >= 'A' && r <= 'Z':
			digits.WriteString(big.NewInt(int64(r-'A') + 10).String())
		default:
			return false
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// ABI is the bank code (codice ABI) of an Italian IBAN: what a CBI file
// names the debtor's bank by. "" for another country's IBAN.
func ABI(iban string) string {
	if len(iban) != 27 || !strings.HasPrefix(iban, "IT") {
		return ""
	}
	return iban[5:10]
}
