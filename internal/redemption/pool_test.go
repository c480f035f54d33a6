package redemption_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
	"github.com/reciproca/reciproca/internal/redemption"
)

// smallPoolDeadline bounds each test below: a hot path that waits for a
// connection its own caller holds hangs, and must fail instead.
const smallPoolDeadline = 45 * time.Second

// The booking and validation hot path on a pool of two connections, the
// seed's (`make run`): several callers at once, the first ones while the
// hot statements are still being prepared, with and without an
// idempotency key. Preparing on the pool from inside a transaction once
// deadlocked here (the caller held one connection, the other booking the
// second, and both waited for a third).
func TestHotPathOnTwoConnections(t *testing.T) {
	small, err := db.Open(context.Background(), dbtest.New(t), 2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { small.Close() })
	f := newFixtureOn(t, small)
	inSlots, slot := f.slotOffering(f.staff, "Ginnastica", "sport", 10_00, f.slotAt, 50)
	onRequest, err := f.cat.CreateOffering(f.ctx, f.staff, f.staff.OrgID, catalog.OfferingInput{Title: "Ripetizioni",
		Description: "Di prova", Category: "sport", PriceCents: 15_00, Unit: "hour", PlaceCode: lecco,
		Availability: catalog.AvailabilityOnRequest}, "")
	f.ok(err)
	f.setClock(f.slotAt.Add(-time.Hour)) // the slot's day, before it starts: both book and validate
	ctx, cancel := context.WithTimeout(context.Background(), smallPoolDeadline)
	defer cancel()
	const callers, rounds = 4, 4
	emps := make([]*auth.Principal, callers)
	for i := range emps {
		emps[i] = f.employee(1000_00, nil)
	}
	errs := make(chan error, callers)
	var wg sync.WaitGroup
	for c, emp := range emps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for r := range rounds {
				key := ""
				if r%2 == 0 {
					key = fmt.Sprintf("pool-%d-%d", c, r)
				}
				in := redemption.BookInput{OfferingID: inSlots, Quantity: 1, SlotID: &slot}
				if c%2 == 1 {
					in = redemption.BookInput{OfferingID: onRequest.ID, Quantity: 1}
				}
				v, err := f.svc.Book(ctx, emp, in, key)
				if err != nil {
					errs <- fmt.Errorf("caller %d, booking %d: %w", c, r, err)
					return
				}
				if key != "" { // the retry answers the same voucher
					again, err := f.svc.Book(ctx, emp, in, key)
					if err != nil || again.ID != v.ID {
						errs <- fmt.Errorf("caller %d, retried booking %d: %v, %v", c, r, again.ID, err)
						return
					}
				}
				if got, err := f.svc.Validate(ctx, f.staff, v.Code); err != nil || got.Status != redemption.Validated {
					errs <- fmt.Errorf("caller %d, validation %d: %v, %v", c, r, got.Status, err)
					return
				}
			}
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(smallPoolDeadline + 10*time.Second):
		t.Fatal("the hot path hung on a pool of two connections")
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	f.verifyLedger()
}
