package oauth

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/oauth/grammar"
)

// GrantedScopes returns the scopes the reply granted: its scope field when
// the reply had one, else requested (RFC 6749 §5.1: the field is
// "OPTIONAL, if identical to the scope requested by the client"). A scope
// field that is present but empty grants nothing (GitHub Apps answer so).
// The result is a new slice.
func (t *Token) GrantedScopes(requested []string) []string {
	if t.ScopeOmitted {
		return append([]string(nil), requested...)
	}
	return t.Scopes()
}

// SameScopes reports whether a and b hold the same scopes, in any order and
// counting each once (grammar.SameScopes).
func SameScopes(a, b []string) bool { return grammar.SameScopes(a, b) }

// IDTokenTimes reads the iat and exp claims of an ID token WITHOUT checking
// its signature, so that a caller can tell when the token it keeps needs
// renewing. It never decides whether to trust the token: that is what
// verifying it at login does (OpenID Connect Core 1.0 §3.1.3.7). Zero
// times come back for a value that is not a JWT or lacks the claims.
func IDTokenTimes(idToken string) (issued, expires time.Time) {
	parts := strings.Split(idToken, ".")
	if len(parts) != 3 || len(parts[1]) > 64<<10 {
		return time.Time{}, time.Time{}
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, time.Time{}
	}
	var claims struct {
		Iat json.Number `json:"iat"`
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(payload, &claims) != nil {
		return time.Time{}, time.Time{}
	}
	return numericDate(claims.Iat), numericDate(claims.Exp)
}

// numericDate reads a JWT NumericDate (RFC 7519 §2), whole seconds in UTC;
// zero when absent, negative or absurd.
func numericDate(n json.Number) time.Time {
	f, err := n.Float64()
	if err != nil || f <= 0 || f > 1<<40 {
		return time.Time{}
	}
	return time.Unix(int64(f), 0).UTC()
}
