// Package grammar holds the syntax rules of RFC 6749 Appendix A that other
// packages check values against (scope-tokens and error codes), and the
// comparison of scope lists (RFC 6749 §3.3: order does not matter), and
// the spellings of client authentication styles (RFC 6749 §2.3.1). It needs
// nothing beyond the standard library's strings, so that a program which
// only reads ghlogin's configuration (the lean git credential helper) can
// apply the same rules as package oauth without linking its HTTP client.
package grammar

import (
	"fmt"
	"strings"
)

// MaxErrorCode bounds an error code; real ones are a few words.
const MaxErrorCode = 100

// IsErrorCode reports whether s is an error code as RFC 6749 §5.2 writes
// them: 1*NQSCHAR, NQSCHAR = %x20-21 / %x23-5B / %x5D-7E (printable ASCII
// without '"' and '\'), at most MaxErrorCode bytes.
func IsErrorCode(s string) bool {
	if s == "" || len(s) > MaxErrorCode {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c != ' ' && !IsNQChar(c) {
			return false
		}
	}
	return true
}

// IsScopeToken reports whether s is a scope-token (RFC 6749 §3.3):
// 1*NQCHAR, NQCHAR = %x21 / %x23-5B / %x5D-7E (printable ASCII without
// space, '"' and '\').
func IsScopeToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !IsNQChar(s[i]) {
			return false
		}
	}
	return true
}

// IsNQChar reports whether c is an NQCHAR (RFC 6749 Appendix A).
func IsNQChar(c byte) bool {
	return c == 0x21 || c >= 0x23 && c <= 0x5b || c >= 0x5d && c <= 0x7e
}

// SameScopes reports whether a and b hold the same scopes, in any order and
// counting each once.
func SameScopes(a, b []string) bool {
	set := func(v []string) map[string]bool {
		m := make(map[string]bool, len(v))
		for _, s := range v {
			m[s] = true
		}
		return m
	}
	sa, sb := set(a), set(b)
	if len(sa) != len(sb) {
		return false
	}
	for s := range sa {
		if !sb[s] {
			return false
		}
	}
	return true
}

// AuthStyle says how the client authenticates to the token endpoint.
type AuthStyle int

const (
	// AuthInBody sends client_id (and client_secret, if any) as form fields.
	// GitHub expects this.
	AuthInBody AuthStyle = iota
	// AuthBasic sends them with HTTP Basic authentication (RFC 6749 §2.3.1),
	// and client_id in the body too only when there is no secret.
	AuthBasic
)

// ParseAuthStyle reads "body" or "basic" (empty means body).
func ParseAuthStyle(s string) (AuthStyle, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "body", "params", "post":
		return AuthInBody, nil
	case "basic", "header":
		return AuthBasic, nil
	}
	return AuthInBody, fmt.Errorf("client auth %q: use \"body\" or \"basic\"", s)
}

// String returns "body" or "basic".
func (a AuthStyle) String() string {
	if a == AuthBasic {
		return "basic"
	}
	return "body"
}
