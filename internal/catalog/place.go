package catalog

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/reciproca/reciproca/internal/apperr"
)

// Place is an Italian municipality (comune) with the coordinates of its
// seat: the offline answer to "where" (no geocoder is reachable).
type Place struct {
	Code         string   `db:"code" json:"code"`
	Name         string   `db:"name" json:"name"`
	ProvinceCode string   `db:"province_code" json:"province_code"`
	ProvinceName string   `db:"province_name" json:"province_name"`
	RegionName   string   `db:"region_name" json:"region_name"`
	Postcodes    []string `db:"-" json:"postcodes"`
	Lat          float64  `db:"lat" json:"lat"`
	Lon          float64  `db:"lon" json:"lon"`
	Population   int      `db:"population" json:"population"`
}

// Label is "Name (PR)", how Italians write a municipality.
func (p Place) Label() string { return fmt.Sprintf("%s (%s)", p.Name, p.ProvinceCode) }

// LatLon is a point on Earth in degrees.
type LatLon struct {
	Lat, Lon float64
}

// Validate checks the point is on Earth.
func (p LatLon) Validate() error {
	if math.IsNaN(p.Lat) || math.IsNaN(p.Lon) || p.Lat < -90 || p.Lat > 90 || p.Lon < -180 || p.Lon > 180 {
		return invalidField("near", "coordinates must be a latitude between -90 and 90 and a longitude between -180 and 180")
	}
	return nil
}

// ParseLatLon reads "<lat>,<lon>".
func ParseLatLon(s string) (LatLon, error) {
	a, b, ok := strings.Cut(s, ",")
	if !ok {
		return LatLon{}, invalidField("near", `near must be "<lat>,<lon>", e.g. 45.8566,9.3977`)
	}
	lat, err1 := strconv.ParseFloat(strings.TrimSpace(a), 64)
	lon, err2 := strconv.ParseFloat(strings.TrimSpace(b), 64)
	if err1 != nil || err2 != nil {
		return LatLon{}, invalidField("near", `near must be "<lat>,<lon>", e.g. 45.8566,9.3977`)
	}
	p := LatLon{lat, lon}
	return p, p.Validate()
}

// DistanceKm is the great-circle distance between a and b (haversine), for
// display and tests; searches compute distance in PostgreSQL.
func DistanceKm(a, b LatLon) float64 {
	const r = 6371.0
	rad := math.Pi / 180
	dLat := (b.Lat - a.Lat) * rad
	dLon := (b.Lon - a.Lon) * rad
	h := math.Sin(dLat/2)*math.Sin(dLat/2) + math.Cos(a.Lat*rad)*math.Cos(b.Lat*rad)*math.Sin(dLon/2)*math.Sin(dLon/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

var errNoPlace = apperr.New(apperr.Invalid, "unknown municipality: choose one from the list").With("field", "place_code")
