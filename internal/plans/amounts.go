package plans

import (
	"fmt"
	"time"
)

// Pro-rata rule of an ordinary plan (documented for HR on the plan page
// and in the preview's "basis" column):
//
//   - an employee hired before the plan year gets 12/12; one hired during
//     it gets the months from the month of hire to December, that month
//     included (hired 20 March: 10/12); one hired after it gets nothing;
//   - a part-time employee gets the part-time percentage of that;
//   - the result is rounded down to the cent, so a pro-rated amount never
//     exceeds what the rule gives a full-time, full-year employee.
//
// The amount is decided by the rule, never chosen per person; a one-off
// correction (with a reason) is the only per-person change.

// Share is what the rule gives one employee, and why.
type Share struct {
	Cents  int64
	Months int
	Basis  string // "10/12 × 50%"
}

// ProRata applies the rule amount base to an employee hired on hired (nil:
// unknown, counted as before the year) working partTimePct percent, for
// plan year year.
func ProRata(base int64, year int, hired *time.Time, partTimePct int) Share {
	months := 12
	if hired != nil {
		switch hy := hired.Year(); {
		case hy > year:
			months = 0
		case hy == year:
			months = 12 - int(hired.Month()) + 1
		}
	}
	if partTimePct < 1 || partTimePct > 100 {
		partTimePct = 100
	}
	cents := base * int64(months) * int64(partTimePct) / 1200
	return Share{Cents: cents, Months: months, Basis: fmt.Sprintf("%d/12 × %d%%", months, partTimePct)}
}
