package webui

import (
	"regexp"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
	"github.com/reciproca/reciproca/internal/catalog"
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
	if field := apperr.FieldOf(err); field != "" {
		f.fields[field] = f.u.plansMessage(f.lang, err)
	} else {
		f.Other = f.u.plansMessage(f.lang, err)
	}
	return nil
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

// parseEuroText reads euro typed in a form ("1.200,50", "40.000", "300").
func parseEuroText(s string) (int64, bool) {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "€"))
	if thousandsRe.MatchString(s) {
		s = strings.ReplaceAll(s, ".", "")
	}
	cents, err := catalog.ParseEuro(s)
	return cents, err == nil
}
