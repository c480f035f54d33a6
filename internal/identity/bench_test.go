package identity

import (
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/auth"
)

// BenchmarkPasswordVerify is the cost of one sign-in attempt (argon2id
// with the default parameters): it bounds sign-ins per core per second.
func BenchmarkPasswordVerify(b *testing.B) {
	h := hashPassword(DefaultArgon2, "una password di prova")
	for b.Loop() {
		verifyPassword(DefaultArgon2, h, "una password di prova")
	}
}

// BenchmarkAccessTokenVerify is what every API request pays to authenticate.
func BenchmarkAccessTokenVerify(b *testing.B) {
	tc := tokenConfig{keys: NewKeySet(GenerateKey()), issuer: "https://x", audience: "reciproca-api", ttl: 15 * time.Minute}
	tok, _, err := tc.issue(&auth.Principal{UserID: uuid.New(), OrgID: uuid.New(), OrgKind: auth.OrgCompany, Roles: []auth.Role{auth.RoleEmployee}}, 0, time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, _, err := tc.verify(tok, time.Now()); err != nil {
			b.Fatal(err)
		}
	}
}
