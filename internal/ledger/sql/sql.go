// Package ledgersql holds the ledger's PL/pgSQL: the functions that write
// the ledger tables and the triggers that guard them, one current file per
// concern. The tables are in migrations/; these files are applied after
// them, as a whole, whenever they change (migrations.Engines, internal/db).
// docs/ledger.md describes what each function does and why it is in SQL.
//
// Rules for these files: every function and trigger is named ledger_…
// (what the engine installs is exactly what these files define: on a
// change every ledger_ function and trigger is dropped and the files are
// run again, in one transaction); statements are CREATE OR REPLACE, so a
// file can be run twice; no tables, no data.
package ledgersql

import "embed"

// FS holds the *.sql files.
//
//go:embed *.sql
var FS embed.FS
