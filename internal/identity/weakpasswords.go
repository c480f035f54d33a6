package identity

import (
	"embed"
	"slices"
	"strings"
	"sync"
	"unicode"
)

// The lists of passwords nobody may choose, shipped with the app (see
// weakpasswords/README.md for where they come from and their licences):
// the 49,233 most common passwords of leaked-password corpora as collected
// by zxcvbn-ts, and every password of 12 characters or more among the
// million most common of Xato's 10 million leaked passwords (SecLists).
//
//go:embed weakpasswords/zxcvbn-common.txt weakpasswords/seclists-top1m-12plus.txt
var weakPasswordFS embed.FS

// weakPasswords is both lists, lower-cased and sorted, read once.
var weakPasswords = sync.OnceValue(func() []string {
	var out []string
	for _, name := range []string{"weakpasswords/zxcvbn-common.txt", "weakpasswords/seclists-top1m-12plus.txt"} {
		raw, err := weakPasswordFS.ReadFile(name)
		if err != nil {
			panic(err) // embedded: cannot happen
		}
		for _, l := range strings.Split(string(raw), "\n") {
			if l = strings.TrimSpace(l); l != "" {
				out = append(out, strings.ToLower(l))
			}
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
})

func listedWeak(pw string) bool {
	_, found := slices.BinarySearch(weakPasswords(), pw)
	return found
}

// notWord reports the characters people tack onto a common word to pass
// a length rule: digits, punctuation, symbols and spaces.
func notWord(r rune) bool {
	return unicode.IsDigit(r) || unicode.IsPunct(r) || unicode.IsSymbol(r) || unicode.IsSpace(r)
}

// commonPassword reports whether pw (any case) is on the lists, is a
// listed word with digits or symbols around it ("Password2024!"), is the
// e-mail's own name or the app's, or is one short run repeated
// ("abcabcabcabc").
func commonPassword(pw, email string) bool {
	l := strings.ToLower(pw)
	if listedWeak(l) {
		return true
	}
	base := strings.TrimFunc(l, notWord)
	local, _, _ := strings.Cut(strings.ToLower(email), "@")
	if base != "" && (listedWeak(base) || base == local || base == "reciproca") {
		return true
	}
	for n := 1; n <= 4 && n < len(l); n++ {
		if len(l)%n == 0 && strings.Repeat(l[:n], len(l)/n) == l {
			return true
		}
	}
	return false
}
