// Package migrations embeds the numbered SQL migrations of Reciproca.
//
// Numbering: each domain owns a hundred-block so that work on several
// domains at once never collides — 00001–00099 foundation, 00100 ledger,
// 00200 identity, 00300 catalogue, 00400 funding, 00500 plans,
// 00600 redemption, 00700 fund, 00800 reports.
package migrations

import "embed"

// FS holds every *.sql migration.
//
//go:embed *.sql
var FS embed.FS
