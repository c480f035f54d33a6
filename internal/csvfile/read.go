// Package csvfile reads CSV files as offices make them and writes CSV files
// that open cleanly in their spreadsheets. Excel in Italy saves with
// semicolons, in Windows-1252 unless told "CSV UTF-8" (then with a
// byte-order mark), and turns "00123" into the number 123; a cell that
// starts with = + - @ is a formula to it, so text from users must never
// start one (CSV injection). Every import and every export of the project
// goes through here.
package csvfile

import (
	"encoding/csv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text returns the file as UTF-8 text: a UTF-8 byte-order mark is
// dropped, and a file that is not valid UTF-8 is read as Windows-1252 (the
// encoding of Excel's plain "CSV" in Italy), so "Niccolò" survives either
// way.
func Text(raw []byte) string {
	s := string(raw)
	if utf8.ValidString(s) {
		return strings.TrimPrefix(s, "\ufeff")
	}
	var b strings.Builder
	b.Grow(len(raw) + len(raw)/8)
	for _, c := range raw {
		if c >= 0x80 && c < 0xa0 {
			b.WriteRune(cp1252[c-0x80])
		} else {
			b.WriteRune(rune(c)) // the rest of Windows-1252 is Latin-1
		}
	}
	return b.String()
}

// cp1252 is Windows-1252 from 0x80 to 0x9f; the five bytes it leaves
// undefined read as the C1 controls, as browsers read them.
var cp1252 = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

// NewReader returns a reader of text with the delimiter its first line
// uses most: semicolon, comma or tab. Rows may have any number of cells
// and leading spaces are dropped.
func NewReader(text string) *csv.Reader {
	first, _, _ := strings.Cut(text, "\n")
	r := csv.NewReader(strings.NewReader(text))
	best := 0
	for _, d := range []rune{',', ';', '\t'} {
		if n := strings.Count(first, string(d)); n > best {
			r.Comma, best = d, n
		}
	}
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	return r
}

// Column is one column an import understands: its name in the code and
// the headings people give it, in Italian and English (compared after
// Heading's normalisation).
type Column struct {
	Name     string
	Headings []string
	Required bool
}

// MapHeader finds cols in a header row: it returns each found column's
// index by name, and the names of the required columns missing. Headings
// nobody asked for are ignored, so a file may carry more columns.
func MapHeader(header []string, cols []Column) (index map[string]int, missing []string) {
	index = map[string]int{}
	for i, h := range header {
		h = Heading(h)
		for _, c := range cols {
			if _, seen := index[c.Name]; seen {
				continue
			}
			for _, want := range c.Headings {
				if h == Heading(want) {
					index[c.Name] = i
					break
				}
			}
		}
	}
	for _, c := range cols {
		if _, ok := index[c.Name]; c.Required && !ok {
			missing = append(missing, c.Name)
		}
	}
	return index, missing
}

// Heading normalises a column heading so that "Codice Fiscale",
// "codice_fiscale" and " CODICE-FISCALE " compare equal, and "Città" equals
// "citta": lower case, accents dropped, _ - . and runs of spaces made one
// space.
func Heading(h string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(strings.TrimSpace(h)) {
		if plain, ok := unaccented[r]; ok {
			r = plain
		}
		switch {
		case r == '_' || r == '-' || r == '.' || unicode.IsSpace(r):
			space = true
		default:
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		}
	}
	return b.String()
}

// unaccented folds the accented letters of Italian headings.
var unaccented = map[rune]rune{'à': 'a', 'á': 'a', 'è': 'e', 'é': 'e', 'ì': 'i', 'í': 'i', 'ò': 'o', 'ó': 'o', 'ù': 'u', 'ú': 'u'}
