package identity_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/seed"
)

// Every demo account printed by `make run` signs in with what is printed
// (and the current code for the accounts with a second factor), and the
// demo data spans the organisations and roles the issue lists.
func TestDemoAccountsSignIn(t *testing.T) {
	t.Parallel()
	a := apptest.Start(t)
	if _, err := seed.Run(t.Context(), a.DB); err != nil {
		t.Fatal(err)
	}
	roles := map[string]int{}
	for _, acc := range seed.DemoAccounts() {
		body := map[string]any{"email": acc.Email, "password": acc.Password}
		if acc.TOTPSecret != "" {
			body["totp_code"] = identity.TOTPCode(acc.TOTPSecret, time.Now())
		}
		st, tok := call(t, a, "POST", "/auth/login", "", body)
		if st != 200 {
			t.Errorf("%s (%s): %d %v", acc.Email, acc.Role, st, tok)
			continue
		}
		_, me := call(t, a, "GET", "/me", tok["access_token"].(string), nil)
		if me["roles"].([]any)[0] != acc.Role || me["organisation"].(map[string]any)["name"] != acc.Organisation {
			t.Errorf("%s: me = %v", acc.Email, me)
		}
		roles[acc.Role]++
	}
	for _, r := range auth.AllRoles {
		if roles[string(r)] == 0 {
			t.Errorf("no demo account with role %s", r)
		}
	}
	if roles["company_admin"] != 2 || roles["employee"] < 4 || roles["provider_staff"] < 2 {
		t.Errorf("demo roles: %v", roles)
	}
}
