package safe

import (
	"fmt"
	"unicode/utf8"
)

// JSON returns the JSON text b with every character that a terminal could
// act on but JSON may hold raw — DEL, the C1 controls, the bidirectional
// controls and the line and paragraph separators — written as a \uXXXX
// escape, and invalid UTF-8 as \ufffd. A decoder reads the same values
// from it (encoding/json already escapes the C0 controls), but its bytes
// show nothing but themselves on a terminal: use it to print a document that
// holds server text verbatim, such as a token's claims, where Text would
// change the values.
func JSON(b []byte) []byte {
	if isPlain(string(b)) || plainJSON(b) {
		return b
	}
	out := make([]byte, 0, len(b)+16)
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			out = append(out, `\ufffd`...)
		case escapeInJSON(r):
			out = fmt.Appendf(out, `\u%04x`, r)
		default:
			out = append(out, b[i:i+size]...)
		}
		i += size
	}
	return out
}

// plainJSON reports whether b needs no escape: valid UTF-8 without the
// characters JSON escapes.
func plainJSON(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	for _, r := range string(b) {
		if escapeInJSON(r) {
			return false
		}
	}
	return true
}

// escapeInJSON reports whether JSON escapes r: the characters Text removes
// that a JSON string may hold raw (tabs and newlines in JSON text are
// whitespace between tokens, and inside strings encoders escape them).
func escapeInJSON(r rune) bool {
	return r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r) || r == '\u2028' || r == '\u2029'
}
