package seed

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/catalog"
)

// catalogSet is the demo catalogue of the province of Lecco: 30 providers
// (27 approved, 3 awaiting approval) with 5 offerings each. The two demo
// providers of the identity set are among them, so their staff accounts
// (staff@germoglio.example, staff@pontesport.example) see a dashboard.
var catalogSet = set{
	name: "catalog-lecco-v1",
	load: loadCatalog,
}

func loadCatalog(ctx context.Context, tx *sqlx.Tx) error {
	// Slots start next Monday at 18:00 (Italian time) and repeat weekly.
	rome, err := time.LoadLocation("Europe/Rome")
	if err != nil {
		rome = time.UTC
	}
	now := time.Now().In(rome)
	monday := time.Date(now.Year(), now.Month(), now.Day()+(8-int(now.Weekday()))%7+1, 18, 0, 0, 0, rome)
	summer := summerWeeks(now)
	for i, p := range demoProviders {
		org := p.org
		if org == uuid.Nil {
			if err := tx.GetContext(ctx, &org, `INSERT INTO organisations (kind, name) VALUES ('provider', $1) RETURNING id`, p.name); err != nil {
				return err
			}
		}
		vat := catalog.CompleteVAT(fmt.Sprintf("0%04d%05d", 3100+i*37, 130+i))
		in := catalog.ProfileInput{LegalName: p.name, LegalForm: catalog.LegalForm(p.form), VATNumber: vat, FiscalCode: vat,
			Address: p.address, PlaceCode: p.place, Email: fmt.Sprintf("info%02d@erogatori.reciproca.demo", i+1),
			Phone: fmt.Sprintf("0341 %06d", 280100+i*173), Description: p.description, FundPledgeBps: p.pledgeBps}
		status := catalog.ProviderApproved
		if p.pending {
			status = catalog.ProviderPending
		}
		if err := catalog.ImportProvider(ctx, tx, org, in, status); err != nil {
			return fmt.Errorf("provider %s: %w", p.name, err)
		}
		for j, key := range p.offers {
			o, ok := demoOffers[key]
			if !ok {
				return fmt.Errorf("provider %s: unknown offer %q", p.name, key)
			}
			oin := catalog.OfferingInput{Title: o.title, Description: o.description, Category: o.category,
				// Prices vary a little from provider to provider.
				PriceCents: o.price + int64((i*7+j*3)%5)*o.price/20, Unit: catalog.Unit(o.unit),
				Address: p.address, PlaceCode: p.place}
			if o.category == "elder_care" || o.category == "childcare" && key != "nido" && key != "spazio" || key == "fisio" || key == "spesa" {
				oin.ServiceRadiusKm = 15 // they come to your home
			}
			switch {
			case o.slots && o.category == "summer_camp":
				oin.Availability = catalog.AvailabilitySlots
				for w, start := range summer {
					oin.Slots = append(oin.Slots, catalog.SlotInput{StartsAt: start, EndsAt: start.AddDate(0, 0, 4).Add(8*time.Hour + 30*time.Minute),
						Capacity: 15 + (i+j+w)%4*5})
				}
			case o.slots:
				oin.Availability = catalog.AvailabilitySlots
				for w := 0; w < 4; w++ {
					start := monday.AddDate(0, 0, 7*w+j%5)
					oin.Slots = append(oin.Slots, catalog.SlotInput{StartsAt: start, EndsAt: start.Add(90 * time.Minute), Capacity: 8 + (i+j)%7})
				}
			}
			if i == 0 && j == len(p.offers)-1 {
				oin.Status = catalog.OfferingPaused // the provider's dashboard shows a paused one
			}
			if _, err := catalog.ImportOffering(ctx, tx, org, oin); err != nil {
				return fmt.Errorf("provider %s, offer %s: %w", p.name, key, err)
			}
		}
	}
	return nil
}

// summerWeeks are the weeks of the next summer's camps, from the Monday of
// mid-June to the end of July, each from Monday at 08:30 (Italian time):
// this year's while they are more than a week away, else next year's.
func summerWeeks(now time.Time) []time.Time {
	first := func(year int) time.Time {
		d := time.Date(year, time.June, 15, 8, 30, 0, 0, now.Location())
		return d.AddDate(0, 0, (8-int(d.Weekday()))%7)
	}
	start := first(now.Year())
	if start.Before(now.AddDate(0, 0, 7)) {
		start = first(now.Year() + 1)
	}
	weeks := make([]time.Time, 6)
	for w := range weeks {
		weeks[w] = start.AddDate(0, 0, 7*w)
	}
	return weeks
}
