package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/catalog"
)

// labelSet gives the demo catalogue its inclusion labels: a type-B social
// co-operative whose label a platform admin approved, and the demo
// provider (staff@germoglio.example) with a self-declaration waiting in
// the admin's queue. Numbers are invented.
var labelSet = set{
	name: "inclusion-labels-v1",
	load: loadLabels,
}

func loadLabels(ctx context.Context, tx *sqlx.Tx) error {
	var coopB uuid.UUID
	if err := tx.GetContext(ctx, &coopB, `SELECT organisation_id FROM providers WHERE legal_name = $1`,
		"Cooperativa Sociale Lavoro e Dignità"); err != nil {
		return fmt.Errorf("the type-B co-operative of the demo catalogue: %w", err)
	}
	until := time.Now().AddDate(1, 0, 0)
	if err := catalog.ImportLabel(ctx, tx, coopB, catalog.LabelInput{Evidence: catalog.EvidenceCoopB, AlboNumber: "A187342"}, &until); err != nil {
		return err
	}
	return catalog.ImportLabel(ctx, tx, OrgProviderA, catalog.LabelInput{Evidence: catalog.EvidenceSelfDeclaration,
		InclusionHires: 3, TotalStaff: 18, Declared: true}, nil)
}
