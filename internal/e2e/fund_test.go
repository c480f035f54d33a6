package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/fund/fundtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// waitText waits until the element sel (which may still be the previous
// page's) reads want, and keeps what it read.
func waitText(sel, want string, got *string) chromedp.Action {
	return chromedp.ActionFunc(func(ctx context.Context) error {
		for {
			var txt string
			err := chromedp.Run(ctx, chromedp.WaitVisible(sel, chromedp.ByQuery), chromedp.Text(sel, &txt, chromedp.ByQuery))
			if err == nil && strings.Contains(txt, want) {
				*got = txt
				return nil
			}
			select {
			case <-ctx.Done():
				*got = txt
				return ctx.Err()
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// fundEmergencies gives org €2,000 of company's redemption shares and
// earmarks €1,500 of it, as manager, into the emergencies envelope.
func fundEmergencies(t *testing.T, a *app.App, org, company identitytest.Org, manager *identitytest.User) {
	t.Helper()
	fundtest.Inflow(t, a.DB, org.ID, company.ID, fund.SourceRedemption, 200_000)
	if _, err := a.Fund.SetEnvelope(context.Background(), manager.Principal(), fund.ThemeEmergencies, 1_000_000); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Fund.Earmark(context.Background(), manager.Principal(), fund.ThemeEmergencies, 150_000, ""); err != nil {
		t.Fatal(err)
	}
}

// A case worker takes a person in, records the assessment and proposes an
// emergency grant to a landlord; an approver approves it; the fund manager
// makes the payment batch and marks it executed; the case worker records
// the outcome; the dashboard and the indicators report show it. All from
// the keyboard-and-click pages, in Italian.
func TestFundCaseToPayment(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	org := k.Org(auth.OrgFund, "Fondo Inclusione Lecco")
	company := k.Org(auth.OrgCompany, "Officine Lecco")
	worker := k.User(org, auth.RoleCaseWorker)
	approver := k.User(org, auth.RoleFundApprover)
	manager := k.User(org, auth.RoleFundManager)
	bg := context.Background()
	fundEmergencies(t, a, org, company, manager)
	if _, err := a.Fund.SaveSettings(bg, manager.Principal(), fund.Settings{Territory: "Lecco", ApprovalThreshold: 50_000,
		CUC: "LC0FI01X", DebtorName: "Fondo Inclusione Lecco ETS", DebtorIBAN: "IT60X0542811101000000123456"}); err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 180*time.Second)
	base := a.URL()
	today := time.Now().Format(time.DateOnly)

	var opened, assessed, proposed, approved, executed, outcome, paid, diagnoses string
	var caseURL string
	err := chromedp.Run(ctx,
		signInAs(k, base, worker),
		chromedp.Navigate(base+"/fondo/casi/nuovo"),
		// First the purpose of this working session.
		chromedp.WaitVisible("#purpose-form", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#purpose-submit", chromedp.ByID),
		chromedp.WaitVisible("#intake", chromedp.ByID),
		checkA11y(t),
		chromedp.SendKeys("#intake-first_name", "Mario", chromedp.ByID),
		chromedp.SendKeys("#intake-last_name", "Rossi", chromedp.ByID),
		chromedp.SetValue("#intake-birth_date", "1980-01-01", chromedp.ByID),
		chromedp.SendKeys("#intake-fiscal_code", "RSSMRA80A01F205X", chromedp.ByID),
		chromedp.SendKeys("#intake-consent_scope", "gestione del caso e pagamenti", chromedp.ByID),
		chromedp.Click("#intake-submit", chromedp.ByID),
		waitText("#done", "Caso aperto", &opened),
		chromedp.Location(&caseURL),
		checkA11y(t),

		chromedp.SetValue("#housing_level", "high", chromedp.ByID),
		chromedp.SendKeys("#housing_note", "sfratto per morosità", chromedp.ByID),
		chromedp.Click("#assessment-submit", chromedp.ByID),
		waitText("#done", "Diagnosi salvata", &assessed),
		checkA11y(t),

		chromedp.SendKeys("#interventi-amount", "450", chromedp.ByID),
		chromedp.SendKeys("#interventi-purpose", "affitto arretrato di ottobre", chromedp.ByID),
		chromedp.SendKeys("#interventi-payee_name", "Immobiliare Lariana S.r.l.", chromedp.ByID),
		chromedp.SendKeys("#interventi-iban", "IT60 X054 2811 1010 0000 0123 456", chromedp.ByID),
		chromedp.SendKeys("#interventi-reference", "Fattura 2026/118", chromedp.ByID),
		chromedp.SendKeys("#interventi-town", "Lecco", chromedp.ByID),
		chromedp.Click("#propose-submit", chromedp.ByID),
		waitText("#done", "Intervento proposto", &proposed),
		checkA11y(t),

		signInAs(k, base, approver),
		chromedp.Navigate(base+"/fondo/approvazioni"),
		chromedp.WaitVisible("#queue", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#queue button.approve", chromedp.ByQuery),
		waitText("#done", "Approvazione registrata", &approved),
		checkA11y(t),

		signInAs(k, base, manager),
		chromedp.Navigate(base+"/fondo/pagamenti"),
		chromedp.WaitVisible("#batch-form", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#batch-submit", chromedp.ByID),
		chromedp.WaitVisible("#download", chromedp.ByID),
		checkA11y(t),
		chromedp.Click("#mark-executed", chromedp.ByID),
		waitText("#done", "Distinta eseguita", &executed),
		checkA11y(t),

		signInAs(k, base, worker),
		chromedp.ActionFunc(func(ctx context.Context) error { return chromedp.Navigate(caseURL).Do(ctx) }),
		chromedp.WaitVisible("#purpose-form", chromedp.ByID), // a new session asks again
		checkA11y(t),
		chromedp.Click("#purpose-follow_up", chromedp.ByID),
		chromedp.Click("#purpose-submit", chromedp.ByID),
		chromedp.WaitVisible("#outcome-form", chromedp.ByID),
		checkA11y(t),
		chromedp.SetValue("#esiti-achieved_on", today, chromedp.ByID),
		chromedp.Click("#outcome-submit", chromedp.ByID),
		waitText("#done", "Esito registrato", &outcome),
		checkA11y(t),

		signInAs(k, base, manager),
		chromedp.Navigate(base+"/fondo/cruscotto"),
		chromedp.WaitVisible("#chart-states", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#state-paid .count", &paid, chromedp.ByQuery),
		chromedp.Navigate(base+"/fondo/indicatori"),
		chromedp.WaitVisible("#indicators", chromedp.ByID),
		checkA11y(t),
		chromedp.Text("#indicator-diagnosis .count", &diagnoses, chromedp.ByQuery),
	)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{{opened, "Caso aperto"}, {assessed, "Diagnosi salvata"}, {proposed, "Intervento proposto"},
		{approved, "Approvazione registrata"}, {executed, "Distinta eseguita"}, {outcome, "Esito registrato"}} {
		if !strings.Contains(c.got, c.want) {
			t.Errorf("read %q, want %q", c.got, c.want)
		}
	}
	if strings.TrimSpace(paid) != "1" || strings.TrimSpace(diagnoses) != "1" {
		t.Errorf("dashboard shows %q paid, indicators %q diagnoses; want 1 and 1", paid, diagnoses)
	}

}

// Every other fund page, with a case, an envelope and a donation, on a
// phone and a laptop, in Italian and English: no sideways scroll, no
// English on Italian pages, axe clean.
func TestFundPagesLookRight(t *testing.T) {
	a := apptest.Start(t)
	k := identitytest.New(t, a.DB, a.Identity)
	org := k.Org(auth.OrgFund, "Fondo Inclusione Lecco")
	company := k.Org(auth.OrgCompany, "Officine Lecco")
	worker := k.User(org, auth.RoleCaseWorker)
	manager := k.User(org, auth.RoleFundManager)
	hr := k.User(company, auth.RoleCompanyAdmin)
	bg := context.Background()
	fundEmergencies(t, a, org, company, manager)
	c, err := a.Fund.OpenCase(bg, fund.Reader{P: worker.Principal(), Purpose: fund.PurposeCaseManagement}, fund.Intake{
		Identity: &fund.Identity{FirstName: "Mario", LastName: "Rossi", BirthDate: "1980-01-01"}, Referral: "caritas",
		ConsentScope: "gestione del caso", ConsentOn: time.Now().Add(-time.Hour)}, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := Browser(t, 300*time.Second)
	pages := []pageCheck{
		{"envelopes", "/fondo/buste", "#envelopes", manager},
		{"cases", "/fondo/casi", "main h1", worker},
		{"access-log", "/fondo/registro-accessi", "#access-log", manager},
		{"settings", "/fondo/impostazioni", "#settings", manager},
		{"rights", "/fondo/richieste?pseudonimo=" + c.Pseudonym, "#erase-form", manager},
		{"donate", "/azienda/fondo", "main h1", hr},
	}
	lookAtPages(t, ctx, k, a.URL(), "fund", pages, []string{"Envelope", "Cases", "Payments", "Settings", "Erase", "Export", "Purpose"})
}
