package redemption_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/redemption"
)

// The platform's bank reconciliation checks the treasury's moves against
// the bank statement: a move the statement shows with its amount leaves
// nothing to report, one with another amount or missing from the
// statement is a difference, and a line nobody recorded still is one.
func TestTreasuryMovesReconcileWithTheBankStatement(t *testing.T) {
	w := newAppWorld(t) // the employee's 40 euro reached platform:bank
	ctx := context.Background()
	for i, in := range []redemption.TreasuryMoveInput{
		{Direction: redemption.ToStripe, AmountCents: 30_00, Reference: "CRO 42"},
		{Direction: redemption.ToBank, AmountCents: 5_00, Reference: "CRO 77"},
		{Direction: redemption.ToStripe, AmountCents: 1_00, Reference: "CRO 99"},
	} {
		if _, err := w.a.Redemption.RecordTreasuryMove(ctx, w.admin.Principal(), in, fmt.Sprint("move-", i)); err != nil {
			t.Fatal(err)
		}
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	today := time.Now().In(rome)
	statement := fmt.Sprintf("data;importo;causale;cro\n%[1]s;-30,00;giroconto verso Stripe;CRO42\n"+
		"%[1]s;4,00;STRIPE PAYOUT;CRO 77\n%[1]s;12,00;sconosciuto;CRO 5\n", today.Format("02/01/2006"))
	lines, err := funding.ParseStatement([]byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	r, err := w.a.Funding.Reconcile(ctx, w.admin.Principal(), today.AddDate(0, 0, -1), today.AddDate(0, 0, 1), lines)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, d := range r.Differences {
		if d.Source == "bank" {
			got = append(got, fmt.Sprintf("%s/%s/%d/%d", d.Cause, d.Ref, d.Expected, d.Actual))
		}
	}
	sort.Strings(got)
	want := "bank_amount/CRO 77/500/400 bank_missing/CRO 99/-100/0 bank_unrecorded/CRO5/0/1200"
	if strings.Join(got, " ") != want {
		t.Fatalf("bank differences\n got %s\nwant %s", strings.Join(got, " "), want)
	}
}
