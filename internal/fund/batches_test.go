package fund_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/fund"
)

func (x *kit) settings(t *testing.T) {
	t.Helper()
	_, err := x.svc().SaveSettings(x.ctx, x.manager.Principal(), fund.Settings{Territory: "Lecco", ApprovalThreshold: 50000,
		CUC: "LC0FI01X", DebtorName: "Fondo di prova ETS", DebtorIBAN: "IT60 X054 2811 1010 0000 0123 456"})
	if err != nil {
		t.Fatal(err)
	}
}

// approved proposes and approves a grant of amount on a new case.
func (x *kit) approved(t *testing.T, name string, p fund.Proposal) (fund.Case, fund.Intervention) {
	t.Helper()
	c := x.open(t, &fund.Identity{FirstName: name, LastName: "Beneficiario", BirthDate: "1980-06-06"})
	in := x.propose(t, c, p)
	in, err := x.svc().Approve(x.ctx, x.approver.Principal(), in.ID)
	if err != nil {
		t.Fatal(err)
	}
	return c, in
}

func attributed(t *testing.T, x *kit, id fund.Intervention) (sum int64, byCompany map[string]int64) {
	t.Helper()
	list, err := x.svc().Attributions(x.ctx, x.manager.Principal(), id.ID)
	if err != nil {
		t.Fatal(err)
	}
	byCompany = map[string]int64{}
	for _, a := range list {
		sum += a.Amount
		byCompany[a.CompanyID] += a.Amount
	}
	return sum, byCompany
}

// A batch's CBI file validates against the schema, carries only the
// reference as remittance, and downloads identically; marking it
// executed pays from the commitments once, recording the contributor
// lots that paid; a returned line goes back to its commitment.
func TestPaymentBatch(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 10_000_000, 200_000)
	_, err := x.svc().CreateBatch(x.ctx, x.manager.Principal(), time.Now().Add(48*time.Hour), "")
	if apperr.FieldOf(err) != "cuc" {
		t.Fatalf("a batch without bank settings: %v", err)
	}
	x.settings(t)
	_, err = x.svc().CreateBatch(x.ctx, x.manager.Principal(), time.Now().Add(48*time.Hour), "")
	wantCode(t, err, apperr.Conflict) // nothing to pay yet

	rentCase, rent := x.approved(t, "Mario", grant(45000))
	billCase, bill := x.approved(t, "Giulia", fund.Proposal{Kind: fund.KindEmergencyGrant, Theme: fund.ThemeEmergencies, Amount: 12050,
		Purpose: "bolletta gas con problema di salute", Payee: fund.Payee{Name: "Società Gas Lario", IBAN: "DE89370400440532013000", Reference: "Avviso 4455"}})
	b, err := x.svc().CreateBatch(x.ctx, x.manager.Principal(), time.Now().Add(48*time.Hour), "")
	if err != nil || b.Count != 2 || b.Total != 57050 {
		t.Fatalf("batch %+v %v", b, err)
	}
	name, file, err := x.svc().BatchFile(x.ctx, x.manager.Principal(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	_, again, _ := x.svc().BatchFile(x.ctx, x.manager.Principal(), b.ID)
	if !bytes.Equal(file, again) || !strings.Contains(string(file), "<MsgId>"+b.MessageID+"</MsgId>") || !strings.HasSuffix(name, ".xml") {
		t.Fatal("downloading the batch twice gave different files")
	}
	f := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(f, file, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("xmllint", "--noout", "--schema", "../sepa/testdata/cbi-profile.xsd", f).CombinedOutput(); err != nil {
		t.Fatalf("the batch file does not validate: %v %s\n%s", err, out, file)
	}
	// The pseudonyms, not their "B-" prefix: a random message id may end in B
	// and its first line's end-to-end id then reads "…B-1".
	for _, secret := range []string{"Mario", "Giulia", "Beneficiario", "affitto", "salute", rentCase.Pseudonym, billCase.Pseudonym} {
		if strings.Contains(string(file), secret) {
			t.Fatalf("the bank file carries %q", secret)
		}
	}
	for _, want := range []string{"<Ustrd>Fattura 2026/118</Ustrd>", "<Ustrd>Avviso 4455</Ustrd>", "<TwnNm>Lecco</TwnNm>", "<Id>LC0FI01X</Id>"} {
		if !strings.Contains(string(file), want) {
			t.Fatalf("the bank file lacks %s", want)
		}
	}
	// A new batch leaves out what is already in one.
	_, err = x.svc().CreateBatch(x.ctx, x.manager.Principal(), time.Now().Add(48*time.Hour), "")
	wantCode(t, err, apperr.Conflict)

	bank := balance(t, x, fund.BankAccount)
	if _, err := x.svc().MarkExecuted(x.ctx, x.manager.Principal(), b.ID); err != nil {
		t.Fatal(err)
	}
	_, err = x.svc().MarkExecuted(x.ctx, x.manager.Principal(), b.ID)
	wantCode(t, err, apperr.Conflict)
	if got := balance(t, x, fund.BankAccount); got != bank-57050 {
		t.Fatalf("bank moved %d, want -57050", got-bank)
	}
	for _, in := range []fund.Intervention{rent, bill} {
		if got := balance(t, x, "fund:"+x.fund.ID.String()+":committed:"+in.ID.String()); got != 0 {
			t.Fatalf("commitment left %d after payment", got)
		}
		sum, byCompany := attributed(t, x, in)
		if sum != in.Amount || len(byCompany) == 0 {
			t.Fatalf("lots consumed sum to %d for a payment of %d (%v)", sum, in.Amount, byCompany)
		}
	}
	// The bank returns the gas bill's transfer: back to its commitment.
	var line string
	for _, l := range b.Lines {
		if l.InterventionID == bill.ID {
			line = l.ID.String()
		}
	}
	b2, err := x.svc().GetBatch(x.ctx, x.manager.Principal(), b.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range b2.Lines {
		if l.ID.String() == line {
			if _, err := x.svc().ReturnLine(x.ctx, x.manager.Principal(), b.ID, l.ID, "AC04 conto chiuso"); err != nil {
				t.Fatal(err)
			}
			if _, err := x.svc().ReturnLine(x.ctx, x.manager.Principal(), b.ID, l.ID, "AC04 conto chiuso"); apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("returning twice: %v", err)
			}
		}
	}
	if got := balance(t, x, "fund:"+x.fund.ID.String()+":committed:"+bill.ID.String()); got != 12050 {
		t.Fatalf("a returned payment left %d in its commitment, want 12050", got)
	}
	if sum, _ := attributed(t, x, bill); sum != 0 {
		t.Fatalf("after the return the attribution nets to %d, want 0", sum)
	}
	// Then it is cancelled: the money goes back to the envelope.
	env := balance(t, x, "fund:"+x.fund.ID.String()+":envelope:emergencies")
	if _, err := x.svc().Cancel(x.ctx, x.manager.Principal(), bill.ID, "il creditore ha chiuso il conto"); err != nil {
		t.Fatal(err)
	}
	if got := balance(t, x, "fund:"+x.fund.ID.String()+":envelope:emergencies"); got != env+12050 {
		t.Fatalf("cancellation returned %d to the envelope, want 12050", got-env)
	}
	// A clawback of part of the rent goes back to the envelope too.
	got, err := x.svc().Clawback(x.ctx, x.manager.Principal(), rent.ID, 5000, "il padrone di casa ha restituito l'eccedenza")
	if err != nil || got.Paid != 40000 || got.Released != 5000 {
		t.Fatalf("clawback: %+v %v", got, err)
	}
	if sum, _ := attributed(t, x, rent); sum != 40000 {
		t.Fatalf("after the clawback the lots net to %d, want 40000", sum)
	}
	if got := balance(t, x, "fund:"+x.fund.ID.String()+":envelope:emergencies"); got != env+12050+5000 {
		t.Fatalf("clawback returned %d to the envelope", got-env-12050)
	}
	if _, err := x.svc().Clawback(x.ctx, x.manager.Principal(), rent.ID, 40001, "troppo"); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("clawing back more than paid: %v", err)
	}
}

// A catalogue service is paid to the provider's payable once the case
// worker confirms delivery, without any split.
func TestCatalogueServiceDelivery(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 1_000_000, 100_000)
	provider := x.k.Org("provider", "Coop Il Germoglio")
	p := fund.Proposal{Kind: fund.KindCatalogueService, Theme: fund.ThemeEmergencies, Amount: 3000, Purpose: "doposcuola per il figlio",
		Payee: fund.Payee{Provider: &provider.ID}}
	c, in := x.approved(t, "Sara", p)
	_, err := x.svc().ConfirmDelivery(x.ctx, reader(x.worker2), in.ID)
	wantCode(t, err, apperr.NotFound)
	got, err := x.svc().ConfirmDelivery(x.ctx, reader(x.worker), in.ID)
	if err != nil || got.Status != fund.StatusPaid {
		t.Fatalf("delivery: %+v %v", got, err)
	}
	if b := balance(t, x, "provider:"+provider.ID.String()+":payable"); b != 3000 {
		t.Fatalf("provider payable %d, want the whole 3000 (no split)", b)
	}
	if _, err := x.svc().ConfirmDelivery(x.ctx, reader(x.worker), in.ID); apperr.CodeOf(err) != apperr.Conflict {
		t.Fatalf("delivered twice: %v", err)
	}
	if sum, _ := attributed(t, x, in); sum != 3000 {
		t.Fatalf("attribution %d", sum)
	}
	_ = c
}
