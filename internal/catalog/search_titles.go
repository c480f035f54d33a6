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
//
// A title that lacks some words (or holds a word's synonym, not the word)
// is read in two parts: its offerings whose documents have the words it
// lacks (extra, ranked one by one), and the first Limit+1 by id of the
// others, which all score what the title alone gives (lo).
func (b *searchSQL) titlesFirst(q SearchQuery, groups []queryGroup) string {
	// The offerings of a title holding every word all match: they are
	// read in order of id without asking their documents.
	b.filter(q, nil, "", true)
	conds := b.conditions()
	titles, _ := b.titleBounds(groups)
	ranked, relevance := b.ranking(q, groups, "NULL::float8")
	limit, last := b.arg(q.Limit+1), b.arg(q.Limit-1)
	return `WITH ` + titles + `,
		p AS MATERIALIZED (SELECT f.id, -t.top * power(` + fmt.Sprint(repeatFactor) + `::float8, f.k - 1) AS sort_key FROM t
			CROSS JOIN LATERAL (SELECT o.id, row_number() OVER (ORDER BY o.id) AS k FROM offerings o
				WHERE o.title_folded = t.title_folded AND ` + conds + ` ORDER BY o.id LIMIT ` + limit + `) f
			WHERE t.perfect),
		cut AS MATERIALIZED (SELECT (SELECT sort_key FROM p ORDER BY sort_key, id OFFSET ` + last + ` LIMIT 1) AS key,
			(SELECT count(*) FROM p)::int AS n),
		n AS MATERIALIZED (SELECT t.title_folded, t.mixed, t.extra, t.lo FROM t, cut
			WHERE NOT t.perfect AND cut.key < ` + fmt.Sprint(-outsideTitleMax) + ` AND -t.hi <= cut.key + 1e-9),
		m AS MATERIALIZED (SELECT ` + ranked + ` FROM n JOIN offerings o ON o.title_folded = n.title_folded
			WHERE ` + conds + ` AND o.search_vector @@ n.extra),
		s AS (SELECT id, title_folded, ` + relevance + ` AS score FROM m
			UNION ALL
			SELECT f.id, n.title_folded, n.lo FROM n CROSS JOIN LATERAL (SELECT o.id FROM offerings o
				WHERE o.title_folded = n.title_folded AND ` + conds + ` AND NOT o.search_vector @@ n.extra ORDER BY o.id LIMIT ` + limit + `) f
			WHERE NOT n.mixed)
		SELECT r.id, NULL::float8 AS distance_m, r.sort_key, NULL::float8 AS horizon_m, NULL::int AS scanned,
			cut.key AS cut, cut.n AS perfect
		FROM (SELECT id, ` + varietyKey + ` AS sort_key FROM s UNION ALL SELECT id, sort_key FROM p) r, cut`
}

// titleBounds is the SQL of two common table expressions over the
// catalogue's titles that match a word of the query (and every mixed
// title): x, then t, which holds for each title whether it is perfect
// (it holds every group, as written and with its synonyms), top (the
// relevance of its offerings when it is), hi (an upper bound on the
// relevance of any of its offerings), lo (the relevance of those whose
// documents hold no word the title lacks) and extra (the tsquery of the
// words it lacks; for a mixed title, every word). any is the argument
// holding the tsquery of every word.
func (b *searchSQL) titleBounds(groups []queryGroup) (ctes, any string) {
	any = b.arg(anyGroup(groups)) + "::tsquery"
	w := b.weights(groups)
	perfect := []string{"NOT ct.mixed"}
	var cols, lacks []string
	for i, g := range groups {
		query, exact := b.arg(g.Query)+"::tsquery", b.arg(g.Exact)+"::tsquery"
		holds, holdsExact := "ct.title_vector @@ "+query, "ct.title_vector @@ "+exact
		perfect = append(perfect, holds, holdsExact)
		cols = append(cols, fmt.Sprintf("%s AS hq%d, %s AS he%d, CASE WHEN %s THEN 1 ELSE 0 END::float8 AS lq%d, CASE WHEN %s THEN 1 ELSE 0 END::float8 AS le%d",
			b.bound(query, g.Query), i, b.bound(exact, g.Exact), i, holds, i, holdsExact, i))
		lacks = append(lacks, "CASE WHEN NOT "+holds+" THEN "+b.arg("("+g.Query+")")+"::text END",
			"CASE WHEN "+holds+" AND NOT "+holdsExact+" THEN "+b.arg("("+g.Exact+")")+"::text END")
	}
	top := w.relevance(func(int, bool) string { return "1::float8" })
	column := func(prefix string) func(int, bool) string {
		return func(i int, exact bool) string {
			if exact {
				return fmt.Sprintf("%se%d", prefix, i)
			}
			return fmt.Sprintf("%sq%d", prefix, i)
		}
	}
	hi, lo := w.relevance(column("h")), w.relevance(column("l"))
	return `x AS (SELECT ct.title_folded, ct.mixed, ` + strings.Join(perfect, " AND ") + ` AS perfect, ` + strings.Join(cols, ", ") + `,
			CASE WHEN ct.mixed THEN ` + any + ` ELSE nullif(concat_ws(' | ', ` + strings.Join(lacks, ", ") + `), '')::tsquery END AS extra
			FROM catalog_titles ct WHERE ct.title_vector @@ ` + any + ` OR ct.mixed),
		t AS MATERIALIZED (SELECT title_folded, mixed, perfect, extra, ` + top + ` AS top, CASE WHEN mixed THEN 1 ELSE ` + hi + ` END AS hi,
			` + lo + ` AS lo FROM x)`, any
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
