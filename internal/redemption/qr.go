package redemption

import (
	"fmt"
	"html/template"
	"strings"

	"rsc.io/qr"
)

// QRSVG draws text as a QR code in SVG: one path of unit squares (runs of
// dark modules in a row joined), with the four-module quiet zone the
// standard asks for, scaled by the page. Error correction level M keeps
// it readable from a phone held over a scratched printout. The SVG is
// built from our own numbers only, so it is safe to inline in a page.
func QRSVG(text, label string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M)
	if err != nil {
		return "", fmt.Errorf("qr code: %w", err)
	}
	const quiet = 4
	n := code.Size + 2*quiet
	var path strings.Builder
	for y := 0; y < code.Size; y++ {
		for x := 0; x < code.Size; {
			if !code.Black(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < code.Size && code.Black(x+run, y) {
				run++
			}
			fmt.Fprintf(&path, "M%d %dh%dv1h-%dz", x+quiet, y+quiet, run, run)
			x += run
		}
	}
	svg := fmt.Sprintf(`<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" shape-rendering="crispEdges" role="img" aria-label="%s">`+
		`<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="%s"/></svg>`,
		n, n, template.HTMLEscapeString(label), n, n, path.String())
	return template.HTML(svg), nil // #nosec G203: numbers and an escaped label
}
