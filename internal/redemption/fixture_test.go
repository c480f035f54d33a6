package redemption_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/catalog/catalogtest"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/identity"
	"github.com/reciproca/reciproca/internal/ledger"
	"github.com/reciproca/reciproca/internal/redemption"
)

const lecco = "097042"

// fixture is a platform with a split policy (10% fund, 5% fee), one
// approved provider with an offering in slots, and a clock the test moves.
type fixture struct {
	t        *testing.T
	ctx      context.Context
	db       *sqlx.DB
	cat      *catalog.Service
	svc      *redemption.Service
	admin    *auth.Principal
	staff    *auth.Principal
	offering uuid.UUID
	slot     uuid.UUID // tomorrow 10:00 Italian time, capacity 3
	slotAt   time.Time

	mu  sync.Mutex
	now time.Time
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	return newFixtureOn(t, dbtest.Open(t))
}

// newFixtureOn is newFixture on the pool dbx (of a fresh test database).
func newFixtureOn(t *testing.T, dbx *sqlx.DB) *fixture {
	t.Helper()
	f := &fixture{t: t, ctx: context.Background(), db: dbx, now: time.Now()}
	f.cat = catalog.NewService(f.db, nil, identity.New(f.db, identity.Config{Argon2: identity.Argon2Params{MemoryKiB: 8 * 1024, Time: 1, Threads: 1}}))
	f.svc = redemption.New(f.db, redemption.Config{BaseURL: "https://reciproca.example", Now: f.clock, Bank: platformBank})
	f.ok(ensurePolicy(f.ctx, f.db))
	f.admin = catalogtest.Admin(t, f.db)
	f.staff = catalogtest.Provider(t, f.db, f.cat, f.admin, "Cooperativa Il Ponte", lecco, true)
	rome, _ := time.LoadLocation("Europe/Rome")
	y, m, d := time.Now().In(rome).AddDate(0, 0, 2).Date()
	f.slotAt = time.Date(y, m, d, 10, 0, 0, 0, rome)
	f.offering, f.slot = f.slotOffering(f.staff, "Corso di nuoto", "sport", 25_00, f.slotAt, 3)
	return f
}

// platformBank is the platform's account SEPA payouts leave from.
var platformBank = redemption.Debtor{CUC: "RCPTST01", Holder: "Reciproca S.r.l.", IBAN: "IT60 X054 2811 1010 0000 0123 456"}

func ensurePolicy(ctx context.Context, dbx *sqlx.DB) error {
	if _, err := ledger.PolicyAt(ctx, dbx, redemption.DefaultPolicy, time.Now()); err == nil {
		return nil
	}
	_, err := ledger.CreatePolicy(ctx, dbx, ledger.SplitPolicy{Name: redemption.DefaultPolicy, ValidFrom: time.Unix(0, 0),
		FundBps: 1000, FeeBps: 500, RemainderTo: ledger.ToProvider})
	return err
}

func (f *fixture) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

// setClock moves the service's clock (the ledger keeps the real one).
func (f *fixture) setClock(t time.Time) {
	f.mu.Lock()
	f.now = t
	f.mu.Unlock()
}

func (f *fixture) ok(err error) {
	f.t.Helper()
	if err != nil {
		f.t.Fatal(err)
	}
}

// slotOffering creates an offering of staff's provider with one slot.
func (f *fixture) slotOffering(staff *auth.Principal, title, category string, price int64, at time.Time, capacity int) (uuid.UUID, uuid.UUID) {
	f.t.Helper()
	o, err := f.cat.CreateOffering(f.ctx, staff, staff.OrgID, catalog.OfferingInput{Title: title, Description: "Di prova",
		Category: category, PriceCents: price, Unit: "session", PlaceCode: lecco, Availability: catalog.AvailabilitySlots,
		Slots: []catalog.SlotInput{{StartsAt: at, EndsAt: at.Add(90 * time.Minute), Capacity: capacity}}}, "")
	f.ok(err)
	return o.ID, o.Slots[0].ID
}

// employee returns a new employee of a new company whose wallet holds
// amount in one lot allowing categories (any when none), expiring at exp.
func (f *fixture) employee(amount int64, exp *time.Time, categories ...string) *auth.Principal {
	f.t.Helper()
	p := catalogtest.Employee(f.t, f.db)
	_, err := ledger.CreateAccount(f.ctx, f.db, redemption.WalletSpec(p.UserID))
	f.ok(err)
	if amount > 0 {
		f.fund(p, amount, exp, categories...)
	}
	return p
}

// fund credits p's wallet with a lot, as the plans domain's allocation will.
func (f *fixture) fund(p *auth.Principal, amount int64, exp *time.Time, categories ...string) {
	f.t.Helper()
	_, err := ledger.CreateAccount(f.ctx, f.db, ledger.AccountSpec{Path: "platform:bank", Kind: ledger.Asset})
	f.ok(err)
	_, err = ledger.Post(f.ctx, f.db, ledger.Request{Key: "fund:" + uuid.NewString(), Kind: "allocation",
		Postings: []ledger.Posting{{From: "platform:bank", To: redemption.WalletPath(p.UserID), Amount: amount,
			Lot: &ledger.LotSpec{ExpiresAt: exp, Categories: categories, Attrs: map[string]any{"company": p.OrgID.String()}}}}})
	f.ok(err)
}

func (f *fixture) available(path string) int64 {
	f.t.Helper()
	b, err := ledger.GetBalance(f.ctx, f.db, path)
	if apperr.Is(err, apperr.NotFound) {
		return 0
	}
	f.ok(err)
	return b.Available
}

func (f *fixture) book(p *auth.Principal, offering uuid.UUID, qty int, slot *uuid.UUID) (redemption.Voucher, error) {
	return f.svc.Book(f.ctx, p, redemption.BookInput{OfferingID: offering, Quantity: qty, SlotID: slot}, "")
}

func (f *fixture) mustBook(p *auth.Principal) redemption.Voucher {
	f.t.Helper()
	v, err := f.book(p, f.offering, 1, &f.slot)
	f.ok(err)
	return v
}

// onSlotDay moves the clock to the slot's start.
func (f *fixture) onSlotDay() { f.setClock(f.slotAt) }

func wantCode(t *testing.T, err error, code apperr.Code) *apperr.Error {
	t.Helper()
	if apperr.CodeOf(err) != code {
		t.Fatalf("error = %v, want %s", err, code)
	}
	ae, _ := err.(*apperr.Error)
	return ae
}

func (f *fixture) verifyLedger() {
	f.t.Helper()
	rep, err := ledger.Verify(f.ctx, f.db)
	f.ok(err)
	if !rep.OK {
		f.t.Fatalf("ledger verify: %+v", rep)
	}
}

// pool is the fund pool validations credit.
func (f *fixture) pool() string {
	f.t.Helper()
	path, err := f.svc.FundPool(f.ctx)
	f.ok(err)
	return path
}
