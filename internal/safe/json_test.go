package safe

import (
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

func TestJSON(t *testing.T) {
	for in, want := range map[string]string{
		`{"sub":"octocat"}`:              `{"sub":"octocat"}`,
		"{\"sub\":\"a\u009b2Jb\"}":       `{"sub":"a\u009b2Jb"}`,
		"{\"sub\":\"evil\u202egnp\"}":    `{"sub":"evil\u202egnp"}`,
		"{\"x\":\"del\x7f\"}":            `{"x":"del\u007f"}`,
		"{\"x\":\"bad\xff\"}":            `{"x":"bad\ufffd"}`,
		"{\"x\":\"caf\u00e9 \u2028\"}":   `{"x":"café \u2028"}`,
		`{"x":"\u001b]52;c;QQ==\u0007"}`: `{"x":"\u001b]52;c;QQ==\u0007"}`,
	} {
		if got := string(JSON([]byte(in))); got != want {
			t.Errorf("JSON(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzJSON(f *testing.F) {
	for _, s := range []string{"", "octocat", "\x1b[31mx", "\u009b2J", "\u202e", "\xff\xfe", "\x7f", "é\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b, err := json.Marshal(map[string]any{"v": s, "k" + s: []any{s, 1}})
		if err != nil {
			return
		}
		out := JSON(b)
		var want, got any
		if err := json.Unmarshal(b, &want); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("JSON(%q) = %q is not valid JSON: %v", b, out, err)
		}
		if !reflect.DeepEqual(want, got) {
			t.Fatalf("JSON(%q) = %q changes the values", b, out)
		}
		if !utf8.Valid(out) {
			t.Fatalf("JSON(%q) is not valid UTF-8", b)
		}
		for _, r := range string(out) {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("JSON(%q) = %q keeps %U", b, out, r)
			}
		}
	})
}
