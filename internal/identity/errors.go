package identity

import (
	"errors"

	"github.com/reciproca/reciproca/internal/apperr"
)

// invalidField is an invalid error naming the field at fault.
func invalidField(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}

// allInvalid joins the checks of a form's fields into one invalid error
// naming every field at fault (details.fields) and the first as
// details.field, with its message and reason, so a form can mark them all
// at once; nil when every check passed.
func allInvalid(checks ...error) error {
	var first *apperr.Error
	var fields []string
	for _, err := range checks {
		var ae *apperr.Error
		if err == nil || !errors.As(err, &ae) {
			continue
		}
		if first == nil {
			first = ae
		}
		fields = append(fields, apperr.FieldOf(err))
	}
	if first == nil {
		return nil
	}
	return first.With("fields", fields)
}
