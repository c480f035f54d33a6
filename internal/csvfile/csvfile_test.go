package csvfile

import (
	"bytes"
	"strings"
	"testing"
)

// An export of Italian Excel (semicolons, Windows-1252, a heading with an
// accent and spaces) reads as the same names and codes a UTF-8 file does.
func TestReadsItalianExcel(t *testing.T) {
	cols := []Column{{Name: "email", Headings: []string{"email", "e-mail"}, Required: true},
		{Name: "name", Headings: []string{"name", "nome"}, Required: true},
		{Name: "city", Headings: []string{"città"}},
		{Name: "badge", Headings: []string{"matricola"}}}
	files := map[string][]byte{
		"windows-1252": []byte("E-Mail;Nome;Citta';CITTA;Matricola\r\nn@example.com;Niccol\xf2 D\x92Amico;x;Forl\xec;00123\r\n"),
		"utf-8 bom":    []byte("\ufeffe_mail,nome,,Città,matricola\nn@example.com,Niccolò D’Amico,,Forlì,00123\n"),
		"tab":          []byte("email\tnome\tcitta\tmatricola\nn@example.com\tNiccolò D’Amico\tForlì\t00123\n"),
	}
	for name, raw := range files {
		r := NewReader(Text(raw))
		header, err := r.Read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		idx, missing := MapHeader(header, cols)
		if len(missing) != 0 {
			t.Fatalf("%s: missing %v in %q", name, missing, header)
		}
		row, err := r.Read()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := row[idx["name"]] + "|" + row[idx["city"]] + "|" + row[idx["badge"]]; got != "Niccolò D’Amico|Forlì|00123" {
			t.Errorf("%s: read %q", name, got)
		}
	}
	if _, missing := MapHeader([]string{"mail", "nome"}, cols); len(missing) != 1 || missing[0] != "email" {
		t.Errorf("missing = %v, want [email]", missing)
	}
}

// What the app writes cannot run a formula in the reader's spreadsheet,
// keeps leading zeros and accents, and reads back as the text written.
func TestWriterIsSafeForExcel(t *testing.T) {
	cells := map[string]string{
		`=HYPERLINK("http://x","y")`: `'=HYPERLINK("http://x","y")`,
		"+39 333 1234567":            "'+39 333 1234567",
		"-2+3":                       "'-2+3",
		"@SUM(A1)":                   "'@SUM(A1)",
		"\t=1":                       "'\t=1",
		"-12,50":                     "-12,50",
		"1.200,00":                   "1.200,00",
		"00184":                      `="00184"`,
		"0":                          "0",
		"Niccolò":                    "Niccolò",
		"":                           "",
	}
	for in, want := range cells {
		if got := Cell(in); got != want {
			t.Errorf("Cell(%q) = %q, want %q", in, got, want)
		}
	}
	var buf bytes.Buffer
	w := NewWriter(&buf)
	_ = w.Write("nome", "importo")
	_ = w.Write("=1+1; \"Niccolò\"", "-5")
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "\ufeffnome;importo\r\n") || strings.Count(out, "\ufeff") != 1 {
		t.Fatalf("written %q: want a BOM, semicolons and CRLF", out)
	}
	rows, err := NewReader(Text([]byte(out))).ReadAll()
	if err != nil || len(rows) != 2 || rows[1][0] != `'=1+1; "Niccolò"` || rows[1][1] != "-5" {
		t.Fatalf("read back %q, %v", rows, err)
	}
}
