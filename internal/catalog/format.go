package catalog

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/google/uuid"
)

// PhotoPath is where a stored photo is served (webui serves it, with
// long-lived cache headers; the API returns it as photo_url).
func PhotoPath(id uuid.UUID) string { return "/media/photos/" + id.String() }

// MapURL links a point to OpenStreetMap (no map is embedded: the link
// works offline of any tile server we would have to run).
func MapURL(lat, lon float64) string {
	return fmt.Sprintf("https://www.openstreetmap.org/?mlat=%.5f&mlon=%.5f#map=15/%.5f/%.5f", lat, lon, lat, lon)
}

// ParseEuro reads a price typed by a person ("14", "14,50", "14.5",
// "€ 1.200,00") into cents. Errors: invalid (not an amount, more than two
// decimals, negative, or above ten times the highest price).
func ParseEuro(s string) (int64, error) { return ParseEuroUpTo(s, MaxPriceCents*10) }

// ParseEuroUpTo is ParseEuro for any amount up to most cents.
func ParseEuroUpTo(s string, most int64) (int64, error) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "€"))
	s = strings.ReplaceAll(s, " ", "")
	// "1.200,50": dots group thousands when a comma marks the decimals.
	if strings.Contains(s, ",") {
		s = strings.ReplaceAll(s, ".", "")
		s = strings.Replace(s, ",", ".", 1)
	}
	whole, frac, _ := strings.Cut(s, ".")
	if whole == "" || len(frac) > 2 || strings.HasPrefix(whole, "-") {
		return 0, invalidField("price_cents", "the price must be an amount in euro, such as 14,50")
	}
	for len(frac) < 2 {
		frac += "0"
	}
	n, err := strconv.ParseInt(whole+frac, 10, 64)
	if err != nil || n > most {
		return 0, invalidField("price_cents", "the price must be an amount in euro, such as 14,50")
	}
	return n, nil
}
