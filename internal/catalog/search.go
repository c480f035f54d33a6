package catalog

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// Sort orders search results.
type Sort string

// The orders a search can have.
const (
	SortRelevance Sort = "relevance"
	SortDistance  Sort = "distance"
	SortPrice     Sort = "price"
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
	Sort     Sort
	Cursor   string
	Limit    int
}

// SearchPage is one page of results; NextCursor is empty on the last page.
type SearchPage struct {
	Items      []Offering
	NextCursor string
}

// normalise fills defaults, the same for every edge (web and API): a
// search near a point stays within DefaultRadiusKm unless it gives a
// radius; an order that cannot apply (by distance without a point, by
// relevance without text) falls back to the default order, which is
// nearest first when there is a point ("km0"), else most relevant when
// there is text, else cheapest.
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
		case q.Near != nil:
			q.Sort = SortDistance
		case q.Text != "":
			q.Sort = SortRelevance
		default:
			q.Sort = SortPrice
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
	case q.Sort != SortRelevance && q.Sort != SortDistance && q.Sort != SortPrice:
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
	Sort  Sort      `json:"s"`
	Fuzzy bool      `json:"f,omitempty"`
	Key   float64   `json:"k"`
	ID    uuid.UUID `json:"i"`
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

// tsQuery builds the full-text query: the words as typed (websearch
// syntax), OR-ed with adjacent words written together, so that "baby
// sitter" also finds "babysitter".
func tsQuery(text string) (string, string) {
	var words []string
	for _, w := range strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) }) {
		words = append(words, strings.ToLower(w))
	}
	var joined []string
	for i := 0; i+1 < len(words); i++ {
		joined = append(joined, words[i]+words[i+1])
	}
	return text, strings.Join(joined, " ")
}

// searchRow is an offering with its sort key.
type searchRow struct {
	Offering
	Distance *float64 `db:"distance_m"`
	SortKey  float64  `db:"sort_key"`
}

// search runs q. Only active offerings of approved providers are found.
//
// Text matches the Italian full-text vector (stemming, accents ignored,
// category synonyms; adjacent words also tried written together). Only
// when that finds nothing does the search fall back to the trigram word
// similarity of titles, for typos and near misses ("fisoterapia"): the
// fallback is much more expensive, and a fuzzy match mixed into exact ones
// would mostly add noise. Distance uses earthdistance: a GiST index on the
// offering's point, a bounding box, then the exact great-circle distance.
func search(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery) (SearchPage, error) {
	after, err := decodeCursor(q.Cursor, q.Sort)
	if err != nil {
		return SearchPage{}, err
	}
	fuzzy := after != nil && after.Fuzzy
	page, err := searchPage(ctx, dbq, q, after, fuzzy)
	if err == nil && len(page.Items) == 0 && q.Text != "" && after == nil {
		return searchPage(ctx, dbq, q, nil, true)
	}
	return page, err
}

func searchPage(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery, after *cursor, fuzzy bool) (SearchPage, error) {
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return fmt.Sprintf("$%d", len(args))
	}
	var where []string
	where = append(where, "o.status = 'active'", "pr.status = 'approved'")
	distExpr := "NULL::float8"
	rankExpr := "0::float8"
	switch {
	case q.Text != "" && fuzzy:
		folded := "catalog_fold(" + arg(q.Text) + ")"
		where = append(where, "o.title_folded %> "+folded)
		rankExpr = "word_similarity(" + folded + ", o.title_folded)::float8"
	case q.Text != "":
		text, joined := tsQuery(q.Text)
		tsq := "websearch_to_tsquery('reciproca_it', " + arg(text) + ")"
		if joined != "" {
			tsq = "(" + tsq + " || to_tsquery('reciproca_it', " + arg(strings.ReplaceAll(joined, " ", " | ")) + "))"
		}
		where = append(where, "o.search_vector @@ "+tsq)
		rankExpr = "ts_rank_cd(o.search_vector, " + tsq + ")::float8"
	}
	if q.Category != "" {
		where = append(where, "o.category = "+arg(q.Category))
	}
	if q.Near != nil {
		point := "ll_to_earth(" + arg(q.Near.Lat) + ", " + arg(q.Near.Lon) + ")"
		distExpr = "earth_distance(" + point + ", o.geo)"
		if q.RadiusKm > 0 {
			r := arg(q.RadiusKm * 1000)
			where = append(where, "earth_box("+point+", "+r+") @> o.geo", distExpr+" <= "+r)
		}
	}
	if q.MinPrice != nil {
		where = append(where, "o.price_cents >= "+arg(*q.MinPrice))
	}
	if q.MaxPrice != nil {
		where = append(where, "o.price_cents <= "+arg(*q.MaxPrice))
	}
	var keyExpr, order string
	switch q.Sort {
	case SortRelevance:
		// Descending rank: negate it so that every order is ascending.
		keyExpr = "-" + rankExpr
	case SortDistance:
		keyExpr = distExpr
	default:
		keyExpr = "o.price_cents::float8"
	}
	order = "sort_key, o.id"
	if after != nil {
		where = append(where, "("+keyExpr+", o.id) > ("+arg(after.Key)+"::float8, "+arg(after.ID)+"::uuid)")
	}
	query := `SELECT ` + offeringCols + `, ` + distExpr + ` AS distance_m, ` + keyExpr + ` AS sort_key` +
		offeringFrom + ` WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY ` + order + ` LIMIT ` + arg(q.Limit+1)
	var rows []searchRow
	if err := sqlx.SelectContext(ctx, dbq, &rows, query, args...); err != nil {
		return SearchPage{}, db.MapError(err, "search")
	}
	page := SearchPage{Items: make([]Offering, 0, min(len(rows), q.Limit))}
	for i, r := range rows {
		if i == q.Limit {
			last := rows[i-1]
			page.NextCursor = cursor{Sort: q.Sort, Fuzzy: fuzzy, Key: last.SortKey, ID: last.ID}.encode()
			break
		}
		o := r.Offering
		if r.Distance != nil {
			km := *r.Distance / 1000
			o.DistanceKm = &km
		}
		page.Items = append(page.Items, o)
	}
	return page, nil
}
