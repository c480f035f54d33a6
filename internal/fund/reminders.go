package fund

import (
	"context"
	"embed"
	"log/slog"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/mail"
)

// The mails the fund sends: mails/<lang>/<name>.txt, Italian first.
//
//go:embed mails
var mailFS embed.FS

var mails = mail.MustTemplates(mailFS, "mails", "it", "en")

// ReminderLead is how long before a follow-up is due its reminder goes out.
const ReminderLead = 7 * 24 * time.Hour

// followUpMail is what a follow-up reminder says. It names the case by
// its pseudonym only: a mail leaves the platform, the identity never does.
type followUpMail struct {
	Name, Pseudonym, Indicator, Achieved, Due, Link string
	Months                                          int
}

// dueFollowUp is a follow-up whose reminder is due, with its case.
type dueFollowUp struct {
	Outcome    uuid.UUID `db:"outcome_id"`
	Months     int       `db:"months"`
	DueOn      time.Time `db:"due_on"`
	Indicator  string    `db:"indicator"`
	AchievedOn time.Time `db:"achieved_on"`
	Case       uuid.UUID `db:"case_id"`
	Fund       uuid.UUID `db:"fund_id"`
	Pseudonym  string    `db:"pseudonym"`
}

type recipient struct {
	Email string `db:"email"`
	Name  string `db:"name"`
}

// SendFollowUpReminders mails the case workers of up to limit follow-ups
// due within ReminderLead (or overdue) and not yet reminded: once each,
// the mail and the mark committed together. A case whose workers have all
// gone is reminded to the fund's managers; a person whose identity was
// erased can no longer be heard, so their follow-ups are not reminded.
// It returns how many follow-ups it reminded.
func (s *Service) SendFollowUpReminders(ctx context.Context, limit int) (int, error) {
	n := 0
	err := db.WithTx(ctx, s.db, func(tx *sqlx.Tx) error {
		n = 0
		var due []dueFollowUp
		if err := tx.SelectContext(ctx, &due, `
			SELECT f.outcome_id, f.months, f.due_on, o.indicator, o.achieved_on, c.id AS case_id, c.fund_id, b.pseudonym
			FROM fund_followups f JOIN fund_outcomes o ON o.id = f.outcome_id JOIN fund_cases c ON c.id = o.case_id
			JOIN fund_beneficiaries b ON b.id = c.beneficiary_id JOIN fund_vault v ON v.beneficiary_id = b.id
			WHERE f.done_at IS NULL AND f.reminded_at IS NULL AND f.due_on <= $1::date AND v.erased_at IS NULL
			ORDER BY f.due_on, f.outcome_id, f.months LIMIT $2 FOR UPDATE OF f SKIP LOCKED`,
			s.now().Add(ReminderLead).In(italianTime).Format(time.DateOnly), limit); err != nil {
			return apperr.Wrap(err, "follow-ups to remind")
		}
		var msgs []mail.Message
		for _, d := range due {
			to, err := followUpRecipients(ctx, tx, d)
			if err != nil {
				return err
			}
			if len(to) == 0 {
				slog.WarnContext(ctx, "a follow-up has nobody to remind", "case", d.Case, "months", d.Months)
			}
			for _, r := range to {
				m, err := mails.Compose(r.Email, "followup", followUpMail{Name: r.Name, Pseudonym: d.Pseudonym, Indicator: d.Indicator,
					Achieved: d.AchievedOn.Format("02/01/2006"), Due: d.DueOn.Format("02/01/2006"), Months: d.Months,
					Link: s.cfg.BaseURL + "/fondo/casi/" + d.Case.String()})
				if err != nil {
					return apperr.Wrap(err, "composing the follow-up reminder")
				}
				msgs = append(msgs, m)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE fund_followups SET reminded_at = now() WHERE outcome_id = $1 AND months = $2`,
				d.Outcome, d.Months); err != nil {
				return apperr.Wrap(err, "marking the follow-up reminded")
			}
			n++
		}
		return mail.EnqueueAll(ctx, tx, msgs)
	})
	return n, err
}

// followUpRecipients are the active case workers assigned to d's case,
// else the fund's active managers.
func followUpRecipients(ctx context.Context, tx *sqlx.Tx, d dueFollowUp) ([]recipient, error) {
	var out []recipient
	err := tx.SelectContext(ctx, &out, `
		SELECT u.email::text AS email, u.name FROM fund_case_workers w JOIN users u ON u.id = w.user_id
		WHERE w.case_id = $1 AND u.organisation_id = $2 AND u.status = 'active'
		  AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $3)
		ORDER BY u.email`, d.Case, d.Fund, auth.RoleCaseWorker)
	if err != nil || len(out) > 0 {
		return out, apperr.Wrap(err, "case workers to remind")
	}
	err = tx.SelectContext(ctx, &out, `
		SELECT u.email::text AS email, u.name FROM users u
		WHERE u.organisation_id = $1 AND u.status = 'active'
		  AND EXISTS (SELECT 1 FROM user_roles r WHERE r.user_id = u.id AND r.role = $2)
		ORDER BY u.email`, d.Fund, auth.RoleFundManager)
	return out, apperr.Wrap(err, "fund managers to remind")
}

// FollowUpsToRemind counts the follow-ups whose reminder is due (the
// worker's backlog).
func (s *Service) FollowUpsToRemind(ctx context.Context) (int, error) {
	var n int
	err := s.db.GetContext(ctx, &n, `SELECT count(*) FROM fund_followups f
		JOIN fund_outcomes o ON o.id = f.outcome_id JOIN fund_cases c ON c.id = o.case_id
		JOIN fund_vault v ON v.beneficiary_id = c.beneficiary_id
		WHERE f.done_at IS NULL AND f.reminded_at IS NULL AND f.due_on <= $1::date AND v.erased_at IS NULL`,
		s.now().Add(ReminderLead).In(italianTime).Format(time.DateOnly))
	return n, apperr.Wrap(err, "counting follow-ups to remind")
}
