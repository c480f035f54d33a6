package app

import (
	"context"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/config"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// In production the app refuses to run as a role that could rewrite the
// ledger; as reciproca_app it starts.
func TestProductionRefusesAPrivilegedRole(t *testing.T) {
	url := dbtest.New(t)
	prod := config.Config{Env: "production"}
	for _, tc := range []struct {
		url     string
		refused bool
	}{{url, true}, {dbtest.AppURL(url), false}} {
		dbx, err := db.Open(context.Background(), tc.url, 2)
		if err != nil {
			t.Fatal(err)
		}
		err = checkDBRole(context.Background(), dbx, prod)
		dbx.Close()
		if refused := err != nil && strings.Contains(err.Error(), "can rewrite the ledger"); refused != tc.refused {
			t.Errorf("connected with %s: %v, want refused %v", tc.url, err, tc.refused)
		}
	}
}
