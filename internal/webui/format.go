package webui

import (
	"fmt"
	"html/template"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // times are shown in Italian time wherever the server runs
)

// Numbers, money, distances and times are formatted by the pages, in the
// reader's language: handlers pass values, templates call these functions.

// italianTime is the zone times are shown in.
var italianTime = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Rome"); err == nil {
		return l
	}
	return time.UTC
}()

// formatFuncs are the template functions of lang.
func formatFuncs(lang string, cat Catalogue) template.FuncMap {
	return template.FuncMap{
		// tf is t with fmt verbs filled in: {{tf "catalog.search.count" 12}}.
		"tf": func(key string, args ...any) string { return fmt.Sprintf(cat.T(lang, key), args...) },
		// count writes n with key's noun, singular (key.one) for one:
		// {{count 1 "redemption.unit.session"}} is "1 incontro".
		"count": func(n int, key string) string {
			if n == 1 {
				key += ".one"
			}
			return fmt.Sprintf("%d %s", n, cat.T(lang, key))
		},
		"euro":     func(cents int64) string { return formatEuro(cents, lang) },
		"km":       func(km any) string { return formatKm(km, lang) },
		"date":     func(t any) string { return formatTime(t, dateLayout(lang)) },
		"datetime": func(t any) string { return formatTime(t, dateLayout(lang)+" 15:04") },
		"slot":     func(start, end time.Time) string { return formatSlot(start, end, lang) },
	}
}

// formatSlot writes when a slot is: its start, or for a slot over several
// days (a summer camp's week) its start and end, in Italian time.
func formatSlot(start, end time.Time, lang string) string {
	layout := dateLayout(lang) + " 15:04"
	s, e := start.In(italianTime), end.In(italianTime)
	if s.YearDay() == e.YearDay() && s.Year() == e.Year() || !e.After(s) {
		return s.Format(layout)
	}
	return s.Format(layout) + " – " + e.Format(layout)
}

// formatTime writes a time.Time or *time.Time ("" for nil) in Italian time.
func formatTime(v any, layout string) string {
	switch t := v.(type) {
	case time.Time:
		return t.In(italianTime).Format(layout)
	case *time.Time:
		if t != nil {
			return t.In(italianTime).Format(layout)
		}
		return ""
	}
	return fmt.Sprint(v)
}

func dateLayout(lang string) string {
	if lang == "en" {
		return "2 Jan 2006"
	}
	return "02/01/2006"
}

// formatEuro writes cents the way people of lang read money:
// "€ 1.200,50" in Italian, "€1,200.50" in English.
func formatEuro(cents int64, lang string) string {
	neg := cents < 0
	if neg {
		cents = -cents
	}
	whole := strconv.FormatInt(cents/100, 10)
	sep, dec := ".", ","
	if lang == "en" {
		sep, dec = ",", "."
	}
	var b strings.Builder
	for i, c := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteString(sep)
		}
		b.WriteRune(c)
	}
	out := fmt.Sprintf("%s%s%02d", b.String(), dec, cents%100)
	if lang == "en" {
		out = "€" + out
	} else {
		out = "€ " + out
	}
	if neg {
		out = "-" + out
	}
	return out
}

// formatKm writes a distance in km (a float64, *float64 or int; "" for
// nil): one decimal below 10 km ("0,8 km", "3.5 km"), whole km above.
func formatKm(v any, lang string) string {
	var km float64
	switch x := v.(type) {
	case float64:
		km = x
	case *float64:
		if x == nil {
			return ""
		}
		km = *x
	case int:
		km = float64(x)
	default:
		return fmt.Sprint(v)
	}
	s := strconv.FormatFloat(km, 'f', 0, 64)
	if km < 9.95 {
		s = strconv.FormatFloat(km, 'f', 1, 64)
		if lang != "en" {
			s = strings.Replace(s, ".", ",", 1)
		}
	}
	return s + " km"
}
