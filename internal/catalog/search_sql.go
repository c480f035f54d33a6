package catalog

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/db"
)

// How search ranks. The words of a query become groups (one per
// meaningful word, with its synonyms, typo corrections and compound
// forms; catalog_query_groups in migration 00311). An offering is found
// when it matches any group: a word that matches nothing lowers the rank
// but never empties the result. Its relevance is the weighted share of the
// query's groups it matches, rare words weighing more than common ones
// ("yoga" above "corso"). A matched group counts 0.3 for being there and up
// to 0.7 for where: in the title 1, the provider's name 0.6, the
// description 0.4, elsewhere (category words, provider description, town)
// 0.2; the words as written count a fifth of that, their synonyms the rest,
// so that the word itself wins a tie.
const (
	// blendKm blends relevance and distance near a point: relevance is
	// divided by 1 + distance/blendKm, so that at the default radius's
	// edge a result keeps half of it.
	blendKm = DefaultRadiusKm
	// repeatFactor spreads out one title offered by many providers: the
	// k-th of them by relevance keeps repeatFactor^(k-1) of its relevance.
	repeatFactor = 0.8
)

// queryGroup is one word of a search with its alternatives, as tsqueries.
type queryGroup struct {
	Query  string  `db:"query"`  // the word, its corrections and its synonyms
	Exact  string  `db:"exact"`  // the same without synonyms
	Weight float64 `db:"weight"` // the word's rarity in the catalogue
}

// lexemeRE is a lexeme of a tsquery's text form.
var lexemeRE = regexp.MustCompile(`'((?:[^']|'')*)'`)

// placement is the SQL of where an offering's document matches tsquery
// text q: 1 in the title, 0.6 the provider's name, 0.4 the description,
// 0.2 elsewhere, 0 nowhere.
func (b *searchSQL) placement(q string) string {
	in := func(label string) string {
		return "o.search_vector @@ " + b.arg(lexemeRE.ReplaceAllString(q, "'$1':"+label)) + "::tsquery"
	}
	return "CASE WHEN " + in("A") + " THEN 1 WHEN " + in("B") + " THEN 0.6 WHEN " + in("C") + " THEN 0.4 WHEN o.search_vector @@ " +
		b.arg(q) + "::tsquery THEN 0.2 ELSE 0 END::float8"
}

func queryGroups(ctx context.Context, dbq sqlx.ExtContext, text string) ([]queryGroup, error) {
	var gs []queryGroup
	err := sqlx.SelectContext(ctx, dbq, &gs, `SELECT query::text AS query, exact::text AS exact, weight FROM catalog_query_groups($1)`, text)
	return gs, db.MapError(err, "search")
}

// searchRow is an offering with its sort key.
type searchRow struct {
	Offering
	Distance *float64 `db:"distance_m"`
	SortKey  float64  `db:"sort_key"`
}

// search runs q. Only active offerings of approved providers are found.
// Distance uses earthdistance: a GiST index on the offering's point (with
// the category and the document), a bounding box, then the exact
// great-circle distance.
func search(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery) (SearchPage, error) {
	after, err := decodeCursor(q.Cursor, q.Sort)
	if err != nil {
		return SearchPage{}, err
	}
	var groups []queryGroup
	if q.Text != "" {
		if groups, err = queryGroups(ctx, dbq, q.Text); err != nil {
			return SearchPage{}, err
		}
		if len(groups) == 0 { // only words such as "di" or "per": nothing to look for
			page := SearchPage{Items: []Offering{}}
			if q.Count {
				page.Total = new(int)
			}
			return page, nil
		}
	}
	// Across the whole country a word can match thousands of offerings:
	// rank those whose title matches first, and read the rest only when
	// one of them could still make the page.
	titleFirst := q.Sort == SortRelevance && q.Near == nil
	page, complete, err := searchPage(ctx, dbq, q, groups, after, titleFirst)
	if err == nil && !complete {
		page, _, err = searchPage(ctx, dbq, q, groups, after, false)
	}
	if err != nil {
		return SearchPage{}, err
	}
	if q.Count {
		var b searchSQL
		b.filter(q, groups, true)
		var n int
		if err := sqlx.GetContext(ctx, dbq, &n, `SELECT count(*) FROM offerings o WHERE `+b.conditions(), b.args...); err != nil {
			return SearchPage{}, db.MapError(err, "search")
		}
		page.Total = &n
	}
	if len(page.Items) == 0 && after == nil && q.Near != nil {
		var b searchSQL
		dist := b.filter(q, groups, false)
		var km []float64
		err := sqlx.SelectContext(ctx, dbq, &km, `SELECT `+dist+` / 1000 FROM offerings o WHERE `+b.conditions()+`
			ORDER BY o.geo <-> `+b.point+` LIMIT 1`, b.args...)
		if err != nil {
			return SearchPage{}, db.MapError(err, "search")
		}
		if len(km) == 1 {
			page.NearestKm = &km[0]
		}
	}
	return page, nil
}

// searchSQL collects the arguments and conditions of a search statement.
type searchSQL struct {
	args  []any
	where []string
	point string // the search's point as an earth, when it has one
}

func (b *searchSQL) arg(v any) string {
	b.args = append(b.args, v)
	return fmt.Sprintf("$%d", len(b.args))
}

func (b *searchSQL) conditions() string { return strings.Join(b.where, " AND ") }

// anyGroup is the tsquery text matching any of groups.
func anyGroup(groups []queryGroup) string {
	words := make([]string, len(groups))
	for i, g := range groups {
		words[i] = "(" + g.Query + ")"
	}
	return strings.Join(words, " | ")
}

// filter adds the conditions of q (within its radius or not) and returns
// the distance expression in metres (NULL without a point).
func (b *searchSQL) filter(q SearchQuery, groups []queryGroup, withinRadius bool) string {
	b.where = append(b.where, "o.status = 'active'",
		"o.provider_id IN (SELECT organisation_id FROM providers WHERE status = 'approved')")
	if len(groups) > 0 {
		b.where = append(b.where, "o.search_vector @@ "+b.arg(anyGroup(groups))+"::tsquery")
	}
	if q.Category != "" {
		b.where = append(b.where, "o.category = "+b.arg(q.Category))
	}
	if q.Labelled {
		b.where = append(b.where, "o.provider_id IN (SELECT r.provider_id FROM inclusion_label_requests r WHERE "+labelShows+")")
	}
	dist := "NULL::float8"
	if q.Near != nil {
		b.point = "ll_to_earth(" + b.arg(q.Near.Lat) + ", " + b.arg(q.Near.Lon) + ")"
		dist = "earth_distance(" + b.point + ", o.geo)"
		if withinRadius && q.RadiusKm > 0 {
			r := b.arg(q.RadiusKm * 1000)
			b.where = append(b.where, "earth_box("+b.point+", "+r+") @> o.geo", dist+" <= "+r)
		}
	}
	if q.MinPrice != nil {
		b.where = append(b.where, "o.price_cents >= "+b.arg(*q.MinPrice))
	}
	if q.MaxPrice != nil {
		b.where = append(b.where, "o.price_cents <= "+b.arg(*q.MaxPrice))
	}
	return dist
}

// candidates is the statement that lists every result's id, distance and
// sort key (ascending); with titleOnly, only of those whose title matches.
func (b *searchSQL) candidates(q SearchQuery, groups []queryGroup, titleOnly bool) string {
	dist := b.filter(q, groups, true)
	if titleOnly {
		b.where = append(b.where, "o.title_vector @@ "+b.arg(anyGroup(groups))+"::tsquery")
	}
	switch q.Sort {
	case SortDistance:
		return `SELECT o.id, ` + dist + ` AS distance_m, ` + dist + ` AS sort_key FROM offerings o WHERE ` + b.conditions()
	case SortPrice:
		return `SELECT o.id, ` + dist + ` AS distance_m, o.price_cents::float8 AS sort_key FROM offerings o WHERE ` + b.conditions()
	}
	// Relevance: each group's rank is computed once per candidate
	// (materialised), then blended and spread out.
	cols := []string{"o.id", "o.title_folded", dist + " AS distance_m"}
	var score []string
	var sum float64
	for i, g := range groups {
		cols = append(cols, fmt.Sprintf("0.8 * %s + 0.2 * %s AS r%d", b.placement(g.Query), b.placement(g.Exact), i))
		score = append(score, fmt.Sprintf("%s * (0.3 * sign(r%d) + 0.7 * r%d)", b.arg(g.Weight), i, i))
		sum += g.Weight
	}
	relevance := "(" + strings.Join(score, " + ") + ") / " + b.arg(sum)
	if q.Near != nil {
		relevance = "(" + relevance + ") / (1 + distance_m / " + fmt.Sprint(blendKm*1000) + ")"
	}
	return `WITH m AS MATERIALIZED (SELECT ` + strings.Join(cols, ", ") + ` FROM offerings o WHERE ` + b.conditions() + `),
		s AS (SELECT id, title_folded, distance_m, ` + relevance + ` AS score FROM m)
		SELECT id, distance_m, -score * power(` + fmt.Sprint(repeatFactor) + `::float8, row_number() OVER (PARTITION BY title_folded ORDER BY score DESC, id) - 1) AS sort_key FROM s`
}

// outsideTitleMax is the highest relevance of an offering whose title
// matches no word of the query: every group found at best in the
// provider's name (0.6), as written and as a synonym.
const outsideTitleMax = 0.3 + 0.7*0.6

// searchPage runs one page of q. With titleOnly, complete says whether the
// page is the one the whole search gives: every result on it ranks above
// any offering whose title does not match, and a next page exists.
func searchPage(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery, groups []queryGroup, after *cursor, titleOnly bool) (page SearchPage, complete bool, err error) {
	var b searchSQL
	top := `SELECT id, distance_m, sort_key FROM (` + b.candidates(q, groups, titleOnly) + `) c`
	if after != nil {
		top += ` WHERE (sort_key, id) > (` + b.arg(after.Key) + `::float8, ` + b.arg(after.ID) + `::uuid)`
	}
	top += ` ORDER BY sort_key, id LIMIT ` + b.arg(q.Limit+1)
	query := `SELECT ` + offeringCols + `, t.distance_m, t.sort_key FROM (` + top + `) t
		JOIN offerings o ON o.id = t.id JOIN providers pr ON pr.organisation_id = o.provider_id
		JOIN places pl ON pl.code = o.place_code` + labelJoin + `ORDER BY t.sort_key, t.id`
	var rows []searchRow
	if err := sqlx.SelectContext(ctx, dbq, &rows, query, b.args...); err != nil {
		return SearchPage{}, false, db.MapError(err, "search")
	}
	complete = !titleOnly || len(rows) > q.Limit && -rows[q.Limit-1].SortKey > outsideTitleMax
	page = SearchPage{Items: make([]Offering, 0, min(len(rows), q.Limit))}
	for i, r := range rows {
		if i == q.Limit {
			last := rows[i-1]
			page.NextCursor = cursor{Sort: q.Sort, Key: last.SortKey, ID: last.ID}.encode()
			break
		}
		o := r.Offering
		if r.Distance != nil {
			km := *r.Distance / 1000
			o.DistanceKm = &km
		}
		page.Items = append(page.Items, o)
	}
	return page, complete, nil
}
