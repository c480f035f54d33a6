package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/redemption"
)

// redemptionDemoSet books, validates, cancels and refunds with the plans
// set's credits, through the redemption service itself, so every voucher
// state and a provider's payout history are there to see:
//
//   - ASD Ponte Sport (slots): a swimming course two days ago, one
//     employee came (validated) and one did not (no-show); one a week
//     earlier nobody validated (expired); a sailing week booked ahead, a
//     summer camp week booked and cancelled;
//   - Il Germoglio (arranged on request, 3% pledge, no Stripe):
//     babysitting and after-school validated and paid out by SEPA
//     transfer, then more validated — one
//     refunded in part, one in full — and one still booked, with the next
//     payout waiting for the platform's SEPA file.
//
// It runs after the plans set (the credits come from its allocation) and
// leaves demo employees that already hold vouchers alone.
var redemptionDemoSet = set{
	name:   "redemption-demo-v1",
	loadDB: loadRedemptionDemo,
}

// demoRedemption is the service and the principals the demo acts as; its
// clock is moved to play the past.
type demoRedemption struct {
	ctx   context.Context
	dbx   *sqlx.DB
	svc   *redemption.Service
	clock time.Time
	by    map[string]*auth.Principal
}

func loadRedemptionDemo(ctx context.Context, dbx *sqlx.DB) error {
	var booked bool
	if err := dbx.GetContext(ctx, &booked, `SELECT EXISTS (SELECT 1 FROM vouchers v JOIN users u ON u.id = v.employee_id
		WHERE u.organisation_id IN ($1, $2))`, OrgCompanyA, OrgCompanyB); err != nil || booked {
		return err
	}
	d := &demoRedemption{ctx: ctx, dbx: dbx, clock: time.Now(), by: map[string]*auth.Principal{}}
	d.svc = redemption.New(dbx, redemption.Config{BaseURL: "http://localhost:8080", Now: func() time.Time { return d.clock },
		Bank: redemption.Debtor{CUC: "RCPDEMO1", Holder: "Reciproca S.r.l.", IBAN: "IT60X0542811101000000123456"}})
	for _, u := range demoUsers {
		kind := map[auth.Role]auth.OrgKind{auth.RoleEmployee: auth.OrgCompany, auth.RoleProviderStaff: auth.OrgProvider,
			auth.RolePlatformAdmin: auth.OrgPlatform}[u.role]
		if kind == "" {
			continue
		}
		p := &auth.Principal{OrgID: u.org, OrgKind: kind, Roles: []auth.Role{u.role}, Email: u.email, Name: u.name}
		if err := dbx.GetContext(ctx, &p.UserID, `SELECT id FROM users WHERE email = $1`, u.email); err != nil {
			return fmt.Errorf("demo user %s: %w", u.email, err)
		}
		d.by[u.email] = p
	}
	if err := d.ponteSport(); err != nil {
		return fmt.Errorf("bookings of Ponte Sport: %w", err)
	}
	if err := d.germoglio(); err != nil {
		return fmt.Errorf("bookings of Il Germoglio: %w", err)
	}
	return nil
}

const (
	giulia = "giulia.ferrari@officinebrianza.example"
	luca   = "luca.galli@officinebrianza.example"
	sara   = "sara.brambilla@officinebrianza.example"
	andrea = "andrea.russo@studioverdi.example"
	chiara = "chiara.fontana@studioverdi.example"
)

func (d *demoRedemption) ponteSport() error {
	staff := d.by["staff@pontesport.example"]
	swim, err := d.offering(OrgProviderB, "nuoto")
	if err != nil {
		return err
	}
	// The course's sessions of two and eight days ago (the catalogue's
	// slots start next week).
	now := time.Now().In(rome)
	past := map[int]uuid.UUID{}
	for _, days := range []int{2, 8} {
		y, m, dd := now.AddDate(0, 0, -days).Date()
		at := time.Date(y, m, dd, 18, 0, 0, 0, rome)
		var id uuid.UUID
		if err := d.dbx.GetContext(d.ctx, &id, `INSERT INTO offering_slots (offering_id, starts_at, ends_at, capacity)
			VALUES ($1, $2, $3, 10) RETURNING id`, swim, at, at.Add(90*time.Minute)); err != nil {
			return err
		}
		past[days] = id
	}
	starts := func(slot uuid.UUID) time.Time {
		var at time.Time
		_ = d.dbx.GetContext(d.ctx, &at, `SELECT starts_at FROM offering_slots WHERE id = $1`, slot)
		return at
	}
	// Booked three days before each session.
	d.clock = starts(past[2]).AddDate(0, 0, -3)
	came, err := d.book(andrea, swim, 1, past[2])
	if err != nil {
		return err
	}
	absent, err := d.book(giulia, swim, 1, past[2])
	if err != nil {
		return err
	}
	d.clock = starts(past[8]).AddDate(0, 0, -3)
	if _, err := d.book(luca, swim, 1, past[8]); err != nil {
		return err
	}
	d.clock = starts(past[2]).Add(20 * time.Minute)
	if _, err := d.svc.Validate(d.ctx, staff, came.Code); err != nil {
		return err
	}
	d.clock = starts(past[2]).Add(2 * time.Hour)
	if _, err := d.svc.NoShow(d.ctx, staff, absent.ID, "Assente alla lezione senza avvisare."); err != nil {
		return err
	}
	// Nobody validated last week's: the worker's expiry, as it runs now.
	d.clock = time.Now()
	if _, err := d.svc.ExpireVouchers(d.ctx, 100); err != nil {
		return err
	}
	sail, err := d.offering(OrgProviderB, "vela")
	if err != nil {
		return err
	}
	if _, err := d.book(chiara, sail, 1, d.futureSlot(sail, 0)); err != nil {
		return err
	}
	camp, err := d.offering(OrgProviderB, "estivo")
	if err != nil {
		return err
	}
	v, err := d.book(sara, camp, 1, d.futureSlot(camp, 1))
	if err != nil {
		return err
	}
	_, err = d.svc.Cancel(d.ctx, d.by[sara], v.ID, "")
	return err
}

func (d *demoRedemption) germoglio() error {
	staff := d.by["staff@germoglio.example"]
	validated := func(email, key string, qty int) (redemption.Voucher, error) {
		o, err := d.offering(OrgProviderA, key)
		if err != nil {
			return redemption.Voucher{}, err
		}
		v, err := d.book(email, o, qty, uuid.Nil)
		if err != nil {
			return v, err
		}
		return d.svc.Validate(d.ctx, staff, v.Code)
	}
	d.clock = time.Now()
	if _, err := validated(giulia, "babysitter", 8); err != nil {
		return err
	}
	if _, err := validated(luca, "doposcuola", 1); err != nil {
		return err
	}
	// Paid by SEPA transfer (Il Germoglio has no Stripe account): the
	// platform's file, executed by the bank.
	if _, err := d.svc.SetBankAccount(d.ctx, staff, "Cooperativa sociale Il Germoglio", "IT15L0306909606100000063622"); err != nil {
		return err
	}
	if _, err := d.svc.RequestPayout(d.ctx, staff); err != nil {
		return fmt.Errorf("first payout: %w", err)
	}
	admin := d.by["admin@reciproca.example"]
	b, err := d.svc.ExportPayouts(d.ctx, admin, d.clock.In(rome), "") // the bank's date is Italian: at 00:30 in Rome, UTC is still on yesterday
	if err != nil {
		return err
	}
	if _, err := d.svc.ConfirmPayoutBatch(d.ctx, admin, b.ID); err != nil {
		return err
	}
	part, err := validated(chiara, "spazio", 2)
	if err != nil {
		return err
	}
	if _, err := d.svc.Refund(d.ctx, staff, part.ID, redemption.RefundInput{AmountCents: 30_00,
		Reason: "Una mattina saltata per la chiusura del servizio."}, "seed-refund-part"); err != nil {
		return err
	}
	full, err := validated(andrea, "babysitter", 4)
	if err != nil {
		return err
	}
	if _, err := d.svc.Refund(d.ctx, staff, full.ID, redemption.RefundInput{AmountCents: full.AmountCents,
		Reason: "L'educatrice non è potuta venire: servizio non reso."}, "seed-refund-full"); err != nil {
		return err
	}
	if _, err := validated(sara, "babysitter", 3); err != nil {
		return err
	}
	o, err := d.offering(OrgProviderA, "doposcuola")
	if err != nil {
		return err
	}
	if _, err := d.book(sara, o, 1, uuid.Nil); err != nil {
		return err
	}
	if _, err := d.svc.RequestPayout(d.ctx, staff); err != nil {
		return fmt.Errorf("second payout: %w", err)
	}
	return nil
}

// offering is the provider's demo offering of the catalogue's kind key.
func (d *demoRedemption) offering(provider uuid.UUID, key string) (uuid.UUID, error) {
	var id uuid.UUID
	err := d.dbx.GetContext(d.ctx, &id, `SELECT id FROM offerings WHERE provider_id = $1 AND title = $2`, provider, demoOffers[key].title)
	if err != nil {
		return id, fmt.Errorf("offering %q: %w", key, err)
	}
	return id, nil
}

// futureSlot is the offering's n-th slot from tomorrow on.
func (d *demoRedemption) futureSlot(offering uuid.UUID, n int) uuid.UUID {
	var id uuid.UUID
	_ = d.dbx.GetContext(d.ctx, &id, `SELECT id FROM offering_slots WHERE offering_id = $1 AND starts_at > $2
		ORDER BY starts_at OFFSET $3 LIMIT 1`, offering, time.Now().Add(48*time.Hour), n)
	return id
}

// book books for the demo employee (slot uuid.Nil: no slot).
func (d *demoRedemption) book(email string, offering uuid.UUID, qty int, slot uuid.UUID) (redemption.Voucher, error) {
	in := redemption.BookInput{OfferingID: offering, Quantity: qty}
	if slot != uuid.Nil {
		in.SlotID = &slot
	}
	v, err := d.svc.Book(d.ctx, d.by[email], in, "")
	if err != nil {
		return v, fmt.Errorf("%s booking: %w", email, err)
	}
	return v, nil
}

var rome = func() *time.Location {
	l, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		return time.UTC
	}
	return l
}()
