package redemption_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// A provider without Stripe is paid by SEPA file: its payout waits for
// its IBAN, goes into one file (the same bytes at every download), is
// paid when the file is confirmed, and a returned transfer — before or
// after the bank paid — puts the money back on the payable for the next
// payout. Each step happens once.
func TestSEPAPayouts(t *testing.T) {
	f := newFixture(t)
	emp := f.employee(200_00, nil)
	v, err := f.book(emp, f.offering, 3, &f.slot)
	f.ok(err)
	f.onSlotDay()
	_, err = f.svc.Validate(f.ctx, f.staff, v.Code)
	f.ok(err)
	payable := redemption.PayablePath(f.staff.OrgID)
	owed := f.available(payable) // 75.00 less the fund's share and the fee
	if owed != 63_75 {
		t.Fatalf("owed = %d", owed)
	}
	po, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	if po.Method != redemption.PayoutSEPA || po.Status != redemption.PayoutQueued {
		t.Fatalf("payout = %+v", po)
	}
	today := f.clock()
	_, err = f.svc.ExportPayouts(f.ctx, f.admin, today, "")
	if ae := wantCode(t, err, apperr.Conflict); ae.Fields["reason"] != "nothing_to_pay" {
		t.Fatalf("export without the provider's IBAN = %v", ae)
	}
	waiting, err := f.svc.WaitingSEPA(f.ctx, f.admin)
	f.ok(err)
	if len(waiting) != 1 || waiting[0].HasAccount || waiting[0].ProviderName != "Cooperativa Il Ponte" {
		t.Fatalf("waiting = %+v", waiting)
	}
	_, err = f.svc.SetBankAccount(f.ctx, f.staff, "Cooperativa Il Ponte", "IT60 X054 2811 1010 0000 0123 457")
	wantCode(t, err, apperr.Invalid) // a wrong check digit
	_, err = f.svc.SetBankAccount(f.ctx, f.staff, "Cooperativa Il Ponte", "it15 l030 6909 6061 0000 0063 622")
	f.ok(err)
	_, err = f.svc.ExportPayouts(f.ctx, f.staff, today, "")
	wantCode(t, err, apperr.Forbidden)
	_, err = f.svc.ExportPayouts(f.ctx, f.admin, today.AddDate(0, 0, -2), "")
	wantCode(t, err, apperr.Invalid)

	b, err := f.svc.ExportPayouts(f.ctx, f.admin, today.AddDate(0, 0, 1), "e1")
	f.ok(err)
	again, err := f.svc.ExportPayouts(f.ctx, f.admin, today.AddDate(0, 0, 1), "e1")
	f.ok(err)
	if again.ID != b.ID || b.Count != 1 || b.Total != owed || b.Payouts[0].Status != redemption.PayoutSent {
		t.Fatalf("file = %+v, again %v", b, again.ID)
	}
	_, err = f.svc.ExportPayouts(f.ctx, f.admin, today, "")
	wantCode(t, err, apperr.Conflict) // nothing left to put in a file
	name, x, err := f.svc.PayoutBatchFile(f.ctx, f.admin, b.ID)
	f.ok(err)
	_, x2, err := f.svc.PayoutBatchFile(f.ctx, f.admin, b.ID)
	f.ok(err)
	if !strings.HasSuffix(name, ".xml") || !bytes.Equal(x, x2) || !bytes.Contains(x, []byte("IT15L0306909606100000063622")) ||
		!bytes.Contains(x, []byte(">63.75<")) || !bytes.Contains(x, []byte("RCPTST01")) {
		t.Fatalf("file %s:\n%s", name, x)
	}
	// Sent: the money is held, not yet gone; the provider cannot ask again.
	if f.available(payable) != 0 {
		t.Fatalf("payable while the file is at the bank = %d", f.available(payable))
	}

	_, err = f.svc.ConfirmPayoutBatch(f.ctx, f.admin, b.ID)
	f.ok(err)
	_, err = f.svc.ConfirmPayoutBatch(f.ctx, f.admin, b.ID)
	wantCode(t, err, apperr.Conflict)
	list, err := f.svc.Payouts(f.ctx, f.staff)
	f.ok(err)
	if len(list) != 1 || list[0].Status != redemption.PayoutPaid || list[0].CaptureTxID == nil {
		t.Fatalf("payouts after the bank paid = %+v", list)
	}
	st, err := f.svc.PayoutStatement(f.ctx, f.staff, po.ID)
	f.ok(err)
	if len(st.Vouchers) != 1 {
		t.Fatalf("statement of the paid payout: %d vouchers", len(st.Vouchers))
	}

	// The bank returns it after paying: the money is owed again.
	_, err = f.svc.ReturnPayout(f.ctx, f.admin, po.ID, "")
	wantCode(t, err, apperr.Invalid)
	ret, err := f.svc.ReturnPayout(f.ctx, f.admin, po.ID, "AC04 conto chiuso")
	f.ok(err)
	_, err = f.svc.ReturnPayout(f.ctx, f.admin, po.ID, "AC04 conto chiuso")
	wantCode(t, err, apperr.Conflict)
	if ret.Status != redemption.PayoutReturned || ret.ReturnReason != "AC04 conto chiuso" || f.available(payable) != owed {
		t.Fatalf("returned = %+v, payable %d", ret, f.available(payable))
	}

	// The next payout carries the vouchers again; returned before the
	// bank paid, its hold is let go.
	next, err := f.svc.RequestPayout(f.ctx, f.staff)
	f.ok(err)
	b2, err := f.svc.ExportPayouts(f.ctx, f.admin, today.AddDate(0, 0, 1), "")
	f.ok(err)
	st, err = f.svc.PayoutStatement(f.ctx, f.staff, next.ID)
	f.ok(err)
	if next.AmountCents != owed || len(st.Vouchers) != 1 || b2.Payouts[0].ID != next.ID {
		t.Fatalf("next payout %+v with %d vouchers", next, len(st.Vouchers))
	}
	_, err = f.svc.ReturnPayout(f.ctx, f.admin, next.ID, "AC01 IBAN errato")
	f.ok(err)
	if f.available(payable) != owed {
		t.Fatalf("payable after a rejected transfer = %d", f.available(payable))
	}
	b2, err = f.svc.ConfirmPayoutBatch(f.ctx, f.admin, b2.ID)
	f.ok(err)
	if b2.Total != 0 || b2.Payouts[0].Status != redemption.PayoutReturned {
		t.Fatalf("file of a returned payout confirmed = %+v", b2)
	}
	// What the bank statement shows: the money back from the first return
	// (today: the service's clock is two days ahead), the first file paid on
	// its execution day; the second file moved nothing.
	moves, err := f.svc.BankMoves(f.ctx, today.AddDate(0, 0, -3), today.AddDate(0, 0, 3))
	f.ok(err)
	want := []redemption.BankMove{{Kind: "payout_return", Ref: *ret.EndToEndID, Amount: owed}, {Kind: "payout_file", Ref: b.MessageID, Amount: -owed}}
	if len(moves) != len(want) {
		t.Fatalf("bank moves = %+v", moves)
	}
	for i, m := range moves {
		if m.Kind != want[i].Kind || m.Ref != want[i].Ref || m.Amount != want[i].Amount {
			t.Fatalf("bank move %d = %+v, want %+v", i, m, want[i])
		}
	}
	if !moves[1].Day.Equal(b.ExecutionOn) {
		t.Errorf("the file's money left on %v, it was executed on %v", moves[1].Day, b.ExecutionOn)
	}
	f.setClock(time.Now())
	f.verifyLedger()
}

// On the pages: the provider gives its IBAN (a mistyped one is refused on
// the page), asks to be paid; the platform admin creates the file,
// downloads it and marks it executed; the provider sees the payout paid.
func TestSEPAPages(t *testing.T) {
	w := sepaWorld(t)
	staff := w.k.Browser(w.a.URL(), w.staff)
	res, body := staff.PostForm("/erogatore/pagamenti/conto", url.Values{"holder": {"Cooperativa Aquilone"}, "iban": {"IT15L0306909606100000063623"}})
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(excerpt(body, "payouts-error"), "IBAN non è valido") {
		t.Fatalf("a mistyped IBAN: %d %s", res.StatusCode, excerpt(body, "payouts-error"))
	}
	res, _ = staff.PostForm("/erogatore/pagamenti/conto", url.Values{"holder": {"Cooperativa Aquilone"}, "iban": {"IT15 L030 6909 6061 0000 0063 622"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("saving the IBAN: %d", res.StatusCode)
	}
	if res, _ = staff.PostForm("/erogatore/pagamenti", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("asking to be paid: %d", res.StatusCode)
	}
	admin := w.k.Browser(w.a.URL(), w.admin)
	_, desk := admin.Get("/admin/pagamenti-erogatori")
	if !strings.Contains(excerpt(desk, `id="sepa-waiting"`), "Cooperativa Aquilone") {
		t.Fatalf("the desk without the waiting payout: %s", excerpt(desk, "sepa"))
	}
	res, body = admin.PostForm("/admin/pagamenti-erogatori", url.Values{"execution_on": {time.Now().AddDate(0, 0, 1).Format(time.DateOnly)},
		"form_key": {"x-1"}})
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(loc, "/admin/pagamenti-erogatori/") {
		t.Fatalf("creating the file: %d %q %s", res.StatusCode, loc, excerpt(body, "sepa-error"))
	}
	res, file := admin.Get(loc + "/file")
	if res.StatusCode != http.StatusOK || !strings.Contains(file, "IT15L0306909606100000063622") || !strings.Contains(file, "<InstdAmt Ccy=\"EUR\">63.75</InstdAmt>") {
		t.Fatalf("the file: %d %s", res.StatusCode, file)
	}
	if res, _ = admin.PostForm(loc+"/eseguito", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("marking it executed: %d", res.StatusCode)
	}
	res, body = admin.PostForm(loc+"/eseguito", nil)
	if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "già stato segnato come eseguito") {
		t.Fatalf("marking it executed again: %d %s", res.StatusCode, excerpt(body, "sepa-error"))
	}
	_, page := staff.Get("/erogatore/pagamenti")
	if !strings.Contains(excerpt(page, `id="payout-list"`), "Pagato") || !strings.Contains(page, "IT15L0306909606100000063622") {
		t.Fatalf("the provider's payouts: %s", excerpt(page, `id="payout-list"`))
	}
}

// sepaWorld is an app whose provider (no Stripe) is owed 63.75 for a
// validated voucher.
func sepaWorld(t *testing.T) *appWorld {
	t.Helper()
	w := newAppWorld(t)
	ctx := context.Background()
	emp := w.k.As(auth.OrgCompany, auth.RoleEmployee)
	w.fund(t, emp, 100_00)
	v, err := w.a.Redemption.Book(ctx, emp.Principal(), redemption.BookInput{OfferingID: w.offering, Quantity: 6, SlotID: &w.slot}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.a.Redemption.Validate(ctx, w.staff.Principal(), v.Code); err != nil {
		t.Fatal(err)
	}
	return w
}

// The same over the API, with its stable codes and roles.
func TestSEPAAPI(t *testing.T) {
	w := sepaWorld(t)
	staffTok, adminTok := w.k.Token(w.staff), w.k.Token(w.admin)
	st, body := apptest.Call(t, w.a, "PUT", "/provider-bank-account", staffTok, map[string]any{"holder": "Aquilone", "iban": "IT15L0306909606100000063623"})
	if st != 400 || body["details"].(map[string]any)["field"] != "iban" {
		t.Fatalf("a mistyped IBAN: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "PUT", "/provider-bank-account", staffTok, map[string]any{"holder": "Aquilone", "iban": "IT15L0306909606100000063622"})
	if st != 200 || body["iban"] != "IT15L0306909606100000063622" {
		t.Fatalf("saving the IBAN: %d %v", st, body)
	}
	if st, body = apptest.Call(t, w.a, "POST", "/provider-payouts", staffTok, nil); st != 201 || body["method"] != "sepa" {
		t.Fatalf("payout: %d %v", st, body)
	}
	if st, _ = apptest.Call(t, w.a, "GET", "/sepa-payouts", staffTok, nil); st != 403 {
		t.Fatalf("a provider reading the platform's SEPA desk: %d", st)
	}
	st, body = apptest.Call(t, w.a, "GET", "/sepa-payouts", adminTok, nil)
	if list, _ := body["list"].([]any); st != 200 || len(list) != 1 || list[0].(map[string]any)["has_account"] != true {
		t.Fatalf("waiting: %d %v", st, body)
	}
	day := time.Now().AddDate(0, 0, 1).Format(time.DateOnly)
	st, b := apptest.Call(t, w.a, "POST", "/payout-batches", adminTok, map[string]any{"execution_on": day}, "Idempotency-Key", "f1")
	if st != 201 || b["count"] != 1.0 || b["total_cents"] != 63_75.0 || b["execution_on"] != day {
		t.Fatalf("file: %d %v", st, b)
	}
	id := b["id"].(string)
	st, body = apptest.Call(t, w.a, "POST", "/payout-batches", adminTok, map[string]any{"execution_on": day})
	if st != 409 || body["details"].(map[string]any)["reason"] != "nothing_to_pay" {
		t.Fatalf("a second file with nothing left: %d %v", st, body)
	}
	if st, body = apptest.Call(t, w.a, "POST", "/payout-batches/"+id+"/execution", adminTok, nil); st != 200 || body["status"] != "executed" {
		t.Fatalf("executed: %d %v", st, body)
	}
	if st, _ = apptest.Call(t, w.a, "POST", "/payout-batches/"+id+"/execution", adminTok, nil); st != 409 {
		t.Fatalf("executed twice: %d", st)
	}
	po := b["payouts"].([]any)[0].(map[string]any)["id"].(string)
	st, body = apptest.Call(t, w.a, "POST", "/provider-payouts/"+po+"/return", adminTok, map[string]any{"reason": "AC04 conto chiuso"})
	if st != 200 || body["status"] != "returned" || body["return_reason"] != "AC04 conto chiuso" {
		t.Fatalf("returned: %d %v", st, body)
	}
}
