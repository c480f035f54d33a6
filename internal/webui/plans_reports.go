package webui

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/plans"
)

// HR's welfare report: participation, spend by tax bucket and residuals,
// each a server-drawn chart with the same figures in a table, and a CSV.
// Suppressed cells (under plans.MinGroup people) have no bar and read
// "fewer than 5" in the table.

// reportPage is the report with its charts.
type reportPage struct {
	plans.Report
	Participation, Spend, Residuals chart
	// CSV is the link to the same report as CSV.
	CSV template.URL
}

// reportFilter reads ?anno= (default this year) and ?piano= (a plan id).
func reportFilter(c echo.Context) (plans.ReportFilter, error) {
	f := plans.ReportFilter{Year: time.Now().Year()}
	if v := strings.TrimSpace(c.QueryParam("anno")); v != "" {
		y, err := strconv.Atoi(v)
		if err != nil || y < 2000 || y > 2100 {
			return f, apperr.New(apperr.Invalid, "the year must be between 2000 and 2100").With("field", "anno")
		}
		f.Year = y
	}
	if v := c.QueryParam("piano"); v != "" {
		id, err := uuid.Parse(v)
		if err != nil {
			return f, apperr.New(apperr.NotFound, "plan not found").With("field", "piano")
		}
		f.PlanID = &id
	}
	return f, nil
}

func reportQuery(f plans.ReportFilter) string {
	q := url.Values{"anno": {strconv.Itoa(f.Year)}}
	if f.PlanID != nil {
		q.Set("piano", f.PlanID.String())
	}
	return q.Encode()
}

func (u *UI) welfareReport(c echo.Context) error {
	f, err := reportFilter(c)
	if err != nil {
		return err
	}
	r, err := u.deps.Plans.WelfareReport(c.Request().Context(), CurrentPrincipal(c), f)
	if err != nil {
		return err
	}
	l := lang(c)
	var part, spend, res []bar
	for _, p := range r.Participation {
		if !p.Suppressed {
			part = append(part, bar{Label: p.Plan.Name, Value: int64(p.RatePct), Text: fmt.Sprintf("%d%%", p.RatePct)})
		}
	}
	for _, s := range r.Spend {
		if !s.Suppressed {
			spend = append(spend, bar{Label: u.cat.T(l, "plans.bucket."+s.TaxBucket), Value: s.Cents, Text: formatEuro(s.Cents, l)})
		}
	}
	for _, s := range r.Residuals {
		if !s.Suppressed {
			res = append(res, bar{Label: u.cat.T(l, "plans.outcome."+s.Outcome), Value: s.Cents, Text: formatEuro(s.Cents, l)})
		}
	}
	pg := reportPage{Report: r, CSV: template.URL("/azienda/report.csv?" + reportQuery(f)),
		Participation: barChart("chart-participation", u.cat.T(l, "plans.report.participation"), part),
		Spend:         barChart("chart-spend", u.cat.T(l, "plans.report.spend"), spend),
		Residuals:     barChart("chart-residuals", u.cat.T(l, "plans.report.residuals"), res)}
	return u.r.render(c, http.StatusOK, "plans_report", u.page(c, pg))
}

// welfareReportCSV downloads the report of the same filter.
func (u *UI) welfareReportCSV(c echo.Context) error {
	f, err := reportFilter(c)
	if err != nil {
		return err
	}
	var b strings.Builder
	if err := u.deps.Plans.WriteReportCSV(c.Request().Context(), CurrentPrincipal(c), f, &b); err != nil {
		return err
	}
	c.Response().Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="welfare-report-%d.csv"`, f.Year))
	c.Response().Header().Set("Cache-Control", "no-store")
	return c.Blob(http.StatusOK, "text/csv; charset=utf-8", []byte(b.String()))
}
