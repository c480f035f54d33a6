package db_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"

	"github.com/reciproca/reciproca/internal/db"
	"github.com/reciproca/reciproca/internal/db/dbtest"
)

// An inlined statement stores exactly what the same statement with
// parameters stores, for every kind of value the app sends, including
// text built to break out of its quotes.
func TestInlineStoresWhatParametersStore(t *testing.T) {
	t.Parallel()
	dbx := dbtest.Open(t)
	mustExec(t, dbx, `CREATE TABLE v (how text, s text, b bytea, i bigint, f float8, ok boolean, at timestamptz,
		id uuid, maybe uuid, tags text[], doc jsonb)`)
	rome, _ := time.LoadLocation("Europe/Rome")
	id := uuid.New()
	var none *uuid.UUID
	args := []any{`it's a "test" \x00\' ; DROP TABLE v; -- $2 €`, []byte{0, 1, 0xfe, '\\', '\''}, int64(-9223372036854775808),
		0.1, true, time.Date(2026, 3, 29, 2, 30, 0, 123456789, rome), id, none, pq.Array([]string{"a,b", `c"d`, `e\f`}),
		`{"k": "l'm \"n\" \\ o"}`}
	const insert = `INSERT INTO v VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	if _, err := dbx.Exec(insert, append([]any{"param"}, args...)...); err != nil {
		t.Fatal(err)
	}
	q, err := db.Inline(insert, append([]any{"inline"}, args...)...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dbx.Exec(q); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	var rows []string
	if err := dbx.Select(&rows, `SELECT concat_ws('|', s, encode(b, 'hex'), i, f, ok, at, id, maybe, tags, doc) FROM v ORDER BY how`); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0] != rows[1] {
		t.Fatalf("inline and param rows differ:\n%q", rows)
	}
	var n int
	if err := dbx.Get(&n, `SELECT count(*) FROM v`); err != nil || n != 2 {
		t.Fatalf("the table has %d rows (%v), want 2", n, err)
	}
}

func TestInlineRefusesWhatItCannotWrite(t *testing.T) {
	t.Parallel()
	if _, err := db.Inline(`SELECT $1, $2`, "one"); err == nil || !strings.Contains(err.Error(), "$2") {
		t.Fatalf("a placeholder without an argument: %v", err)
	}
	if _, err := db.Inline(`SELECT $1`, "nul\x00byte"); err == nil {
		t.Fatal("text with a NUL byte was accepted")
	}
	if _, err := db.Inline(`SELECT $1`, struct{}{}); err == nil {
		t.Fatal("a struct was accepted")
	}
}
