package catalog_test

import (
	"io/fs"
	"strings"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/migrations"
)

var coopB = catalog.LabelInput{Evidence: catalog.EvidenceCoopB, AlboNumber: "a 123456"}

func inAYear() time.Time { return time.Now().AddDate(1, 0, 0) }

// A provider asks; only a platform admin decides, never the provider
// itself nor another provider, who cannot even see the request.
func TestLabelOnlyAnAdminDecides(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	other := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Altra", lecco, true)
	r, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, coopB, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != catalog.LabelPending || *r.AlboNumber != "A123456" {
		t.Fatalf("request: %+v", r)
	}
	again, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, coopB, "")
	if err != nil || again.ID != r.ID {
		t.Fatalf("the same request twice made another one: %v %v", again.ID, err)
	}
	approve := catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}
	if _, err := f.svc.DecideLabel(ctx, staff, r.ID, approve, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a provider approving its own label: %v", err)
	}
	if _, err := f.svc.DecideLabel(ctx, other, r.ID, approve, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("another provider approving: %v", err)
	}
	if _, err := f.svc.LabelRequests(ctx, staff, ""); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a provider reading the queue: %v", err)
	}
	if _, err := f.svc.ProviderLabel(ctx, other, staff.OrgID); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another provider reading the label: %v", err)
	}
	if _, err := f.svc.RequestLabel(ctx, other, staff.OrgID, coopB, ""); !apperr.Is(err, apperr.NotFound) {
		t.Fatalf("another provider requesting for it: %v", err)
	}
	var n int
	if err := f.dbx.Get(&n, `SELECT count(*) FROM inclusion_label_requests WHERE status <> 'pending'`); err != nil || n != 0 {
		t.Fatalf("refused decisions changed %d requests (%v)", n, err)
	}
	st, _ := f.svc.ProviderLabel(ctx, staff, staff.OrgID)
	if st.Current != nil || st.Latest == nil || st.Latest.Status != catalog.LabelPending {
		t.Fatalf("label state while pending: %+v", st)
	}
}

// A rejection needs a note, which the provider then reads; an approval
// needs a date after today; a second, different decision is a conflict
// while the same one again is a harmless retry. Every decision is in the
// audit log.
func TestLabelDecisions(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	r, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, catalog.LabelInput{Evidence: catalog.EvidenceSelfDeclaration,
		InclusionHires: 2, TotalStaff: 9, Declared: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.DecideLabel(ctx, f.admin, r.ID, catalog.LabelDecision{Note: "  "}, ""); apperr.FieldOf(err) != "note" {
		t.Fatalf("rejecting without a note: %v", err)
	}
	for _, day := range []time.Time{{}, time.Now(), time.Now().AddDate(4, 0, 0)} {
		if _, err := f.svc.DecideLabel(ctx, f.admin, r.ID, catalog.LabelDecision{Approve: true, ValidUntil: day}, ""); apperr.FieldOf(err) != "valid_until" {
			t.Fatalf("approving until %v: %v", day, err)
		}
	}
	no := catalog.LabelDecision{Note: "Mancano i dati dell'ultimo anno"}
	out, err := f.svc.DecideLabel(ctx, f.admin, r.ID, no, "")
	if err != nil || out.Status != catalog.LabelRejected {
		t.Fatalf("rejecting: %+v %v", out, err)
	}
	if _, err := f.svc.DecideLabel(ctx, f.admin, r.ID, no, ""); err != nil {
		t.Fatalf("the same rejection again: %v", err)
	}
	if _, err := f.svc.DecideLabel(ctx, f.admin, r.ID, catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}, ""); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("approving a rejected request: %v", err)
	}
	st, _ := f.svc.ProviderLabel(ctx, staff, staff.OrgID)
	if st.Current != nil || st.Latest.Note != no.Note {
		t.Fatalf("the provider does not read the note: %+v", st.Latest)
	}
	var events []string
	if err := f.dbx.Select(&events, `SELECT event FROM audit_log WHERE organisation_id = $1 AND event LIKE 'inclusion_label%' ORDER BY id`, staff.OrgID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(events, ",") != "inclusion_label_requested,inclusion_label_rejected" {
		t.Fatalf("audit log: %v", events)
	}
}

// Evidence is checked before anything is saved: only a social
// co-operative can claim category B, the register number has its shape,
// a self-declaration gives counts and is signed.
func TestLabelEvidence(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	if _, err := f.dbx.Exec(`UPDATE providers SET legal_form = 'association' WHERE organisation_id = $1`, staff.OrgID); err != nil {
		t.Fatal(err)
	}
	for field, in := range map[string]catalog.LabelInput{
		"evidence":        coopB, // an association
		"inclusion_hires": {Evidence: catalog.EvidenceSelfDeclaration, TotalStaff: 4, Declared: true},
		"total_staff":     {Evidence: catalog.EvidenceSelfDeclaration, InclusionHires: 5, TotalStaff: 4, Declared: true},
		"declaration":     {Evidence: catalog.EvidenceSelfDeclaration, InclusionHires: 1, TotalStaff: 4},
	} {
		if _, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, in, ""); apperr.FieldOf(err) != field {
			t.Errorf("%s: %v", field, err)
		}
	}
	if _, err := f.dbx.Exec(`UPDATE providers SET legal_form = 'social_cooperative' WHERE organisation_id = $1`, staff.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, catalog.LabelInput{Evidence: catalog.EvidenceCoopB, AlboNumber: "Mario Rossi"}, ""); apperr.FieldOf(err) != "albo_number" {
		t.Errorf("a name as register number: %v", err)
	}
	var n int
	if err := f.dbx.Get(&n, `SELECT count(*) FROM inclusion_label_requests`); err != nil || n != 0 {
		t.Fatalf("refused requests saved %d rows (%v)", n, err)
	}
}

// An approved label shows on every offering of the provider, in search
// and on the offering; the day after it expires it no longer shows, with
// no job run.
func TestExpiredLabelNoLongerShows(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	id := catalogtest.Offering(t, f.svc, staff, "Stireria a domicilio", "laundry", lecco, 1200)
	r, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, coopB, "")
	if err != nil {
		t.Fatal(err)
	}
	labelled := func() (onPage, inSearch bool) {
		t.Helper()
		o, err := f.svc.Offering(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		page := mustSearch(t, f.svc, catalog.SearchQuery{Text: "stireria", Labelled: true})
		return o.LabelEvidence != nil, len(page.Items) == 1 && page.Items[0].LabelEvidence != nil
	}
	if p, s := labelled(); p || s {
		t.Fatalf("a pending label shows (page %v, search %v)", p, s)
	}
	if _, err := f.svc.DecideLabel(ctx, f.admin, r.ID, catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}, ""); err != nil {
		t.Fatal(err)
	}
	if p, s := labelled(); !p || !s {
		t.Fatalf("an approved label does not show (page %v, search %v)", p, s)
	}
	// Time passes: the label's last day was yesterday in Italy.
	if _, err := f.dbx.Exec(`UPDATE inclusion_label_requests SET valid_until = (now() AT TIME ZONE 'Europe/Rome')::date - 1`); err != nil {
		t.Fatal(err)
	}
	if p, s := labelled(); p || s {
		t.Fatalf("an expired label still shows (page %v, search %v)", p, s)
	}
	if page := mustSearch(t, f.svc, catalog.SearchQuery{Text: "stireria"}); len(page.Items) != 1 || page.Items[0].LabelEvidence != nil {
		t.Fatalf("without the filter: %+v", page.Items)
	}
	st, _ := f.svc.ProviderLabel(ctx, staff, staff.OrgID)
	if st.Current != nil || st.Latest.Status != catalog.LabelApproved {
		t.Fatalf("the provider's view of an expired label: %+v", st)
	}
}

// The admin sees what changed in an offering people can see: title,
// description and category, before and after, by whom. Price edits and
// edits before the provider is approved are not logged.
func TestOfferingChangeLog(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	id := catalogtest.Offering(t, f.svc, staff, "Stireria a domicilio", "laundry", lecco, 1200)
	o, err := f.svc.ManagedOffering(ctx, staff, id)
	if err != nil {
		t.Fatal(err)
	}
	in := catalog.OfferingInput{Title: o.Title, Description: o.Description, Category: o.Category, PriceCents: 1500,
		Unit: o.Unit, PlaceCode: o.PlaceCode}
	if _, err := f.svc.UpdateOffering(ctx, staff, id, in); err != nil {
		t.Fatal(err)
	}
	in.Title, in.Category = "Consulenza finanziaria", "courses"
	if _, err := f.svc.UpdateOffering(ctx, staff, id, in); err != nil {
		t.Fatal(err)
	}
	changes, err := f.svc.OfferingChanges(ctx, f.admin, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range changes {
		got = append(got, c.Field+": "+c.Old+" → "+c.New)
		if c.ChangedBy != staff.Name+" <"+staff.Email+">" || c.OfferingTitle != "Consulenza finanziaria" {
			t.Errorf("change %d: by %q, offering %q", c.ID, c.ChangedBy, c.OfferingTitle)
		}
	}
	if strings.Join(got, "; ") != "category: laundry → courses; title: Stireria a domicilio → Consulenza finanziaria" &&
		strings.Join(got, "; ") != "title: Stireria a domicilio → Consulenza finanziaria; category: laundry → courses" {
		t.Fatalf("change log: %v", got)
	}
	if _, err := f.svc.OfferingChanges(ctx, staff, 0, 0); !apperr.Is(err, apperr.Forbidden) {
		t.Fatalf("a provider reading the change log: %v", err)
	}

	pending := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Nuova", lecco, false)
	pid := catalogtest.Offering(t, f.svc, pending, "Doposcuola", "after_school", lecco, 1000)
	in = catalog.OfferingInput{Title: "Doposcuola e compiti", Category: "after_school", PriceCents: 1000, Unit: "hour", PlaceCode: lecco}
	if _, err := f.svc.UpdateOffering(ctx, pending, pid, in); err != nil {
		t.Fatal(err)
	}
	if again, _ := f.svc.OfferingChanges(ctx, f.admin, 0, 0); len(again) != len(changes) {
		t.Fatalf("an edit before approval was logged: %d changes", len(again))
	}
}

// Labels that providers had put on their own offerings become one pending
// request per provider, with no evidence and the label they had; the
// offering flag is gone. The provider's evidence then completes that same
// request, which only an admin approves.
func TestLegacyLabelsBecomePending(t *testing.T) {
	dbx := dbtest.Open(t)
	svc := catalog.NewService(dbx, nil, identity.New(dbx, identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}}))
	admin := catalogtest.Admin(t, dbx)
	labelled := catalogtest.Provider(t, dbx, svc, admin, "Cooperativa Sociale Il Filo", lecco, true)
	plain := catalogtest.Provider(t, dbx, svc, admin, "Impresa Pulita", lecco, true)
	a1 := catalogtest.Offering(t, svc, labelled, "Stireria a domicilio", "laundry", lecco, 1200)
	catalogtest.Offering(t, svc, labelled, "Commissioni", "concierge", lecco, 1500)
	catalogtest.Offering(t, svc, plain, "Lavanderia", "laundry", lecco, 900)

	up, down := migrationSections(t, "00360_inclusion_labels.sql")
	if _, err := dbx.Exec(down); err != nil {
		t.Fatalf("undoing the migration: %v", err)
	}
	if _, err := dbx.Exec(`UPDATE offerings SET inclusion_label = CASE WHEN id = $1 THEN 'fund_programme' ELSE 'social_cooperative' END
		WHERE provider_id = $2`, a1, labelled.OrgID); err != nil {
		t.Fatal(err)
	}
	if _, err := dbx.Exec(up); err != nil {
		t.Fatalf("migrating: %v", err)
	}
	reqs, err := svc.LabelRequests(ctx, admin, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(reqs) != 1 || reqs[0].ProviderID != labelled.OrgID || reqs[0].Status != catalog.LabelPending ||
		reqs[0].Evidence != nil || reqs[0].LegacyLabel == nil || *reqs[0].LegacyLabel != "fund_programme" {
		t.Fatalf("legacy labels became %+v", reqs)
	}
	if o, _ := svc.Offering(ctx, a1); o.LabelEvidence != nil {
		t.Fatal("a legacy label still shows")
	}
	var n int
	if err := dbx.Get(&n, `SELECT count(*) FROM information_schema.columns WHERE table_name = 'offerings' AND column_name = 'inclusion_label'`); err != nil || n != 0 {
		t.Fatalf("the offering flag is still there (%v)", err)
	}
	if _, err := svc.DecideLabel(ctx, admin, reqs[0].ID, catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}, ""); apperr.FieldOf(err) != "evidence" {
		t.Fatalf("approving a legacy label without evidence: %v", err)
	}
	r, err := svc.RequestLabel(ctx, labelled, labelled.OrgID, coopB, "")
	if err != nil || r.ID != reqs[0].ID || r.Evidence == nil {
		t.Fatalf("evidence for the legacy request: %+v %v", r, err)
	}
	if _, err := svc.DecideLabel(ctx, admin, r.ID, catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}, ""); err != nil {
		t.Fatal(err)
	}
	if o, _ := svc.Offering(ctx, a1); o.LabelEvidence == nil || *o.LabelEvidence != catalog.EvidenceCoopB {
		t.Fatal("the approved label does not show")
	}
}

// migrationSections returns the Up and Down SQL of a migration file.
func migrationSections(t *testing.T, name string) (up, down string) {
	t.Helper()
	raw, err := fs.ReadFile(migrations.FS, name)
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i, j := strings.Index(s, "-- +goose Up"), strings.Index(s, "-- +goose Down")
	if i < 0 || j < i || strings.Contains(s, "StatementBegin") {
		t.Fatalf("%s: unexpected layout", name)
	}
	return s[i:j], s[j:]
}

// A request or a decision retried with its idempotency key is answered
// from the first and recorded once; the key with other evidence is a
// conflict.
func TestLabelRetriedWithKey(t *testing.T) {
	f := newFixture(t)
	staff := catalogtest.Provider(t, f.dbx, f.svc, f.admin, "Cooperativa Sociale Il Filo", lecco, true)
	first, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, coopB, "form-1")
	if err != nil {
		t.Fatal(err)
	}
	again, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, coopB, "form-1")
	if err != nil || again.ID != first.ID || !again.RequestedAt.Equal(first.RequestedAt) {
		t.Fatalf("retried request: %+v %v", again, err)
	}
	other := catalog.LabelInput{Evidence: catalog.EvidenceCoopB, AlboNumber: "A999999"}
	if _, err := f.svc.RequestLabel(ctx, staff, staff.OrgID, other, "form-1"); !apperr.Is(err, apperr.Conflict) {
		t.Fatalf("the key with other evidence: %v", err)
	}
	d := catalog.LabelDecision{Approve: true, ValidUntil: inAYear()}
	for range 2 {
		if _, err := f.svc.DecideLabel(ctx, f.admin, first.ID, d, "decide-1"); err != nil {
			t.Fatal(err)
		}
	}
	var events []string
	if err := f.dbx.Select(&events, `SELECT event FROM audit_log WHERE organisation_id = $1 AND event LIKE 'inclusion_label%' ORDER BY id`, staff.OrgID); err != nil {
		t.Fatal(err)
	}
	if strings.Join(events, ",") != "inclusion_label_requested,inclusion_label_approved" {
		t.Fatalf("audit log after retries: %v", events)
	}
}
