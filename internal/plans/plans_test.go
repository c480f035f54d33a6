package plans_test

import (
	"errors"
	"testing"
	"time"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/plans"
)

func TestProRata(t *testing.T) {
	y := 2026
	for _, c := range []struct {
		name  string
		hired *time.Time
		pct   int
		want  int64
	}{
		{"full time, hired before the year", ptr(date("2020-05-01")), 100, 600_00},
		{"unknown hire date", nil, 100, 600_00},
		{"hired on 1 January", ptr(date("2026-01-01")), 100, 600_00},
		{"hired 20 March: 10/12", ptr(date("2026-03-20")), 100, 500_00},
		{"hired in December: 1/12", ptr(date("2026-12-31")), 100, 50_00},
		{"hired next year", ptr(date("2027-01-01")), 100, 0},
		{"half time", nil, 50, 300_00},
		{"half time, hired in July: 6/12 × 50%", ptr(date("2026-07-01")), 50, 150_00},
		{"rounded down to the cent", nil, 33, 198_00},
	} {
		if got := plans.ProRata(600_00, y, c.hired, c.pct); got.Cents != c.want {
			t.Errorf("%s: %d (%s), want %d", c.name, got.Cents, got.Basis, c.want)
		}
	}
	if got := plans.ProRata(100, y, ptr(date("2026-02-01")), 33); got.Cents != 30 { // 100 × 11 × 33 / 1200 = 30.25
		t.Errorf("rounding: %d, want 30", got.Cents)
	}
}

// A bad plan is refused naming the field, and nothing is created.
func TestPlanValidationNamesTheField(t *testing.T) {
	f := newFixture(t)
	f.category("impiegati")
	for _, c := range []struct {
		field string
		edit  func(*plans.PlanInput)
	}{
		{"ends_on", func(in *plans.PlanInput) { in.EndsOn = in.StartsOn.AddDate(0, 0, -1) }},
		{"name", func(in *plans.PlanInput) { in.Name = " " }},
		{"categories", func(in *plans.PlanInput) { in.Categories = []string{"casino"} }},
		{"residual_policy", func(in *plans.PlanInput) { in.ResidualPolicy = plans.ResidualPayroll }},
		{"residual_policy", func(in *plans.PlanInput) { in.Kind, in.Rules = plans.PdR, nil }},
		{"carry_over_until", func(in *plans.PlanInput) { in.ResidualPolicy = plans.ResidualCarryOver }},
		{"rules", func(in *plans.PlanInput) { in.Rules["impiegati"] = 0 }},
		{"rules", func(in *plans.PlanInput) { in.Rules = map[string]int64{"dirigenti": 100} }},
	} {
		in := thisYear(map[string]int64{"impiegati": 100_00})
		c.edit(&in)
		_, err := f.svc.CreatePlan(f.ctx, f.hrp(), in)
		var ae *apperr.Error
		if !errors.As(err, &ae) || ae.Fields["field"] != c.field {
			t.Errorf("%s: %v, want an error naming %s", c.field, err, c.field)
		}
	}
	if list, _ := f.svc.Plans(f.ctx, f.hrp()); len(list) != 0 {
		t.Fatalf("refused plans left %d rows", len(list))
	}
	pdr := thisYear(nil)
	pdr.Kind, pdr.ResidualPolicy = plans.PdR, plans.ResidualPensionFund
	if _, err := f.svc.CreatePlan(f.ctx, f.hrp(), pdr); err != nil {
		t.Fatalf("a PdR plan to the pension fund: %v", err)
	}
}
