package catalog

import (
	"github.com/reciproca/reciproca/internal/apperr"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
)

// Unit is what a price pays for.
type Unit string

// The price units.
var units = []Unit{"hour", "session", "day", "week", "month", "year", "course", "item"}

// Units returns the price units, in the order forms offer them.
func Units() []Unit { return slices.Clone(units) }

// OfferingStatus says whether an offering is shown.
type OfferingStatus string

// Offering statuses: a paused offering is never shown in searches.
const (
	OfferingActive OfferingStatus = "active"
	OfferingPaused OfferingStatus = "paused"
)

// OfferingStatuses returns the offering statuses, in the order forms offer them.
func OfferingStatuses() []OfferingStatus { return []OfferingStatus{OfferingActive, OfferingPaused} }

// Availability is how people get a time: booked slots with a capacity, or
// arranged with the provider on request.
type Availability string

// The availability modes.
const (
	AvailabilityOnRequest Availability = "on_request"
	AvailabilitySlots     Availability = "slots"
)

// Offering is a service a provider sells in the catalogue.
type Offering struct {
	ID              uuid.UUID      `db:"id"`
	ProviderID      uuid.UUID      `db:"provider_id"`
	ProviderName    string         `db:"provider_name"`
	ProviderForm    LegalForm      `db:"provider_form"`
	ProviderLogoID  *uuid.UUID     `db:"provider_logo_id"`
	Title           string         `db:"title"`
	Description     string         `db:"description"`
	Category        string         `db:"category"`
	PriceCents      int64          `db:"price_cents"`
	Unit            Unit           `db:"unit"`
	Address         string         `db:"address"`
	PlaceCode       string         `db:"place_code"`
	PlaceName       string         `db:"place_name"`
	ProvinceCode    string         `db:"province_code"`
	Lat             float64        `db:"lat"`
	Lon             float64        `db:"lon"`
	ServiceRadiusKm int            `db:"service_radius_km"`
	Availability    Availability   `db:"availability"`
	Status          OfferingStatus `db:"status"`
	// LabelEvidence and LabelValidUntil are set while the provider's
	// inclusion label shows (approved, not expired; see label.go).
	LabelEvidence   *LabelEvidence `db:"label_evidence"`
	LabelValidUntil *time.Time     `db:"label_valid_until"`
	PhotoID         *uuid.UUID     `db:"photo_id"`
	CreatedAt       time.Time      `db:"created_at"`
	UpdatedAt       time.Time      `db:"updated_at"`
	Slots           []Slot         `db:"-"`
	// DistanceKm is set by searches near a point.
	DistanceKm *float64 `db:"-"`
}

// TaxBucket is the tax rule of the offering's category.
func (o Offering) TaxBucket() TaxBucket {
	c, _ := CategoryByCode(o.Category)
	return c.TaxBucket
}

// Slot is a bookable time with a capacity.
type Slot struct {
	ID       uuid.UUID `db:"id"`
	StartsAt time.Time `db:"starts_at"`
	EndsAt   time.Time `db:"ends_at"`
	Capacity int       `db:"capacity"`
}

// SlotInput is a slot a provider offers.
type SlotInput struct {
	StartsAt time.Time
	EndsAt   time.Time
	Capacity int
}

// OfferingInput is what a provider writes about an offering. Lat and Lon
// default to the seat of the municipality (PlaceCode).
type OfferingInput struct {
	Title           string
	Description     string
	Category        string
	PriceCents      int64
	Unit            Unit
	Address         string
	PlaceCode       string
	Lat, Lon        *float64
	ServiceRadiusKm int
	Availability    Availability
	Slots           []SlotInput
	Status          OfferingStatus
	// Photo, when set, is an uploaded image file that becomes the
	// offering's photo (see ProcessPhoto); nil keeps the current one.
	Photo []byte
}

// MaxPriceCents bounds a price (€100,000) to catch typing mistakes.
const MaxPriceCents = 10_000_000

// Normalise trims text and fills defaults.
func (in *OfferingInput) Normalise() {
	in.Title = strings.TrimSpace(in.Title)
	in.Description = strings.TrimSpace(in.Description)
	in.Address = strings.TrimSpace(in.Address)
	in.PlaceCode = strings.TrimSpace(in.PlaceCode)
	if in.Availability == "" {
		in.Availability = AvailabilityOnRequest
	}
	if in.Status == "" {
		in.Status = OfferingActive
	}
}

// Validate checks the offering; the error names every field at fault
// (details.fields), the first also as details.field with its message.
func (in OfferingInput) Validate() error {
	return apperr.AllInvalid(in.checkTitle(),
		oneOf(!validCategory(in.Category), "category", "unknown category"),
		in.checkPrice(),
		oneOf(!validUnit(in.Unit), "unit", "the unit must be one of hour, session, day, week, month, year, course, item"),
		in.checkWhere(), in.checkSlots(),
		oneOf(in.Status != OfferingActive && in.Status != OfferingPaused, "status", "status must be active or paused"))
}

// oneOf is the invalid error about field when bad, else nil.
func oneOf(bad bool, field, msg string) error {
	if bad {
		return invalidField(field, msg)
	}
	return nil
}

func (in OfferingInput) checkTitle() error {
	if n := utf8.RuneCountInString(in.Title); n < 3 || n > 120 {
		return invalidField("title", "the title must be 3 to 120 characters")
	}
	return oneOf(utf8.RuneCountInString(in.Description) > 5000, "description", "the description must be at most 5000 characters")
}

func (in OfferingInput) checkPrice() error {
	switch {
	case in.PriceCents <= 0:
		return invalidField("price_cents", "the price must be greater than zero")
	case in.PriceCents > MaxPriceCents:
		return invalidField("price_cents", "the price must be at most €100,000")
	}
	return nil
}

func (in OfferingInput) checkWhere() error {
	switch {
	case in.PlaceCode == "":
		return invalidField("place_code", "the municipality is required")
	case (in.Lat == nil) != (in.Lon == nil):
		return invalidField("lat", "give both latitude and longitude, or neither")
	case in.Lat != nil && (LatLon{*in.Lat, *in.Lon}).Validate() != nil:
		return invalidField("lat", "coordinates must be a valid latitude and longitude")
	case in.ServiceRadiusKm < 0 || in.ServiceRadiusKm > 100:
		return invalidField("service_radius_km", "the service radius must be between 0 and 100 km")
	}
	return nil
}

func (in OfferingInput) checkSlots() error {
	switch {
	case in.Availability != AvailabilityOnRequest && in.Availability != AvailabilitySlots:
		return invalidField("availability", "availability must be on_request or slots")
	case in.Availability == AvailabilityOnRequest && len(in.Slots) > 0:
		return invalidField("slots", "slots are only for offerings whose availability is slots")
	case len(in.Slots) > 200:
		return invalidField("slots", "at most 200 slots")
	}
	for _, s := range in.Slots {
		if !s.EndsAt.After(s.StartsAt) {
			return invalidField("slots", "every slot must end after it starts")
		}
		if s.Capacity < 1 || s.Capacity > 1000 {
			return invalidField("slots", "every slot needs a capacity between 1 and 1000")
		}
	}
	return nil
}

func validCategory(code string) bool {
	_, ok := CategoryByCode(code)
	return ok
}

func validUnit(u Unit) bool { return slices.Contains(units, u) }
