package identity

import (
	"github.com/reciproca/reciproca/internal/apperr"
)

// invalidField is an invalid error naming the field at fault.
func invalidField(field, format string, args ...any) error {
	return apperr.New(apperr.Invalid, format, args...).With("field", field)
}
