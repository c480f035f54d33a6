package plans_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/plans"
)

// The payroll export has tax code, employee number, year, tax bucket, PdR
// or not and the amount used; a booking still pending and expired credit
// are not "used"; no service category or provider appears.
func TestPayrollExportCountsWhatWasUsed(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	u := f.employee("impiegati", func(in *plans.EmployeeInput) { in.TaxCode, in.EmployeeNumber = "RSSMRA80A01F205X", "M-1" })
	f.fund(f.company.ID, 1_000_00)
	y := time.Now().Year()
	ord := f.plan(thisYear(map[string]int64{"impiegati": 100}))
	pdrIn := thisYear(nil)
	pdrIn.Name, pdrIn.Kind, pdrIn.ResidualPolicy = "PdR", plans.PdR, plans.ResidualPayroll
	pdr := f.plan(pdrIn)
	later := time.Now().AddDate(0, 1, 0)
	f.credit(ord, u.ID, 100_00, later)
	f.expiredCredit(ord, u.ID, 7_00)
	if _, err := f.svc.SweepExpiredLots(f.ctx, 10); err != nil {
		t.Fatal(err)
	}
	exp := later
	if _, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: "pdr-lot", Kind: "allocation", Postings: []ledger.Posting{{
		From: "company:" + f.company.ID.String() + ":budget", To: "employee:" + u.ID.String() + ":wallet", Amount: 50_00,
		Lot: &ledger.LotSpec{ExpiresAt: &exp, Categories: []string{"sport"}, Attrs: map[string]any{"plan_id": pdr.ID.String(), "plan_kind": "pdr"}}}}}); err != nil {
		t.Fatal(err)
	}
	payable := "provider:test:payable"
	if _, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: payable, Kind: ledger.Liability, Floor: ptr(int64(0))}); err != nil {
		t.Fatal(err)
	}
	wallet := "employee:" + u.ID.String() + ":wallet"
	// A sport course paid from the ordinary lot (older, same expiry)...
	if _, err := ledger.Post(f.ctx, f.db, ledger.Request{Key: "r1", Kind: "redemption", Postings: []ledger.Posting{{From: wallet, To: payable,
		Amount: 30_00, Category: "sport"}}}); err != nil {
		t.Fatal(err)
	}
	// ...and a booking still pending, which does not count yet.
	if _, err := ledger.Hold(f.ctx, f.db, ledger.HoldRequest{ExpiresAt: time.Now().Add(time.Hour), Request: ledger.Request{Key: "h1", Kind: "booking",
		Postings: []ledger.Posting{{From: wallet, To: payable, Amount: 20_00, Category: "sport"}}}}); err != nil {
		t.Fatal(err)
	}
	lines, err := f.svc.PayrollLines(f.ctx, f.hrp(), y)
	if err != nil {
		t.Fatal(err)
	}
	if len(lines) != 1 || lines[0].UsedCents != 30_00 || lines[0].PdR || lines[0].TaxBucket != "art51_c2_f" || lines[0].TaxCode != "RSSMRA80A01F205X" {
		t.Fatalf("payroll lines %+v, want one of 30_00 under art51_c2_f, not PdR", lines)
	}
	var b bytes.Buffer
	if err := f.svc.WritePayrollCSV(f.ctx, f.hrp(), y, &b); err != nil {
		t.Fatal(err)
	}
	csv := b.String()
	if !strings.Contains(csv, "codice_fiscale;matricola;anno;voce_fiscale;pdr;importo_usato") || !strings.Contains(csv, "RSSMRA80A01F205X;M-1;") ||
		!strings.Contains(csv, ";art51_c2_f;no;30,00") || strings.Contains(csv, "sport") || strings.Contains(csv, "provider") {
		t.Fatalf("payroll CSV:\n%s", csv)
	}
}
