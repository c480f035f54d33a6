package seed

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/redemption"
)

// A demo employee can book a demo service with the seeded credits, and
// its provider can validate it on the day.
func TestRedemptionSeed(t *testing.T) {
	dbx := dbtest.Open(t)
	ctx := context.Background()
	if _, err := Run(ctx, dbx); err != nil {
		t.Fatal(err)
	}
	var emp auth.Principal
	if err := dbx.Get(&emp.UserID, `SELECT id FROM users WHERE email = 'giulia.ferrari@officinebrianza.example'`); err != nil {
		t.Fatal(err)
	}
	emp.OrgID, emp.OrgKind, emp.Roles, emp.Name = OrgCompanyA, auth.OrgCompany, []auth.Role{auth.RoleEmployee}, "Giulia Ferrari"
	var slot struct {
		Offering uuid.UUID `db:"offering_id"`
		ID       uuid.UUID `db:"id"`
		Provider uuid.UUID `db:"provider_id"`
		Starts   time.Time `db:"starts_at"`
	}
	if err := dbx.Get(&slot, `SELECT s.offering_id, s.id, o.provider_id, s.starts_at FROM offering_slots s
		JOIN offerings o ON o.id = s.offering_id JOIN providers p ON p.organisation_id = o.provider_id
		WHERE p.status = 'approved' AND o.status = 'active' AND o.price_cents <= 30000 AND s.starts_at > now()
		ORDER BY s.starts_at LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	clock := time.Now()
	svc := redemption.New(dbx, redemption.Config{BaseURL: "http://x.test", Now: func() time.Time { return clock }})
	v, err := svc.Book(ctx, &emp, redemption.BookInput{OfferingID: slot.Offering, Quantity: 1, SlotID: &slot.ID}, "")
	if err != nil {
		t.Fatal(err)
	}
	staff := &auth.Principal{OrgID: slot.Provider, OrgKind: auth.OrgProvider, Roles: []auth.Role{auth.RoleProviderStaff}}
	if err := dbx.Get(&staff.UserID, `SELECT id FROM users WHERE email = 'admin@reciproca.example'`); err != nil {
		t.Fatal(err)
	}
	clock = slot.Starts
	if got, err := svc.Validate(ctx, staff, v.Code); err != nil || got.Status != redemption.Validated {
		t.Fatalf("validating the demo booking: %v %v", got.Status, err)
	}
}
