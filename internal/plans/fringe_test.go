package plans_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/plans"
)

// charge is a fringe charge in its own transaction, as the redemption
// domain makes one with the voucher it issues.
func (f *fixture) charge(user uuid.UUID, year int, cents int64, ref string) (plans.FringeRoom, error) {
	var room plans.FringeRoom
	err := db.WithTx(f.ctx, f.db, func(tx *sqlx.Tx) error {
		var err error
		room, err = plans.ChargeFringe(f.ctx, tx, user, year, cents, ref)
		return err
	})
	return room, err
}

// The ceiling is €1,000 (2026 rules), €2,000 with a declaration of
// dependent children; outside-platform benefits count against it; a charge
// up to the ceiling passes, one cent more is refused.
func TestFringeRoomAtTheCeiling(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	emp := f.employee("impiegati", nil)
	const y = 2026
	for _, c := range []struct {
		name     string
		children bool
		outside  int64
		charges  []int64 // the last one is the edge
		wantOK   bool
	}{
		{"one cent below the ceiling", false, 0, []int64{999_99}, true},
		{"exactly at the ceiling", false, 0, []int64{600_00, 400_00}, true},
		{"one cent above the ceiling", false, 0, []int64{600_00, 400_01}, false},
		{"outside benefits count", false, 300_00, []int64{700_01}, false},
		{"outside benefits, at the ceiling", false, 300_00, []int64{700_00}, true},
		{"children: double ceiling", true, 0, []int64{2_000_00}, true},
		{"children: one cent above", true, 500_00, []int64{1_500_01}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			g := newFixtureSharing(f)
			g.category("impiegati")
			u := g.employee("impiegati", nil)
			if c.children {
				if err := g.svc.DeclareChildren(g.ctx, u.Principal(), []string{"rssmra15a01f205x"}, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
					t.Fatal(err)
				}
			}
			if c.outside > 0 {
				if _, err := g.svc.RecordOutsideFringe(g.ctx, g.hrp(), plans.OutsideFringe{UserID: u.ID, Year: y, Kind: "fuel", AmountCents: c.outside}); err != nil {
					t.Fatal(err)
				}
			}
			var err error
			var room plans.FringeRoom
			for i, cents := range c.charges {
				room, err = g.charge(u.ID, y, cents, c.name+string(rune('a'+i)))
			}
			if (err == nil) != c.wantOK {
				t.Fatalf("last charge: %v, want ok=%v (room %+v)", err, c.wantOK, room)
			}
			if !c.wantOK && apperr.CodeOf(err) != apperr.Conflict {
				t.Fatalf("refusal %v, want conflict", err)
			}
			after, _ := plans.Room(g.ctx, g.db, u.ID, y)
			if after.Platform+after.Outside > after.Ceiling {
				t.Fatalf("the meter crossed the ceiling: %+v", after)
			}
		})
	}
	// A retried charge counts once; a cancellation gives the room back.
	if _, err := f.charge(emp.ID, y, 800_00, "voucher-1"); err != nil {
		t.Fatal(err)
	}
	if room, err := f.charge(emp.ID, y, 800_00, "voucher-1"); err != nil || room.Remaining != 200_00 {
		t.Fatalf("the same charge again: %+v %v, want 200_00 left", room, err)
	}
	if room, err := f.charge(emp.ID, y, -800_00, "voucher-1:cancelled"); err != nil || room.Remaining != 1_000_00 {
		t.Fatalf("after the cancellation: %+v %v", room, err)
	}
	// Withdrawing the declaration lowers the ceiling again.
	if err := f.svc.DeclareChildren(f.ctx, emp.Principal(), []string{"RSSMRA15A01F205X"}, time.Date(y, 1, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.MyFringeRoom(f.ctx, emp.Principal(), y); r.Ceiling != 2_000_00 || !r.Children {
		t.Fatalf("with children: %+v", r)
	}
	if err := f.svc.DeclareChildren(f.ctx, emp.Principal(), nil, time.Date(y, 6, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if r, _ := f.svc.MyFringeRoom(f.ctx, emp.Principal(), y); r.Ceiling != 1_000_00 {
		t.Fatalf("after withdrawing: %+v", r)
	}
	if err := f.svc.DeclareChildren(f.ctx, emp.Principal(), []string{"ABC"}, time.Now()); apperr.FieldOf(err) != "tax_codes" {
		t.Fatalf("a bad tax code: %v", err)
	}
	other := newFixtureSharing(f)
	if _, err := other.svc.RecordOutsideFringe(f.ctx, other.hrp(), plans.OutsideFringe{UserID: emp.ID, Year: y, Kind: "rent", AmountCents: 1}); apperr.CodeOf(err) != apperr.NotFound {
		t.Fatalf("another company's employee: %v", err)
	}
}

// Concurrent charges of one employee cannot together cross the ceiling.
func TestFringeChargesRacingStayUnderTheCeiling(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	u := f.employee("impiegati", nil)
	errs := make(chan error, 10)
	for i := range 10 {
		go func() {
			_, err := f.charge(u.ID, 2026, 300_00, "race-"+string(rune('a'+i)))
			errs <- err
		}()
	}
	ok := 0
	for range 10 {
		if <-errs == nil {
			ok++
		}
	}
	if r, _ := plans.Room(f.ctx, f.db, u.ID, 2026); ok != 3 || r.Platform != 900_00 {
		t.Fatalf("%d charges of 300_00 passed, meter %+v; want 3 (900_00 ≤ 1000_00)", ok, r)
	}
}
