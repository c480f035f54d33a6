package identity

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/auth"
)

// A remembered token is still refused once it expires, and a token that
// differs from a remembered one in any byte is checked afresh.
func TestVerifiedTokensExpireAndNeverMatchAnotherToken(t *testing.T) {
	tc := tokenConfig{keys: NewKeySet(GenerateKey()), issuer: "https://reciproca.test", audience: "reciproca-api", ttl: time.Minute}
	p := &auth.Principal{UserID: uuid.New(), OrgID: uuid.New(), OrgKind: auth.OrgCompany, Roles: []auth.Role{auth.RoleEmployee}}
	now := time.Now()
	tok, _, err := tc.issue(p, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	c := newVerifiedTokens()
	for i := range 2 { // checked, then remembered
		got, epoch, err := c.verify(tc, tok, now.Add(time.Duration(i)*time.Second))
		if err != nil || got.UserID != p.UserID || epoch != 3 || len(got.Roles) != 1 {
			t.Fatalf("verification %d = %+v, %d, %v", i, got, epoch, err)
		}
		got.Roles[0] = auth.RolePlatformAdmin // a caller's change stays its own
	}
	if got, _, _ := c.verify(tc, tok, now); got.Roles[0] != auth.RoleEmployee {
		t.Fatalf("a caller's change reached the cache: %v", got.Roles)
	}
	if _, _, err := c.verify(tc, tok, now.Add(time.Minute+Leeway+time.Second)); err == nil {
		t.Fatal("an expired token was accepted from the cache")
	}
	forged := []byte(tok)
	forged[len(forged)-2] ^= 1
	if _, _, err := c.verify(tc, string(forged), now); err == nil {
		t.Fatal("a token differing in one byte was accepted")
	}
}
