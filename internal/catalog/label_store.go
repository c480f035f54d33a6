package catalog

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
)

// labelShows is the condition on request r under which its label shows
// today: approved and not past its last day in Italy. It is judged at
// every read, so an expired label disappears without a job.
const labelShows = `r.status = 'approved' AND r.valid_until >= (now() AT TIME ZONE 'Europe/Rome')::date`

// labelJoin adds the label that shows for offering o's provider (columns
// lb.evidence and lb.valid_until, NULL without one).
const labelJoin = ` LEFT JOIN LATERAL (SELECT r.evidence, r.valid_until FROM inclusion_label_requests r
	WHERE r.provider_id = o.provider_id AND ` + labelShows + ` ORDER BY r.valid_until DESC LIMIT 1) lb ON true `

const labelCols = `r.id, r.provider_id, pr.legal_name AS provider_name, pr.legal_form AS provider_form, r.evidence,
	r.albo_number, r.inclusion_hires, r.total_staff, r.legacy_label, r.requested_at, r.status, r.valid_until,
	r.decision_note, r.decided_at`

const labelFrom = ` FROM inclusion_label_requests r JOIN providers pr ON pr.organisation_id = r.provider_id `

var errLabelMissing = apperr.New(apperr.NotFound, "label request not found")

// savePendingLabel records in as provider providerID's open request: a
// new one, or new evidence for the one already waiting (a legacy label
// keeps its legacy_label). The caller holds the provider's row lock.
func savePendingLabel(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, in LabelInput, by uuid.UUID) (uuid.UUID, error) {
	var id uuid.UUID
	err := sqlx.GetContext(ctx, q, &id, `INSERT INTO inclusion_label_requests AS r
			(provider_id, evidence, albo_number, inclusion_hires, total_staff, requested_by)
		VALUES ($1, $2, NULLIF($3, ''), NULLIF($4, 0), NULLIF($5, 0), NULLIF($6, '00000000-0000-0000-0000-000000000000'::uuid))
		ON CONFLICT (provider_id) WHERE status = 'pending' DO UPDATE SET evidence = EXCLUDED.evidence,
			albo_number = EXCLUDED.albo_number, inclusion_hires = EXCLUDED.inclusion_hires,
			total_staff = EXCLUDED.total_staff, requested_by = EXCLUDED.requested_by, requested_at = now()
		RETURNING r.id`, providerID, in.Evidence, in.AlboNumber, in.InclusionHires, in.TotalStaff, by)
	return id, db.MapError(err, "label request")
}

func getLabelRequest(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, forUpdate bool) (LabelRequest, error) {
	var r LabelRequest
	query := `SELECT ` + labelCols + labelFrom + ` WHERE r.id = $1`
	if forUpdate {
		query += ` FOR UPDATE OF r`
	}
	err := sqlx.GetContext(ctx, q, &r, query, id)
	if errors.Is(err, sql.ErrNoRows) {
		return LabelRequest{}, errLabelMissing
	}
	return r, db.MapError(err, "label request")
}

// listLabelRequests lists requests with status (all when empty), oldest
// first: the platform admin's queue.
func listLabelRequests(ctx context.Context, q sqlx.ExtContext, status LabelStatus) ([]LabelRequest, error) {
	out := []LabelRequest{}
	err := sqlx.SelectContext(ctx, q, &out, `SELECT `+labelCols+labelFrom+`
		WHERE ($1 = '' OR r.status = $1) ORDER BY r.requested_at, r.id`, status)
	return out, db.MapError(err, "label request")
}

// labelState reads the label that shows today for providerID and its
// latest request.
func labelState(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID) (LabelState, error) {
	var st LabelState
	one := func(where, order string) (*LabelRequest, error) {
		var rs []LabelRequest
		err := sqlx.SelectContext(ctx, q, &rs, `SELECT `+labelCols+labelFrom+` WHERE r.provider_id = $1 AND `+where+
			` ORDER BY `+order+` LIMIT 1`, providerID)
		if err != nil || len(rs) == 0 {
			return nil, db.MapError(err, "label request")
		}
		return &rs[0], nil
	}
	var err error
	if st.Current, err = one(labelShows, "r.valid_until DESC, r.id"); err != nil {
		return LabelState{}, err
	}
	st.Latest, err = one("true", "r.requested_at DESC, r.id")
	return st, err
}

// decideLabelRequest records a decision on a pending request.
func decideLabelRequest(ctx context.Context, q sqlx.ExtContext, id uuid.UUID, d LabelDecision, by uuid.UUID) error {
	status := LabelRejected
	var until *string
	if d.Approve {
		day := d.ValidUntil.Format(time.DateOnly)
		status, until = LabelApproved, &day
	}
	_, err := q.ExecContext(ctx, `UPDATE inclusion_label_requests SET status = $2, valid_until = $3::date, decision_note = $4,
		decided_by = $5, decided_at = now() WHERE id = $1 AND status = 'pending'`, id, status, until, d.Note, by)
	return db.MapError(err, "label request")
}
