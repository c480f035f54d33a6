package app

import "testing"

func TestBadJSONField(t *testing.T) {
	for body, want := range map[string]string{
		`{"a":"ok","b":[1,{"c":"x"}]}`:             "",
		`{"a":"ok","b":[1,{"c":"x\u0000"}]}`:       "b[1].c",
		`{"a":"ok","b":[1,{"c":"x"},"\u0000"]}`:    "b[2]",
		"{\"a\":{\"b\":\"\xff\"}}":                 "a.b",
		"{\"a\":1,\"k\xff\":2}":                    "body",
		"{\"a\":{\"k\xff\":2}}":                    "a",
		`["\u0000"]`:                               "[0]",
		"{\"a\":\"x\x00y\"}":                       "a",
		`{"note":"the text \\u0000 is not a NUL"}`: "",
		`not json \u0000`:                          "",
	} {
		if got := badJSONField([]byte(body)); got != want {
			t.Errorf("badJSONField(%q) = %q, want %q", body, got, want)
		}
	}
}
