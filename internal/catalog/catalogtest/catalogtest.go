// Package catalogtest makes catalogue fixtures for tests: organisations,
// users with roles, and providers, written to a real test database.
package catalogtest

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
)

var seq atomic.Int64

// Org inserts an organisation and returns its id.
func Org(t testing.TB, dbx *sqlx.DB, kind auth.OrgKind, name string) uuid.UUID {
	t.Helper()
	var id uuid.UUID
	if err := dbx.Get(&id, `INSERT INTO organisations (kind, name) VALUES ($1, $2) RETURNING id`, kind, name); err != nil {
		t.Fatalf("creating organisation: %v", err)
	}
	return id
}

// User inserts an active user of org with roles and returns them as a
// principal.
func User(t testing.TB, dbx *sqlx.DB, org uuid.UUID, kind auth.OrgKind, roles ...auth.Role) *auth.Principal {
	t.Helper()
	email := fmt.Sprintf("user%d-%s@example.test", seq.Add(1), org.String()[:8])
	p := &auth.Principal{OrgID: org, OrgKind: kind, Email: email, Name: email, Roles: roles}
	if err := dbx.Get(&p.UserID, `INSERT INTO users (organisation_id, email, name, status) VALUES ($1, $2, $3, 'active') RETURNING id`, org, email, email); err != nil {
		t.Fatalf("creating user: %v", err)
	}
	for _, r := range roles {
		if _, err := dbx.Exec(`INSERT INTO user_roles (user_id, role) VALUES ($1, $2)`, p.UserID, r); err != nil {
			t.Fatalf("adding role: %v", err)
		}
	}
	return p
}

// Admin returns a platform admin.
func Admin(t testing.TB, dbx *sqlx.DB) *auth.Principal {
	t.Helper()
	return User(t, dbx, Org(t, dbx, auth.OrgPlatform, "Reciproca"), auth.OrgPlatform, auth.RolePlatformAdmin)
}

// Employee returns an employee of a new company.
func Employee(t testing.TB, dbx *sqlx.DB) *auth.Principal {
	t.Helper()
	return User(t, dbx, Org(t, dbx, auth.OrgCompany, "Azienda Test"), auth.OrgCompany, auth.RoleEmployee)
}

// VAT returns a valid VAT number derived from n (distinct for distinct n).
func VAT(n int) string {
	return catalog.CompleteVAT(fmt.Sprintf("%010d", n%10_000_000_000))
}

// Provider creates a provider organisation with a profile in the
// municipality placeCode (approved when approve is set) and returns its
// staff member.
func Provider(t testing.TB, dbx *sqlx.DB, svc *catalog.Service, admin *auth.Principal, name, placeCode string, approve bool) *auth.Principal {
	t.Helper()
	org := Org(t, dbx, auth.OrgProvider, name)
	staff := User(t, dbx, org, auth.OrgProvider, auth.RoleProviderStaff)
	vat := VAT(int(seq.Add(1))*7919 + 12345)
	_, err := svc.SaveProfile(context.Background(), staff, org, catalog.ProfileInput{
		LegalName: name, LegalForm: catalog.FormSocialCooperative, VATNumber: vat, FiscalCode: vat,
		Address: "Via Roma 1", PlaceCode: placeCode, Email: "info@example.test",
	})
	if err != nil {
		t.Fatalf("saving provider profile: %v", err)
	}
	if approve {
		if _, err := svc.ReviewProvider(context.Background(), admin, org, true, ""); err != nil {
			t.Fatalf("approving provider: %v", err)
		}
	}
	return staff
}

// Offering creates an active offering and returns its id.
func Offering(t testing.TB, svc *catalog.Service, staff *auth.Principal, title, category, placeCode string, priceCents int64) uuid.UUID {
	t.Helper()
	o, err := svc.CreateOffering(context.Background(), staff, staff.OrgID, catalog.OfferingInput{
		Title: title, Description: "Servizio di prova: " + title, Category: category,
		PriceCents: priceCents, Unit: "hour", PlaceCode: placeCode,
	}, "")
	if err != nil {
		t.Fatalf("creating offering %q: %v", title, err)
	}
	return o.ID
}

// SoonToday is d from now, on today's date in Italy, where a slot
// validates from 00:00: a slot starting then validates at once. Within d
// of midnight, Rome time, it first waits for the new day (a slot starting
// after midnight validates only from then).
func SoonToday(d time.Duration) time.Time {
	rome, _ := time.LoadLocation("Europe/Rome")
	now := time.Now().In(rome)
	if y, m, day := now.Date(); now.Add(d).Day() != day {
		time.Sleep(time.Until(time.Date(y, m, day+1, 0, 0, 1, 0, rome)))
	}
	return time.Now().Add(d)
}
