package db

import (
	"database/sql/driver"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Inline returns query with its parameters $1 … $n replaced by quoted SQL
// literals of args, to send as a statement without parameters: lib/pq
// sends one of those in a single round trip (the simple protocol), where a
// parameterised statement takes two (parse and describe, then bind and
// execute). It is for the few hot paths whose round trips a person waits
// for, or that run while holding a hot row lock (a booking, a validation).
//
// Every value is written as a quoted, untyped literal (pq.QuoteLiteral),
// which the server types from its context as it types a parameter; so it is
// as safe as a parameter. nil is NULL; a driver.Valuer (uuid.UUID, pq.Array,
// a nil pointer) is converted as database/sql would; []byte is bytea (pass
// JSON as a string); time.Time is written the way lib/pq sends it.
// Placeholders are matched as text: query must not hold "$n" inside a
// string literal, a quoted identifier or a comment.
func Inline(query string, args ...any) (string, error) {
	lits := make([]string, len(args))
	for i, a := range args {
		lit, err := literal(a)
		if err != nil {
			return "", fmt.Errorf("db.Inline: argument $%d: %w", i+1, err)
		}
		lits[i] = lit
	}
	var bad error
	out := placeholder.ReplaceAllStringFunc(query, func(p string) string {
		n, _ := strconv.Atoi(p[1:])
		if n < 1 || n > len(lits) {
			bad = fmt.Errorf("db.Inline: %s without an argument (%d given)", p, len(lits))
			return p
		}
		return lits[n-1]
	})
	return out, bad
}

var placeholder = regexp.MustCompile(`\$[0-9]+`)

// literal is v as a quoted SQL literal, or NULL.
func literal(v any) (string, error) {
	v, err := driver.DefaultParameterConverter.ConvertValue(v)
	if err != nil {
		return "", err
	}
	switch x := v.(type) {
	case nil:
		return "NULL", nil
	case string:
		if strings.IndexByte(x, 0) >= 0 { // a parameter refuses it too, with the server's error
			return "", fmt.Errorf("text with a NUL byte")
		}
		return pq.QuoteLiteral(x), nil
	case []byte:
		return pq.QuoteLiteral(`\x` + fmt.Sprintf("%x", x)), nil
	case int64:
		return "'" + strconv.FormatInt(x, 10) + "'", nil
	case float64:
		return "'" + strconv.FormatFloat(x, 'g', -1, 64) + "'", nil
	case bool:
		return "'" + strconv.FormatBool(x) + "'", nil
	case time.Time:
		return pq.QuoteLiteral(string(pq.FormatTimestamp(x))), nil
	}
	return "", fmt.Errorf("unsupported type %T", v)
}
