// Package web holds what the browser receives: html/template pages,
// the message catalogues (Italian first, English second) and static assets.
// Everything is embedded in the binary; internal/webui serves it.
package web

import "embed"

// FS holds templates/, i18n/ and static/.
//
//go:embed templates i18n static
var FS embed.FS
