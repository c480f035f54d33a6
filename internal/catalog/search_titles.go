package catalog

import (
	"fmt"
	"strings"

	"github.com/lib/pq"
)

// Titles first: the first page of a search across the whole country by
// relevance, without reading every offering whose title matches.
//
// A common phrase ("spesa a domicilio") has its words in the titles of
// thousands of offerings, but of a few dozen distinct titles
// (catalog_titles, migration 00351). When a title holds every word of the
// query, as written and with its synonyms, each of its offerings places
// every group in the title and scores the same: its k-th offering by id
// has the sort key -score × 0.8^(k-1), and only the first Limit+1 of it
// can make the page. Every other title gets an upper bound on its
// offerings' scores from the words any of them holds in the provider's
// name, the description or anywhere; only titles whose bound reaches the
// page's last result among the first kind have their offerings ranked.
// An offering whose title matches nothing scores at most outsideTitleMax,
// so when the page's last result scores above that, the page is exactly
// the one ranking every match gives (scope.complete); otherwise the next
// try answers.

// titlesFirst is the candidates statement of scope titles (a first page,
// no point). Its rows carry cut, the sort key of the Limit-th offering of
// the titles holding every word (NULL with fewer), and perfect, how many
// of those offerings were read.
func (b *searchSQL) titlesFirst(q SearchQuery, groups []queryGroup) string {
	b.filter(q, groups, "o.search_vector", true)
	conds := b.conditions()
	w := b.weights(groups)
	perfect := []string{"NOT ct.mixed"}
	var bounds []string
	for i, g := range groups {
		query, exact := b.arg(g.Query)+"::tsquery", b.arg(g.Exact)+"::tsquery"
		perfect = append(perfect, "ct.title_vector @@ "+query, "ct.title_vector @@ "+exact)
		bounds = append(bounds, fmt.Sprintf("%s AS hq%d, %s AS he%d", b.bound(query, g.Query), i, b.bound(exact, g.Exact), i))
	}
	top := w.relevance(func(int, bool) string { return "1::float8" })
	hi := w.relevance(func(i int, exact bool) string {
		if exact {
			return fmt.Sprintf("he%d", i)
		}
		return fmt.Sprintf("hq%d", i)
	})
	cols, relevance := b.ranking(q, groups, "NULL::float8")
	limit, last := b.arg(q.Limit+1), b.arg(q.Limit-1)
	return `WITH x AS (SELECT ct.title_folded, ct.mixed, ` + strings.Join(perfect, " AND ") + ` AS perfect, ` + strings.Join(bounds, ", ") + `
			FROM catalog_titles ct WHERE ct.title_vector @@ ` + b.arg(anyGroup(groups)) + `::tsquery OR ct.mixed),
		t AS MATERIALIZED (SELECT title_folded, perfect, ` + top + ` AS top, CASE WHEN mixed THEN 1 ELSE ` + hi + ` END AS hi FROM x),
		p AS MATERIALIZED (SELECT f.id, -t.top * power(` + fmt.Sprint(repeatFactor) + `::float8, f.k - 1) AS sort_key FROM t
			CROSS JOIN LATERAL (SELECT o.id, row_number() OVER (ORDER BY o.id) AS k FROM offerings o
				WHERE o.title_folded = t.title_folded AND ` + conds + ` ORDER BY o.id LIMIT ` + limit + `) f
			WHERE t.perfect),
		cut AS MATERIALIZED (SELECT (SELECT sort_key FROM p ORDER BY sort_key, id OFFSET ` + last + ` LIMIT 1) AS key,
			(SELECT count(*) FROM p)::int AS n),
		m AS MATERIALIZED (SELECT ` + cols + ` FROM offerings o WHERE ` + conds + ` AND o.title_folded IN (
			SELECT t.title_folded FROM t, cut WHERE NOT t.perfect AND cut.key < ` + fmt.Sprint(-outsideTitleMax) + `
			AND -t.hi <= cut.key + 1e-9)),
		s AS (SELECT id, title_folded, distance_m, ` + relevance + ` AS score FROM m)
		SELECT r.id, NULL::float8 AS distance_m, r.sort_key, NULL::float8 AS horizon_m, NULL::int AS scanned,
			cut.key AS cut, cut.n AS perfect
		FROM (SELECT id, ` + varietyKey + ` AS sort_key FROM s UNION ALL SELECT id, sort_key FROM p) r, cut`
}

// bound is the SQL of the highest placement (see placement) tsquery q
// (an argument; text is its text form) can have in an offering of title
// ct: 1 when the title holds it; else 0.6 or 0.4 when one of its words is
// in the provider's name or the description of one of the title's
// offerings (catalog_title_words), at least 0.2 (it may be elsewhere in
// the document; the title's words and the rest are not kept, so the bound
// does not know).
func (b *searchSQL) bound(q, text string) string {
	var words []string
	for _, m := range lexemeRE.FindAllStringSubmatch(text, -1) {
		words = append(words, strings.ReplaceAll(m[1], "''", "'"))
	}
	return "CASE WHEN ct.title_vector @@ " + q + " THEN 1::float8 ELSE greatest(0.2::float8, (SELECT max(w.place) FROM catalog_title_words w" +
		" WHERE w.title_folded = ct.title_folded AND w.lexeme = ANY (" + b.arg(pq.Array(words)) + "::text[]))) END"
}
