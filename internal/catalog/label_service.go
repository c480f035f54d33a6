package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// The audit events of the inclusion label (and of provider reviews).
const (
	EventLabelRequested   = "inclusion_label_requested"
	EventLabelApproved    = "inclusion_label_approved"
	EventLabelRejected    = "inclusion_label_rejected"
	EventProviderApproved = "provider_approved"
	EventProviderRejected = "provider_rejected"
)

// RequestLabel asks for the inclusion label of provider providerID with
// the evidence in. While a request waits, asking again replaces its
// evidence (so the same request twice changes nothing, and a label
// carried over from before reviews gets its evidence this way). The label
// shows only once a platform admin approves it.
// A retry with the same idempotency key (see db.Idempotent) answers what
// the first call did.
// Errors: unauthorized, forbidden (another role), not_found (no profile,
// or another provider's), invalid (the field at fault; nothing saved),
// conflict (the key was used for another request, or is in use).
func (s *Service) RequestLabel(ctx context.Context, p *auth.Principal, providerID uuid.UUID, in LabelInput, idempotencyKey string) (LabelRequest, error) {
	if err := manages(p, providerID); err != nil {
		return LabelRequest{}, err
	}
	in.Normalise()
	var out LabelRequest
	scope := db.Scope{Caller: p.UserID, Operation: "catalog.request_label"}
	request := struct {
		Provider uuid.UUID
		Input    LabelInput
	}{providerID, in}
	_, err := db.Idempotent(ctx, s.db, scope, idempotencyKey, request, &out, func(tx *sqlx.Tx) error {
		pr, err := getProvider(ctx, tx, providerID, true) // serialises requests of one provider
		if err != nil {
			return err
		}
		if err := in.Validate(pr.LegalForm); err != nil {
			return err
		}
		id, err := savePendingLabel(ctx, tx, providerID, in, p.UserID)
		if err != nil {
			return err
		}
		if err := s.orgs.RecordEvent(ctx, tx, EventLabelRequested, p, providerID,
			map[string]any{"request_id": id, "evidence": in.Evidence}); err != nil {
			return err
		}
		out, err = getLabelRequest(ctx, tx, id, false)
		return err
	})
	return out, err
}

// ProviderLabel returns the label that shows today for provider
// providerID and its latest request (with the admin's note when it was
// refused). Errors: unauthorized, forbidden, not_found (another provider's).
func (s *Service) ProviderLabel(ctx context.Context, p *auth.Principal, providerID uuid.UUID) (LabelState, error) {
	if err := manages(p, providerID); err != nil {
		return LabelState{}, err
	}
	if _, err := getProvider(ctx, s.db, providerID, false); err != nil {
		return LabelState{}, err
	}
	return labelState(ctx, s.db, providerID)
}

// LabelRequests lists label requests with status (every one when empty),
// oldest first, for the platform admin's queue.
// Errors: unauthorized, forbidden (not a platform admin), invalid.
func (s *Service) LabelRequests(ctx context.Context, p *auth.Principal, status LabelStatus) ([]LabelRequest, error) {
	if err := onlyAdmin(p); err != nil {
		return nil, err
	}
	switch status {
	case "", LabelPending, LabelApproved, LabelRejected:
	default:
		return nil, invalidField("status", "status must be pending, approved or rejected")
	}
	return listLabelRequests(ctx, s.db, status)
}

// DecideLabel approves a pending label request until d.ValidUntil, or
// rejects it with d.Note for the provider; the decision goes into the
// audit log in the same transaction. Only a platform admin decides, never
// the provider. Deciding again the same way returns the request unchanged
// (a retried click); deciding otherwise is a conflict.
// A retry with the same idempotency key (see db.Idempotent) answers what
// the first call did.
// Errors: unauthorized, forbidden, not_found, invalid (a rejection needs a
// note, an approval a date after today and within three years, and
// evidence), conflict (already decided otherwise; or the key was used for
// another request, or is in use).
func (s *Service) DecideLabel(ctx context.Context, p *auth.Principal, requestID uuid.UUID, d LabelDecision, idempotencyKey string) (LabelRequest, error) {
	if err := onlyAdmin(p); err != nil {
		return LabelRequest{}, err
	}
	if err := d.validate(s.now()); err != nil {
		return LabelRequest{}, err
	}
	var out LabelRequest
	scope := db.Scope{Caller: p.UserID, Operation: "catalog.decide_label"}
	request := struct {
		Request  uuid.UUID
		Decision LabelDecision
	}{requestID, d}
	_, err := db.Idempotent(ctx, s.db, scope, idempotencyKey, request, &out, func(tx *sqlx.Tx) error {
		r, err := getLabelRequest(ctx, tx, requestID, true)
		if err != nil {
			return err
		}
		if r.ProviderID == p.OrgID {
			return errOnlyAdmin // nobody decides on their own organisation's label
		}
		if r.Status != LabelPending {
			if sameDecision(r, d) {
				out = r
				return nil
			}
			return apperr.New(apperr.Conflict, "this request was already decided (%s)", r.Status).With("field", "decision")
		}
		if d.Approve && r.Evidence == nil {
			return invalidField("evidence", "this label has no evidence yet: the provider must send it before it can be approved")
		}
		if err := decideLabelRequest(ctx, tx, requestID, d, p.UserID); err != nil {
			return err
		}
		event, details := EventLabelRejected, map[string]any{"request_id": requestID, "note": d.Note}
		if d.Approve {
			event, details = EventLabelApproved, map[string]any{"request_id": requestID, "evidence": *r.Evidence,
				"valid_until": d.ValidUntil.Format(time.DateOnly)}
		}
		if err := s.orgs.RecordEvent(ctx, tx, event, p, r.ProviderID, details); err != nil {
			return err
		}
		out, err = getLabelRequest(ctx, tx, requestID, false)
		return err
	})
	return out, err
}

// sameDecision reports whether decided request r already says d.
func sameDecision(r LabelRequest, d LabelDecision) bool {
	if d.Approve {
		return r.Status == LabelApproved && r.ValidUntil != nil && calendarDay(*r.ValidUntil).Equal(d.ValidUntil)
	}
	return r.Status == LabelRejected && r.Note == d.Note
}

// onlyAdmin checks that p is a platform admin.
func onlyAdmin(p *auth.Principal) error {
	switch {
	case p == nil:
		return errSignIn
	case !p.Has(auth.RolePlatformAdmin):
		return errOnlyAdmin
	}
	return nil
}
