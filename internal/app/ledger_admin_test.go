package app_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Platform admins and auditors read the ledger's health through the API,
// signed in for real; other roles are refused.
func TestLedgerVerifyForAdminsAndAuditors(t *testing.T) {
	a := apptest.Start(t)
	ctx := context.Background()
	zero := int64(0)
	for _, s := range []ledger.AccountSpec{{Path: "platform:stripe", Kind: ledger.Asset},
		{Path: "company:acme:budget", Kind: ledger.Liability, Floor: &zero}} {
		if _, err := ledger.CreateAccount(ctx, a.DB, s); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ledger.Post(ctx, a.DB, ledger.Request{Key: "topup-1", Postings: []ledger.Posting{
		{From: "platform:stripe", To: "company:acme:budget", Amount: 250_00}}}); err != nil {
		t.Fatal(err)
	}

	k := identitytest.New(t, a.DB, a.Identity)
	call := func(u *identitytest.User) (int, map[string]any) {
		req, _ := http.NewRequest(http.MethodGet, a.URL()+"/api/v1/admin/ledger/verify", nil)
		req.Header.Set("Authorization", "Bearer "+k.Token(u))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return res.StatusCode, body
	}
	for _, u := range []*identitytest.User{
		k.As(auth.OrgPlatform, auth.RolePlatformAdmin),
		k.As(auth.OrgFund, auth.RoleAuditor),
	} {
		status, body := call(u)
		if status != http.StatusOK || body["ok"] != true || body["transactions"] != float64(1) {
			t.Errorf("%v: verify = %d %v, want 200 with a healthy report of 1 transaction", u.Principal().Roles, status, body)
		}
	}
	if status, body := call(k.As(auth.OrgCompany, auth.RoleCompanyAdmin)); status != http.StatusForbidden || body["code"] != "forbidden" {
		t.Errorf("company admin: verify = %d %v, want 403 forbidden", status, body)
	}
}
