package fund_test

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/fund"
)

// A fund manager answers a person's requests from the web: finds them by
// pseudonym (not another fund's), downloads their data once the session's
// purpose says why, and erases their identity after confirming and saying
// why — a form missing both shows both errors and erases nothing, the
// same form sent twice is fine.
func TestDataSubjectRequestsPage(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	c := x.open(t, mario())
	other, err := x.svc().OpenCase(x.ctx, reader(x.otherWorker), fund.Intake{Identity: mario(), Referral: "caritas",
		ConsentScope: "gestione del caso", ConsentOn: c.OpenedAt, ConfirmDuplicate: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	web := x.k.Browser(x.a.URL(), x.manager)

	res, body := web.Get("/fondo/richieste?pseudonimo=" + url.QueryEscape(other.Pseudonym))
	if res.StatusCode != http.StatusNotFound || !strings.Contains(body, "pseudonimo-error") || strings.Contains(body, "erase-form") {
		t.Fatalf("another fund's pseudonym: %d %s", res.StatusCode, body)
	}
	typed := strings.ToLower(strings.TrimPrefix(c.Pseudonym, "B-"))
	res, body = web.Get("/fondo/richieste?pseudonimo=" + typed)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, c.Pseudonym) || !strings.Contains(body, "export-purpose") {
		t.Fatalf("own pseudonym typed in lower case: %d %s", res.StatusCode, body)
	}
	exportPath := "/fondo/richieste/" + c.BeneficiaryID.String() + "/dati"
	if res, _ := web.Get(exportPath); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/fondo/scopo") {
		t.Fatalf("export without the purpose: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	post(t, web, "/fondo/scopo", url.Values{"purpose": {string(fund.PurposeDataRequest)}})
	res, body = web.Get(exportPath)
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Content-Disposition"), c.Pseudonym+".json") {
		t.Fatalf("export: %d %v", res.StatusCode, res.Header)
	}
	var got fund.Export
	if err := json.Unmarshal([]byte(body), &got); err != nil || got.Identity == nil || got.Identity.FiscalCode != marioCF || len(got.Cases) != 1 {
		t.Fatalf("exported %+v (%v)", got, err)
	}
	exports := 0
	for _, l := range accessLog(t, x) {
		if l.Action == "export" && l.Purpose == string(fund.PurposeDataRequest) {
			exports++
		}
	}
	if exports != 1 {
		t.Fatalf("%d exports in the access log; want 1", exports)
	}

	erasePath := "/fondo/richieste/" + c.BeneficiaryID.String() + "/cancella"
	res, body = post(t, web, erasePath, url.Values{"pseudonym": {c.Pseudonym}, "reason": {" no "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "erase-reason-error") || !strings.Contains(body, "erase-confirm-error") {
		t.Fatalf("erase without a reason or confirmation: %d %s", res.StatusCode, body)
	}
	if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), c.BeneficiaryID); err != nil {
		t.Fatalf("a refused erasure erased: %v", err)
	}
	form := url.Values{"pseudonym": {c.Pseudonym}, "reason": {"richiesta dell'interessato del 3 dicembre"}, "confirm": {"yes"}}
	for range 2 {
		res, body = post(t, web, erasePath, form)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "Identità cancellata") || !strings.Contains(body, "erased-on") {
			t.Fatalf("erasing: %d %s", res.StatusCode, body)
		}
	}
	if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), c.BeneficiaryID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("identity after erasure: %v", err)
	}
	if res, _ := x.k.Browser(x.a.URL(), x.worker).Get("/fondo/richieste"); res.StatusCode != http.StatusForbidden {
		t.Fatalf("a case worker reached the requests page: %d", res.StatusCode)
	}
}
