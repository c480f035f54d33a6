package catalog

import (
	"fmt"
	"sort"
	"strings"
)

// Titles first near a point: the first page of a search by relevance
// within a radius (the default order with text and a place), without
// ranking every match in the radius.
//
// Near a point an offering's score is its relevance ÷ (1 + km/blendKm),
// and the distance decays slowly: the page's last result often lies
// 15–20 km away, so a first try limited to the nearest offerings cannot
// tell it is complete. Titles bound scores better. The offerings of a
// title holding every word all have the title's relevance (top), so only
// their distances are read (p), and the page's last result among them
// (the cut) is known. An offering of any other title scores at most its
// title's bound hi ÷ (1 + km/blendKm): it can reach the cut only within
// blendKm × (hi/cut − 1) of the point, and those few are ranked one by
// one. An offering whose title matches no word scores at most
// outsideTitleMax ÷ (1 + km/blendKm), so those within blendKm ×
// (outsideTitleMax/cut − 1) are ranked too. Every offering left out
// scores below the cut: it cannot be on the page, nor change the place
// among its title's offerings (variety) of one that is, since it comes
// after it. So when the cut exists (the titles holding every word have at
// least a page of offerings in the radius) the page is the one ranking
// every match gives.

// titlesNear is the candidates statement of scope titles near a point (a
// first page). Its rows carry cut (NULL when the titles holding every word
// have fewer than a page of offerings in the radius) and perfect, how many
// of those offerings there were.
func (b *searchSQL) titlesNear(q SearchQuery, groups []queryGroup) string {
	// The radius is a condition of each part: the rectangle of latitudes
	// and longitudes for a title's offerings, the bounding box otherwise.
	dist := b.filter(q, nil, "", false)
	conds := b.conditions()
	titles, any := b.titleBounds(groups)
	ranked, relevance := b.ranking(q, groups, dist)
	last := b.arg(q.Limit - 1)
	blend := fmt.Sprint(blendKm * 1000)
	// within is the condition that an offering lies where a score bound
	// (over the cut's score, -cut.key) still reaches the cut; a metre
	// more, so that a score equal to the cut is not left out by rounding.
	radius := b.arg(q.RadiusKm * 1000)
	limited := func(bound string) string {
		return "least(" + radius + ", " + blend + " * (" + bound + " / -cut.key - 1) + 1)"
	}
	within := func(bound string) string {
		r := limited(bound)
		return "earth_box(" + b.point + ", " + r + ") @> o.geo AND " + dist + " <= " + r
	}
	// A title's offerings near the point are read from the index on
	// (title, lat, lon): a rectangle of latitudes and longitudes holding
	// the circle, then the exact distance.
	lat, lon := b.arg(q.Near.Lat), b.arg(q.Near.Lon)
	around := func(r string) string {
		dlat := "degrees(" + r + " / earth()) * 1.01 + 1e-5"
		dlon := "(" + dlat + ") / greatest(cos(radians(" + lat + "::float8)), 1e-3)"
		return "o.lat BETWEEN " + lat + " - " + dlat + " AND " + lat + " + " + dlat +
			" AND o.lon BETWEEN " + lon + " - " + dlon + " AND " + lon + " + " + dlon + " AND " + dist + " <= " + r
	}
	horizon := func(bound string) string {
		return around(limited(bound))
	}
	blended := func(rel string) string { return "(" + rel + ") / (1 + distance_m / " + blend + ")" }
	return `WITH ` + titles + `,
		pd AS MATERIALIZED (SELECT o.id, o.title_folded, ` + dist + ` AS distance_m, t.top FROM t
			JOIN offerings o ON o.title_folded = t.title_folded WHERE t.perfect AND ` + conds + ` AND ` + around(radius) + `),
		p AS MATERIALIZED (SELECT id, distance_m, ` + varietyKey + ` AS sort_key FROM
			(SELECT id, title_folded, distance_m, ` + blended("top") + ` AS score FROM pd) ps),
		cut AS MATERIALIZED (SELECT (SELECT sort_key FROM p ORDER BY sort_key, id OFFSET ` + last + ` LIMIT 1) AS key,
			(SELECT count(*) FROM p)::int AS n),
		n AS MATERIALIZED (SELECT t.title_folded, t.mixed, t.extra, t.hi, t.lo FROM t, cut
			WHERE NOT t.perfect AND -t.hi <= cut.key + 1e-9),
		m AS MATERIALIZED (SELECT ` + ranked + ` FROM n CROSS JOIN cut JOIN offerings o ON o.title_folded = n.title_folded
				WHERE ` + conds + ` AND o.search_vector @@ n.extra AND ` + horizon("n.hi") + `
` + b.outside(groups, ranked, conds, any, within) + `),
		s AS (SELECT id, title_folded, distance_m, ` + relevance + ` AS score FROM m
			UNION ALL
			SELECT id, title_folded, distance_m, ` + blended("lo") + ` FROM (SELECT o.id, n.title_folded, ` + dist + ` AS distance_m, n.lo
				FROM n CROSS JOIN cut JOIN offerings o ON o.title_folded = n.title_folded
				WHERE NOT n.mixed AND -n.lo <= cut.key + 1e-9 AND ` + conds + ` AND NOT o.search_vector @@ n.extra AND ` + horizon("n.lo") + `) l)
		SELECT r.id, r.distance_m, r.sort_key, NULL::float8 AS horizon_m, NULL::int AS scanned, cut.key AS cut, cut.n AS perfect
		FROM (SELECT id, distance_m, ` + varietyKey + ` AS sort_key FROM s UNION ALL SELECT id, distance_m, sort_key FROM p) r, cut`
}

// outside is the SQL of the offerings whose title matches no word of the
// query that could reach the cut, ranked (columns ranked), as parts of a
// UNION ALL each beginning with one. Such an offering scores at most
// outsideTitleMax × the weight of the groups it matches ÷ every group's
// weight: one whose heaviest group is g scores at most outsideTitleMax ×
// (g's weight and every lighter one's) ÷ the total, so it is read in g's
// part, within the distance where that still reaches the cut. A common
// word ("domicilio" beside "spesa") then costs nothing: no offering
// matching only it can reach the page.
func (b *searchSQL) outside(groups []queryGroup, ranked, conds, any string, within func(bound string) string) string {
	order := make([]int, len(groups))
	var total float64
	for i, g := range groups {
		order[i] = i
		total += g.Weight
	}
	sort.SliceStable(order, func(a, c int) bool { return groups[order[a]].Weight > groups[order[c]].Weight })
	var parts []string
	left := total
	for k, i := range order {
		bound := b.arg(outsideTitleMax * left / total)
		left -= groups[i].Weight
		heavier := make([]queryGroup, k)
		for j, h := range order[:k] {
			heavier[j] = groups[h]
		}
		part := `
			UNION ALL
			SELECT ` + ranked + ` FROM offerings o, cut WHERE -cut.key <= ` + bound + `::float8 AND ` + conds + `
				AND o.search_vector @@ ` + b.arg(groups[i].Query) + `::tsquery AND NOT o.title_vector @@ ` + any
		if k > 0 {
			part += ` AND NOT o.search_vector @@ ` + b.arg(anyGroup(heavier)) + `::tsquery`
		}
		parts = append(parts, part+`
				AND o.title_folded NOT IN (SELECT title_folded FROM t WHERE mixed) AND `+within(bound+"::float8"))
	}
	return strings.Join(parts, "")
}
