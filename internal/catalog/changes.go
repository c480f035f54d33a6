package catalog

import (
	"context"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db"
)

// OfferingChange is one change to what people read of an offering whose
// provider is approved: its title, description or category, before and
// after, when and by whom. A platform admin approved the provider on what
// it offered; the log shows what it offers now.
type OfferingChange struct {
	ID            int64     `db:"id"`
	OfferingID    uuid.UUID `db:"offering_id"`
	OfferingTitle string    `db:"offering_title"` // the title today
	ProviderID    uuid.UUID `db:"provider_id"`
	ProviderName  string    `db:"provider_name"`
	Field         string    `db:"field"` // title, description or category
	Old           string    `db:"old_value"`
	New           string    `db:"new_value"`
	// ChangedBy is the name and e-mail of the person at the time.
	ChangedBy string    `db:"changed_by_name"`
	ChangedAt time.Time `db:"changed_at"`
}

// logOfferingChanges records what in changes of offering before's title,
// description and category, when its provider is approved (a provider
// still waiting for approval shows nothing yet).
func logOfferingChanges(ctx context.Context, q sqlx.ExtContext, p *auth.Principal, before Offering, in OfferingInput) error {
	var status ProviderStatus
	if err := sqlx.GetContext(ctx, q, &status, `SELECT status FROM providers WHERE organisation_id = $1`, before.ProviderID); err != nil {
		return db.MapError(err, "provider")
	}
	if status != ProviderApproved {
		return nil
	}
	by := p.Name + " <" + p.Email + ">"
	for _, c := range []struct{ field, old, new string }{
		{"title", before.Title, in.Title},
		{"description", before.Description, in.Description},
		{"category", before.Category, in.Category},
	} {
		if c.old == c.new {
			continue
		}
		if _, err := q.ExecContext(ctx, `INSERT INTO offering_changes (offering_id, provider_id, field, old_value, new_value,
			changed_by, changed_by_name) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			before.ID, before.ProviderID, c.field, c.old, c.new, p.UserID, by); err != nil {
			return db.MapError(err, "offering change")
		}
	}
	return nil
}

// OfferingChanges returns the log of changes to approved providers'
// offerings, newest first: up to limit (1–200, default 50) with an id
// below before (0: the newest). Errors: unauthorized, forbidden (platform
// admins only), invalid.
func (s *Service) OfferingChanges(ctx context.Context, p *auth.Principal, limit int, before int64) ([]OfferingChange, error) {
	if err := onlyAdmin(p); err != nil {
		return nil, err
	}
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 200 {
		return nil, invalidField("limit", "limit must be between 1 and 200")
	}
	if before <= 0 {
		before = 1<<63 - 1
	}
	out := []OfferingChange{}
	err := sqlx.SelectContext(ctx, s.db, &out, `SELECT c.id, c.offering_id, o.title AS offering_title, c.provider_id,
			pr.legal_name AS provider_name, c.field, c.old_value, c.new_value, c.changed_by_name, c.changed_at
		FROM offering_changes c JOIN offerings o ON o.id = c.offering_id JOIN providers pr ON pr.organisation_id = c.provider_id
		WHERE c.id < $1 ORDER BY c.id DESC LIMIT $2`, before, limit)
	return out, db.MapError(err, "offering change")
}
