package plans

import (
	"embed"
	"log/slog"
	"strings"

	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/mail"
)

// The mails plans sends: mails/<lang>/<name>.txt, Italian first.
//
//go:embed mails
var mailFS embed.FS

var mails = mail.MustTemplates(mailFS, "mails", "it", "en")

// creditMail is what a credits mail says: how much, for what, until when.
type creditMail struct {
	Name, Amount, Plan, CategoriesIT, CategoriesEN, Until, Link string
}

// WalletPath is the employee's wallet page.
const WalletPath = "/portafoglio"

// categoryLabels names a plan's categories in lang, joined.
func categoryLabels(codes []string, lang string) string {
	names := make([]string, 0, len(codes))
	for _, c := range codes {
		if cat, ok := catalog.CategoryByCode(c); ok {
			names = append(names, strings.ToLower(cat.Label(lang)))
		}
	}
	return strings.Join(names, ", ")
}

// creditMails is one mail per credited employee. A mail that cannot be
// composed (a template bug) is logged and skipped: the credit stands.
func (s *Service) creditMails(pl Plan, items []chunkItem) []mail.Message {
	out := make([]mail.Message, 0, len(items))
	it, en := categoryLabels(pl.Categories, "it"), categoryLabels(pl.Categories, "en")
	until := pl.EndsOn.Format("02/01/2006")
	for _, i := range items {
		m, err := mails.Compose(i.Email, "credits", creditMail{Name: i.Name, Amount: euro(i.Amount), Plan: pl.Name,
			CategoriesIT: it, CategoriesEN: en, Until: until, Link: s.baseURL + WalletPath})
		if err != nil {
			slog.Error("composing the credits mail", "error", err)
			continue
		}
		out = append(out, m)
	}
	return out
}
