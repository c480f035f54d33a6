package fund

import (
	"context"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Indicators are the WIN outcome indicators, in the order the network's
// yearly report lists them.
var Indicators = []string{"diagnosis", "job_accompaniment", "business_startup", "return_to_training",
	"job_insertion_project", "fixed_term_hire", "permanent_hire", "care_pathway"}

// Outcome is an indicator reached on a case, on a date.
type Outcome struct {
	ID         uuid.UUID `json:"id" db:"id"`
	CaseID     uuid.UUID `json:"case_id" db:"case_id"`
	Indicator  string    `json:"indicator" db:"indicator"`
	AchievedOn time.Time `json:"achieved_on" db:"achieved_on"`
}

// RecordOutcome records an indicator reached on case id on a date (a case
// worker of the case), with follow-up reminders 6 and 12 months later.
// Errors: those of changeCase, invalid (indicator, date).
func (s *Service) RecordOutcome(ctx context.Context, r Reader, id uuid.UUID, indicator string, on time.Time) (Outcome, error) {
	if err := apperr.AllInvalid(
		problem(!slices.Contains(Indicators, indicator), "indicator", "the indicator must be one of the WIN indicators"),
		problem(on.IsZero() || on.After(s.now().Add(24*time.Hour)) || on.Year() < 2000, "achieved_on", "the date must not be in the future"),
	); err != nil {
		return Outcome{}, err
	}
	out := Outcome{ID: uuid.New(), CaseID: id, Indicator: indicator, AchievedOn: on}
	err := s.changeCase(ctx, r, id, "outcome_recorded", map[string]any{"indicator": indicator, "on": on.Format(time.DateOnly)},
		func(tx *sqlx.Tx) error {
			if _, err := tx.ExecContext(ctx, `INSERT INTO fund_outcomes (id, case_id, indicator, achieved_on, recorded_by) VALUES ($1, $2, $3, $4, $5)`,
				out.ID, id, indicator, on.Format(time.DateOnly), r.P.UserID); err != nil {
				return apperr.Wrap(err, "recording outcome")
			}
			_, err := tx.ExecContext(ctx, `INSERT INTO fund_followups (outcome_id, months, due_on)
				VALUES ($1, 6, $2::date + interval '6 months'), ($1, 12, $2::date + interval '12 months')`, out.ID, on.Format(time.DateOnly))
			return apperr.Wrap(err, "scheduling follow-ups")
		})
	return out, err
}

// Outcomes lists case id's outcomes as r may see it. Errors: GetCase's.
func (s *Service) Outcomes(ctx context.Context, r Reader, id uuid.UUID) ([]Outcome, error) {
	if err := r.Purpose.Validate(); err != nil {
		return nil, err
	}
	if _, err := s.accessCase(ctx, s.db, r, id); err != nil {
		return nil, err
	}
	out := []Outcome{}
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT id, case_id, indicator, achieved_on FROM fund_outcomes WHERE case_id = $1
		ORDER BY achieved_on, indicator`, id)
	return out, apperr.Wrap(err, "listing outcomes")
}

// FollowUp is a reminder to check on an outcome 6 or 12 months on.
type FollowUp struct {
	OutcomeID uuid.UUID `json:"outcome_id" db:"outcome_id"`
	CaseID    uuid.UUID `json:"case_id" db:"case_id"`
	Pseudonym string    `json:"pseudonym" db:"pseudonym"`
	Indicator string    `json:"indicator" db:"indicator"`
	Months    int       `json:"months" db:"months"`
	DueOn     time.Time `json:"due_on" db:"due_on"`
}

// FollowUps lists the follow-ups due within the next 30 days or overdue,
// on the cases the caller works on (case workers; managers see all the
// fund's). Errors: forbidden.
func (s *Service) FollowUps(ctx context.Context, p *auth.Principal) ([]FollowUp, error) {
	fund, err := staff(p, auth.RoleCaseWorker, auth.RoleFundManager)
	if err != nil {
		return nil, err
	}
	out := []FollowUp{}
	err = sqlx.SelectContext(ctx, s.db, &out, `SELECT f.outcome_id, o.case_id, b.pseudonym, o.indicator, f.months, f.due_on
		FROM fund_followups f JOIN fund_outcomes o ON o.id = f.outcome_id JOIN fund_cases c ON c.id = o.case_id
		JOIN fund_beneficiaries b ON b.id = c.beneficiary_id
		WHERE c.fund_id = $1 AND f.done_at IS NULL AND f.due_on <= current_date + 30
		  AND ($3 OR EXISTS (SELECT 1 FROM fund_case_workers w WHERE w.case_id = c.id AND w.user_id = $2))
		ORDER BY f.due_on`, fund, p.UserID, p.Has(auth.RoleFundManager))
	return out, apperr.Wrap(err, "listing follow-ups")
}

// CompleteFollowUp records that the follow-up was done, with a note.
// Errors: those of changeCase, not_found.
func (s *Service) CompleteFollowUp(ctx context.Context, r Reader, outcome uuid.UUID, months int, note string) error {
	var caseID uuid.UUID
	if err := s.db.GetContext(ctx, &caseID, `SELECT o.case_id FROM fund_outcomes o JOIN fund_cases c ON c.id = o.case_id
		WHERE o.id = $1 AND c.fund_id = $2`, outcome, r.P.OrgID); err != nil {
		return apperr.New(apperr.NotFound, "follow-up not found")
	}
	return s.changeCase(ctx, r, caseID, "follow_up_done", map[string]any{"outcome": outcome, "months": months}, func(tx *sqlx.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE fund_followups SET done_at = now(), done_by = $3, note = $4
			WHERE outcome_id = $1 AND months = $2 AND done_at IS NULL`, outcome, months, r.P.UserID, note)
		if err != nil {
			return apperr.Wrap(err, "completing follow-up")
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return apperr.New(apperr.NotFound, "follow-up not found or already done")
		}
		return nil
	})
}

// IndicatorRow is one line of the indicators report.
type IndicatorRow struct {
	Indicator string `json:"indicator" db:"indicator"`
	// Count is how many times it was reached in the period; Cases on how
	// many distinct cases.
	Count int `json:"count" db:"count"`
	Cases int `json:"cases" db:"cases"`
}

// IndicatorsReport is the table the network's yearly report needs: each
// WIN indicator reached between from and to (inclusive dates), with
// counts only (fund managers and approvers). Errors: forbidden, invalid.
func (s *Service) IndicatorsReport(ctx context.Context, p *auth.Principal, from, to time.Time) ([]IndicatorRow, error) {
	fund, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover)
	if err != nil {
		return nil, err
	}
	if to.Before(from) {
		return nil, invalidField("to", "the period must end after it starts")
	}
	var rows []IndicatorRow
	err = sqlx.SelectContext(ctx, s.db, &rows, `SELECT o.indicator, count(*) AS count, count(DISTINCT o.case_id) AS cases
		FROM fund_outcomes o JOIN fund_cases c ON c.id = o.case_id
		WHERE c.fund_id = $1 AND o.achieved_on BETWEEN $2 AND $3 GROUP BY o.indicator`,
		fund, from.Format(time.DateOnly), to.Format(time.DateOnly))
	if err != nil {
		return nil, apperr.Wrap(err, "reading indicators")
	}
	byName := map[string]IndicatorRow{}
	for _, r := range rows {
		byName[r.Indicator] = r
	}
	out := make([]IndicatorRow, len(Indicators))
	for i, name := range Indicators {
		out[i] = byName[name]
		out[i].Indicator = name
	}
	return out, nil
}
