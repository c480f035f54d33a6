package csvfile

import (
	"encoding/csv"
	"io"
	"regexp"
	"strings"
)

// Writer writes a CSV file for Italian Excel: UTF-8 with a byte-order mark
// (so accents survive), semicolons, CRLF line ends, and every cell made
// safe by Cell.
type Writer struct {
	w     *csv.Writer
	out   io.Writer
	begun bool
}

// NewWriter returns a Writer to w; the byte-order mark is written with the
// first row.
func NewWriter(w io.Writer) *Writer {
	cw := csv.NewWriter(w)
	cw.Comma = ';'
	cw.UseCRLF = true
	return &Writer{w: cw, out: w}
}

// Write writes one row, each cell through Cell.
func (w *Writer) Write(cells ...string) error {
	if !w.begun {
		w.begun = true
		if _, err := io.WriteString(w.out, "\ufeff"); err != nil {
			return err
		}
	}
	row := make([]string, len(cells))
	for i, c := range cells {
		row[i] = Cell(c)
	}
	return w.w.Write(row)
}

// Flush writes what is buffered and returns the first error of any Write.
func (w *Writer) Flush() error {
	w.w.Flush()
	return w.w.Error()
}

// plainNumber is a number a spreadsheet may read as one: "-12,50" and
// "1.200" are amounts, never formulas.
var plainNumber = regexp.MustCompile(`^[-+]?[0-9]+([.,][0-9]+)*$`)

// zeroCode is a code whose leading zeros matter: a postcode (00184), a
// badge number, a bank code.
var zeroCode = regexp.MustCompile(`^0[0-9]+$`)

// Cell returns c as it must be written so that a spreadsheet shows it as
// the same text: a cell starting with = + - @ (or a tab or carriage
// return, which Excel skips before looking) is a formula to the
// spreadsheet, so it gets a leading apostrophe, which Excel hides; digits
// with leading zeros are written as ="00184" so they stay text instead of
// becoming 184. Plain numbers (-12,50) pass unchanged.
func Cell(c string) string {
	switch {
	case c == "":
		return c
	case zeroCode.MatchString(c):
		return `="` + c + `"`
	case plainNumber.MatchString(c):
		return c
	case strings.ContainsRune("=+-@\t\r", rune(c[0])):
		return "'" + c
	}
	return c
}
