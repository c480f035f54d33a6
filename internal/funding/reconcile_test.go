package funding_test

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/ledger"
)

// The reconciliation lists every planted difference with its cause, and
// nothing where the books agree.
func TestReconciliationListsPlantedDifferences(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.platformAdmin()
	today := time.Now()
	from, to := today.AddDate(0, 0, -1), today.AddDate(0, 0, 1)

	// Books that agree: a card top-up paid, a transfer recorded.
	card := e.cardTopUp(e.admin, 800_00)
	e.deliver(event("checkout.session.completed", session(card, "paid")))
	e.handle()
	bank, err := e.svc.RequestTopUp(ctx, e.admin, funding.TopUpRequest{Channel: funding.Bank, Amount: 2_000_00}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RecordBankReceipt(ctx, admin, funding.BankReceiptInput{Reference: *bank.Reference, Amount: 2_000_00,
		CRO: "CRO-OK", ValueDate: today}); err != nil {
		t.Fatal(err)
	}
	statement := fmt.Sprintf("data;importo;causale;cro\n%s;2.000,00;%s;CRO-OK\n", today.Format("02/01/2006"), *bank.Reference)
	lines, err := funding.ParseStatement([]byte(statement))
	if err != nil {
		t.Fatal(err)
	}
	r, err := e.svc.Reconcile(ctx, admin, from, to, lines)
	if err != nil {
		t.Fatal(err)
	}
	if got := causes(r, "ledger", "bank"); got != "" {
		t.Fatalf("books that agree show differences: %s", got)
	}
	var in int64
	for _, d := range r.Days {
		if d.Recorded != d.Ledger {
			t.Errorf("%s %s: recorded %d, ledger %d", d.Day.Format(time.DateOnly), d.Channel, d.Recorded, d.Ledger)
		}
		in += d.Ledger
	}
	if in != 2_800_00 {
		t.Fatalf("money in %d", in)
	}

	// Planted: a top-up marked paid without its ledger credit; a ledger
	// credit to platform:stripe no top-up explains; on the statement, the
	// recorded transfer with another amount and a transfer nobody recorded.
	ghost := e.cardTopUp(e.admin, 123_45)
	e.db.MustExec(`UPDATE funding_topups SET status = 'paid', paid_at = now(), credited = amount WHERE id = $1`, ghost.ID)
	if _, err := ledger.Post(ctx, e.db, ledger.Request{Key: "planted-" + uuid.NewString(), Kind: "topup", Reference: "nobody",
		Postings: []ledger.Posting{{From: funding.StripeAccount, To: funding.BudgetAccount(e.admin.OrgID), Amount: 99_00}}}); err != nil {
		t.Fatal(err)
	}
	statement = fmt.Sprintf("%s,1999.00,%s,CRO-OK\n%s,50.00,RF00 unknown,CRO-NEW\n%s,7.00,old,CRO-OLD\n", today.Format(time.DateOnly),
		*bank.Reference, today.Format(time.DateOnly), today.AddDate(0, -2, 0).Format(time.DateOnly))
	if lines, err = funding.ParseStatement([]byte(statement)); err != nil {
		t.Fatal(err)
	}
	if r, err = e.svc.Reconcile(ctx, admin, from, to, lines); err != nil {
		t.Fatal(err)
	}
	want := "bank/bank_amount/CRO-OK/200000/199900 bank/bank_unrecorded/CRO-NEW/0/5000 " +
		"ledger/ledger_missing/" + ghost.ID.String() + "/12345/0 ledger/ledger_unmatched/9900"
	if got := causes(r, "ledger", "bank"); got != want {
		t.Fatalf("differences\n got %s\nwant %s", got, want)
	}
	// Stripe (stripe-mock) lists a charge of none of our top-ups, and not ours.
	stripeCauses := causes(r, "stripe")
	if !strings.Contains(stripeCauses, "stripe_unmatched") || !strings.Contains(stripeCauses, "stripe_missing/"+card.ID.String()) {
		t.Fatalf("Stripe differences: %s (error %q)", stripeCauses, r.StripeError)
	}
	if _, err := e.svc.Reconcile(ctx, admin, to, from, nil); apperr.FieldOf(err) != "to" {
		t.Fatalf("a period ending before it starts: %v", err)
	}
	if _, err := e.svc.Reconcile(ctx, e.admin, from, to, nil); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a company admin reconciled: %v", err)
	}
	if _, err := funding.ParseStatement([]byte("2026-01-01,12.345,x,y\n")); apperr.FieldOf(err) != "statement" {
		t.Fatalf("three decimals: %v", err)
	}
}

// causes lists the differences of the given sources as
// source/cause/ref/expected/actual, sorted (a ledger_unmatched one by its
// amount only: its reference is a transaction id).
func causes(r funding.Reconciliation, sources ...string) string {
	var out []string
	for _, d := range r.Differences {
		for _, s := range sources {
			if d.Source != s {
				continue
			}
			switch {
			case d.Cause == funding.CauseLedgerUnmatched:
				out = append(out, fmt.Sprintf("%s/%s/%d", d.Source, d.Cause, d.Actual))
			case d.Source == "stripe":
				out = append(out, fmt.Sprintf("%s/%s", d.Cause, d.Ref))
			default:
				out = append(out, fmt.Sprintf("%s/%s/%s/%d/%d", d.Source, d.Cause, d.Ref, d.Expected, d.Actual))
			}
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
}

// Contract end: the whole unallocated budget goes back by transfer, in
// the ledger, with a statement; not while the company owes an open item;
// recording the same transfer again changes nothing.
func TestContractEnd(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin := e.platformAdmin()
	tu := e.cardTopUp(e.admin, 1_000_00)
	e.deliver(event("checkout.session.completed", session(tu, "paid")))
	e.handle()
	e.allocate(300_00)
	in := funding.ContractEndInput{CompanyID: e.admin.OrgID, IBAN: "IT60 X054 2811 1010 0000 0123 456", CRO: "OUT-1", ValueDate: time.Now()}
	bad := in
	bad.IBAN = "IT61X0542811101000000123456"
	if _, err := e.svc.EndContract(ctx, admin, bad); apperr.FieldOf(err) != "iban" {
		t.Fatalf("bad IBAN: %v", err)
	}
	if _, err := e.svc.EndContract(ctx, e.admin, in); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a company admin ended the contract: %v", err)
	}
	c, err := e.svc.EndContract(ctx, admin, in)
	if err != nil || c.Amount != 700_00 || c.IBAN != "IT60X0542811101000000123456" {
		t.Fatalf("contract end: %v %+v", err, c)
	}
	if again, err := e.svc.EndContract(ctx, admin, in); err != nil || again.ID != c.ID {
		t.Fatalf("again: %v", err)
	}
	if b, bank := e.balance(funding.BudgetAccount(e.admin.OrgID)), e.balance(funding.BankAccount); b != 0 || bank != -700_00 {
		t.Fatalf("budget %d, platform:bank %d", b, bank)
	}
	pdf, err := e.svc.ContractEndStatement(ctx, e.admin, c.ID)
	if err != nil || !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		t.Fatalf("statement: %v", err)
	}
	other := e.companyAdmin("Altra")
	if _, err := e.svc.ContractEndStatement(ctx, other, c.ID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another company's statement: %v", err)
	}
	in.CRO = "OUT-2"
	if _, err := e.svc.EndContract(ctx, admin, in); apperr.FieldOf(err) != "company_id" {
		t.Fatalf("nothing left to return: %v", err)
	}
	// The outgoing transfer reconciles with the bank statement.
	lines, _ := funding.ParseStatement([]byte(time.Now().Format(time.DateOnly) + ",-700.00,restituzione,OUT-1\n"))
	r, err := e.svc.Reconcile(ctx, admin, time.Now(), time.Now().AddDate(0, 0, 1), lines)
	if err != nil || causes(r, "bank") != "" {
		t.Fatalf("reconciling the return: %v %s", err, causes(r, "bank"))
	}

	// A company that owes an open item cannot end its contract yet.
	e2 := e.companyAdmin("Debitrice")
	e.admin = e2
	owed := e.cardTopUp(e2, 500_00)
	e.deliver(event("checkout.session.completed", session(owed, "paid")))
	e.handle()
	e.allocate(400_00)
	e.deliver(event("charge.refunded", charge(owed, 500_00)))
	e.handle()
	e.deliver(event("checkout.session.completed", session(e.cardTopUp(e2, 100_00), "paid")))
	e.handle()
	if _, err := e.svc.EndContract(ctx, admin, funding.ContractEndInput{CompanyID: e2.OrgID, IBAN: in.IBAN, CRO: "OUT-3",
		ValueDate: time.Now()}); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("with an open item: %v", err)
	}
	e.verify()
}
