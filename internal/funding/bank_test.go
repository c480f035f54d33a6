package funding_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/funding"
)

// The RF reference is ISO 11649: the standard's own example holds, a
// changed character fails, and every top-up's reference is valid.
func TestCreditorReference(t *testing.T) {
	if !funding.ValidReference("RF18 5390 0754 7034") || !funding.ValidReference("rf18539007547034") {
		t.Fatal("the ISO 11649 example is refused")
	}
	for _, bad := range []string{"RF19539007547034", "RF18539007547035", "RF18", "XX18539007547034", "RF18-5390"} {
		if funding.ValidReference(bad) {
			t.Errorf("%s accepted", bad)
		}
	}
	for range 50 {
		if ref := funding.CreditorReference(uuid.New()); !funding.ValidReference(ref) || len(ref) != 20 {
			t.Fatalf("%s is not valid", ref)
		}
	}
}

// A bank top-up: the company gets the IBAN and an RF reference; partial
// payments add up, an over-payment shows; a large one waits for a second
// admin; the same CRO is never recorded twice; a bad field is named.
func TestBankTransferTopUp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tu, err := e.svc.RequestTopUp(ctx, e.admin, funding.TopUpRequest{Channel: funding.Bank, Amount: 30_000_00}, "")
	if err != nil || tu.Reference == nil || !funding.ValidReference(*tu.Reference) || tu.Status != funding.Open {
		t.Fatalf("bank top-up: %v %+v", err, tu)
	}
	budget := funding.BudgetAccount(e.admin.OrgID)
	first, second := e.platformAdmin(), e.platformAdmin()
	today := time.Now()
	rec := func(p any, amount int64, cro string, vd time.Time) (funding.BankReceipt, error) {
		return e.svc.RecordBankReceipt(ctx, first, funding.BankReceiptInput{Reference: *tu.Reference, Amount: amount, CRO: cro, ValueDate: vd})
	}
	r1, err := rec(first, 5_000_00, "cro 0001", today.AddDate(0, 0, -3))
	if err != nil || r1.Status != "credited" || r1.CRO != "CRO0001" {
		t.Fatalf("first receipt: %v %+v", err, r1)
	}
	if b := e.balance(budget); b != 5_000_00 {
		t.Fatalf("budget %d", b)
	}
	// The same receipt again (a retry) is the same; its CRO on another amount is a conflict.
	if again, err := rec(first, 5_000_00, "CRO0001", today.AddDate(0, 0, -3)); err != nil || again.ID != r1.ID {
		t.Fatalf("retry: %v", err)
	}
	if _, err := rec(first, 6_000_00, "CRO0001", today); !apperr.Is(err, apperr.Conflict) || apperr.FieldOf(err) != "cro" {
		t.Fatalf("same CRO twice: %v", err)
	}
	// Above the threshold: waits for a second admin.
	big, err := rec(first, 26_000_00, "CRO0002", today)
	if err != nil || big.Status != "awaiting_confirmation" || e.balance(budget) != 5_000_00 {
		t.Fatalf("large receipt: %v %+v, budget %d", err, big, e.balance(budget))
	}
	if _, err := e.svc.ConfirmBankReceipt(ctx, first, big.ID); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("the recorder confirmed their own: %v", err)
	}
	if _, err := e.svc.ConfirmBankReceipt(ctx, e.admin, big.ID); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a company admin confirmed: %v", err)
	}
	if c, err := e.svc.ConfirmBankReceipt(ctx, second, big.ID); err != nil || c.Status != "credited" {
		t.Fatalf("second admin: %v %+v", err, c)
	}
	if _, err := e.svc.ConfirmBankReceipt(ctx, second, big.ID); err != nil {
		t.Fatalf("confirming again: %v", err)
	}
	got := e.topUp(tu.ID)
	if got.Credited != 31_000_00 || got.Outstanding() != -1_000_00 || e.balance(budget) != 31_000_00 {
		t.Fatalf("credited %d, outstanding %d, budget %d", got.Credited, got.Outstanding(), e.balance(budget))
	}
	// Bad fields.
	for field, in := range map[string]funding.BankReceiptInput{
		"reference":    {Reference: "RF00123", Amount: 1, CRO: "X1", ValueDate: today},
		"amount_cents": {Reference: *tu.Reference, Amount: 0, CRO: "X2", ValueDate: today},
		"cro":          {Reference: *tu.Reference, Amount: 1, CRO: "  ", ValueDate: today},
		"value_date":   {Reference: *tu.Reference, Amount: 1, CRO: "X3", ValueDate: today.AddDate(0, 0, -8)},
	} {
		if _, err := e.svc.RecordBankReceipt(ctx, first, in); !apperr.Is(err, apperr.Invalid) || apperr.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, err := e.svc.RecordBankReceipt(ctx, first, funding.BankReceiptInput{Reference: *tu.Reference, Amount: 1, CRO: "X4",
		ValueDate: today.AddDate(0, 0, 1)}); apperr.FieldOf(err) != "value_date" {
		t.Errorf("future value date: %v", err)
	}
	list, err := e.svc.BankReceipts(ctx, e.admin, tu.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("receipts %d %v", len(list), err)
	}
	e.verify()
}
