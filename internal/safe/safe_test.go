package safe

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestText(t *testing.T) {
	for _, c := range []struct{ name, in, want string }{
		{"plain", "octocat", "octocat"},
		{"csi colour", "\x1b[31mred\x1b[0m", "red"},
		{"csi clear screen", "a\x1b[2J\x1b[Hb", "ab"},
		{"osc 52 clipboard with BEL", "x\x1b]52;c;ZXZpbA==\x07y", "xy"},
		{"osc title with ST", "x\x1b]0;pwned\x1b\\y", "xy"},
		{"dcs", "x\x1bPq#0;2;0;0;0\x1b\\y", "xy"},
		{"c1 csi", "x\u009b31my", "xy"},
		{"c1 osc", "x\u009d52;c;QQ==\u0007y", "xy"},
		{"bare esc", "x\x1b", "x"},
		{"two-byte esc", "x\x1bcy", "xy"},
		{"bidi override", "abc\u202egnp.exe", "abcgnp.exe"},
		{"bidi isolate", "a\u2066b\u2069c", "abc"},
		{"arabic letter mark", "a\u061cb", "ab"},
		{"newlines", "line1\nline2\r\n", "line1 line2  "},
		{"line separator", "a\u2028b", "a b"},
		{"nul and del", "a\x00b\x7fc", "abc"},
		{"invalid utf8", "a\xffb", "a\ufffdb"},
		{"unicode kept", "Zoë 🐙", "Zoë 🐙"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Text(c.in); got != c.want {
				t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
}

func TestShort(t *testing.T) {
	if got := Short("abcdef", 3); got != "abc…" {
		t.Errorf("Short = %q", got)
	}
	if got := Short("ééé", 3); got != "é…" {
		t.Errorf("Short cuts inside a character: %q", got)
	}
	if got := Short("abc", 0); got != "abc" {
		t.Errorf("Short with no limit = %q", got)
	}
}

func TestCheckURL(t *testing.T) {
	for _, ok := range []string{
		"https://github.com/login/device/code",
		"http://127.0.0.1:8787/token",
		"http://[::1]:9/x",
		"http://localhost/x",
		"HTTPS://Example.com/x?q=1",
	} {
		if _, err := CheckURL(ok); err != nil {
			t.Errorf("CheckURL(%q): %v", ok, err)
		}
	}
	for _, c := range []struct {
		in, reason string
		problem    URLProblem
	}{
		{"notaurl", "absolute URL", NotAbsolute},
		{"/relative", "absolute URL", NotAbsolute},
		{"http://example.com/x", "loopback", PlainHTTP},
		{"http://127.0.0.1.example.com/x", "loopback", PlainHTTP},
		{"ftp://example.com/x", "https://", Scheme},
		{"https://example.com/x#frag", "fragment", Fragment},
		{"https://example.com/x#", "fragment", Fragment},
		{"mailto:a@b", "absolute URL", NotAbsolute},
	} {
		_, err := CheckURL(c.in)
		var ue *URLError
		if !errors.As(err, &ue) || !strings.Contains(ue.Reason, c.reason) || ue.Problem != c.problem {
			t.Errorf("CheckURL(%q) = %v, want a *URLError about %q (problem %d)", c.in, err, c.reason, c.problem)
		}
	}
	_, err := CheckURL("https://user:hunter2@example.com/x")
	var ue *URLError
	if !errors.As(err, &ue) || ue.Problem != UserInfo || strings.Contains(err.Error(), "hunter2") {
		t.Errorf("CheckURL with user info = %v; must refuse without repeating the password", err)
	}
}

func FuzzText(f *testing.F) {
	for _, s := range []string{"", "octocat", "\x1b[31mx", "\x1b]52;c;QQ==\x07", "\u202e", "\xff\xfe", "\x9b1m", "a\x1bPq\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Text(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Text(%q) is not valid UTF-8: %q", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("Text(%q) = %q keeps %U", s, out, r)
			}
		}
		if Text(out) != out {
			t.Fatalf("Text is not idempotent on %q", s)
		}
	})
}
