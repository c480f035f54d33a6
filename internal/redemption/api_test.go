package redemption_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/reciproca/reciproca/internal/app"
	"github.com/reciproca/reciproca/internal/app/apptest"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/identity/identitytest"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

// appWorld is a running app with a provider, an offering bookable today
// (a slot starting in minutes, so it validates now) and a funded employee.
type appWorld struct {
	a                 *app.App
	k                 *identitytest.Kit
	staff, emp, admin *identitytest.User
	offering, slot    uuid.UUID
}

func newAppWorld(t *testing.T) *appWorld {
	t.Helper()
	a := apptest.Start(t)
	ctx := context.Background()
	w := &appWorld{a: a, k: identitytest.New(t, a.DB, a.Identity)}
	if err := ensurePolicy(ctx, a.DB); err != nil {
		t.Fatal(err)
	}
	w.admin = w.k.As(auth.OrgPlatform, auth.RolePlatformAdmin)
	w.staff = w.k.As(auth.OrgProvider, auth.RoleProviderStaff)
	staff := w.staff.Principal()
	vat := catalogtest.VAT(int(time.Now().UnixNano() % 1_000_000_007))
	if _, err := a.Catalog.SaveProfile(ctx, staff, staff.OrgID, catalog.ProfileInput{LegalName: "Cooperativa Aquilone",
		LegalForm: catalog.FormSocialCooperative, VATNumber: vat, FiscalCode: vat,
		Address: "Via Roma 1", PlaceCode: lecco, Email: "aquilone@test.example"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Catalog.ReviewProvider(ctx, w.admin.Principal(), staff.OrgID, true, ""); err != nil {
		t.Fatal(err)
	}
	at := catalogtest.SoonToday(5 * time.Minute).Truncate(time.Second)
	o, err := a.Catalog.CreateOffering(ctx, staff, staff.OrgID, catalog.OfferingInput{Title: "Doposcuola", Description: "Compiti",
		Category: "after_school", PriceCents: 12_50, Unit: "session", PlaceCode: lecco, Availability: catalog.AvailabilitySlots,
		Slots: []catalog.SlotInput{{StartsAt: at, EndsAt: at.Add(time.Hour), Capacity: 10}}}, "")
	if err != nil {
		t.Fatal(err)
	}
	w.offering, w.slot = o.ID, o.Slots[0].ID
	w.emp = w.k.As(auth.OrgCompany, auth.RoleEmployee)
	w.fund(t, w.emp, 40_00, "after_school", "childcare")
	return w
}

// fund credits u's wallet with a lot allowing categories (any when none).
func (w *appWorld) fund(t *testing.T, u *identitytest.User, amount int64, categories ...string) {
	t.Helper()
	ctx := context.Background()
	for _, spec := range []ledger.AccountSpec{{Path: "platform:bank", Kind: ledger.Asset}, redemption.WalletSpec(u.ID)} {
		if _, err := ledger.CreateAccount(ctx, w.a.DB, spec); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ledger.Post(ctx, w.a.DB, ledger.Request{Key: "alloc:" + uuid.NewString(), Postings: []ledger.Posting{{
		From: "platform:bank", To: redemption.WalletPath(u.ID), Amount: amount,
		Lot: &ledger.LotSpec{Categories: categories}}}}); err != nil {
		t.Fatal(err)
	}
}

// The API: an employee books (retry-safe), the provider validates by
// code; the stable error codes a client switches on.
func TestRedemptionAPI(t *testing.T) {
	w := newAppWorld(t)
	empTok, staffTok := w.k.Token(w.emp), w.k.Token(w.staff)
	book := map[string]any{"offering_id": w.offering, "quantity": 2, "slot_id": w.slot}
	st, v := apptest.Call(t, w.a, "POST", "/vouchers", empTok, book, "Idempotency-Key", "b1")
	if st != 201 || v["status"] != "booked" || v["amount_cents"] != 25_00.0 || v["validation_url"] == "" {
		t.Fatalf("book: %d %v", st, v)
	}
	st, again := apptest.Call(t, w.a, "POST", "/vouchers", empTok, book, "Idempotency-Key", "b1")
	if st != 201 || again["id"] != v["id"] {
		t.Fatalf("retried booking: %d %v", st, again)
	}
	st, body := apptest.Call(t, w.a, "POST", "/vouchers", empTok, book)
	if st != 422 || body["code"] != "insufficient_funds" || body["details"].(map[string]any)["available"] != 15_00.0 {
		t.Fatalf("second booking beyond the credits: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "POST", "/vouchers", staffTok, book)
	if st != 403 {
		t.Fatalf("a provider booking: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "GET", "/vouchers?status=booked", empTok, nil)
	if st != 200 || len(body["list"].([]any)) != 1 {
		t.Fatalf("my vouchers: %d %v", st, body)
	}

	code := v["code"].(string)
	bad := []byte(code)
	bad[len(bad)-1] = map[bool]byte{true: '2', false: '3'}[bad[len(bad)-1] != '2']
	st, body = apptest.Call(t, w.a, "POST", "/voucher-validations", staffTok, map[string]any{"code": string(bad)})
	if st != 400 || body["code"] != "invalid" {
		t.Fatalf("bad check character: %d %v", st, body)
	}
	other := w.k.As(auth.OrgProvider, auth.RoleProviderStaff)
	st, body = apptest.Call(t, w.a, "POST", "/voucher-validations", w.k.Token(other), map[string]any{"code": code})
	if st != 404 {
		t.Fatalf("another provider validating: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "POST", "/voucher-validations", staffTok, map[string]any{"code": v["display_code"]})
	if st != 200 || body["status"] != "validated" || body["fund_cents"] != 2_50.0 {
		t.Fatalf("validate: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "POST", "/voucher-validations", staffTok, map[string]any{"code": code})
	if st != 409 || body["details"].(map[string]any)["validated_at"] == nil {
		t.Fatalf("second validation: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "GET", "/provider-bookings", staffTok, nil)
	if st != 200 || len(body["list"].([]any)) != 1 {
		t.Fatalf("today's bookings: %d %v", st, body)
	}
	id := v["id"].(string)
	st, body = apptest.Call(t, w.a, "POST", "/vouchers/"+id+"/refunds", staffTok, map[string]any{"amount_cents": 5_00, "reason": "Una lezione saltata"},
		"Idempotency-Key", "r1")
	if st != 201 || body["provider_cents"].(float64)+body["fund_cents"].(float64)+body["fee_cents"].(float64) != 5_00 {
		t.Fatalf("refund: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "GET", "/vouchers/"+id, empTok, nil)
	if st != 200 || body["status"] != "partly_refunded" || body["refunded_cents"] != 5_00.0 {
		t.Fatalf("voucher after refund: %d %v", st, body)
	}
	// What the provider is owed (21.25 less 4.25 refunded) is below the
	// minimum payout.
	st, body = apptest.Call(t, w.a, "POST", "/provider-payouts", staffTok, nil)
	if st != 400 || body["details"].(map[string]any)["available"] != 17_00.0 || body["details"].(map[string]any)["minimum"] != 50_00.0 {
		t.Fatalf("payout below the minimum: %d %v", st, body)
	}
	st, body = apptest.Call(t, w.a, "GET", "/provider-payouts", staffTok, nil)
	if st != 200 || len(body["list"].([]any)) != 0 {
		t.Fatalf("payouts: %d %v", st, body)
	}
	st, _ = apptest.Call(t, w.a, "GET", "/vouchers/"+id, w.k.Token(w.k.As(auth.OrgCompany, auth.RoleEmployee)), nil)
	if st != 404 {
		t.Fatalf("another employee reading the voucher: %d", st)
	}
}
