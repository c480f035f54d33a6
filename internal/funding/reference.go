package funding

import (
	"math/big"
	"strings"

	"github.com/google/uuid"
)

// CreditorReference is the structured creditor reference (ISO 11649,
// "RF" + two check digits + up to 21 letters and digits) a bank transfer
// for top-up id carries: the first 16 hex digits of the id, so a platform
// admin who reads it off a bank statement finds the top-up.
func CreditorReference(id uuid.UUID) string {
	body := strings.ToUpper(strings.ReplaceAll(id.String(), "-", ""))[:16]
	return "RF" + rfCheckDigits(body) + body
}

// rfCheckDigits computes ISO 11649's check digits: 98 − (body + "RF00" as
// digits, A=10 … Z=35) mod 97, on two digits.
func rfCheckDigits(body string) string {
	n := rfNumber(body + "RF00")
	m := new(big.Int).Mod(n, big.NewInt(97)).Int64()
	d := 98 - m
	return string([]byte{byte('0' + d/10), byte('0' + d%10)})
}

// ValidReference reports whether ref is a well-formed RF reference whose
// check digits hold (spaces and case are ignored).
func ValidReference(ref string) bool {
	ref = NormaliseReference(ref)
	if len(ref) < 5 || len(ref) > 25 || !strings.HasPrefix(ref, "RF") {
		return false
	}
	for _, c := range ref {
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	n := rfNumber(ref[4:] + ref[:4])
	return new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// NormaliseReference removes spaces and upper-cases a reference or a CRO.
func NormaliseReference(s string) string {
	return strings.ToUpper(strings.Join(strings.Fields(s), ""))
}

func rfNumber(s string) *big.Int {
	var digits strings.Builder
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits.WriteRune(c)
		case c >= 'A' && c <= 'Z':
			digits.WriteString(big.NewInt(int64(c - 'A' + 10)).String())
		}
	}
	n, _ := new(big.Int).SetString(digits.String(), 10)
	if n == nil {
		return new(big.Int)
	}
	return n
}
