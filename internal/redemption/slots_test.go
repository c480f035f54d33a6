package redemption_test

import (
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
)

// A provider editing an offering (a new price, a second slot) keeps the
// slot people booked: its id, so the places they took stay taken and the
// slot is never oversold after the edit.
func TestOfferingEditKeepsBookedPlaces(t *testing.T) {
	f := newFixture(t)
	for range 2 {
		f.mustBook(f.employee(100_00, nil))
	}
	later := f.slotAt.Add(24 * time.Hour)
	o, err := f.cat.UpdateOffering(f.ctx, f.staff, f.offering, catalog.OfferingInput{Title: "Corso di nuoto", Description: "Di prova",
		Category: "sport", PriceCents: 27_00, Unit: "session", PlaceCode: lecco, Availability: catalog.AvailabilitySlots,
		Slots: []catalog.SlotInput{{StartsAt: f.slotAt, EndsAt: f.slotAt.Add(time.Hour), Capacity: 3},
			{StartsAt: later, EndsAt: later.Add(time.Hour), Capacity: 5}}})
	f.ok(err)
	if len(o.Slots) != 2 || o.Slots[0].ID != f.slot || !o.Slots[0].EndsAt.Equal(f.slotAt.Add(time.Hour)) {
		t.Fatalf("slots after the edit = %+v, want the first to stay %s", o.Slots, f.slot)
	}
	left, err := f.svc.PlacesLeft(f.ctx, f.offering)
	f.ok(err)
	if left[f.slot] != 1 || left[o.Slots[1].ID] != 5 {
		t.Fatalf("places left after the edit = %v", left)
	}
	f.mustBook(f.employee(100_00, nil))
	_, err = f.book(f.employee(100_00, nil), f.offering, 1, &f.slot)
	if ae := wantCode(t, err, apperr.Conflict); ae.Fields["reason"] != "slot_full" {
		t.Fatalf("a fourth booking of three places = %v", ae)
	}
}
