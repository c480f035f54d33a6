package catalog

import (
	"encoding/base64"
	"encoding/json"
	"strings"

	"github.com/google/uuid"
)

// Sort orders search results.
type Sort string

// The orders a search can have.
const (
	SortRelevance Sort = "relevance"
	SortDistance  Sort = "distance"
	SortPrice     Sort = "price"
	// SortVaried is the order of a catalogue browsed with no text and no
	// place: every title once before any twice, the categories in turn
	// (see varied).
	SortVaried Sort = "varied"
)

// Search limits.
const (
	DefaultPageSize = 20
	MaxPageSize     = 50
	MaxRadiusKm     = 300
	maxQueryRunes   = 200
	// DefaultRadiusKm bounds a search near a point when no radius is
	// given: km0 means the services an employee can actually reach.
	DefaultRadiusKm = 20
)

// SearchQuery is what an employee (or anyone) looks for. Zero values mean
// "no filter".
type SearchQuery struct {
	Text     string
	Category string
	Near     *LatLon
	RadiusKm float64
	MinPrice *int64
	MaxPrice *int64
	// Labelled keeps only offerings of providers whose inclusion label
	// shows today.
	Labelled bool
	Sort     Sort
	Cursor   string
	Limit    int
	// Count asks for the number of results (SearchPage.Total), up to
	// countCap: one more query unless the first page holds them all,
	// which pages for people show and API clients rarely need.
	Count bool
}

// SearchPage is one page of results; NextCursor is empty on the last page.
type SearchPage struct {
	Items      []Offering
	NextCursor string
	// Total is the number of results of the whole search, when asked;
	// with TotalMore, there are more than Total (the count stops there).
	Total     *int
	TotalMore bool
	// NearestKm is set when a search near a point finds nothing within
	// its radius but would find something further away: how far the
	// nearest of those is ("il più vicino è a 29 km").
	NearestKm *float64
}

// normalise fills defaults, the same for every edge (web and API): a
// search near a point stays within DefaultRadiusKm unless it gives a
// radius; an order that cannot apply (by distance without a point, by
// relevance without text) falls back to the default order, which is the
// most relevant first when there is text (near a point: relevance and
// distance blended), else nearest first when there is a point ("km0"),
// else varied: a page of cheapest first showed five cards of the same
// title from five providers.
func (q *SearchQuery) normalise() {
	q.Text = strings.TrimSpace(q.Text)
	if q.Limit <= 0 {
		q.Limit = DefaultPageSize
	}
	if q.Limit > MaxPageSize {
		q.Limit = MaxPageSize
	}
	if q.Near != nil && q.RadiusKm == 0 {
		q.RadiusKm = DefaultRadiusKm
	}
	if q.Sort == SortDistance && q.Near == nil || q.Sort == SortRelevance && q.Text == "" {
		q.Sort = ""
	}
	if q.Sort == "" {
		switch {
		case q.Text != "":
			q.Sort = SortRelevance
		case q.Near != nil:
			q.Sort = SortDistance
		default:
			q.Sort = SortVaried
		}
	}
}

// Validate checks the query; errors name the parameter at fault.
func (q SearchQuery) Validate() error {
	switch {
	case len([]rune(q.Text)) > maxQueryRunes:
		return invalidField("q", "the search text must be at most 200 characters")
	case q.Category != "" && !validCategory(q.Category):
		return invalidField("category", "unknown category")
	case q.RadiusKm < 0 || q.RadiusKm > MaxRadiusKm:
		return invalidField("radius_km", "the radius must be between 0 and 300 km")
	case q.RadiusKm > 0 && q.Near == nil:
		return invalidField("radius_km", "a radius needs a point: give near=<lat>,<lon>")
	case q.MinPrice != nil && *q.MinPrice < 0:
		return invalidField("min_price", "the minimum price cannot be negative")
	case q.MaxPrice != nil && *q.MaxPrice < 0:
		return invalidField("max_price", "the maximum price cannot be negative")
	case q.MinPrice != nil && q.MaxPrice != nil && *q.MinPrice > *q.MaxPrice:
		return invalidField("min_price", "the minimum price is above the maximum price")
	case q.Sort != SortRelevance && q.Sort != SortDistance && q.Sort != SortPrice && q.Sort != SortVaried:
		return invalidField("sort", "sort must be relevance, distance or price")
	}
	if q.Near != nil {
		return q.Near.Validate()
	}
	return nil
}

// cursor is the position after the last result of a page: the sort key
// and id of that result (keyset pagination, stable under inserts).
type cursor struct {
	Sort Sort      `json:"s"`
	Key  float64   `json:"k"`
	ID   uuid.UUID `json:"i"`
}

func (c cursor) encode() string {
	b, _ := json.Marshal(c)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeCursor(s string, sort Sort) (*cursor, error) {
	if s == "" {
		return nil, nil
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	var c cursor
	if err == nil {
		err = json.Unmarshal(b, &c)
	}
	if err != nil || c.Sort != sort {
		return nil, invalidField("cursor", "the cursor is not valid for this search: start again without it")
	}
	return &c, nil
}
