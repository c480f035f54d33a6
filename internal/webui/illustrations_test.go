package webui

import (
	"io/fs"
	"strings"
	"testing"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/web"
)

// Every category has its illustration, so no card falls back to nothing;
// and each is an SVG with nothing that would run or load from elsewhere.
func TestEveryCategoryHasAnIllustration(t *testing.T) {
	for _, c := range catalog.Categories() {
		b, err := fs.ReadFile(web.FS, "static/cat/"+c.Code+".svg")
		if err != nil {
			t.Errorf("category %s has no illustration: %v", c.Code, err)
			continue
		}
		s := string(b)
		if !strings.HasPrefix(s, "<svg ") || strings.Contains(s, "<script") || strings.Contains(s, "href") {
			t.Errorf("static/cat/%s.svg is not a plain SVG drawing", c.Code)
		}
	}
}
