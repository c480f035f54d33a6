package webui

import (
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/reciproca/reciproca/internal/catalog"
)

// slotRow is one row of the offering form's bookable times, as typed:
// a day and a start picked with the browser's date and time pickers
// (Italian time), a length in minutes and a number of places. Problems
// are the message keys of what is wrong with it, Bad the inputs at fault.
type slotRow struct {
	N                           int // its number on the form, from 1
	Date, Time, Minutes, Places string
	Problems                    []string
	Bad                         map[string]bool
}

// blankSlotRows is how many empty rows the form offers for new times; a
// provider needing more saves and finds as many empty rows again.
const blankSlotRows = 3

// maxSlotRows bounds the rows read from one form (the catalogue takes
// at most 200 times per offering, and says so).
const maxSlotRows = 250

// The pickers' formats (HTML date and time inputs).
const (
	slotDateLayout = "2006-01-02"
	slotTimeLayout = "15:04"
)

// slotRowsOf shows saved slots as rows, followed by blank ones.
func slotRowsOf(slots []catalog.Slot) []slotRow {
	rows := make([]slotRow, 0, len(slots)+blankSlotRows)
	for _, sl := range slots {
		start := sl.StartsAt.In(italianTime)
		rows = append(rows, slotRow{Date: start.Format(slotDateLayout), Time: start.Format(slotTimeLayout),
			Minutes: strconv.Itoa(int(sl.EndsAt.Sub(sl.StartsAt).Minutes())), Places: strconv.Itoa(sl.Capacity)})
	}
	return withBlankRows(rows)
}

// withBlankRows adds the empty rows and numbers them all.
func withBlankRows(rows []slotRow) []slotRow {
	for range blankSlotRows {
		rows = append(rows, slotRow{})
	}
	for i := range rows {
		rows[i].N = i + 1
	}
	return rows
}

// parseSlotRows reads the rows slot_date_N, slot_time_N, slot_minutes_N
// and slot_places_N of form. An empty row is skipped; every other row is
// checked, all at once. ok is false when any row is wrong; rows are what
// was typed (with their problems), ready to show again.
func parseSlotRows(form url.Values) (rows []slotRow, slots []catalog.SlotInput, ok bool) {
	ok = true
	for i := 0; i < maxSlotRows; i++ {
		n := strconv.Itoa(i)
		vals, present := []string{}, false
		for _, k := range []string{"slot_date_", "slot_time_", "slot_minutes_", "slot_places_"} {
			v, has := form[k+n]
			present = present || has
			if has {
				vals = append(vals, strings.TrimSpace(v[0]))
			} else {
				vals = append(vals, "")
			}
		}
		if !present {
			break
		}
		r := slotRow{Date: vals[0], Time: vals[1], Minutes: vals[2], Places: vals[3]}
		if r.Date+r.Time+r.Minutes+r.Places == "" {
			continue
		}
		slot, checked := r.check()
		rows = append(rows, checked)
		if len(checked.Problems) > 0 {
			ok = false
			continue
		}
		slots = append(slots, slot)
	}
	return withBlankRows(rows), slots, ok
}

// check reads the row: its slot, and the row with every input at fault
// marked and its problems.
func (r slotRow) check() (catalog.SlotInput, slotRow) {
	day, errDay := time.ParseInLocation(slotDateLayout, r.Date, italianTime)
	at, errAt := time.Parse(slotTimeLayout, r.Time)
	minutes, errMin := strconv.Atoi(r.Minutes)
	places, errPlaces := strconv.Atoi(r.Places)
	r.Bad = map[string]bool{}
	for _, p := range []struct {
		input string
		bad   bool
	}{
		{"date", errDay != nil},
		{"time", errAt != nil},
		{"minutes", errMin != nil || minutes <= 0 || minutes > 24*60},
		{"places", errPlaces != nil || places < 1 || places > 1000},
	} {
		if p.bad {
			r.Bad[p.input] = true
			r.Problems = append(r.Problems, "catalog.slot.invalid."+p.input)
		}
	}
	if len(r.Problems) > 0 {
		return catalog.SlotInput{}, r
	}
	start := time.Date(day.Year(), day.Month(), day.Day(), at.Hour(), at.Minute(), 0, 0, italianTime)
	return catalog.SlotInput{StartsAt: start, EndsAt: start.Add(time.Duration(minutes) * time.Minute), Capacity: places}, r
}
