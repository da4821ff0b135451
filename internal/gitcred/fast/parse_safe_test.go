package fast

import (
	"errors"
	"strings"
	"testing"
)

// TestParseErrorKeyIsSafeText checks that a key quoted in a parse error has
// been through safe.Short: no escape sequence or bidi control reaches git's
// terminal, and a long key is cut.
func TestParseErrorKeyIsSafeText(t *testing.T) {
	for key, want := range map[string]string{
		"\x1b]0;pwned\x07x\u202ey": `"xy"`,
		strings.Repeat("k", 100):   `"` + strings.Repeat("k", 40) + `…"`,
	} {
		_, err := Parse(strings.NewReader("protocol=https\n" + key + "=v\x00\n\n"))
		var pe *ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, "the value of "+want) {
			t.Errorf("key %q: %v, want it quoted as %s", key, err, want)
		}
	}
}
