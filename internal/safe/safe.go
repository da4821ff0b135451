// Package safe holds ghlogin's two rules for what it does not control: text a
// server chose (error codes and descriptions, scopes, logins, claims) is made
// harmless before it reaches a terminal, and a URL read from a flag, a
// setting, a discovery document or a server reply is used only when it is
// absolute, carries no user info or fragment, and uses https — or http on a
// loopback address (RFC 8252 §8.3).
//
// JSON is Text's counterpart for a JSON document printed verbatim (it
// escapes instead of removing). The one redirect policy for every HTTP
// client is in the sub-package safehttp, so that programs which make no
// HTTP request (the lean git credential helper) can use these rules
// without linking net/http.
//
// Every package that prints server text or accepts an endpoint URL goes
// through here; none keeps a rule of its own.
package safe

import (
	"fmt"
	"net"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Text returns s fit to print on one line of a terminal. It removes what
// could move the cursor, change colours, set the window title, write the
// clipboard (OSC 52) or reorder what is shown:
//   - C0 and C1 control characters and DEL, and whole escape sequences:
//     every one starts with ESC (0x1b) or a C1 introducer such as CSI
//     (U+009B), and its parameters go with it, so "\x1b[31m" leaves nothing;
//   - bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E,
//     U+2066–U+2069), which can make text read differently from its bytes;
//   - invalid UTF-8, replaced by U+FFFD.
//
// Line breaks, tabs and the Unicode line and paragraph separators become
// spaces, so one value stays on one line.
func Text(s string) string {
	if isPlain(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size <= 1 {
			b.WriteRune(utf8.RuneError)
			i++
			continue
		}
		if r == 0x1b {
			i += size + escapeLen(s[i+size:])
			continue
		}
		if intro, ok := c1Introducers[r]; ok {
			// A C1 introducer (CSI U+009B, OSC U+009D, DCS U+0090, …) starts
			// the same sequence as ESC plus its 7-bit form.
			i += size + escapeLen(string(intro)+s[i+size:]) - 1
			continue
		}
		i += size
		switch {
		case r == '\n' || r == '\r' || r == '\t' || r == '\u2028' || r == '\u2029':
			b.WriteByte(' ')
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0):
		case isBidi(r):
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Short is Text cut to at most max bytes (on a character boundary), with
// "…" added when something was cut. max ≤ 0 means no limit.
func Short(s string, max int) string {
	s = Text(s)
	if max <= 0 || len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// isPlain reports whether s is printable ASCII already (the common case).
func isPlain(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}

// c1Introducers maps the C1 controls that open a sequence to the byte that
// follows ESC in their 7-bit form (ECMA-48 §5.3).
var c1Introducers = map[rune]byte{0x9b: '[', 0x9d: ']', 0x90: 'P', 0x9f: '_', 0x9e: '^', 0x98: 'X'}

func isBidi(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f ||
		(r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// escapeLen returns how many bytes of s, which follows an ESC, belong to
// that escape sequence (ECMA-48): a CSI sequence ("[" parameters, then a
// final byte 0x40–0x7e), a string sequence (OSC "]", DCS "P", APC "_",
// PM "^", SOS "X") up to its terminator (BEL or ESC \), or one more byte.
func escapeLen(s string) int {
	if s == "" {
		return 0
	}
	switch s[0] {
	case '[':
		for i := 1; i < len(s); i++ {
			if s[i] >= 0x40 && s[i] <= 0x7e {
				return i + 1
			}
			if s[i] < 0x20 || s[i] > 0x7e {
				return i
			}
		}
		return len(s)
	case ']', 'P', '_', '^', 'X':
		for i := 1; i < len(s); i++ {
			if s[i] == 0x07 {
				return i + 1
			}
			if s[i] == 0x1b {
				if i+1 < len(s) && s[i+1] == '\\' {
					return i + 2
				}
				return i
			}
		}
		return len(s)
	}
	if s[0] >= 0x20 && s[0] < 0x7f {
		return 1
	}
	return 0
}

// URLProblem says which rule of CheckURL a URL breaks, so that a caller can
// word its own message for its own setting or flag.
type URLProblem int

// The rules CheckURL applies.
const (
	// NotAbsolute is a URL that does not parse, or has no scheme or host.
	NotAbsolute URLProblem = iota + 1
	// UserInfo is a URL that carries a user name or password.
	UserInfo
	// Fragment is a URL with a #fragment (even an empty one).
	Fragment
	// PlainHTTP is an http URL whose host is not a loopback address.
	PlainHTTP
	// Scheme is a URL whose scheme is neither https nor http.
	Scheme
)

// URLError is a URL that may not be used, with the reason.
type URLError struct {
	// URL is the value as given; it is never a secret (URLs that carry user
	// info are refused without repeating it).
	URL string
	// Problem is the rule the URL breaks.
	Problem URLProblem
	// Reason says what is wrong, as a sentence fragment.
	Reason string
}

// Error says what is wrong with the URL.
func (e *URLError) Error() string {
	if e.URL == "" {
		return "invalid URL: " + e.Reason
	}
	return fmt.Sprintf("invalid URL %q: %s", Short(e.URL, 200), e.Reason)
}

// CheckURL parses s and accepts it when it is an absolute https URL, or an
// http URL whose host is a loopback address; it refuses user info (the
// value is then not repeated in the error, since it may hold a password),
// fragments, and anything else. Errors are *URLError.
func CheckURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return nil, &URLError{URL: s, Problem: NotAbsolute, Reason: "give an absolute URL such as https://auth.example.com/oauth/token"}
	}
	if u.User != nil {
		return nil, &URLError{Problem: UserInfo, Reason: "remove the user name and password from the URL"}
	}
	if u.Fragment != "" || strings.Contains(s, "#") {
		return nil, &URLError{URL: s, Problem: Fragment, Reason: "remove the #fragment from the URL"}
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !IsLoopback(u.Host) {
			return nil, &URLError{URL: s, Problem: PlainHTTP, Reason: "http:// is allowed only for loopback addresses (127.0.0.1, ::1, localhost); use https://"}
		}
	default:
		return nil, &URLError{URL: s, Problem: Scheme, Reason: "use an https:// URL (or http:// on a loopback address)"}
	}
	return u, nil
}

// IsLoopback reports whether a host (with or without a port, IPv6 in
// brackets or not) is a loopback address or "localhost".
func IsLoopback(hostport string) bool {
	h := hostport
	if sh, _, err := net.SplitHostPort(hostport); err == nil {
		h = sh
	}
	h = strings.Trim(h, "[]")
	if strings.EqualFold(h, "localhost") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}
