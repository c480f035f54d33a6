package identity

import (
	"testing"

	"github.com/reciproca/reciproca/internal/apperr"
)

// The password rules: at least 12 characters, never the e-mail, never a
// common or breached password (from the shipped lists, in any case, with
// digits or symbols tacked on), never one short run repeated. The demo,
// test and example passwords the app and its tests use all pass.
func TestPasswordPolicy(t *testing.T) {
	const email = "giulia.rossi@example.com"
	refused := []string{
		"corta-11car",              // 11 characters
		"password1234",             // listed word + digits
		"Password2024!",            // and a capital and a symbol
		"iloveyou!!!!",             // listed word + symbols
		"qwertyuiopasdfgh",         // listed keyboard walk (12+)
		"1q2w3e4r5t6y",             // listed (12+)
		"MOTHERFUCKER",             // listed, any case
		"123456789012",             // listed digits
		"aaaaaaaaaaaa",             // one character repeated
		"abcabcabcabc",             // one run repeated
		"giulia.rossi@example.com", // the e-mail
		"giulia.rossi2024",         // the e-mail's name + digits
		"reciproca2024!",           // the app's name + digits
	}
	for _, pw := range refused {
		if err := checkPasswordPolicy(pw, email); apperr.CodeOf(err) != apperr.Invalid || apperr.FieldOf(err) != "password" {
			t.Errorf("%q was accepted (%v)", pw, err)
		}
	}
	accepted := []string{
		"Password-di-prova-1",     // identitytest.Password
		"reciproca-demo",          // seed.DemoPassword
		"il mio orto sul balcone", // the browser tests' new user
		"la mia password sicura",
		"Una-password-nuova-e-lunga-7",
		"cavallo batteria graffetta",
	}
	for _, pw := range accepted {
		if err := checkPasswordPolicy(pw, email); err != nil {
			t.Errorf("%q was refused: %v", pw, err)
		}
	}
	if n := len(weakPasswords()); n < 90000 {
		t.Fatalf("only %d weak passwords loaded", n)
	}
}
