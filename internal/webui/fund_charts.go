package webui

import (
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/reciproca/reciproca/internal/fund"
)

// Charts drawn on the server as SVG: no script, readable by a screen
// reader through their title, and each page shows the same figures in a
// table next to the chart.

// chart is an SVG bar chart ready for a template.
type chart struct {
	Title string
	SVG   template.HTML
}

type bar struct {
	Label string
	Value int64
	Text  string // the value as people read it
}

// barChart draws one horizontal bar per value, scaled to the largest,
// each under its label: drawn at a phone's width (the SVG is never wider
// than its viewBox, and narrower only when the screen is), so its text
// stays the size of the page's on a phone and on a laptop alike.
// With no bars there is no chart, only its title (the table says there
// is nothing to show).
func barChart(id, title string, bars []bar) chart {
	if len(bars) == 0 {
		return chart{Title: title}
	}
	const width, valueW, rowH = 360, 110, 46
	height := rowH*len(bars) + 4
	var peak int64 = 1
	for _, b := range bars {
		peak = max(peak, b.Value)
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-labelledby="%s-title" class="chart" id="%s">`,
		width, height, width, height, id, id)
	fmt.Fprintf(&sb, `<title id="%s-title">%s</title>`, id, template.HTMLEscapeString(title))
	for i, b := range bars {
		y := 2 + i*rowH
		w := max(int(int64(width-valueW)*max(0, b.Value)/peak), 1)
		fmt.Fprintf(&sb, `<text x="0" y="%d" font-size="14" fill="#1b1b1b">%s</text>`, y+15, template.HTMLEscapeString(b.Label))
		fmt.Fprintf(&sb, `<rect x="0" y="%d" width="%d" height="16" fill="#1d5c4d"></rect>`, y+22, w)
		fmt.Fprintf(&sb, `<text x="%d" y="%d" font-size="14" fill="#1b1b1b">%s</text>`, w+6, y+35, template.HTMLEscapeString(b.Text))
	}
	sb.WriteString(`</svg>`)
	return chart{Title: title, SVG: template.HTML(sb.String())}
}

// inflowChart is the pool's inflows by month and source.
func inflowChart(inflows []fund.Inflow, l string, cat Catalogue) chart {
	type key struct {
		month  time.Time
		source string
	}
	sums := map[key]int64{}
	for _, in := range inflows {
		sums[key{in.Month, in.Source}] += in.Amount
	}
	keys := make([]key, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if !keys[i].month.Equal(keys[j].month) {
			return keys[i].month.Before(keys[j].month)
		}
		return keys[i].source < keys[j].source
	})
	var bars []bar
	for _, k := range keys {
		bars = append(bars, bar{Label: k.month.Format("01/2006") + " · " + cat.T(l, "fund.source."+k.source), Value: sums[k], Text: formatEuro(sums[k], l)})
	}
	return barChart("chart-inflows", cat.T(l, "fund.dashboard.inflows"), bars)
}

// envelopeChart is each envelope's available amount.
func envelopeChart(envs []fund.Envelope, l string, cat Catalogue) chart {
	var bars []bar
	for _, e := range envs {
		bars = append(bars, bar{Label: cat.T(l, "fund.theme."+string(e.Theme)), Value: e.Available, Text: formatEuro(e.Available, l)})
	}
	return barChart("chart-envelopes", cat.T(l, "fund.dashboard.envelopes"), bars)
}

// stateChart is how many interventions are in each state.
func stateChart(states []fund.StateCount, l string, cat Catalogue) chart {
	var bars []bar
	for _, s := range states {
		bars = append(bars, bar{Label: cat.T(l, "fund.status."+s.Status), Value: int64(s.Count), Text: fmt.Sprint(s.Count)})
	}
	return barChart("chart-states", cat.T(l, "fund.dashboard.states"), bars)
}
