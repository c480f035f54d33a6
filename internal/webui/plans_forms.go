package webui

import (
	"errors"
	"math"
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
	"github.com/reciproca/reciproca/internal/ledger"
)

// Forms of the plans pages show every field at fault at once, each
// message next to its field: what the page itself cannot read (a date, an
// amount) is collected first, field by field; only a form that reads
// whole goes to the service, whose refusal names its field.

// formFaults collects the fields a plans form could not read, and the
// service's refusal.
type formFaults struct {
	u      *UI
	lang   string
	fields fieldErrors
	// Other is a refusal about no field (shown above the form).
	Other string
	// Status is the answer's status when refused.
	Status int
}

func (u *UI) newFaults(c echo.Context) *formFaults {
	return &formFaults{u: u, lang: lang(c), fields: fieldErrors{}}
}

// bad records that field could not be read.
func (f *formFaults) bad(field string) {
	if _, ok := f.fields[field]; !ok {
		f.fields[field] = f.u.plansMessage(f.lang, apperr.New(apperr.Invalid, "unreadable").With("field", field))
	}
	f.Status = 400
}

// refused records the service's error: next to its field, or above the
// form. An error the page cannot show (internal) is returned.
func (f *formFaults) refused(err error) error {
	switch apperr.CodeOf(err) {
	case apperr.Internal, apperr.Unavailable, apperr.Forbidden, apperr.Unauthorized:
		return err
	}
	f.Status = apperr.HTTPStatus(apperr.CodeOf(err))
	field := apperr.FieldOf(err)
	if field == "" {
		f.Other = f.u.plansMessage(f.lang, err)
		return nil
	}
	if _, ok := f.fields[field]; !ok {
		f.fields[field] = f.u.plansMessage(f.lang, err)
	}
	var ae *apperr.Error
	if errors.As(err, &ae) {
		others, _ := ae.Fields["fields"].([]string)
		for _, o := range others {
			if _, ok := f.fields[o]; !ok {
				f.fields[o] = f.u.plansMessage(f.lang, apperr.New(ae.Code, "%s", o).With("field", o))
			}
		}
	}
	return nil
}

// also adds the faults a check of what could be read finds (err from a
// domain's validation, or nil), beside those of fields that could not be
// read: the person sees every field at fault at once.
func (f *formFaults) also(err error) {
	if apperr.CodeOf(err) == apperr.Invalid {
		_ = f.refused(err)
	}
}

// Any reports whether the form was refused.
func (f *formFaults) Any() bool { return len(f.fields) > 0 || f.Other != "" }

// At is the message next to field.
func (f *formFaults) At(field string) string {
	if f == nil {
		return ""
	}
	return f.fields[field]
}

// plansMessage is the plans pages' message for err: plans.form.<code>.<field>.<reason>,
// plans.form.<code>.<field>, then the shared form messages.
func (u *UI) plansMessage(l string, err error) string {
	key := "plans.form." + string(apperr.CodeOf(err)) + "." + apperr.FieldOf(err)
	if r := reasonOf(err); r != "" {
		if m := u.cat.T(l, key+"."+r); m != key+"."+r {
			return m
		}
	}
	if m := u.cat.T(l, key); m != key {
		return m
	}
	return u.formMessage(l, err)
}

// thousandsRe is an amount written with dots between thousands and no
// decimals ("40.000"), as people in Italy write a salary.
var thousandsRe = regexp.MustCompile(`^\d{1,3}(\.\d{3})+$`)

// parseEuroText reads euro typed in a form ("1.200,50", "40.000", "300"),
// up to the largest amount the ledger takes; the domain sets lower limits.
func parseEuroText(s string) (int64, bool) { return parseEuroUpTo(s, ledger.MaxAmount) }

// euroTooLarge tells an amount written well but beyond what the ledger
// takes from a typo.
func euroTooLarge(s string) bool {
	_, ok := parseEuroUpTo(s, math.MaxInt64)
	return ok
}

func parseEuroUpTo(s string, most int64) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "€"))
	if thousandsRe.MatchString(s) {
		s = strings.ReplaceAll(s, ".", "")
	}
	cents, err := catalog.ParseEuroUpTo(s, most)
	return cents, err == nil
}

// missingCents is how much the budget lacks, when err says so.
func missingCents(err error) (int64, bool) {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return 0, false
	}
	cents, ok := ae.Fields["missing_cents"].(int64)
	return cents, ok
}
