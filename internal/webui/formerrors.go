package webui

import (
	"errors"

	"github.com/reciproca/reciproca/internal/apperr"
)

// fieldErrors are the messages to show next to each field of a refused
// form, in the person's language: every field at fault at once (the
// domain names them in the "fields" detail, or one in "field").
type fieldErrors map[string]string

// At is the message for field, or "".
func (f fieldErrors) At(field string) string { return f[field] }

// add sets the message of a field the web checks itself (two passwords
// that differ), keeping the others.
func (f fieldErrors) add(field, msg string) fieldErrors {
	if f == nil {
		f = fieldErrors{}
	}
	f[field] = msg
	return f
}

// fieldErrors builds them for err with formMessage's keys, one field at a
// time; an error about no field gives none (it goes above the form).
func (u *UI) fieldErrors(lang string, err error) fieldErrors {
	var ae *apperr.Error
	if !errors.As(err, &ae) {
		return nil
	}
	fields, _ := ae.Fields["fields"].([]string)
	if f := apperr.FieldOf(err); f != "" && len(fields) == 0 {
		fields = []string{f}
	}
	out := fieldErrors{}
	for _, f := range fields {
		one := ae.With("field", f)
		if f != apperr.FieldOf(err) {
			one = one.With("reason", "")
		}
		out[f] = u.formMessage(lang, one)
	}
	return out
}
