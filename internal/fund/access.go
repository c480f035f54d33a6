package fund

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
)

// Purpose is why someone reads identity or case data in a working
// session. It is asked once per session and recorded with every read.
type Purpose string

// The purposes.
const (
	PurposeCaseManagement Purpose = "case_management"
	PurposeAssessment     Purpose = "assessment"
	PurposePayment        Purpose = "payment"
	PurposeFollowUp       Purpose = "follow_up"
	PurposeSupervision    Purpose = "supervision"
	PurposeDataRequest    Purpose = "data_subject_request"
)

// Purposes lists them in the order forms offer them.
var Purposes = []Purpose{PurposeCaseManagement, PurposeAssessment, PurposePayment, PurposeFollowUp, PurposeSupervision, PurposeDataRequest}

// Validate reports a missing or unknown purpose as invalid.
func (p Purpose) Validate() error {
	if !slices.Contains(Purposes, p) {
		return invalidField("purpose", "say why you are reading beneficiary data: one of case_management, assessment, payment, follow_up, supervision, data_subject_request")
	}
	return nil
}

// Reader is who reads case or identity data and why: every read is in the
// access log with both.
type Reader struct {
	P       *auth.Principal
	Purpose Purpose
}

// SetSessionPurpose records the purpose p gave for the working session
// named by session (a hash of its credential). Errors: invalid, forbidden.
func (s *Service) SetSessionPurpose(ctx context.Context, p *auth.Principal, session string, purpose Purpose) error {
	if _, err := staff(p, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker); err != nil {
		return err
	}
	if err := purpose.Validate(); err != nil {
		return err
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO fund_session_purposes (user_id, session_key, purpose) VALUES ($1, $2, $3)
		ON CONFLICT (user_id, session_key) DO UPDATE SET purpose = EXCLUDED.purpose, set_at = now()`, p.UserID, session, purpose)
	return apperr.Wrap(err, "recording purpose")
}

// SessionPurpose is the purpose given for session, or "" when none was.
func (s *Service) SessionPurpose(ctx context.Context, p *auth.Principal, session string) (Purpose, error) {
	var out []Purpose
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT purpose FROM fund_session_purposes WHERE user_id = $1 AND session_key = $2`,
		p.UserID, session)
	if err != nil || len(out) == 0 {
		return "", apperr.Wrap(err, "reading purpose")
	}
	return out[0], nil
}

// logAccess appends one line to the access log.
func logAccess(ctx context.Context, q sqlx.ExecerContext, fund uuid.UUID, r Reader, action string, caseID, beneficiary *uuid.UUID, reason string) error {
	var user *uuid.UUID
	if r.P != nil {
		user = &r.P.UserID
	}
	_, err := q.ExecContext(ctx, `INSERT INTO fund_access_log (fund_id, user_id, action, case_id, beneficiary_id, purpose, reason)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, fund, user, action, caseID, beneficiary, string(r.Purpose), reason)
	return apperr.Wrap(err, "writing access log")
}

// caseAccess is how a reader may see a case.
type caseAccess struct {
	fund, beneficiary uuid.UUID
	assigned          bool // a case worker it is assigned to
	queue             bool // an approver or manager while it waits for them
	breakGlass        bool // a colleague's logged emergency access, still valid
}

// visible reports whether the reader sees the case at all.
func (a caseAccess) visible() bool { return a.assigned || a.queue || a.breakGlass }

// accessCase decides whether r may see case id. A case of another fund,
// or one the reader has no business with, is not found, and the attempt
// is logged (in its own statement: a refusal must stay logged even though
// the caller's transaction rolls back). Errors: not_found, forbidden.
func (s *Service) accessCase(ctx context.Context, q sqlx.QueryerContext, r Reader, id uuid.UUID) (caseAccess, error) {
	fund, err := staff(r.P, auth.RoleFundManager, auth.RoleFundApprover, auth.RoleCaseWorker)
	if err != nil {
		return caseAccess{}, err
	}
	a, err := caseVisibility(ctx, q, r.P, fund, id)
	if err != nil || a.visible() {
		return a, err
	}
	if lerr := logAccess(ctx, s.db, fund, r, "denied", &id, nil, ""); lerr != nil {
		return caseAccess{}, lerr
	}
	return caseAccess{}, apperr.New(apperr.NotFound, "case not found")
}

// caseVisibility says how p sees case id of fund (nothing: not visible,
// also when there is no such case); it logs nothing.
func caseVisibility(ctx context.Context, q sqlx.QueryerContext, p *auth.Principal, fund, id uuid.UUID) (caseAccess, error) {
	var row struct {
		Fund        uuid.UUID `db:"fund_id"`
		Beneficiary uuid.UUID `db:"beneficiary_id"`
		Assigned    bool      `db:"assigned"`
		Queue       bool      `db:"queue"`
		BreakGlass  bool      `db:"break_glass"`
	}
	err := sqlx.GetContext(ctx, q, &row, `
		SELECT c.fund_id, c.beneficiary_id,
		  EXISTS (SELECT 1 FROM fund_case_workers w WHERE w.case_id = c.id AND w.user_id = $2) AS assigned,
		  ($3 AND EXISTS (SELECT 1 FROM fund_interventions i WHERE i.case_id = c.id AND i.status = 'proposed'))
		   OR ($4 AND EXISTS (SELECT 1 FROM fund_interventions i WHERE i.case_id = c.id AND i.status IN ('proposed', 'approved'))) AS queue,
		  EXISTS (SELECT 1 FROM fund_break_glass b WHERE b.case_id = c.id AND b.user_id = $2 AND b.expires_at > now()) AS break_glass
		FROM fund_cases c WHERE c.id = $1 AND c.fund_id = $5`,
		id, p.UserID, p.Has(auth.RoleFundApprover), p.Has(auth.RoleFundManager), fund)
	if isNoRows(err) {
		return caseAccess{}, nil
	}
	if err != nil {
		return caseAccess{}, apperr.Wrap(err, "reading case")
	}
	return caseAccess{fund: row.Fund, beneficiary: row.Beneficiary, assigned: row.Assigned && p.Has(auth.RoleCaseWorker),
		queue: row.Queue, breakGlass: row.BreakGlass}, nil
}

// BreakGlassFor is how long a break-glass access lasts.
const BreakGlassFor = 8 * time.Hour

// BreakGlass gives a case worker of the fund who is not assigned to case
// id access to it for BreakGlassFor, with a reason of at least 10
// characters, logged. Errors: forbidden (not a case worker), invalid
// (reason), not_found (no such case in the fund).
func (s *Service) BreakGlass(ctx context.Context, r Reader, id uuid.UUID, reason string) error {
	fund, err := staff(r.P, auth.RoleCaseWorker)
	if err != nil {
		return err
	}
	if err := r.Purpose.Validate(); err != nil {
		return err
	}
	reason = strings.TrimSpace(reason)
	if len([]rune(reason)) < 10 || len(reason) > 500 {
		return invalidField("reason", "say why you need this case (10 to 500 characters)")
	}
	res, err := s.db.ExecContext(ctx, `INSERT INTO fund_break_glass (case_id, user_id, reason, expires_at)
		SELECT id, $2, $3, now() + $4 * interval '1 second' FROM fund_cases WHERE id = $1 AND fund_id = $5`,
		id, r.P.UserID, reason, BreakGlassFor.Seconds(), fund)
	if err != nil {
		return apperr.Wrap(err, "recording break-glass")
	}
	if n, _ := res.RowsAffected(); n == 0 {
		_ = logAccess(ctx, s.db, fund, r, "denied", &id, nil, reason)
		return apperr.New(apperr.NotFound, "case not found")
	}
	if err := logAccess(ctx, s.db, fund, r, "break_glass", &id, nil, reason); err != nil {
		return err
	}
	return s.orgs.RecordEvent(ctx, s.db, "fund_break_glass", r.P, fund, map[string]any{"case": id, "reason": reason})
}

// AccessEntry is one line of the access log.
type AccessEntry struct {
	ID          int64      `json:"id" db:"id"`
	At          time.Time  `json:"at" db:"at"`
	UserID      *uuid.UUID `json:"user_id" db:"user_id"`
	UserName    string     `json:"user_name" db:"user_name"`
	Action      string     `json:"action" db:"action"`
	CaseID      *uuid.UUID `json:"case_id" db:"case_id"`
	Beneficiary string     `json:"beneficiary" db:"pseudonym"`
	Purpose     string     `json:"purpose" db:"purpose"`
	Reason      string     `json:"reason" db:"reason"`
}

// AccessLog returns the fund's access log, newest first, limit lines
// older than before (0: the newest); filtered to one beneficiary when
// beneficiary is not nil (fund managers). Errors: forbidden, invalid.
func (s *Service) AccessLog(ctx context.Context, p *auth.Principal, beneficiary *uuid.UUID, before int64, limit int) ([]AccessEntry, error) {
	fund, err := staff(p, auth.RoleFundManager)
	if err != nil {
		return nil, err
	}
	if limit < 1 || limit > 500 {
		return nil, invalidField("limit", "limit must be between 1 and 500")
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	out := []AccessEntry{}
	err = sqlx.SelectContext(ctx, s.db, &out, `
		SELECT l.id, l.at, l.user_id, coalesce(u.name, '') AS user_name, l.action, l.case_id,
		       coalesce(b.pseudonym, cb.pseudonym, '') AS pseudonym, l.purpose, l.reason
		FROM fund_access_log l
		LEFT JOIN users u ON u.id = l.user_id
		LEFT JOIN fund_beneficiaries b ON b.id = l.beneficiary_id
		LEFT JOIN fund_cases c ON c.id = l.case_id AND c.fund_id = l.fund_id
		LEFT JOIN fund_beneficiaries cb ON cb.id = c.beneficiary_id
		WHERE l.fund_id = $1 AND l.id < $2
		  AND ($4::uuid IS NULL OR l.beneficiary_id = $4 OR c.beneficiary_id = $4)
		ORDER BY l.id DESC LIMIT $3`, fund, before, limit, beneficiary)
	return out, apperr.Wrap(err, "reading access log")
}
