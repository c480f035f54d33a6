// Package migrations embeds the schema of Reciproca: the numbered SQL
// migrations (tables, indexes, grants) and the SQL engines (functions and
// triggers kept as current source, applied after the migrations).
//
// Numbering: each domain owns a hundred-block so that work on several
// domains at once never collides — 00001–00099 foundation, 00100 ledger,
// 00200 identity, 00300 catalogue, 00400 funding, 00500 plans,
// 00600 redemption, 00700 fund, 00800 reports, 00900 worker and mail
// delivery, 01000 payments (Stripe).
package migrations

import (
	"embed"
	"io/fs"

	ledgersql "github.com/reciproca/reciproca/internal/ledger/sql"
)

// FS holds every *.sql migration.
//
//go:embed *.sql
var FS embed.FS

// Engine is a set of SQL files defining functions and triggers (never
// tables or data) whose names all start with Prefix. It is installed after
// the numbered migrations while the table Requires exists, and re-installed
// as a whole when its files change.
type Engine struct {
	Name     string
	Prefix   string
	Requires string
	FS       fs.FS
}

// Engines are installed in this order.
var Engines = []Engine{
	{Name: "ledger", Prefix: "ledger_", Requires: "ledger_transactions", FS: ledgersql.FS},
}
