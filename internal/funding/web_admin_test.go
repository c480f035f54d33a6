package funding_test

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/funding"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// upload posts a multipart form with one file, as a browser does.
func upload(t *testing.T, b *identitytest.Browser, base, path string, fields map[string]string, file, content string) (int, string) {
	t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	for k, v := range fields {
		w.WriteField(k, v)
	}
	w.WriteField("_csrf", b.CSRF())
	fw, _ := w.CreateFormFile(file, "estratto.csv")
	io.WriteString(fw, content)
	w.Close()
	req, _ := http.NewRequest("POST", base+path, &body)
	req.Header.Set("Content-Type", w.FormDataContentType())
	res, err := b.Client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(raw)
}

// The platform admin reconciles with a bank statement on the web and sees
// a transfer nobody recorded; then ends a company's contract, and the
// company downloads the closing statement.
func TestReconciliationAndContractEndPages(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	hr := k.As(auth.OrgCompany, auth.RoleCompanyAdmin)
	admin := k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	desk := k.Browser(a.URL(), admin)
	ctx := context.Background()
	tu, err := a.Funding.RequestTopUp(ctx, hr.Principal(), funding.TopUpRequest{Channel: funding.Bank, Amount: 900_00}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Funding.RecordBankReceipt(ctx, admin.Principal(), funding.BankReceiptInput{Reference: *tu.Reference,
		Amount: 900_00, CRO: "IN-1", ValueDate: time.Now()}); err != nil {
		t.Fatal(err)
	}
	if res, body := desk.Get("/admin/ricariche/riconciliazione"); res.StatusCode != 200 || !strings.Contains(body, `id="recon-form"`) {
		t.Fatalf("reconciliation form: %d", res.StatusCode)
	}
	today := time.Now().Format(time.DateOnly)
	period := map[string]string{"dal": today, "al": time.Now().AddDate(0, 0, 1).Format(time.DateOnly)}
	st, body := upload(t, desk, a.URL(), "/admin/ricariche/riconciliazione", period, "estratto",
		"data;importo;causale;cro\n"+today+";900,00;"+*tu.Reference+";IN-1\n"+today+";75,00;sconosciuto;IN-2\n")
	if st != 200 || strings.Count(body, `data-cause="bank_unrecorded"`) != 1 || strings.Contains(body, `data-cause="bank_amount"`) ||
		!strings.Contains(body, "Sull&#39;estratto conto ma non registrato") {
		t.Fatalf("reconciliation: %d\n%s", st, body)
	}
	if !strings.Contains(body, `id="recon-no-takebacks"`) || !strings.Contains(body, `id="accounting-csv"`) {
		t.Fatalf("the reconciliation lacks its refunds and disputes by day, or the accounting export:\n%s", body)
	}
	csvRes, csv := desk.Get("/admin/ricariche/contabilita.csv?dal=" + period["dal"] + "&al=" + period["al"])
	if csvRes.StatusCode != 200 || !strings.HasPrefix(csvRes.Header.Get("Content-Type"), "text/csv") || !strings.Contains(csv, ";topup_bank;") ||
		!strings.Contains(csv, *tu.Reference+" IN-1;900,00") {
		t.Fatalf("accounting export: %d\n%s", csvRes.StatusCode, csv)
	}
	if res, _ := k.Browser(a.URL(), hr).Get("/admin/ricariche/contabilita.csv"); res.StatusCode != 403 {
		t.Fatalf("a company admin downloading the accounting export: %d", res.StatusCode)
	}
	if st, body := upload(t, desk, a.URL(), "/admin/ricariche/riconciliazione", period, "estratto", today+";12,345;x;y\n"); st != 422 ||
		!strings.Contains(body, `id="statement-error"`) {
		t.Fatalf("a bad statement: %d", st)
	}

	end := url.Values{"company_id": {hr.Org.ID.String()}, "iban": {"IT60X0542811101000000123457"}, "cro": {"OUT-9"}, "value_date": {today}}
	if res, body := desk.PostForm("/admin/ricariche/fine-contratto", end); res.StatusCode != 422 || !strings.Contains(body, `id="end-iban-error"`) {
		t.Fatalf("bad IBAN: %d", res.StatusCode)
	}
	end.Set("iban", "IT60X0542811101000000123456")
	res, _ := desk.PostForm("/admin/ricariche/fine-contratto", end)
	loc := res.Header.Get("Location")
	if res.StatusCode != 303 || !strings.Contains(loc, "chiusura=") {
		t.Fatalf("contract end: %d %s", res.StatusCode, loc)
	}
	web := k.Browser(a.URL(), hr)
	_, page := web.Get("/budget")
	i := strings.Index(page, "/budget/chiusure/")
	if i < 0 || !strings.Contains(page, `id="budget-available">€ 0,00`) {
		t.Fatalf("the company's budget after the contract end:\n%s", page)
	}
	link := page[i : i+len("/budget/chiusure/")+36+len("/estratto")]
	if res, pdf := web.Get(link); res.StatusCode != 200 || !strings.HasPrefix(pdf, "%PDF-") {
		t.Fatalf("closing statement %s: %d", link, res.StatusCode)
	}
	other := k.Browser(a.URL(), k.As(auth.OrgCompany, auth.RoleCompanyAdmin))
	if res, _ := other.Get(link); res.StatusCode != 404 {
		t.Fatalf("another company's closing statement: %d", res.StatusCode)
	}
}
