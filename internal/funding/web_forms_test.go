package funding_test

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The funding forms refuse every wrong field at once: each is marked
// invalid with its own message next to it, and what was typed stays.
func TestFundingFormsShowEveryMistakeAtOnce(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	web := k.Browser(a.URL(), hr)

	// The top-up: an amount that is not one and no way to pay.
	res, body := web.PostForm("/budget/ricariche", url.Values{"amount": {"mille"}, "channel": {"assegno"}, "form_key": {"t1"}})
	if res.StatusCode != 422 {
		t.Fatalf("top-up: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "top-up", body, "amount")
	if !strings.Contains(body, `<p class="field-error" id="channel-error">Scegli carta o bonifico.</p>`) || !strings.Contains(body, `value="mille"`) {
		t.Errorf("top-up: the channel's message or the typed amount is missing")
	}
	// Above the bank channel's limit: the limits answer, not "not an amount".
	res, body = web.PostForm("/budget/ricariche", url.Values{"amount": {"2.000.000,00"}, "channel": {"bank"}, "form_key": {"t2"}})
	if res.StatusCode != 422 || !strings.Contains(body, "fuori dai limiti") {
		t.Errorf("top-up of two million: %d, without the limits' message", res.StatusCode)
	}

	// The bank transfer on the platform admin's desk: four wrong fields.
	desk := k.Browser(a.URL(), k.As(auth.OrgPlatform, auth.RolePlatformAdmin))
	res, body = desk.PostForm("/admin/ricariche/bonifici", url.Values{"reference": {"RF00 1234"}, "amount": {"12,345"},
		"cro": {""}, "value_date": {"2001-01-01"}})
	if res.StatusCode != 422 {
		t.Fatalf("bank transfer: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "bank transfer", body, "reference", "amount", "cro", "value_date")
	for _, typed := range []string{`value="RF00 1234"`, `value="12,345"`, `value="2001-01-01"`} {
		if !strings.Contains(body, typed) {
			t.Errorf("bank transfer: no %s", typed)
		}
	}

	// The contract end: a wrong IBAN, no CRO, a date that is not one.
	res, body = desk.PostForm("/admin/ricariche/fine-contratto", url.Values{"company_id": {hr.Org.ID.String()},
		"iban": {"IT60X0542811101000000123457"}, "cro": {""}, "value_date": {"ieri"}, "note": {"chiusura anticipata"}})
	if res.StatusCode != 422 {
		t.Fatalf("contract end: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "contract end", body, "end-iban", "end-cro", "end-value_date")
	for _, typed := range []string{`value="IT60X0542811101000000123457"`, `value="chiusura anticipata"`,
		`value="` + hr.Org.ID.String() + `" selected`} {
		if !strings.Contains(body, typed) {
			t.Errorf("contract end: no %s", typed)
		}
	}

	// An open item (a refund after the money was spent) closed by transfer
	// without its CRO: the message is next to the CRO, the choice kept;
	// a way to close it that does not exist is marked on its own field.
	tu, err := a.Funding.RequestTopUp(context.Background(), hr.Principal(), funding.TopUpRequest{Channel: funding.Bank, Amount: 1000_00}, "")
	if err != nil {
		t.Fatal(err)
	}
	var item string
	if err := a.DB.Get(&item, `INSERT INTO funding_open_items (company_id, topup_id, cause, amount) VALUES ($1, $2, 'refund', 500) RETURNING id`,
		hr.Org.ID, tu.ID); err != nil {
		t.Fatal(err)
	}
	res, body = desk.PostForm("/admin/ricariche/partite/"+item, url.Values{"how": {"transfer"}, "cro": {" "}})
	if res.StatusCode != 422 {
		t.Fatalf("open item: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "open item", body, "cro-"+item)
	if !strings.Contains(body, `<option value="transfer" selected>`) {
		t.Errorf("open item: the chosen way is lost")
	}
	_, body = desk.PostForm("/admin/ricariche/partite/"+item, url.Values{"how": {"assegno"}})
	identitytest.MarkedInvalid(t, "open item", body, "how-"+item)

	// The reconciliation: a period that is not one and a broken statement.
	st, body := upload(t, desk, a.URL(), "/admin/ricariche/riconciliazione", map[string]string{"dal": "ieri", "al": ""},
		"estratto", "2026-12-01;12,345;x;y\n")
	if st != 422 || !strings.Contains(body, `id="to-error"`) || !strings.Contains(body, `id="statement-error"`) {
		t.Errorf("reconciliation: %d, want both the period's and the statement's message", st)
	}
}
