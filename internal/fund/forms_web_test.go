package fund_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// The fund's smaller forms refuse two wrong fields at once: each is
// marked invalid with its own message next to it, what was typed stays,
// and nothing is saved.
func TestFundFormsShowEveryMistakeAtOnce(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	x.funded(t, 1_000_000, 200_000)
	x.settings(t)
	c := x.open(t, mario())
	worker := x.k.Browser(x.a.URL(), x.worker)
	if res, _ := worker.PostForm("/fondo/scopo", url.Values{"purpose": {"case_management"}, "next": {"/fondo"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("purpose: %d", res.StatusCode)
	}
	base := "/fondo/casi/" + c.ID.String()

	refused := func(form, path string, values url.Values, ids []string, typed ...string) {
		t.Helper()
		res, body := worker.PostForm(path, values)
		if res.StatusCode != http.StatusBadRequest {
			t.Fatalf("%s: %d, want 400", form, res.StatusCode)
		}
		identitytest.MarkedInvalid(t, form, strings.ReplaceAll(body, ` role="alert"`, ""), ids...)
		for _, v := range typed {
			if !strings.Contains(body, v) {
				t.Errorf("%s: what was typed is lost: no %s", form, v)
			}
		}
	}

	assessment := url.Values{}
	for _, a := range fund.AssessmentAreas {
		assessment.Set(a+"_level", "medium")
	}
	assessment.Set("work_level", "altissimo")
	assessment.Set("housing_level", "alto")
	assessment.Set("debts_note", "mutuo arretrato")
	refused("assessment", base+"/valutazione", assessment, []string{"work_level", "housing_level"}, "mutuo arretrato")

	refused("outcome", base+"/esiti", url.Values{"indicator": {"nessuno"}, "achieved_on": {"2999-01-01"}},
		[]string{"outcome-indicator", "esiti-achieved_on"}, `value="2999-01-01"`)

	refused("goal", base+"/obiettivi", url.Values{"goal": {"  "}, "due_on": {"31/12/2026"}},
		[]string{"obiettivi-goal", "obiettivi-due_on"}, `value="31/12/2026"`)

	refused("proposal", base+"/interventi", url.Values{"kind": {"emergency_grant"}, "theme": {"emergencies"}, "amount": {"tanti"},
		"purpose": {"affitto"}, "payee_name": {"Immobiliare Lariana S.r.l."}, "iban": {"IT00 0000"}, "town": {"Lecco"}, "country": {"IT"},
		"form_key": {"p1"}}, []string{"interventi-amount", "interventi-iban"}, `value="tanti"`, `value="Immobiliare Lariana S.r.l."`)

	got, err := x.svc().GetCase(x.ctx, reader(x.worker), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.AssessedAt != nil || len(got.Goals) != 0 {
		t.Errorf("a refused form saved something: assessed %v, goals %v", got.AssessedAt, got.Goals)
	}

	manager := x.k.Browser(x.a.URL(), x.manager)
	res, body := manager.PostForm("/fondo/impostazioni", url.Values{"territory": {"Lecco"}, "approval_threshold": {"mille"},
		"cuc": {"AB"}, "debtor_name": {"Fondo"}, "iban": {"IT60 X054 2811 1010 0000 0123 450"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("settings: %d", res.StatusCode)
	}
	identitytest.MarkedInvalid(t, "settings", strings.ReplaceAll(body, ` role="alert"`, ""), "approval_threshold", "cuc", "iban")
	if !strings.Contains(body, `value="mille"`) || !strings.Contains(body, `value="AB"`) {
		t.Errorf("settings: what was typed is lost")
	}
}
