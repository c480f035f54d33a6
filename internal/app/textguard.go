package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/labstack/echo/v4"

	"github.com/reciproca/reciproca/internal/apperr"
)

// textGuard refuses text PostgreSQL cannot store — a NUL character or bytes
// that are not UTF-8 — with a 400 naming the field, before any handler
// runs; without it such input reaches the database and fails there as an
// internal error. It reads every body encoding the app accepts:
//
//   - the query string, URL-encoded and multipart forms: every field's name
//     and value, and the names of uploaded files;
//   - JSON: every key and string, named by its path ("slots[0].title");
//   - any other text body: as a whole (field "body").
//
// What is left to the handler is content it parses itself: uploaded files
// and CSV bodies (the CSV import names the row and column of a bad cell)
// and binary bodies (photos).
func textGuard(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		req := c.Request()
		if bad := badText(req.URL.Query()); bad != "" {
			return badField(bad)
		}
		if bad, err := badBodyField(req); err != nil || bad != "" {
			if err != nil {
				return err
			}
			return badField(bad)
		}
		return next(c)
	}
}

func badField(field string) error {
	return apperr.New(apperr.Invalid, "%s contains characters that are not allowed (a NUL, or bytes that are not UTF-8 text)", field).
		With("field", field)
}

// maxFormMemory is how much of a multipart form is kept in memory; the rest
// of the uploaded files goes to temporary files (removed by net/http after
// the request). The body limit bounds the whole.
const maxFormMemory = 8 << 20

// badBodyField returns the first field of the request body with bad text,
// or "". Errors: invalid (a form that cannot be parsed), or the body
// limit's error.
func badBodyField(req *http.Request) (string, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return "", nil
	}
	media, _, _ := mime.ParseMediaType(req.Header.Get(echo.HeaderContentType))
	switch {
	case media == echo.MIMEApplicationForm:
		if err := req.ParseForm(); err != nil {
			return "", formError(err)
		}
		return badText(req.PostForm), nil
	case media == echo.MIMEMultipartForm:
		if err := req.ParseMultipartForm(maxFormMemory); err != nil {
			return "", formError(err)
		}
		if bad := badText(req.MultipartForm.Value); bad != "" {
			return bad, nil
		}
		for field, files := range req.MultipartForm.File {
			for _, f := range files {
				if !cleanText(f.Filename) {
					return field, nil
				}
			}
		}
		return "", nil
	case media == echo.MIMEApplicationJSON || strings.HasSuffix(media, "+json"):
		body, err := readBody(req)
		if err != nil {
			return "", err
		}
		return badJSONField(body), nil
	case media == "text/csv":
		return "", nil // checked cell by cell where it is parsed
	case strings.HasPrefix(media, "text/"):
		body, err := readBody(req)
		if err != nil || cleanText(string(body)) {
			return "", err
		}
		return "body", nil
	}
	return "", nil
}

// readBody reads the whole body and puts it back for the handler.
func readBody(req *http.Request) ([]byte, error) {
	body, err := io.ReadAll(req.Body)
	if err != nil {
		return nil, echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
	}
	req.Body = io.NopCloser(bytes.NewReader(body))
	return body, nil
}

func formError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
	}
	return apperr.New(apperr.Invalid, "malformed form")
}

// cleanText reports whether s is UTF-8 without NUL characters.
func cleanText(s string) bool { return strings.IndexByte(s, 0) < 0 && utf8.ValidString(s) }

// badText returns the first key whose name or values hold a NUL or invalid UTF-8.
func badText(values map[string][]string) string {
	for k, vs := range values {
		if !cleanText(k) {
			return url.QueryEscape(k)
		}
		for _, s := range vs {
			if !cleanText(s) {
				return k
			}
		}
	}
	return ""
}

// badJSONField returns the path of the first key or string in a JSON body
// that holds a NUL ("\u0000") or bytes that are not UTF-8, "body" when the
// bad bytes are outside any string, or "" when the body is clean (or not
// JSON at all: the handler says so).
func badJSONField(body []byte) string {
	badAt := bytes.IndexByte(body, 0)
	if !utf8.Valid(body) {
		if i := firstInvalidUTF8(body); badAt < 0 || i < badAt {
			badAt = i
		}
	}
	if badAt < 0 && !bytes.Contains(bytes.ToLower(body), []byte(`\u0000`)) {
		return ""
	}
	var p jsonPath
	dec := json.NewDecoder(bytes.NewReader(body))
	for {
		tok, err := dec.Token()
		if err != nil {
			if badAt >= 0 {
				return p.String("body")
			}
			return "" // a NUL escape in malformed JSON: the handler refuses it
		}
		s, isString := tok.(string)
		if (isString && strings.IndexByte(s, 0) >= 0) || (badAt >= 0 && dec.InputOffset() > int64(badAt)) {
			if p.atKey() { // a bad key is named by the object it is in
				p.frames = p.frames[:len(p.frames)-1]
			}
			return p.String("body")
		}
		p.next(tok)
	}
}

func firstInvalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 {
			return i
		}
		i += n
	}
	return -1
}

// jsonPath follows where a token stream is: a frame per open object (the
// current key) or array (the current index).
type jsonPath struct{ frames []jsonFrame }

type jsonFrame struct {
	object    bool
	key       string
	index     int
	expectKey bool
}

func (p *jsonPath) atKey() bool {
	return len(p.frames) > 0 && p.frames[len(p.frames)-1].expectKey
}

// push names the current key of the innermost object.
func (p *jsonPath) push(key string) {
	p.frames[len(p.frames)-1].key = key
	p.frames[len(p.frames)-1].expectKey = false
}

// next moves past tok.
func (p *jsonPath) next(tok json.Token) {
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			p.frames = append(p.frames, jsonFrame{object: true, expectKey: true})
			return
		case '[':
			p.frames = append(p.frames, jsonFrame{})
			return
		default: // the end of a value in the enclosing frame
			p.frames = p.frames[:len(p.frames)-1]
		}
	case string:
		if p.atKey() {
			p.push(t)
			return
		}
	}
	if len(p.frames) == 0 {
		return
	}
	top := &p.frames[len(p.frames)-1]
	if top.object {
		top.expectKey = true
	} else {
		top.index++
	}
}

// String is the path ("slots[0].title"), or whole when it is empty.
func (p *jsonPath) String(whole string) string {
	var b strings.Builder
	for _, f := range p.frames {
		switch {
		case f.object && f.key == "" && f.expectKey:
		case f.object:
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(f.key)
		default:
			b.WriteString("[" + strconv.Itoa(f.index) + "]")
		}
	}
	if b.Len() == 0 {
		return whole
	}
	return b.String()
}
