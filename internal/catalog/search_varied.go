package catalog

import "github.com/lib/pq"

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
// conditions collected so far keep.
func (b *searchSQL) varied() string {
	codes := make([]string, len(categories))
	for i, c := range categories {
		codes[i] = c.Code
	}
	return `SELECT id, NULL::float8 AS distance_m,
			(row_number() OVER (PARTITION BY title_folded COLLATE "C" ORDER BY hashtext(id::text), id) - 1) * 1e9::float8
			+ (dense_rank() OVER (PARTITION BY category ORDER BY hashtext(title_folded), title_folded COLLATE "C") - 1) * 1e3::float8
			+ coalesce(array_position(` + b.arg(pq.Array(codes)) + `::text[], category), 999) AS sort_key, ` + noTry + `
		FROM (SELECT o.id, o.title_folded, o.category FROM offerings o WHERE ` + b.conditions() + `) v`
}
