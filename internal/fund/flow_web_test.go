package fund_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/fund"
)

var caseURL = regexp.MustCompile(`/fondo/casi/([0-9a-f-]{36})`)

// The whole flow through the web pages: a case worker gives the session's
// purpose, takes a person in, records the assessment and proposes a grant
// to a landlord; an approver approves; the manager makes the batch,
// downloads the file and marks it executed; the outcome is recorded; the
// dashboard and the indicators report show it.
func TestFundFlowPages(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 1_000_000, 200_000)
	x.settings(t)
	worker := x.k.Browser(x.a.URL(), x.worker)

	res, _ := worker.Get("/fondo/casi/nuovo")
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/fondo/scopo") {
		t.Fatalf("the intake did not ask for the purpose first: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, _ = worker.PostForm("/fondo/scopo", url.Values{"purpose": {"case_management"}, "next": {"/fondo/casi/nuovo"}})
	if loc := res.Header.Get("Location"); loc != "/fondo/casi/nuovo" {
		t.Fatalf("after the purpose: %s", loc)
	}
	intake := url.Values{"first_name": {"Mario"}, "last_name": {"Rossi"}, "birth_date": {"1980-01-01"}, "fiscal_code": {"RSSMRA80A01F205Y"},
		"referral": {"caritas"}, "consent_scope": {"gestione del caso"}, "consent_on": {time.Now().Format(time.DateOnly)}, "form_key": {"k1"}}
	res, body := post(t, worker, "/fondo/casi/nuovo", intake)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "intake-fiscal_code-error") {
		t.Fatalf("a bad fiscal code: %d", res.StatusCode)
	}
	// Three mistakes at once: each is marked next to its field, with its
	// own message, and what was typed stays.
	wrong := url.Values{}
	for k, v := range intake {
		wrong[k] = v
	}
	wrong.Set("first_name", "")
	wrong.Set("consent_on", "")
	res, body = post(t, worker, "/fondo/casi/nuovo", wrong)
	for _, want := range []string{"intake-first_name-error", "Scrivi il nome.", "intake-fiscal_code-error", "Il codice fiscale non è valido",
		"intake-consent_on-error", "Scrivi la data del consenso.", `value="Rossi"`} {
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, want) {
			t.Errorf("three mistakes at once: %d, no %q", res.StatusCode, want)
		}
	}
	intake.Set("fiscal_code", marioCF)
	res, body = post(t, worker, "/fondo/casi/nuovo", intake)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Caso aperto") || strings.Contains(body, "Rossi") {
		t.Fatalf("opening the case: %d %s", res.StatusCode, body)
	}
	caseID := caseURL.FindStringSubmatch(res.Request.URL.Path)[1]
	// The same person again: warned, with the pseudonym.
	intake.Set("form_key", "k2")
	res, body = post(t, worker, "/fondo/casi/nuovo", intake)
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, `id="duplicates"`) {
		t.Fatalf("no duplicate warning: %d", res.StatusCode)
	}
	base := "/fondo/casi/" + caseID
	assessment := url.Values{}
	for _, a := range fund.AssessmentAreas {
		assessment.Set(a+"_level", "medium")
		assessment.Set(a+"_note", "")
	}
	assessment.Set("housing_level", "high")
	assessment.Set("housing_note", "sfratto per morosità")
	if res, body = post(t, worker, base+"/valutazione", assessment); !strings.Contains(body, "Diagnosi salvata") || !strings.Contains(body, "In corso") {
		t.Fatalf("assessment: %d %s", res.StatusCode, body)
	}
	grant := url.Values{"kind": {"emergency_grant"}, "theme": {"emergencies"}, "amount": {"450,00"}, "purpose": {"affitto arretrato"},
		"payee_name": {"Immobiliare Lariana S.r.l."}, "iban": {"IT60X0542811101000000123457"}, "reference": {"Fattura 2026/118"},
		"town": {"Lecco"}, "country": {"IT"}, "form_key": {"g1"}}
	if res, body = post(t, worker, base+"/interventi", grant); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "interventi-iban-error") {
		t.Fatalf("a bad IBAN: %d", res.StatusCode)
	}
	grant.Set("iban", landlordIBAN)
	grant.Set("form_key", "g2")
	if res, body = post(t, worker, base+"/interventi", grant); !strings.Contains(body, "Intervento proposto") {
		t.Fatalf("proposing: %d %s", res.StatusCode, body)
	}

	approver := x.k.Browser(x.a.URL(), x.approver)
	_, body = approver.Get("/fondo/approvazioni")
	m := regexp.MustCompile(`/fondo/interventi/([0-9a-f-]{36})/approva`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("the approver's queue lacks the grant: %s", body)
	}
	if res, body = post(t, approver, "/fondo/interventi/"+m[1]+"/approva", nil); !strings.Contains(body, "Approvazione registrata") {
		t.Fatalf("approving: %d %s", res.StatusCode, body)
	}

	manager := x.k.Browser(x.a.URL(), x.manager)
	res, body = post(t, manager, "/fondo/pagamenti", url.Values{"execution_on": {time.Now().AddDate(0, 0, 2).Format(time.DateOnly)}, "form_key": {"b1"}})
	if !strings.Contains(body, "Distinta creata") {
		t.Fatalf("creating the batch: %d %s", res.StatusCode, body)
	}
	batch := res.Request.URL.Path
	res, file := manager.Get(batch + "/file")
	if res.StatusCode != http.StatusOK || !strings.Contains(file, "<Ustrd>Fattura 2026/118</Ustrd>") || strings.Contains(file, "Rossi") {
		t.Fatalf("downloading the file: %d %s", res.StatusCode, file)
	}
	if _, again := manager.Get(batch + "/file"); again != file {
		t.Fatal("the second download differs")
	}
	if _, body = post(t, manager, batch+"/eseguito", nil); !strings.Contains(body, "Distinta eseguita") {
		t.Fatalf("marking executed: %s", body)
	}
	if res, _ = manager.PostForm(batch+"/eseguito", nil); res.StatusCode != http.StatusConflict {
		t.Fatalf("executing twice: %d", res.StatusCode)
	}

	today := time.Now().Format(time.DateOnly)
	if _, body = post(t, worker, base+"/esiti", url.Values{"indicator": {"diagnosis"}, "achieved_on": {today}}); !strings.Contains(body, "Esito registrato") {
		t.Fatalf("outcome: %s", body)
	}
	_, body = manager.Get("/fondo/cruscotto")
	if !strings.Contains(body, `id="chart-inflows"`) || !regexp.MustCompile(`id="state-paid"><th scope="row">Pagato</th><td class="count">1</td>`).MatchString(body) ||
		!strings.Contains(body, "€ 450,00") {
		t.Fatalf("the dashboard does not show the payment: %s", body)
	}
	_, body = manager.Get("/fondo/indicatori")
	if !regexp.MustCompile(`id="indicator-diagnosis"><th scope="row">Diagnosi effettuate</th><td class="count">1</td>`).MatchString(body) {
		t.Fatalf("the indicators report lacks the diagnosis: %s", body)
	}
	res, csv := manager.Get("/fondo/indicatori?formato=csv")
	if res.StatusCode != http.StatusOK || !strings.Contains(csv, "Diagnosi effettuate;1;1") {
		t.Fatalf("indicators CSV: %d %q", res.StatusCode, csv)
	}
	// The manager's access log shows the worker's reads with the purpose.
	_, body = manager.Get("/fondo/registro-accessi")
	if !strings.Contains(body, "Lettura del caso") || !strings.Contains(body, "Gestione del caso") {
		t.Fatalf("access log: %s", body)
	}
	// A colleague not assigned gets the break-glass page, not the case.
	other := x.k.Browser(x.a.URL(), x.worker2)
	other.PostForm("/fondo/scopo", url.Values{"purpose": {"case_management"}})
	if res, body = other.Get(base); res.StatusCode != http.StatusNotFound || strings.Contains(body, "sfratto") || !strings.Contains(body, "break-glass") {
		t.Fatalf("an unassigned colleague: %d", res.StatusCode)
	}
}
