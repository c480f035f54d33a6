package plans

import (
	"context"
	"fmt"
	"io"

	"github.com/reciproca/reciproca/internal/auth"
	"github.com/reciproca/reciproca/internal/csvfile"
)

// WriteReportCSV writes the welfare report of filter for Italian Excel,
// one row per figure: sezione (partecipazione, spesa, residui), piano,
// voce (the tax bucket, the residual outcome), persone, importo,
// percentuale. A suppressed cell reads "<5" and carries no amount.
func (s *Service) WriteReportCSV(ctx context.Context, p *auth.Principal, f ReportFilter, w io.Writer) error {
	r, err := s.WelfareReport(ctx, p, f)
	if err != nil {
		return err
	}
	scope := "tutti i piani " + fmt.Sprint(r.Year)
	for _, pl := range r.Plans {
		if r.PlanID != nil && pl.ID == *r.PlanID {
			scope = pl.Name
		}
	}
	cw := csvfile.NewWriter(w)
	if err := cw.Write("sezione", "piano", "voce", "persone", "importo", "percentuale"); err != nil {
		return err
	}
	for _, row := range r.Participation {
		cells := []string{"partecipazione", row.Plan.Name, "utilizzatori", "<5", "", ""}
		if !row.Suppressed {
			cells[3], cells[5] = fmt.Sprintf("%d su %d", row.Users, row.Credited), fmt.Sprint(row.RatePct)
		}
		if err := cw.Write(cells...); err != nil {
			return err
		}
	}
	for _, row := range r.Spend {
		if err := cw.Write(figure("spesa", scope, row.TaxBucket, row.Suppressed, row.People, row.Cents)...); err != nil {
			return err
		}
	}
	for _, row := range r.Residuals {
		if err := cw.Write(figure("residui", scope, row.Outcome, row.Suppressed, row.People, row.Cents)...); err != nil {
			return err
		}
	}
	return cw.Flush()
}

// figure is one CSV row of money about people, suppressed or not.
func figure(section, scope, item string, suppressed bool, people int, cents int64) []string {
	if suppressed {
		return []string{section, scope, item, "<5", "", ""}
	}
	return []string{section, scope, item, fmt.Sprint(people), csvEuro(cents), ""}
}

// csvEuro writes cents as Italian Excel reads an amount: 1234,56 (-0,50).
func csvEuro(cents int64) string {
	sign := ""
	if cents < 0 {
		sign = "-"
	}
	return fmt.Sprintf("%s%d,%02d", sign, abs(cents)/100, abs(cents)%100)
}
