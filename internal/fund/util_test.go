package fund_test

import (
	"encoding/json"
	"errors"
)

func errorsAs(err error, target any) bool { return errors.As(err, target) }

func toInt(v any) int64 {
	switch n := v.(type) {
	case float64:
		return int64(n)
	case int64:
		return n
	case int:
		return int64(n)
	case json.Number:
		i, _ := n.Int64()
		return i
	}
	return -1
}
