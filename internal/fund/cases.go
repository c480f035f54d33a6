package fund

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// Referral is who sent the person to the fund.
type Referral string

// Referrals lists the referral sources in the order forms offer them.
var Referrals = []Referral{"territorial_table", "caritas", "social_services", "employer", "self"}

// Case states.
const (
	CaseOpen   = "open"
	CaseActive = "active"
	CaseClosed = "closed"
)

// Outcomes of a closed case.
var CaseOutcomes = []string{"goals_met", "partly_met", "not_met", "moved_away", "withdrew"}

// LegalBasis is the ground on which the fund processes a purpose's data:
// consent (GDPR art. 9, with its scope and date, who recorded it, and its
// withdrawal) or the legal obligation that keeps payment records for 10
// years (art. 2220 c.c.), which consent's withdrawal does not end.
type LegalBasis struct {
	ID          uuid.UUID  `json:"id" db:"id"`
	Purpose     string     `json:"purpose" db:"purpose"`
	Basis       string     `json:"basis" db:"basis"`
	Scope       string     `json:"scope" db:"scope"`
	GivenOn     time.Time  `json:"given_on" db:"given_on"`
	RecordedBy  string     `json:"recorded_by" db:"recorded_by_name"`
	RecordedAt  time.Time  `json:"recorded_at" db:"recorded_at"`
	WithdrawnAt *time.Time `json:"withdrawn_at,omitempty" db:"withdrawn_at"`
}

// BasisPurposes are the purposes a legal basis is recorded for.
var BasisPurposes = []string{"case_management", "health_data", "payments", "follow_up"}

// Intake opens a case: the person (a new identity, or a beneficiary the
// fund already knows), who referred them, and the legal basis of each
// purpose.
type Intake struct {
	Identity    *Identity  `json:"identity,omitempty"`
	Beneficiary *uuid.UUID `json:"beneficiary_id,omitempty"`
	Referral    Referral   `json:"referral"`
	// ConsentScope and ConsentOn record the art. 9 consent to case
	// management (and, with HealthData, to the health detail it needs).
	ConsentScope string    `json:"consent_scope"`
	ConsentOn    time.Time `json:"consent_on"`
	HealthData   bool      `json:"health_data"`
	// ConfirmDuplicate opens a new beneficiary although the duplicate
	// check found someone who looks the same (the warning was read).
	ConfirmDuplicate bool `json:"confirm_duplicate"`
}

// Case is a case as its readers see it: the pseudonym, never the name.
type Case struct {
	ID            uuid.UUID    `json:"id" db:"id"`
	BeneficiaryID uuid.UUID    `json:"beneficiary_id" db:"beneficiary_id"`
	Pseudonym     string       `json:"pseudonym" db:"pseudonym"`
	Referral      Referral     `json:"referral" db:"referral"`
	Status        string       `json:"status" db:"status"`
	Outcome       *string      `json:"outcome,omitempty" db:"outcome"`
	Assessment    Assessment   `json:"assessment" db:"-"`
	RawAssessment []byte       `json:"-" db:"assessment"`
	AssessedAt    *time.Time   `json:"assessed_at,omitempty" db:"assessed_at"`
	Notes         string       `json:"notes" db:"notes"`
	OpenedAt      time.Time    `json:"opened_at" db:"opened_at"`
	ClosedAt      *time.Time   `json:"closed_at,omitempty" db:"closed_at"`
	Erased        bool         `json:"identity_erased" db:"erased"`
	Workers       []string     `json:"case_workers" db:"-"`
	Bases         []LegalBasis `json:"legal_bases" db:"-"`
	Goals         []Goal       `json:"goals" db:"-"`
	// Access says how the reader sees it: assigned, queue or break_glass.
	Access string `json:"access" db:"-"`
}

// Assessment is the structured needs assessment ("diagnosi"). Each area
// has a level (none, low, medium, high) and a short description.
type Assessment struct {
	Work      Area `json:"work"`
	Household Area `json:"household"`
	Housing   Area `json:"housing"`
	Debts     Area `json:"debts"`
	Skills    Area `json:"skills"`
	Barriers  Area `json:"barriers"`
}

// Area is one area of the assessment.
type Area struct {
	Level string `json:"level"`
	Note  string `json:"note"`
}

// AssessmentAreas names the areas in the order forms show them.
var AssessmentAreas = []string{"work", "household", "housing", "debts", "skills", "barriers"}

// AreaLevels are the levels of need.
var AreaLevels = []string{"none", "low", "medium", "high"}

// Areas returns the areas by name, for forms.
func (a *Assessment) Areas() map[string]*Area {
	return map[string]*Area{"work": &a.Work, "household": &a.Household, "housing": &a.Housing,
		"debts": &a.Debts, "skills": &a.Skills, "barriers": &a.Barriers}
}

// Validate names every area with an unknown level or a note too long, at
// once (apperr.AllInvalid), in the form's order.
func (a Assessment) Validate() error {
	areas := a.Areas()
	var checks []error
	for _, name := range AssessmentAreas {
		area := areas[name]
		if !slices.Contains(AreaLevels, area.Level) {
			checks = append(checks, invalidField(name, "the %s level must be one of none, low, medium, high", name))
		} else {
			checks = append(checks, problem(len(area.Note) > 2000, name, "the %s note is too long (2000 characters at most)", name))
		}
	}
	return apperr.AllInvalid(checks...)
}

// Goal is a goal of the personal plan.
type Goal struct {
	ID     uuid.UUID  `json:"id" db:"id"`
	Text   string     `json:"text" db:"text"`
	DueOn  *time.Time `json:"due_on,omitempty" db:"due_on"`
	DoneOn *time.Time `json:"done_on,omitempty" db:"done_on"`
}

// OpenCase takes a person in (case worker): a new beneficiary sealed in
// the vault (after the duplicate check: a possible duplicate is a
// conflict carrying the matches unless ConfirmDuplicate), or one the fund
// knows; the case is assigned to its opener. Errors: forbidden, invalid
// (naming the field), not_found (beneficiary), conflict (field identity, details duplicates:
// the possible duplicates).
func (s *Service) OpenCase(ctx context.Context, r Reader, in Intake, key string) (Case, error) {
	fund, err := staff(r.P, auth.RoleCaseWorker)
	if err != nil {
		return Case{}, err
	}
	if err := r.Purpose.Validate(); err != nil {
		return Case{}, err
	}
	if in.Identity != nil {
		in.Identity.Normalise()
	}
	if err := in.validate(); err != nil {
		return Case{}, err
	}
	var id uuid.UUID
	_, err = db.Idempotent(ctx, s.db, db.Scope{Caller: r.P.UserID, Operation: "fund.open_case"}, key, in, &id, func(tx *sqlx.Tx) error {
		if err := s.ensureFund(ctx, tx, fund); err != nil {
			return err
		}
		var ben uuid.UUID
		if in.Beneficiary != nil {
			if err := tx.GetContext(ctx, &ben, `SELECT id FROM fund_beneficiaries WHERE id = $1 AND fund_id = $2`, *in.Beneficiary, fund); err != nil {
				return db.MapError(err, "beneficiary")
			}
		} else {
			dups, err := s.duplicates(ctx, tx, fund, *in.Identity)
			if err != nil {
				return err
			}
			if len(dups) > 0 && !in.ConfirmDuplicate {
				return apperr.New(apperr.Conflict, "this person may already be a beneficiary of the fund").
					With("field", "identity").With("duplicates", dups)
			}
			if ben, _, err = s.addBeneficiary(ctx, tx, fund, &r.P.UserID, *in.Identity); err != nil {
				return err
			}
		}
		id = uuid.New()
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_cases (id, fund_id, beneficiary_id, referral, opened_by) VALUES ($1, $2, $3, $4, $5)`,
			id, fund, ben, in.Referral, r.P.UserID); err != nil {
			return apperr.Wrap(err, "opening case")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO fund_case_workers (case_id, user_id) VALUES ($1, $2)`, id, r.P.UserID); err != nil {
			return apperr.Wrap(err, "assigning case")
		}
		bases := []struct{ purpose, basis, scope string }{
			{"case_management", "consent", in.ConsentScope},
			{"payments", "legal_obligation", "art. 2220 c.c.: payment records kept 10 years"},
		}
		if in.HealthData {
			bases = append(bases, struct{ purpose, basis, scope string }{"health_data", "consent", in.ConsentScope})
		}
		for _, b := range bases {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_legal_bases (case_id, purpose, basis, scope, given_on, recorded_by)
				VALUES ($1, $2, $3, $4, $5, $6)`, id, b.purpose, b.basis, b.scope, in.ConsentOn, r.P.UserID); err != nil {
				return apperr.Wrap(err, "recording legal basis")
			}
		}
		return caseEvent(ctx, tx, id, r.P, "opened", map[string]any{"referral": in.Referral})
	})
	if err != nil {
		return Case{}, err
	}
	return s.GetCase(ctx, r, id)
}

// validate names every field at fault at once, the person's first.
func (in Intake) validate() error {
	var who error
	if in.Identity != nil {
		who = in.Identity.Validate()
	}
	return apperr.AllInvalid(who,
		problem(in.Identity == nil && in.Beneficiary == nil, "identity", "say who the person is, or choose a beneficiary the fund knows"),
		problem(!slices.Contains(Referrals, in.Referral), "referral",
			"the referral source must be one of territorial_table, caritas, social_services, employer, self"),
		problem(strings.TrimSpace(in.ConsentScope) == "" || len(in.ConsentScope) > 500, "consent_scope",
			"record what the person consented to (up to 500 characters)"),
		problem(in.ConsentOn.IsZero() || in.ConsentOn.After(time.Now().Add(24*time.Hour)), "consent_on",
			"record the date of the consent (not in the future)"))
}

// caseEvent appends a step to the case's history.
func caseEvent(ctx context.Context, q sqlx.ExecerContext, caseID uuid.UUID, actor *auth.Principal, event string, details map[string]any) error {
	b, err := json.Marshal(details)
	if err != nil {
		return apperr.Wrap(err, "encoding history")
	}
	var who *uuid.UUID
	if actor != nil {
		who = &actor.UserID
	}
	_, err = q.ExecContext(ctx, `INSERT INTO fund_case_events (case_id, actor, event, details) VALUES ($1, $2, $3, $4::text::jsonb)`,
		caseID, who, event, string(b))
	return apperr.Wrap(err, "recording history")
}

// GetCase returns case id as r may see it, logged as a read with r's
// purpose. Errors: forbidden, invalid (purpose), not_found (also for a
// case r may not see: logged as denied).
func (s *Service) GetCase(ctx context.Context, r Reader, id uuid.UUID) (Case, error) {
	if err := r.Purpose.Validate(); err != nil {
		return Case{}, err
	}
	a, err := s.accessCase(ctx, s.db, r, id)
	if err != nil {
		return Case{}, err
	}
	c, err := readCase(ctx, s.db, id)
	if err != nil {
		return Case{}, err
	}
	switch {
	case a.assigned:
		c.Access = "assigned"
	case a.queue:
		c.Access = "queue"
	default:
		c.Access = "break_glass"
	}
	return c, logAccess(ctx, s.db, a.fund, r, "read_case", &id, &a.beneficiary, "")
}

func readCase(ctx context.Context, q sqlx.QueryerContext, id uuid.UUID) (Case, error) {
	var c Case
	err := sqlx.GetContext(ctx, q, &c, `SELECT c.id, c.beneficiary_id, b.pseudonym, c.referral, c.status, c.outcome,
		c.assessment::text AS assessment, c.assessed_at, c.notes, c.opened_at, c.closed_at, v.erased_at IS NOT NULL AS erased
		FROM fund_cases c JOIN fund_beneficiaries b ON b.id = c.beneficiary_id JOIN fund_vault v ON v.beneficiary_id = b.id
		WHERE c.id = $1`, id)
	if err != nil {
		return Case{}, db.MapError(err, "case")
	}
	if len(c.RawAssessment) > 0 {
		if err := json.Unmarshal(c.RawAssessment, &c.Assessment); err != nil {
			return Case{}, apperr.Wrap(err, "reading assessment")
		}
	}
	if err := sqlx.SelectContext(ctx, q, &c.Workers, `SELECT u.name FROM fund_case_workers w JOIN users u ON u.id = w.user_id
		WHERE w.case_id = $1 ORDER BY u.name`, id); err != nil {
		return Case{}, apperr.Wrap(err, "reading case workers")
	}
	if err := sqlx.SelectContext(ctx, q, &c.Bases, `SELECT l.id, l.purpose, l.basis, l.scope, l.given_on, coalesce(u.name, '') AS recorded_by_name,
		l.recorded_at, l.withdrawn_at FROM fund_legal_bases l LEFT JOIN users u ON u.id = l.recorded_by
		WHERE l.case_id = $1 ORDER BY l.recorded_at, l.purpose`, id); err != nil {
		return Case{}, apperr.Wrap(err, "reading legal bases")
	}
	if err := sqlx.SelectContext(ctx, q, &c.Goals, `SELECT id, text, due_on, done_on FROM fund_goals WHERE case_id = $1
		ORDER BY created_at`, id); err != nil {
		return Case{}, apperr.Wrap(err, "reading goals")
	}
	return c, nil
}

// CaseSummary is a line of the case list.
type CaseSummary struct {
	ID        uuid.UUID  `json:"id" db:"id"`
	Pseudonym string     `json:"pseudonym" db:"pseudonym"`
	Status    string     `json:"status" db:"status"`
	Referral  Referral   `json:"referral" db:"referral"`
	OpenedAt  time.Time  `json:"opened_at" db:"opened_at"`
	ClosedAt  *time.Time `json:"closed_at,omitempty" db:"closed_at"`
	Pending   int        `json:"pending_interventions" db:"pending"`
}

// Cases lists the cases the caller sees: a case worker's own, an
// approver's and a manager's queue (pseudonyms and states only).
// Errors: forbidden.
func (s *Service) Cases(ctx context.Context, p *auth.Principal) ([]CaseSummary, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
	if err != nil {
		return nil, err
	}
	out := []CaseSummary{}
	err = sqlx.SelectContext(ctx, s.db, &out, `
		SELECT c.id, b.pseudonym, c.status, c.referral, c.opened_at, c.closed_at,
		  (SELECT count(*) FROM fund_interventions i WHERE i.case_id = c.id AND i.status = 'proposed') AS pending
		FROM fund_cases c JOIN fund_beneficiaries b ON b.id = c.beneficiary_id
		WHERE c.fund_id = $1 AND (
		  ($3 AND EXISTS (SELECT 1 FROM fund_case_workers w WHERE w.case_id = c.id AND w.user_id = $2))
		  OR ($4 AND EXISTS (SELECT 1 FROM fund_interventions i WHERE i.case_id = c.id AND i.status = 'proposed'))
		  OR ($5 AND EXISTS (SELECT 1 FROM fund_interventions i WHERE i.case_id = c.id AND i.status IN ('proposed', 'approved')))
		  OR EXISTS (SELECT 1 FROM fund_break_glass g WHERE g.case_id = c.id AND g.user_id = $2 AND g.expires_at > now()))
		ORDER BY c.status = 'closed', c.opened_at DESC LIMIT 500`,
		fund, p.UserID, p.Has(auth.RoleCaseWorker), p.Has(auth.RoleFundApprover), p.Has(auth.RoleFundManager))
	return out, apperr.Wrap(err, "listing cases")
}

// changeCase runs change on case id for a case worker assigned to it (or
// with a valid break-glass), in a transaction, and records event in its
// history. A closed case changes no more. Errors: forbidden, invalid
// (purpose), not_found, conflict (closed).
func (s *Service) changeCase(ctx context.Context, r Reader, id uuid.UUID, event string, details map[string]any,
	change func(tx *sqlx.Tx) error) error {
	if _, err := staff(r.P, auth.RoleCaseWorker); err != nil {
		return err
	}
	if err := r.Purpose.Validate(); err != nil {
		return err
	}
	a, err := s.accessCase(ctx, s.db, r, id)
	if err != nil {
		return err
	}
	if !a.assigned && !a.breakGlass {
		return apperr.New(apperr.Forbidden, "only the case workers of this case change it")
	}
	return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		var status string
		if err := tx.GetContext(ctx, &status, `SELECT status FROM fund_cases WHERE id = $1 FOR UPDATE`, id); err != nil {
			return db.MapError(err, "case")
		}
		if status == CaseClosed {
			return apperr.New(apperr.Conflict, "the case is closed")
		}
		if err := change(tx); err != nil {
			return err
		}
		return caseEvent(ctx, tx, id, r.P, event, details)
	})
}

// RecordAssessment saves the needs assessment; the first one makes an
// open case active. Errors: those of changeCase, invalid (naming the area).
func (s *Service) RecordAssessment(ctx context.Context, r Reader, id uuid.UUID, a Assessment) error {
	if err := a.Validate(); err != nil {
		return err
	}
	b, err := json.Marshal(a)
	if err != nil {
		return apperr.Wrap(err, "encoding assessment")
	}
	return s.changeCase(ctx, r, id, "assessment_recorded", nil, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE fund_cases SET assessment = $2::text::jsonb, assessed_at = now(),
			status = CASE WHEN status = 'open' THEN 'active' ELSE status END WHERE id = $1`, id, string(b))
		return apperr.Wrap(err, "saving assessment")
	})
}

// SetNotes replaces the case's free notes (kept apart from the structured
// assessment). Errors: those of changeCase, invalid.
func (s *Service) SetNotes(ctx context.Context, r Reader, id uuid.UUID, notes string) error {
	if len(notes) > 10000 {
		return invalidField("notes", "notes are at most 10000 characters")
	}
	return s.changeCase(ctx, r, id, "notes_changed", nil, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE fund_cases SET notes = $2 WHERE id = $1`, id, strings.TrimSpace(notes))
		return apperr.Wrap(err, "saving notes")
	})
}

// CheckGoal is AddGoal's check of a goal's text, for a form that has
// other fields to check first.
func CheckGoal(text string) error {
	text = strings.TrimSpace(text)
	return problem(text == "" || len(text) > 500, "goal", "write the goal (up to 500 characters)")
}

// AddGoal adds a goal to the personal plan. Errors: those of changeCase, invalid.
func (s *Service) AddGoal(ctx context.Context, r Reader, id uuid.UUID, text string, due *time.Time) error {
	text = strings.TrimSpace(text)
	if err := CheckGoal(text); err != nil {
		return err
	}
	return s.changeCase(ctx, r, id, "goal_added", map[string]any{"due_on": due}, func(tx *sqlx.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO fund_goals (case_id, text, due_on, created_by) VALUES ($1, $2, $3, $4)`,
			id, text, due, r.P.UserID)
		return apperr.Wrap(err, "adding goal")
	})
}

// CompleteGoal marks a goal reached on the day. Errors: those of changeCase.
func (s *Service) CompleteGoal(ctx context.Context, r Reader, id, goal uuid.UUID) error {
	return s.changeCase(ctx, r, id, "goal_done", map[string]any{"goal": goal}, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fund_goals SET done_on = (now() AT TIME ZONE 'Europe/Rome')::date
			WHERE id = $1 AND case_id = $2 AND done_on IS NULL`, goal, id)
		if err != nil {
			return apperr.Wrap(err, "completing goal")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "goal not found or already done").With("field", "goal")
		}
		return nil
	})
}

// WithdrawConsent records the withdrawal of a consent. The legal
// obligation to keep payment records is not a consent and stays.
// Errors: those of changeCase, not_found.
func (s *Service) WithdrawConsent(ctx context.Context, r Reader, id, basis uuid.UUID) error {
	return s.changeCase(ctx, r, id, "consent_withdrawn", map[string]any{"basis": basis}, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fund_legal_bases SET withdrawn_at = now(), withdrawn_by = $3
			WHERE id = $1 AND case_id = $2 AND basis = 'consent' AND withdrawn_at IS NULL`, basis, id, r.P.UserID)
		if err != nil {
			return apperr.Wrap(err, "withdrawing consent")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "no such consent to withdraw").With("field", "basis")
		}
		return nil
	})
}

// CloseCase closes the case with an outcome. Interventions still waiting
// for approval must be decided first. Errors: those of changeCase,
// invalid (outcome), conflict (interventions pending).
func (s *Service) CloseCase(ctx context.Context, r Reader, id uuid.UUID, outcome string) error {
	if !slices.Contains(CaseOutcomes, outcome) {
		return invalidField("outcome", "the outcome must be one of %s", strings.Join(CaseOutcomes, ", "))
	}
	return s.changeCase(ctx, r, id, "closed", map[string]any{"outcome": outcome}, func(tx *sqlx.Tx) error {
		var pending int
		if err := tx.GetContext(ctx, &pending, `SELECT count(*) FROM fund_interventions WHERE case_id = $1 AND status IN ('proposed', 'approved')`, id); err != nil {
			return apperr.Wrap(err, "checking interventions")
		}
		if pending > 0 {
			return apperr.New(apperr.Conflict, "%d interventions of this case are still to be decided or paid", pending).With("field", "outcome")
		}
		_, err := tx.ExecContext(ctx, `UPDATE fund_cases SET status = 'closed', outcome = $2, closed_at = now() WHERE id = $1`, id, outcome)
		return apperr.Wrap(err, "closing case")
	})
}

// HistoryEntry is one step of a case's history.
type HistoryEntry struct {
	At      time.Time `json:"at" db:"at"`
	Actor   string    `json:"actor" db:"actor_name"`
	Event   string    `json:"event" db:"event"`
	Details []byte    `json:"-" db:"details"`
}

// DetailsJSON is the entry's details as JSON.
func (h HistoryEntry) DetailsJSON() json.RawMessage { return json.RawMessage(h.Details) }

// History returns case id's history, oldest first, as r may see it
// (logged like a read). Errors: those of GetCase.
func (s *Service) History(ctx context.Context, r Reader, id uuid.UUID) ([]HistoryEntry, error) {
	if err := r.Purpose.Validate(); err != nil {
		return nil, err
	}
	a, err := s.accessCase(ctx, s.db, r, id)
	if err != nil {
		return nil, err
	}
	out := []HistoryEntry{}
	err = sqlx.SelectContext(ctx, s.db, &out, `SELECT e.at, coalesce(u.name, '') AS actor_name, e.event, e.details::text AS details
		FROM fund_case_events e LEFT JOIN users u ON u.id = e.actor WHERE e.case_id = $1 ORDER BY e.id`, id)
	if err != nil {
		return nil, apperr.Wrap(err, "reading history")
	}
	return out, logAccess(ctx, s.db, a.fund, r, "read_case", &id, &a.beneficiary, "history")
}

// AssignCase adds a case worker of the fund to the case (fund managers).
// Errors: forbidden, not_found (case or worker).
func (s *Service) AssignCase(ctx context.Context, p *auth.Principal, id, worker uuid.UUID) error {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return err
	}
	return db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `INSERT INTO fund_case_workers (case_id, user_id)
			SELECT c.id, u.id FROM fund_cases c, users u JOIN user_roles r ON r.user_id = u.id AND r.role = 'case_worker'
			WHERE c.id = $1 AND c.fund_id = $3 AND u.id = $2 AND u.organisation_id = $3
			ON CONFLICT DO NOTHING`, id, worker, fund)
		if err != nil {
			return apperr.Wrap(err, "assigning case")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			var ok bool
			if err := tx.GetContext(ctx, &ok, `SELECT EXISTS (SELECT 1 FROM fund_case_workers w JOIN fund_cases c ON c.id = w.case_id
				WHERE w.case_id = $1 AND w.user_id = $2 AND c.fund_id = $3)`, id, worker, fund); err != nil || !ok {
				return apperr.New(apperr.NotFound, "case or case worker not found")
			}
			return nil
		}
		return caseEvent(ctx, tx, id, p, "assigned", map[string]any{"case_worker": worker})
	})
}
