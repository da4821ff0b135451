// Package when holds the rule for when an expiring token is refreshed
// (package refresh does the refreshing). It is apart so that programs which
// only read tokens (the lean git credential helper) decide exactly as
// refresh does whether a token can be served as it is, without linking the
// OAuth client.
package when

import (
	"time"

	"github.com/ghlogin/ghlogin/store"
)

// DefaultSkew is the longest a token is refreshed before it expires.
const DefaultSkew = 5 * time.Minute

// LifetimeFraction: a token is refreshed at the latest when 1/LifetimeFraction
// of its whole lifetime is left (see Window).
const LifetimeFraction = 4

// Window is how long before sec expires it is refreshed: min(skew, its
// whole lifetime / LifetimeFraction) when the lifetime is known
// (IssuedAt), else skew.
func Window(sec *store.Secret, skew time.Duration) time.Duration {
	if sec == nil {
		return skew
	}
	return Between(sec.IssuedAt, sec.ExpiresAt, skew)
}

// Between is Window for a token issued at issued that expires at expires
// (either may be zero: unknown).
func Between(issued, expires time.Time, skew time.Duration) time.Duration {
	if issued.IsZero() || expires.IsZero() || !expires.After(issued) {
		return skew
	}
	return min(skew, expires.Sub(issued)/LifetimeFraction)
}

// Due reports whether sec is inside its refresh window at now (see
// Window): what is left of its lifetime is at most the window. A token
// without an expiry is never due.
func Due(sec *store.Secret, now time.Time, skew time.Duration) bool {
	if sec == nil || sec.ExpiresAt.IsZero() {
		return false
	}
	return !now.Add(Window(sec, skew)).Before(sec.ExpiresAt)
}

// CanRefresh reports whether sec holds a refresh token that has not expired.
func CanRefresh(sec *store.Secret, now time.Time) bool {
	return sec != nil && sec.RefreshToken != "" &&
		(sec.RefreshTokenExpiresAt.IsZero() || now.Before(sec.RefreshTokenExpiresAt))
}
