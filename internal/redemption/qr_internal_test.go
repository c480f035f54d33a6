package redemption

import (
	"fmt"
	"strings"
	"testing"

	"rsc.io/qr"
)

// The SVG draws exactly the modules of the QR code of the text: every
// dark module inside one of the path's runs, every light one outside.
func TestQRSVGDrawsTheCode(t *testing.T) {
	text := "https://reciproca.example/erogatore/convalida?codice=7KQ4TZM2X"
	svg, err := QRSVG(text, `Codice "QR"`)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := qr.Encode(text, qr.M)
	s := string(svg)
	if !strings.Contains(s, `aria-label="Codice &#34;QR&#34;"`) {
		t.Fatalf("label not escaped: %s", s[:200])
	}
	d := s[strings.Index(s, ` d="`)+4:]
	d = d[:strings.Index(d, `"`)]
	dark := map[[2]int]bool{}
	for _, cmd := range strings.Split(strings.TrimSuffix(d, "z"), "z") {
		var x, y, run, back int
		if _, err := fmt.Sscanf(cmd, "M%d %dh%dv1h-%d", &x, &y, &run, &back); err != nil || run != back {
			t.Fatalf("bad path command %q: %v", cmd, err)
		}
		for i := range run {
			dark[[2]int{x + i - 4, y - 4}] = true
		}
	}
	for y := range code.Size {
		for x := range code.Size {
			if code.Black(x, y) != dark[[2]int{x, y}] {
				t.Fatalf("module %d,%d: code %v, svg %v", x, y, code.Black(x, y), dark[[2]int{x, y}])
			}
		}
	}
}
