package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// ImportProvider writes a provider profile with a given review status in
// the caller's transaction, validated exactly as SaveProfile validates it
// but without a caller: for demo data and data migrations, never for
// requests. Errors: invalid.
func ImportProvider(ctx context.Context, q sqlx.ExtContext, orgID uuid.UUID, in ProfileInput, status ProviderStatus) error {
	in.Normalise()
	if err := in.Validate(); err != nil {
		return err
	}
	if err := upsertProvider(ctx, q, orgID, in); err != nil {
		return err
	}
	_, err := q.ExecContext(ctx, `UPDATE providers SET status = $2, reviewed_at = CASE WHEN $2 = 'pending' THEN NULL ELSE now() END
		WHERE organisation_id = $1`, orgID, status)
	return err
}

// ImportLabel records provider providerID's inclusion label request in the
// caller's transaction, validated as RequestLabel validates it, without a
// caller (see ImportProvider): pending, or approved until validUntil when
// it is set. Errors: invalid.
func ImportLabel(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, in LabelInput, validUntil *time.Time) error {
	pr, err := getProvider(ctx, q, providerID, true)
	if err != nil {
		return err
	}
	in.Normalise()
	if err := in.Validate(pr.LegalForm); err != nil {
		return err
	}
	id, err := savePendingLabel(ctx, q, providerID, in, uuid.Nil)
	if err != nil || validUntil == nil {
		return err
	}
	_, err = q.ExecContext(ctx, `UPDATE inclusion_label_requests SET status = 'approved', valid_until = $2::date,
		decided_at = now() WHERE id = $1`, id, validUntil.Format(time.DateOnly))
	return db.MapError(err, "label request")
}

// ImportOffering adds an offering in the caller's transaction, validated
// as CreateOffering validates it, without a caller (see ImportProvider).
// Errors: invalid.
func ImportOffering(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, in OfferingInput) (uuid.UUID, error) {
	in.Normalise()
	if err := in.Validate(); err != nil {
		return uuid.Nil, err
	}
	return addOffering(ctx, q, providerID, in)
}

// addOffering writes a validated offering and its slots.
func addOffering(ctx context.Context, q sqlx.ExtContext, providerID uuid.UUID, in OfferingInput) (uuid.UUID, error) {
	r, err := resolve(ctx, q, in)
	if err != nil {
		return uuid.Nil, err
	}
	id, err := insertOffering(ctx, q, providerID, r)
	if err != nil {
		return uuid.Nil, err
	}
	return id, replaceSlots(ctx, q, id, in.Slots)
}

// CompleteVAT appends the check digit to the first ten digits of a VAT
// number; demo data and tests use it to make valid numbers.
func CompleteVAT(first10 string) string {
	sum := 0
	for i := 0; i < 10 && i < len(first10); i++ {
		d := int(first10[i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return first10 + string(rune('0'+(10-sum%10)%10))
}
