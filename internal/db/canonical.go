package db

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"time"
)

// CanonicalJSON encodes v as JSON in the one normal form Reciproca compares
// requests by, so that two encodings of the same request are equal byte for
// byte:
//
//   - object keys are sorted (bytewise), with no insignificant whitespace
//     and no HTML escaping;
//   - a number with an integral value is written as an integer ("1.0",
//     "1e2" → "1", "100"); any other number in Go's shortest form;
//   - a string that is an RFC 3339 timestamp is written in UTC at
//     microsecond precision, PostgreSQL's ("2026-03-01T09:00:00+01:00" →
//     "2026-03-01T08:00:00.000000Z").
//
// HTTP idempotency keys (Idempotent) and the ledger's keys hash requests by
// this rule, so a client that resends a request from another time zone, or
// with its fields in another order, is recognised as the same request.
func CanonicalJSON(v any) ([]byte, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		return nil, err
	}
	x, err = normalise(x)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(x); err != nil { // maps are encoded with sorted keys
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// RequestHash is the SHA-256 of operation, a colon and the request's
// CanonicalJSON: what an idempotency key is checked against.
func RequestHash(operation string, request any) ([]byte, error) {
	c, err := CanonicalJSON(request)
	if err != nil {
		return nil, fmt.Errorf("hashing %s request: %w", operation, err)
	}
	h := sha256.New()
	h.Write([]byte(operation + ":"))
	h.Write(c)
	return h.Sum(nil), nil
}

// Digest stands for bytes in a request (an uploaded file, a photo): the
// hex SHA-256, so a request hash does not encode megabytes.
func Digest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// CanonicalTime is the instant t as requests are compared by it: in UTC,
// rounded to the microsecond as PostgreSQL stores it (so a time read back
// from the database is the same instant). The ledger's request hashes use
// it too.
func CanonicalTime(t time.Time) time.Time { return t.UTC().Round(time.Microsecond) }

// canonicalTime is how CanonicalJSON writes a timestamp.
const canonicalTime = "2006-01-02T15:04:05.000000Z"

func normalise(x any) (any, error) {
	switch v := x.(type) {
	case map[string]any:
		for k, e := range v {
			n, err := normalise(e)
			if err != nil {
				return nil, err
			}
			v[k] = n
		}
		return v, nil
	case []any:
		for i, e := range v {
			n, err := normalise(e)
			if err != nil {
				return nil, err
			}
			v[i] = n
		}
		return v, nil
	case json.Number:
		return canonicalNumber(v)
	case string:
		if len(v) >= len("2006-01-02T15:04:05Z") && v[10] == 'T' {
			if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
				return CanonicalTime(t).Format(canonicalTime), nil
			}
		}
		return v, nil
	default: // bool, nil
		return v, nil
	}
}

// canonicalNumber writes an integral value as an integer, exactly however
// large, and any other value in Go's shortest float64 form.
func canonicalNumber(n json.Number) (json.Number, error) {
	r, ok := new(big.Rat).SetString(string(n))
	if !ok {
		return "", fmt.Errorf("not a number: %q", n)
	}
	if r.IsInt() {
		return json.Number(r.Num().String()), nil
	}
	f, err := n.Float64()
	if err != nil {
		return "", err
	}
	return json.Number(strconv.FormatFloat(f, 'g', -1, 64)), nil
}
