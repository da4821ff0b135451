package safe

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	const tok = "ghu_CANARYTOKEN0123456789"
	const secret = "s3cr/et+with=chars"
	for _, c := range []struct{ name, in, want string }{
		{"raw", "token " + tok + " is bad", "token [redacted] is bad"},
		{"twice", tok + "," + tok, "[redacted],[redacted]"},
		{"percent-encoded", "body=client_secret%3D" + "s3cr%2Fet%2Bwith%3Dchars", "body=client_secret%3D[redacted]"},
		{"form value", "client_secret=s3cr%2Fet%2Bwith%3Dchars&x=1", "client_secret=[redacted]&x=1"},
		{"json slash", `{"s":"s3cr\/et+with=chars"}`, `{"s":"[redacted]"}`},
		{"split by a control character", "ghu_CANARY\x07TOKEN0123456789", "[redacted]"},
		{"split by an escape sequence", "ghu_CANARY\x1b[31mTOKEN0123456789", "[redacted]"},
		{"other case", "application/" + strings.ToLower(tok), "application/[redacted]"},
		{"nothing to hide", "plain text", "plain text"},
		{"sanitised anyway", "a\x1b[2Jb", "ab"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := Redact(c.in, tok, secret, ""); got != c.want {
				t.Errorf("Redact(%q) = %q, want %q", c.in, got, c.want)
			}
		})
	}
	// A secret that holds another is replaced whole.
	if got := Redact("abcdefghij", "cdefghij", "abcdefghij"); got != Redacted {
		t.Errorf("nested secrets: %q", got)
	}
	// What Redact writes is not searched again.
	if got := Redact("xxxxxxxx", "xxxxxxxx", "redacted"); got != Redacted {
		t.Errorf("replacement searched again: %q", got)
	}
	// Cutting after redacting leaves no prefix of the secret.
	long := strings.Repeat("a", 10) + tok
	if got := Short(Redact(long, tok), 20); strings.Contains(got, "ghu_") {
		t.Errorf("Short(Redact) = %q", got)
	}
	// Values too short to tell from text are left alone.
	if got := Redact("unsupported_token_type", "s"); got != "unsupported_token_type" {
		t.Errorf("a one-letter secret: %q", got)
	}
	if !HasSecret("x "+tok, tok) || HasSecret("x", tok) || HasSecret("x", "") {
		t.Error("HasSecret")
	}
}
