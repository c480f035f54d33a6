package catalog

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/reciproca/reciproca/internal/apperr"
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
// 0.2 elsewhere, 0 nowhere. The title is asked first (most candidates
// match there), then nowhere (in a query of several words many miss some):
// one or two tests settle most offerings.
func (b *searchSQL) placement(q string) string {
	in := func(label string) string {
		return "o.search_vector @@ " + b.arg(lexemeRE.ReplaceAllString(q, "'$1':"+label)) + "::tsquery"
	}
	return "CASE WHEN " + in("A") + " THEN 1 WHEN NOT o.search_vector @@ " + b.arg(q) + "::tsquery THEN 0 WHEN " + in("B") +
		" THEN 0.6 WHEN " + in("C") + " THEN 0.4 ELSE 0.2 END::float8"
}

// searchRow is an offering with its sort key.
type searchRow struct {
	Offering
	Distance *float64 `db:"distance_m"`
	SortKey  float64  `db:"sort_key"`
	// Horizon and Scanned describe a first try limited to the nearest
	// offerings: how far the furthest of them is, and how many there were.
	Horizon *float64 `db:"horizon_m"`
	Scanned *int     `db:"scanned"`
	// Cut and Perfect describe a first try that ranks titles first: the
	// sort key of the page's last result among the offerings of titles
	// holding every word, and how many of those were read.
	Cut     *float64 `db:"cut"`
	Perfect *int     `db:"perfect"`
}

// searchTimeout bounds the statements of one search. None should come
// near it (every plan is bounded by an index or a first try); if one
// does, the employee gets a clear "try again" rather than a page that
// never comes, and the database is freed.
const searchTimeout = 3 * time.Second

var errSearchTimeout = apperr.New(apperr.Unavailable, "the search is taking too long: try again, or with more words or a place")

// search runs q. Only active offerings of approved providers are found.
// Distance uses earthdistance: a GiST index on the offering's point (with
// the category and the document), a bounding box, then the exact
// great-circle distance.
func search(ctx context.Context, dbq sqlx.ExtContext, expand *expansions, q SearchQuery) (SearchPage, error) {
	ctx, cancel := context.WithTimeout(ctx, searchTimeout)
	defer cancel()
	page, err := runSearch(ctx, dbq, expand, q, tries)
	if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return SearchPage{}, &apperr.Error{Code: errSearchTimeout.Code, Message: errSearchTimeout.Message, Err: err}
	}
	return page, err
}

// runSearch runs q, trying the scopes plan gives in turn (tries; the
// tests compare it with ranking every match).
func runSearch(ctx context.Context, dbq sqlx.ExtContext, expand *expansions, q SearchQuery,
	plan func(SearchQuery, *cursor) []scope) (SearchPage, error) {
	after, err := decodeCursor(q.Cursor, q.Sort)
	if err != nil {
		return SearchPage{}, err
	}
	var groups []queryGroup
	if q.Text != "" {
		if groups, err = expand.groups(ctx, dbq, q.Text); err != nil {
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
	// A first try ranks fewer offerings; its page is kept only when no
	// offering it left out could be on it (see tries). The last try's page
	// is always kept.
	var page SearchPage
	for _, s := range plan(q, after) {
		var complete bool
		if page, complete, err = searchPage(ctx, dbq, q, groups, after, s); err != nil {
			return SearchPage{}, err
		}
		if complete {
			break
		}
	}
	if q.Count {
		if err := count(ctx, dbq, q, groups, after, &page); err != nil {
			return SearchPage{}, err
		}
	}
	if len(page.Items) == 0 && after == nil && q.Near != nil {
		var b searchSQL
		dist := b.filter(q, groups, "o.search_vector", false)
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

// countCap is the most results a search counts: past it a page says
// "more than 200" (SearchPage.TotalMore). Counting every match costs
// what ranking them all costs (3,345 offerings for "spesa a domicilio"
// near Lecco in the benchmark: as long as the search itself), and nobody
// pages through hundreds; counting up to the cap reads a tenth of them.
const countCap = 200

// count sets page.Total: the results of a first page that is also the
// last are on it; otherwise they are counted, up to countCap (reading
// the matches from the GiST index in order, as selectPlanned can, was
// measured no faster: its signatures of the documents are checked one by
// one).
func count(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery, groups []queryGroup, after *cursor, page *SearchPage) error {
	if after == nil && page.NextCursor == "" {
		n := len(page.Items)
		page.Total = &n
		return nil
	}
	var b searchSQL
	b.filter(q, groups, "o.search_vector", true)
	var n []int
	err := sqlx.SelectContext(ctx, dbq, &n,
		`SELECT count(*) FROM (SELECT FROM offerings o WHERE `+b.conditions()+` LIMIT `+b.arg(countCap+1)+`) c`, b.args...)
	if err != nil {
		return db.MapError(err, "search")
	}
	total := min(n[0], countCap)
	page.Total, page.TotalMore = &total, n[0] > countCap
	return nil
}

// scope limits the offerings a first try ranks. The zero scope ranks
// every offering the search finds.
type scope struct {
	// titles: rank the titles that match a word of the query first, then
	// read the first offerings of those holding every word and every
	// offering of the others that could make the page (see
	// titlesFirst). A first page only.
	titles bool
	// titleOnly: only those whose title matches a word of the query.
	titleOnly bool
	// nearest: only the nearest this many (a search near a point).
	nearest int
	// indexOrder: read them from the GiST index in order of distance (see
	// selectPlanned), which pays when they are few.
	indexOrder bool
	// capped: every offering whose title matches and at most maxRanked
	// of the others.
	capped bool
}

// maxRanked bounds how many offerings whose title does not match a
// search across the whole country ranks, besides all those whose title
// does. A word found in the descriptions of most of the catalogue
// ("servizio", "qualificato") would otherwise rank all of them: 1.3–1.9 s
// for 95,000 on the loaded test machine, 0.1–0.2 s capped. Only a search
// with more such matches is ranked approximately: among them, the first
// found are ranked.
const maxRanked = 4000

// tries are the scopes a search tries in turn, until one can answer; the
// last always can:
//   - across the whole country by relevance, a common word matches
//     thousands of offerings, but a few dozen titles: the first page ranks
//     titles first; failing that (or on a later page), rank the offerings
//     whose title matches; failing that, every title match and at most
//     maxRanked others (capped);
//   - near a point by distance, read the nearest matches in order from the
//     index and stop after the page, rather than sort all within the
//     radius; failing that, every match within it;
//   - near a point by relevance, the first page ranks titles first too
//     (titlesNear): a first try limited to the nearest few hundred
//     offerings cannot answer, since relevance ÷ (1 + km/20) decays slowly
//     and the page's last result often lies 15–20 km away; failing that
//     (or on a later page), every match within the radius.
func tries(q SearchQuery, after *cursor) []scope {
	switch {
	case q.Sort == SortRelevance && q.Near == nil && after == nil:
		return []scope{{titles: true}, {titleOnly: true}, {capped: true}}
	case q.Sort == SortRelevance && q.Near == nil:
		return []scope{{titleOnly: true}, {capped: true}}
	case q.Sort == SortDistance:
		return []scope{{nearest: 2 * (q.Limit + 1), indexOrder: true}, {}}
	case q.Sort == SortRelevance && after == nil:
		return []scope{{titles: true}, {}}
	case q.Sort == SortVaried && q.Category == "":
		// Browsing: the first offerings of each title first (see varied).
		// Within a category most titles have none: rank them all.
		return []scope{{titles: true}, {}}
	}
	return []scope{{}}
}

// complete says whether rows, the page (plus one) a first try in scope s
// found, is the page the whole search gives.
func (s scope) complete(q SearchQuery, rows []searchRow) bool {
	switch {
	case s.titles && q.Sort == SortVaried:
		// Every offering left out comes after every one read.
		return len(rows) > q.Limit
	case s.titles && q.Near != nil:
		// Every offering that could reach the cut was ranked.
		return len(rows) > q.Limit && rows[0].Cut != nil
	case s.titles:
		// Only offerings scoring above any whose title does not match
		// were ranked: the page is complete when its last result does.
		return len(rows) > q.Limit && rows[0].Cut != nil && -*rows[0].Cut > outsideTitleMax
	case s.titleOnly:
		// Every result on the page ranks above any offering whose title
		// does not match, and a next page exists.
		return len(rows) > q.Limit && -rows[q.Limit-1].SortKey > outsideTitleMax
	case s.nearest > 0:
		// The cursor is applied before the nearest are taken: nothing
		// means nothing further either.
		if len(rows) == 0 || *rows[0].Scanned < s.nearest {
			return true // the first try read every match
		}
		// Offerings left out lie at the horizon or beyond; one at the
		// horizon could come first among equals (by id).
		return len(rows) > q.Limit && *rows[q.Limit].Distance < *rows[0].Horizon
	}
	return true
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

// filter adds the conditions of q (within its radius or not), its words
// matched against doc (the whole document, or only the title's words),
// and returns the distance expression in metres (NULL without a point).
func (b *searchSQL) filter(q SearchQuery, groups []queryGroup, doc string, withinRadius bool) string {
	b.where = append(b.where, "o.status = 'active'",
		"o.provider_id IN (SELECT organisation_id FROM providers WHERE status = 'approved')")
	if len(groups) > 0 {
		b.where = append(b.where, doc+" @@ "+b.arg(anyGroup(groups))+"::tsquery")
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

// candidates is the statement that lists the results after the cursor
// with their distance and sort key (ascending), within scope s. By
// distance or price the cursor is a condition here (so that the nearest
// are taken after it); by relevance the caller applies it to sort_key.
func (b *searchSQL) candidates(q SearchQuery, groups []queryGroup, after *cursor, s scope) string {
	if q.Sort == SortVaried {
		b.filter(q, nil, "", true)
		return b.varied(q, after, s.titles)
	}
	if s.titles && q.Near != nil {
		return b.titlesNear(q, groups)
	}
	if s.titles {
		return b.titlesFirst(q, groups)
	}
	// A title that matches puts the same words in the document: asking
	// the title alone is enough.
	doc := "o.search_vector"
	if s.titleOnly {
		doc = "o.title_vector"
	}
	dist := b.filter(q, groups, doc, true)
	var key string
	switch q.Sort {
	case SortDistance:
		key = dist
	case SortPrice:
		key = "o.price_cents::float8"
	}
	if key != "" && after != nil {
		b.where = append(b.where, "("+key+", o.id) > ("+b.arg(after.Key)+"::float8, "+b.arg(after.ID)+"::uuid)")
	}
	from := "offerings o WHERE " + b.conditions()
	tried := noTry
	if s.nearest > 0 {
		from += " ORDER BY o.geo <-> " + b.point + " LIMIT " + b.arg(s.nearest)
		tried = "max(distance_m) OVER () AS horizon_m, count(*) OVER ()::int AS scanned, NULL::float8 AS cut, NULL::int AS perfect"
	}
	if key != "" {
		return `SELECT id, distance_m, sort_key, ` + tried + ` FROM (SELECT o.id, ` + dist + ` AS distance_m, ` + key + ` AS sort_key FROM ` + from + `) k`
	}
	cols, relevance := b.ranking(q, groups, dist)
	m := `SELECT ` + cols + ` FROM ` + from
	if s.capped {
		// The offerings whose title matches, then the first maxRanked
		// others.
		title := "o.title_vector @@ " + b.arg(anyGroup(groups)) + "::tsquery"
		m = `SELECT ` + cols + ` FROM ` + from + ` AND ` + title +
			` UNION ALL (SELECT ` + cols + ` FROM ` + from + ` AND NOT ` + title + ` LIMIT ` + b.arg(maxRanked) + `)`
	}
	return `WITH m AS MATERIALIZED (` + m + `),
		s AS (SELECT id, title_folded, distance_m, ` + relevance + ` AS score FROM m)
		SELECT id, distance_m, ` + varietyKey + ` AS sort_key, ` + tried + ` FROM s`
}

// noTry are the columns of a statement that is not a first try.
const noTry = "NULL::float8 AS horizon_m, NULL::int AS scanned, NULL::float8 AS cut, NULL::int AS perfect"

// varietyKey is the sort key of a ranked offering: its relevance, spread
// out among the offerings of the same title. Titles are grouped byte for
// byte ("C"): the grouping needs equality, not the language's order, and
// bytes compare fastest.
var varietyKey = `-score * power(` + fmt.Sprint(repeatFactor) + `::float8, row_number() OVER (PARTITION BY title_folded COLLATE "C" ORDER BY score DESC, id) - 1)`

// ranking returns the columns to rank offerings o by (id, title_folded,
// distance_m and each group's placements; each group's rank is computed
// once per candidate when they are materialised) and their relevance: a
// group's rank r = 0.8 × placement of its words and synonyms (q) + 0.2 ×
// placement of its words as written (e; one placement serves both when
// the word has no synonyms), and near a point the relevance is blended
// with the distance.
func (b *searchSQL) ranking(q SearchQuery, groups []queryGroup, dist string) (cols, relevance string) {
	c := []string{"o.id", "o.title_folded", dist + " AS distance_m"}
	for i, g := range groups {
		c = append(c, fmt.Sprintf("%s AS q%d", b.placement(g.Query), i))
		if g.Exact != g.Query {
			c = append(c, fmt.Sprintf("%s AS e%d", b.placement(g.Exact), i))
		}
	}
	relevance = b.weights(groups).relevance(func(i int, exact bool) string {
		if exact && groups[i].Exact != groups[i].Query {
			return fmt.Sprintf("e%d", i)
		}
		return fmt.Sprintf("q%d", i)
	})
	if q.Near != nil {
		relevance = "(" + relevance + ") / (1 + distance_m / " + fmt.Sprint(blendKm*1000) + ")"
	}
	return strings.Join(c, ", "), relevance
}

// weights are the arguments holding the groups' weights and their sum.
type weights struct {
	each []string
	sum  string
}

func (b *searchSQL) weights(groups []queryGroup) weights {
	var w weights
	var sum float64
	for _, g := range groups {
		w.each = append(w.each, b.arg(g.Weight))
		sum += g.Weight
	}
	w.sum = b.arg(sum)
	return w
}

// relevance is the SQL of the relevance of an offering whose placement
// for group i (its words and synonyms, or as written when exact) is
// place(i, exact):
//
//	Σ weight × (0.3 × sign(r) + 0.7 × r) / Σ weight
//
// Every use builds it here, so that the same placements give the same
// number to the last bit.
func (w weights) relevance(place func(i int, exact bool) string) string {
	score := make([]string, len(w.each))
	for i, weight := range w.each {
		r := fmt.Sprintf("(0.8 * %s + 0.2 * %s)", place(i, false), place(i, true))
		score[i] = fmt.Sprintf("%s * (0.3 * sign%s + 0.7 * %s)", weight, r, r)
	}
	return "(" + strings.Join(score, " + ") + ") / " + w.sum
}

// selectPlanned runs a search statement. A first try that reads the
// nearest offerings runs with bitmap scans and sorts discouraged: the
// planner cannot know how many offerings a bounding box holds (it guesses
// a fixed 0.1%), so with a few words it often prefers reading every match
// in the box and sorting them, where the GiST index gives them nearest
// first and stops after the page (measured: 42 rows read instead of
// 1,156). The settings last for one read-only transaction.
func selectPlanned(ctx context.Context, dbq sqlx.ExtContext, s scope, dest any, query string, args ...any) error {
	dbx, ok := dbq.(*sqlx.DB)
	if !s.indexOrder || !ok {
		return sqlx.SelectContext(ctx, dbq, dest, query, args...)
	}
	tx, err := dbx.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback() //nolint:errcheck // after Commit it does nothing
	if _, err := tx.ExecContext(ctx, `SET LOCAL enable_bitmapscan = off`); err != nil {
		return err
	}
	if err := sqlx.SelectContext(ctx, tx, dest, query, args...); err != nil {
		return err
	}
	return tx.Commit()
}

// outsideTitleMax is the highest relevance of an offering whose title
// matches no word of the query: every group found at best in the
// provider's name (0.6), as written and as a synonym.
const outsideTitleMax = 0.3 + 0.7*0.6

// searchPage runs one page of q within scope s. complete says whether the
// page is the one the whole search gives (always, in the zero scope).
func searchPage(ctx context.Context, dbq sqlx.ExtContext, q SearchQuery, groups []queryGroup, after *cursor, s scope) (page SearchPage, complete bool, err error) {
	var b searchSQL
	top := `SELECT id, distance_m, sort_key, horizon_m, scanned, cut, perfect FROM (` + b.candidates(q, groups, after, s) + `) c`
	if after != nil && (q.Sort == SortRelevance || q.Sort == SortVaried) {
		top += ` WHERE (sort_key, id) > (` + b.arg(after.Key) + `::float8, ` + b.arg(after.ID) + `::uuid)`
	}
	top += ` ORDER BY sort_key, id LIMIT ` + b.arg(q.Limit+1)
	query := `SELECT ` + offeringCols + `, t.distance_m, t.sort_key, t.horizon_m, t.scanned, t.cut, t.perfect FROM (` + top + `) t
		JOIN offerings o ON o.id = t.id JOIN providers pr ON pr.organisation_id = o.provider_id
		JOIN places pl ON pl.code = o.place_code` + labelJoin + `ORDER BY t.sort_key, t.id`
	var rows []searchRow
	if err := selectPlanned(ctx, dbq, s, &rows, query, b.args...); err != nil {
		return SearchPage{}, false, db.MapError(err, "search")
	}
	complete = s.complete(q, rows)
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
