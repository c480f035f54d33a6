package catalog

import (
	"fmt"

	"github.com/lib/pq"
)

// The catalogue browsed with no text and no place (a visitor, an employee
// whose company records no site) has no relevance and no distance to
// order by. Cheapest first filled the first page with one service offered
// by several providers at the same price. The varied order shows every
// title once before any title twice, and takes the categories in turn:
// the first title of each category, then the second of each, and so on.
// Which title of a category comes first, and which offering of a title,
// is fixed by hashes of the title and the offering's id: the same order
// at every page load, so keyset paging (by the sort key and id) holds,
// and no provider is always first.
//
// The sort key packs the three ranks into one float8, exactly (below
// 2^53): the offering's rank within its title × 1e9 + its title's rank
// within its category × 1e3 + the category's place in the taxonomy.

// varied is the candidates statement of SortVaried over the offerings the
// conditions collected so far keep. A first try (firstLayers) reads, for
// each of the catalogue's titles, only its first offerings by id: those
// of the cursor's layer and the next, from the index on (title, id). Every
// offering it leaves out has a larger key than all it reads, so when it
// finds a whole page after the cursor the page is exact; otherwise (the
// last page, a catalogue of few titles) every offering is ranked. The
// title's category for the round is its first offering's.
func (b *searchSQL) varied(q SearchQuery, after *cursor, firstLayers bool) string {
	codes := make([]string, len(categories))
	for i, c := range categories {
		codes[i] = c.Code
	}
	f := `SELECT o.id, o.title_folded, o.category, row_number() OVER (PARTITION BY o.title_folded COLLATE "C" ORDER BY o.id) AS k
			FROM offerings o WHERE ` + b.conditions()
	if firstLayers {
		layer := 0
		if after != nil {
			layer = int(after.Key / variedLayer)
		}
		f = `SELECT o.id, o.title_folded, o.category, row_number() OVER (PARTITION BY ct.title_folded ORDER BY o.id) AS k
			FROM catalog_titles ct CROSS JOIN LATERAL (SELECT o.id, o.title_folded, o.category FROM offerings o
				WHERE o.title_folded = ct.title_folded AND ` + b.conditions() + ` ORDER BY o.id LIMIT ` + b.arg(layer+2) + `) o`
	}
	return `WITH f AS MATERIALIZED (` + f + `),
		tc AS (SELECT title_folded, category, dense_rank() OVER (PARTITION BY category ORDER BY hashtext(title_folded), title_folded COLLATE "C") AS j
			FROM f WHERE k = 1)
		SELECT f.id, NULL::float8 AS distance_m, (f.k - 1) * ` + fmt.Sprint(variedLayer) + `::float8 + (tc.j - 1) * 1e3::float8
			+ coalesce(array_position(` + b.arg(pq.Array(codes)) + `::text[], tc.category), 999) AS sort_key, ` + noTry + `
		FROM f JOIN tc ON tc.title_folded = f.title_folded`
}

// variedLayer separates the layers of the varied order: an offering's
// rank within its title (from 0) × variedLayer + its title's rank within
// its category × 1e3 + the category's place (below 1e3 each).
const variedLayer = 1e9
