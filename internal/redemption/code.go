package redemption

import (
	"crypto/rand"
	"strings"

	"github.com/reciproca/reciproca/internal/apperr"
)

// A voucher code is 8 random characters and a check character from
// Crockford's base-32 alphabet (no I, L, O, U: nothing to confuse with 1,
// 0 or V), shown in groups of three: "7KQ-4TZ-M2X". The check character
// (Luhn mod 32) catches every single mistyped character and every swap
// of two neighbours, so a typo is refused before any lookup.
const (
	codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	codeRandom   = 8
	codeLength   = codeRandom + 1
)

// newCode returns a fresh voucher code (randomCode; a test may draw them
// from elsewhere).
var newCode = randomCode

// randomCode returns a fresh random code with its check character.
func randomCode() string {
	var b [codeRandom]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	out := make([]byte, 0, codeLength)
	for _, x := range b {
		out = append(out, codeAlphabet[int(x)%len(codeAlphabet)]) // 256 is a multiple of 32: uniform
	}
	return string(append(out, checkChar(string(out))))
}

// checkChar is the Damm check character of s: the one that brings the
// running value over the whole code to zero.
func checkChar(s string) byte { return codeAlphabet[double(damm(s))] }

// damm runs Damm's algorithm over s: r ← 2r + d in GF(32). The quasigroup
// is totally anti-symmetric because 2 ≠ 1, which is what catches swaps.
func damm(s string) int {
	r := 0
	for i := 0; i < len(s); i++ {
		r = double(r) ^ strings.IndexByte(codeAlphabet, s[i])
	}
	return r
}

// double multiplies by x in GF(2^5) modulo x^5 + x^2 + 1.
func double(r int) int {
	r <<= 1
	if r&32 != 0 {
		r ^= 0b100101
	}
	return r
}

// ParseCode normalises a code as a person may type it (lower case,
// spaces and dashes, O for 0, I or L for 1) and checks its check
// character. Errors: invalid (field code), before anything is looked up.
func ParseCode(s string) (string, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-', '\t':
			return -1
		case 'o', 'O':
			return '0'
		case 'i', 'I', 'l', 'L':
			return '1'
		}
		if r >= 'a' && r <= 'z' {
			return r - 'a' + 'A'
		}
		return r
	}, s)
	bad := apperr.New(apperr.Invalid, "this is not a voucher code: check it and type it again").With("field", "code")
	if len(s) != codeLength {
		return "", bad
	}
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(codeAlphabet, s[i]) < 0 {
			return "", bad
		}
	}
	if damm(s) != 0 {
		return "", bad
	}
	return s, nil
}

// FormatCode groups a code in threes for people to read.
func FormatCode(code string) string {
	if len(code) != codeLength {
		return code
	}
	return code[0:3] + "-" + code[3:6] + "-" + code[6:9]
}
