package seed

import (
	"context"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The demo shows a voucher in every state and a provider's payouts, all
// spent from the plans' allocation (no wallet credit of its own), and the
// books balance.
func TestRedemptionDemoSeed(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	if _, err := Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	var states []string
	if err := dbx.Select(&states, `SELECT DISTINCT status FROM vouchers ORDER BY status`); err != nil {
		t.Fatal(err)
	}
	if len(states) != len(redemption.Statuses()) {
		t.Fatalf("demo voucher states %v, want all of %v", states, redemption.Statuses())
	}
	var payouts []string
	if err := dbx.Select(&payouts, `SELECT status FROM provider_payouts WHERE provider_id = $1 ORDER BY created_at`, OrgProviderA); err != nil {
		t.Fatal(err)
	}
	if strings.Join(payouts, ",") != "paid,queued" {
		t.Fatalf("Il Germoglio's payouts: %v", payouts)
	}
	var foreign int
	if err := dbx.Get(&foreign, `SELECT count(*) FROM ledger_lots l JOIN ledger_accounts a ON a.id = l.account_id
		WHERE a.path LIKE 'employee:%:wallet' AND NOT l.attrs ? 'plan_id'`); err != nil || foreign != 0 {
		t.Fatalf("%d wallet lots not from a plan (%v)", foreign, err)
	}
	rep, err := ledger.Verify(ctx, dbx)
	if err != nil || !rep.OK {
		t.Fatalf("ledger verify after the demo data: %v %v", rep.OK, err)
	}
}
