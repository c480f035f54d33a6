package fund_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

type sentMail struct {
	To      string `db:"to_addr"`
	Subject string `db:"subject"`
	Body    string `db:"body"`
}

func outbox(t *testing.T, x *kit) []sentMail {
	t.Helper()
	var out []sentMail
	if err := x.a.DB.Select(&out, `SELECT to_addr, subject, body FROM mail_outbox WHERE subject LIKE 'Verifica%' ORDER BY to_addr`); err != nil {
		t.Fatal(err)
	}
	return out
}

// outcomeAgo opens a case for who and records a diagnosis on the day
// that many days short of six months ago.
func (x *kit) outcomeAgo(t *testing.T, who *identitytest.User, daysToDue int) fund.Case {
	t.Helper()
	c, err := x.svc().OpenCase(x.ctx, reader(who), fund.Intake{Identity: &fund.Identity{FirstName: "Mario", LastName: "Rossi",
		BirthDate: "1980-01-01", FiscalCode: marioCF}, Referral: "caritas", ConsentScope: "gestione del caso",
		ConsentOn: time.Now().Add(-time.Hour), ConfirmDuplicate: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	on := time.Now().AddDate(0, -6, daysToDue)
	if _, err := x.svc().RecordOutcome(x.ctx, reader(who), c.ID, "diagnosis", on); err != nil {
		t.Fatal(err)
	}
	return c
}

// A case worker is mailed once, a week before an outcome's six-month
// follow-up, with the case's pseudonym and link and nothing of the person;
// a case whose worker left is reminded to the managers; an erased person,
// a follow-up still far off and a done one are not reminded; two workers
// running at once send each reminder once.
func TestFollowUpReminders(t *testing.T) {
	t.Parallel()
	// The app's own worker would send these reminders too: the test runs
	// the job itself.
	cfg := apptest.Config(dbtest.New(t))
	cfg.RunWorker = false
	x := newKitOn(t, apptest.StartWith(t, cfg))
	soon := x.outcomeAgo(t, x.worker, 3)
	x.outcomeAgo(t, x.worker, 20) // due in 20 days: not yet
	erased := x.outcomeAgo(t, x.worker, -10)
	if err := x.svc().EraseIdentity(x.ctx, x.manager.Principal(), erased.BeneficiaryID, "richiesta dell'interessato"); err != nil {
		t.Fatal(err)
	}
	leaver := x.k.User(x.fund, auth.RoleCaseWorker)
	orphan := x.outcomeAgo(t, leaver, -2) // overdue
	if _, err := x.a.DB.Exec(`UPDATE users SET status = 'deactivated' WHERE id = $1`, leaver.ID); err != nil {
		t.Fatal(err)
	}

	if backlog, err := x.svc().FollowUpsToRemind(x.ctx); err != nil || backlog != 2 {
		t.Fatalf("backlog %d, %v; want the 2 the job will send (not the erased person's)", backlog, err)
	}
	n, err := x.svc().SendFollowUpReminders(x.ctx, 100)
	if err != nil || n != 2 {
		t.Fatalf("reminded %d, %v; want 2 (the one due in 3 days and the overdue one)", n, err)
	}
	sent := outbox(t, x)
	got := map[string]sentMail{}
	for _, m := range sent {
		got[m.To] = m
	}
	if len(sent) != 2 || got[x.worker.Email].Body == "" || got[x.manager.Email].Body == "" {
		t.Fatalf("mails to %v; want one to the case worker and one to the manager (the orphan case)", sent)
	}
	w := got[x.worker.Email]
	for _, want := range []string{soon.Pseudonym, "verifica a 6 mesi", "diagnosi effettuata", "/fondo/casi/" + soon.ID.String(), "6-month follow-up"} {
		if !strings.Contains(w.Subject+w.Body, want) {
			t.Errorf("the reminder does not say %q:\n%s\n%s", want, w.Subject, w.Body)
		}
	}
	for _, m := range sent {
		for _, secret := range []string{"Mario", "Rossi", marioCF, "1980"} {
			if strings.Contains(m.Subject+m.Body, secret) {
				t.Errorf("a reminder to %s carries %q of the person", m.To, secret)
			}
		}
	}
	if !strings.Contains(got[x.manager.Email].Body, orphan.Pseudonym) {
		t.Errorf("the manager's reminder is not about the orphan case %s", orphan.Pseudonym)
	}

	if n, err := x.svc().SendFollowUpReminders(x.ctx, 100); err != nil || n != 0 {
		t.Fatalf("second run reminded %d, %v; want 0", n, err)
	}
	if backlog, err := x.svc().FollowUpsToRemind(x.ctx); err != nil || backlog != 0 {
		t.Fatalf("backlog after the job: %d, %v; want 0", backlog, err)
	}

	// Two workers at once: each new reminder goes out once.
	for range 3 {
		x.outcomeAgo(t, x.worker2, 1)
	}
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i := range counts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			n, err := x.svc().SendFollowUpReminders(x.ctx, 100)
			if err != nil {
				t.Error(err)
			}
			counts[i] = n
		}()
	}
	wg.Wait()
	if counts[0]+counts[1] != 3 {
		t.Errorf("two workers reminded %v; want 3 in all", counts)
	}
	var toWorker2 int
	for _, m := range outbox(t, x) {
		if m.To == x.worker2.Email {
			toWorker2++
		}
	}
	if toWorker2 != 3 {
		t.Errorf("worker2 got %d reminders; want 3", toWorker2)
	}
}
