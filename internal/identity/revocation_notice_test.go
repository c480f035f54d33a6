package identity_test

import (
	"context"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/identity"
)

// A server that listens for revocation notices stops a token as soon as
// the notice of a change arrives. Its fallback here is an hour, so only a
// notice can stop a token within the test; every change is written
// straight into the database, so no server forgets anything on its own:
// a new epoch (sign-out, new password), a deactivated user, a removed
// role, a suspended organisation, and a change made while the notices'
// connection was cut (the server forgets everything and listens again).
func TestRevocationNoticesStopTokensAtOnce(t *testing.T) {
	t.Parallel()
	a, k := start(t)
	identity.SetRevocationTTL(a.Identity, time.Hour)
	ctx := context.Background()
	waitFor(t, "listening for revocation notices", func() bool { return identity.ListeningForRevocations(a.Identity) })
	org := k.Org(auth.OrgCompany, "")
	cases := []struct {
		name   string
		change string // SQL, $1 the user's id
	}{
		{"a new revocation epoch", `UPDATE users SET auth_epoch = auth_epoch + 1 WHERE id = $1`},
		{"a deactivated user", `UPDATE users SET status = 'deactivated' WHERE id = $1`},
		{"a removed role", `DELETE FROM user_roles WHERE user_id = $1`},
		{"a cut connection", `UPDATE users SET auth_epoch = auth_epoch + 1 WHERE id = $1`},
		{"a suspended organisation", `UPDATE organisations SET status = 'suspended' WHERE id = (SELECT organisation_id FROM users WHERE id = $1)`},
	}
	for _, c := range cases {
		u := k.User(org, auth.RoleEmployee)
		tok := k.Token(u)
		if _, err := a.Identity.VerifyAccessToken(ctx, tok); err != nil { // now remembered for up to an hour
			t.Fatalf("%s: the token before = %v", c.name, err)
		}
		if c.name == "a cut connection" {
			if _, err := a.DB.ExecContext(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
				WHERE datname = current_database() AND query LIKE 'LISTEN %'`); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := a.DB.ExecContext(ctx, c.change, u.ID); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		waitFor(t, c.name+" to stop the token", func() bool {
			_, err := a.Identity.VerifyAccessToken(ctx, tok)
			return apperr.Is(err, apperr.Unauthorized)
		})
	}
}

// waitFor polls ok until it holds, failing the test after 20 s (a notice
// takes milliseconds; the bound is for a loaded machine).
func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for start := time.Now(); !ok(); time.Sleep(20 * time.Millisecond) {
		if time.Since(start) > 20*time.Second {
			t.Fatalf("waited 20 s for %s", what)
		}
	}
}
