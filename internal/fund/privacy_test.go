package fund_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/fund"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
)

// A valid fiscal code (checksum included) for the tests' person.
const marioCF = "RSSMRA80A01F205X"

func mario() *fund.Identity {
	return &fund.Identity{FirstName: "Mario", LastName: "Rossi", BirthDate: "1980-01-01", FiscalCode: marioCF,
		Phone: "333 1234567", Address: "Via Roma 1, Lecco"}
}

func reader(u *identitytest.User) fund.Reader {
	return fund.Reader{P: u.Principal(), Purpose: fund.PurposeCaseManagement}
}

// open takes a person in as x.worker.
func (x *kit) open(t *testing.T, id *fund.Identity) fund.Case {
	t.Helper()
	c, err := x.svc().OpenCase(x.ctx, reader(x.worker), fund.Intake{Identity: id, Referral: "caritas",
		ConsentScope: "gestione del caso e pagamenti", ConsentOn: time.Now().Add(-time.Hour), ConfirmDuplicate: true}, "")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

type logLine struct {
	Action, Purpose string
	User            *uuid.UUID
	Case            *uuid.UUID
	Beneficiary     *uuid.UUID
}

func accessLog(t *testing.T, x *kit) []logLine {
	t.Helper()
	var out []logLine
	if err := x.a.DB.Select(&out, `SELECT action, purpose, user_id AS "user", case_id AS "case", beneficiary_id AS beneficiary
		FROM fund_access_log ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	return out
}

// The vault holds nothing readable: no name, no fiscal code; another
// master key opens nothing; every identity and case read is in the log.
func TestVaultAndAccessLog(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	c := x.open(t, mario())
	if strings.Contains(c.Pseudonym, "Rossi") || !strings.HasPrefix(c.Pseudonym, "B-") {
		t.Fatalf("pseudonym %q", c.Pseudonym)
	}
	var raw []struct {
		Wrapped []byte `db:"wrapped_key"`
		Sealed  []byte `db:"identity"`
		FC      []byte `db:"fiscal_code_hash"`
	}
	if err := x.a.DB.Select(&raw, `SELECT wrapped_key, identity, fiscal_code_hash FROM fund_vault`); err != nil {
		t.Fatal(err)
	}
	for _, r := range raw {
		for _, secret := range []string{"Mario", "Rossi", marioCF, "1980-01-01", "333 1234567"} {
			if bytes.Contains(r.Sealed, []byte(secret)) || bytes.Contains(r.Wrapped, []byte(secret)) || bytes.Contains(r.FC, []byte(secret)) {
				t.Fatalf("the vault holds %q in the clear", secret)
			}
		}
	}
	// No column of any fund table holds the name.
	var leaks int
	if err := x.a.DB.Get(&leaks, `SELECT count(*) FROM fund_cases c WHERE c::text ILIKE '%rossi%'`); err != nil || leaks != 0 {
		t.Fatalf("a case row holds the name: %d %v", leaks, err)
	}
	id, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), c.BeneficiaryID)
	if err != nil || id.LastName != "Rossi" || id.FiscalCode != marioCF {
		t.Fatalf("the assigned case worker reads %+v, %v", id, err)
	}
	// The same database under another master key: nothing opens.
	other := fund.New(x.a.DB, fund.Config{VaultKey: bytes.Repeat([]byte{7}, 32), Retention: time.Hour}, x.a.Identity)
	if _, err := other.BeneficiaryIdentity(x.ctx, reader(x.worker), c.BeneficiaryID); err == nil {
		t.Fatal("another master key opened the identity")
	}
	if _, err := x.svc().GetCase(x.ctx, reader(x.worker), c.ID); err != nil {
		t.Fatal(err)
	}
	// A read without a purpose is refused, naming the purpose.
	_, err = x.svc().GetCase(x.ctx, fund.Reader{P: x.worker.Principal()}, c.ID)
	if apperr.FieldOf(err) != "purpose" {
		t.Fatalf("read without purpose: %v", err)
	}
	log := accessLog(t, x)
	var reads []string
	for _, l := range log {
		if l.User != nil && *l.User == x.worker.ID {
			reads = append(reads, l.Action+":"+l.Purpose)
		}
	}
	want := "read_case:case_management read_identity:case_management read_case:case_management"
	if strings.Join(reads, " ") != want {
		t.Fatalf("access log of the worker: %v, want %s", reads, want)
	}
}

// Who sees a case: its case workers; a colleague only by logged
// break-glass; another fund, a company, a platform admin never; every
// refused attempt is logged; an approver only while it waits for them.
func TestCaseVisibility(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	c := x.open(t, mario())
	for _, u := range []*identitytest.User{x.worker2, x.otherWorker, x.otherManager, x.approver, x.manager} {
		_, err := x.svc().GetCase(x.ctx, reader(u), c.ID)
		if u == x.worker2 || u == x.otherWorker || u == x.approver || u == x.manager || u == x.otherManager {
			wantCode(t, err, apperr.NotFound)
		}
		if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(u), c.BeneficiaryID); apperr.CodeOf(err) != apperr.NotFound {
			t.Fatalf("%v read the identity: %v", u.Roles, err)
		}
	}
	for _, u := range []*identitytest.User{x.hr, x.k.As("platform", "platform_admin"), x.k.User(x.fund, "auditor")} {
		_, err := x.svc().GetCase(x.ctx, reader(u), c.ID)
		wantCode(t, err, apperr.Forbidden)
	}
	denied := 0
	for _, l := range accessLog(t, x) {
		if l.Action == "denied" {
			denied++
		}
	}
	if denied != 10 {
		t.Fatalf("%d refused attempts logged, want 10 (5 case reads, 5 identity reads)", denied)
	}
	list, err := x.svc().Cases(x.ctx, x.worker2.Principal())
	if err != nil || len(list) != 0 {
		t.Fatalf("an unassigned colleague lists %v", list)
	}
	// Break-glass: a reason is required; then the colleague sees it, logged.
	err = x.svc().BreakGlass(x.ctx, reader(x.worker2), c.ID, "urgente")
	if apperr.FieldOf(err) != "reason" {
		t.Fatalf("short reason: %v", err)
	}
	if err := x.svc().BreakGlass(x.ctx, reader(x.otherWorker), c.ID, "sostituisco la collega assente"); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another fund's worker broke the glass: %v", err)
	}
	if err := x.svc().BreakGlass(x.ctx, reader(x.worker2), c.ID, "sostituisco la collega assente"); err != nil {
		t.Fatal(err)
	}
	got, err := x.svc().GetCase(x.ctx, reader(x.worker2), c.ID)
	if err != nil || got.Access != "break_glass" {
		t.Fatalf("after break-glass: %+v %v", got.Access, err)
	}
	var glass int
	if err := x.a.DB.Get(&glass, `SELECT count(*) FROM fund_access_log WHERE action = 'break_glass' AND reason LIKE 'sostituisco%'`); err != nil || glass != 1 {
		t.Fatalf("break-glass logged %d times", glass)
	}
}

// The duplicate warning works with a fiscal code and, without one, by
// name and birth date however they are written.
func TestDuplicateWarning(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	first := x.open(t, mario())
	in := fund.Intake{Identity: mario(), Referral: "self", ConsentScope: "gestione", ConsentOn: time.Now()}
	_, err := x.svc().OpenCase(x.ctx, reader(x.worker), in, "")
	wantCode(t, err, apperr.Conflict)
	dups, err := x.svc().Duplicates(x.ctx, x.worker.Principal(), *mario())
	if err != nil || len(dups) != 1 || dups[0].Pseudonym != first.Pseudonym || dups[0].By != "fiscal_code" {
		t.Fatalf("duplicates by fiscal code: %+v %v", dups, err)
	}
	// Without a fiscal code: same name (other accents and case) and birth date.
	noCF := &fund.Identity{FirstName: "Nicolò", LastName: "D'Angelo", BirthDate: "1975-05-05"}
	x.open(t, noCF)
	again := &fund.Identity{FirstName: "NICOLO", LastName: "dangelo", BirthDate: "1975-05-05"}
	dups, err = x.svc().Duplicates(x.ctx, x.worker.Principal(), *again)
	if err != nil || len(dups) != 1 || dups[0].By != "name_and_birth_date" {
		t.Fatalf("duplicates by name: %+v %v", dups, err)
	}
	other := &fund.Identity{FirstName: "Nicolò", LastName: "D'Angelo", BirthDate: "1975-05-06"}
	if dups, _ := x.svc().Duplicates(x.ctx, x.worker.Principal(), *other); len(dups) != 0 {
		t.Fatalf("another birth date matched: %+v", dups)
	}
	// Another fund never sees this fund's people.
	if dups, _ := x.svc().Duplicates(x.ctx, x.otherWorker.Principal(), *mario()); len(dups) != 0 {
		t.Fatalf("another fund found %+v", dups)
	}
	// Confirmed, a second beneficiary opens; a case for the known one needs no identity.
	in.ConfirmDuplicate = true
	if _, err := x.svc().OpenCase(x.ctx, reader(x.worker), in, ""); err != nil {
		t.Fatal(err)
	}
	in = fund.Intake{Beneficiary: &first.BeneficiaryID, Referral: "employer", ConsentScope: "gestione", ConsentOn: time.Now()}
	second, err := x.svc().OpenCase(x.ctx, reader(x.worker), in, "")
	if err != nil || second.Pseudonym != first.Pseudonym {
		t.Fatalf("second case of the same beneficiary: %+v %v", second, err)
	}
	// A bad fiscal code names the field.
	bad := mario()
	bad.FiscalCode = "RSSMRA80A01F205Y"
	_, err = x.svc().OpenCase(x.ctx, reader(x.worker), fund.Intake{Identity: bad, Referral: "self", ConsentScope: "x", ConsentOn: time.Now()}, "")
	if apperr.FieldOf(err) != "fiscal_code" {
		t.Fatalf("bad fiscal code: %v", err)
	}
}

// Erasing the key makes the identity unrecoverable; the case and its
// figures stay under the pseudonym. The retention job erases keys of
// cases closed longer than the period.
func TestCryptoShredding(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	c := x.open(t, mario())
	if err := x.svc().EraseIdentity(x.ctx, x.worker.Principal(), c.BeneficiaryID, "richiesta"); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a case worker erased: %v", err)
	}
	if err := x.svc().EraseIdentity(x.ctx, x.manager.Principal(), c.BeneficiaryID, "richiesta dell'interessato"); err != nil {
		t.Fatal(err)
	}
	if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), c.BeneficiaryID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("identity after erasure: %v", err)
	}
	var left int
	if err := x.a.DB.Get(&left, `SELECT count(*) FROM fund_vault WHERE beneficiary_id = $1 AND (wrapped_key IS NOT NULL OR identity IS NOT NULL
		OR fiscal_code_hash IS NOT NULL OR person_hash IS NOT NULL)`, c.BeneficiaryID); err != nil || left != 0 {
		t.Fatalf("vault still holds data: %d %v", left, err)
	}
	got, err := x.svc().GetCase(x.ctx, reader(x.worker), c.ID)
	if err != nil || got.Pseudonym != c.Pseudonym || !got.Erased {
		t.Fatalf("case after erasure: %+v %v", got, err)
	}
	// The same person comes back: no duplicate is found (they were forgotten).
	if dups, _ := x.svc().Duplicates(x.ctx, x.worker.Principal(), *mario()); len(dups) != 0 {
		t.Fatalf("an erased person was found again: %+v", dups)
	}

	// Retention: a case closed long ago loses its key, a recent one keeps it.
	old := x.open(t, &fund.Identity{FirstName: "Anna", LastName: "Bianchi", BirthDate: "1990-02-02"})
	recent := x.open(t, &fund.Identity{FirstName: "Luca", LastName: "Verdi", BirthDate: "1991-03-03"})
	for _, cs := range []fund.Case{old, recent} {
		if err := x.svc().CloseCase(x.ctx, reader(x.worker), cs.ID, "goals_met"); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := x.a.DB.Exec(`UPDATE fund_cases SET closed_at = now() - interval '3 years' WHERE id = $1`, old.ID); err != nil {
		t.Fatal(err)
	}
	svc := fund.New(x.a.DB, fund.Config{VaultKey: fund.DevVaultKey, Retention: 2 * 365 * 24 * time.Hour}, x.a.Identity)
	n, err := svc.EraseExpired(x.ctx, 100)
	if err != nil || n != 1 {
		t.Fatalf("retention erased %d, %v; want 1", n, err)
	}
	if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), recent.BeneficiaryID); err != nil {
		t.Fatalf("a recently closed case lost its identity: %v", err)
	}
	if _, err := x.svc().BeneficiaryIdentity(x.ctx, reader(x.worker), old.BeneficiaryID); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("an identity past retention is still readable: %v", err)
	}
}

// A data subject's export holds their identity, cases and the log of who
// read them, and is itself logged.
func TestExportForDataSubject(t *testing.T) {
	t.Parallel()
	x := newKit(t)
	c := x.open(t, mario())
	if _, err := x.svc().ExportBeneficiary(x.ctx, reader(x.manager), c.BeneficiaryID); apperr.FieldOf(err) != "purpose" {
		t.Fatalf("export without the data-subject purpose: %v", err)
	}
	r := fund.Reader{P: x.manager.Principal(), Purpose: fund.PurposeDataRequest}
	if _, err := x.svc().ExportBeneficiary(x.ctx, fund.Reader{P: x.worker.Principal(), Purpose: fund.PurposeDataRequest}, c.BeneficiaryID); apperr.CodeOf(err) != apperr.Forbidden {
		t.Fatalf("a case worker exported: %v", err)
	}
	e, err := x.svc().ExportBeneficiary(x.ctx, r, c.BeneficiaryID)
	if err != nil || e.Identity == nil || e.Identity.LastName != "Rossi" || len(e.Cases) != 1 || len(e.Accesses) == 0 {
		t.Fatalf("export %+v %v", e, err)
	}
	var exports int
	if err := x.a.DB.Get(&exports, `SELECT count(*) FROM fund_access_log WHERE action = 'export' AND beneficiary_id = $1`, c.BeneficiaryID); err != nil || exports != 1 {
		t.Fatalf("export logged %d times", exports)
	}
}
