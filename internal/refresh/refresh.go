// Package refresh renews expiring user tokens (GitHub App user tokens: ghu_…
// valid 8 hours, with a ghr_… refresh token valid 6 months) with the OAuth
// refresh_token grant, as GitHub documents in "Refreshing user access tokens".
//
// Refresh tokens rotate: each refresh returns a new pair and the old pair
// stops working. So a refresh happens under a cross-process lock per account,
// the secret is read again under the lock (another process may have refreshed
// it already), and the new pair replaces the old one in a single store write.
// Twenty git processes asking at once make exactly one refresh request.
//
// # When
//
// A token is refreshed when what is left of its lifetime drops below its
// window: min(Skew, a quarter of its whole lifetime) (Window), so a
// two-minute token is refreshed in its last 30 s rather than on every use,
// and an eight-hour one in its last five minutes. The whole lifetime is
// ExpiresAt - IssuedAt, both recorded by NewSecret; a secret that
// lacks IssuedAt has the window Skew. With Options.IDToken the ID token
// is held to the same rule.
//
// # When it fails
//
// A refresh token the server no longer accepts (invalid_grant, GitHub's
// bad_refresh_token, or invalid_request answered to a refresh) is a
// *NeedsLoginError with DeadRefreshToken set: only a new login helps.
// NeedsLoginError says whether the token has expired or only expires soon.
package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/refresh/when"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// DefaultSkew is the longest a token is refreshed before it expires
// (when.DefaultSkew).
const DefaultSkew = when.DefaultSkew

// LifetimeFraction: a token is refreshed at the latest when 1/LifetimeFraction
// of its whole lifetime is left (when.LifetimeFraction).
const LifetimeFraction = when.LifetimeFraction

// DefaultLockTimeout bounds the wait for another process's refresh.
const DefaultLockTimeout = 60 * time.Second

// GrantType is the refresh grant's grant_type.
const GrantType = "refresh_token"

// Store is the part of *store.Store a refresh uses.
type Store interface {
	Secret(ctx context.Context, a store.Account) (*store.Secret, error)
	// WithLock runs fn holding the cross-process lock called name.
	WithLock(ctx context.Context, name string, fn func() error) error
	// Replace stores sec as the account's secret and updates its index
	// entry, without changing which account is active.
	Replace(ctx context.Context, host, login string, sec *store.Secret) error
}

// Options configure Token.
type Options struct {
	// Client posts to the token endpoint; nil means a default oauth.Client.
	Client *oauth.Client
	// TokenURL is the host's token endpoint.
	TokenURL string
	// Credentials identify the OAuth app that issued the token (client_id,
	// and client_secret when one is configured).
	Credentials oauth.Credentials
	// Clock tells the time; nil means clock.Real.
	Clock clock.Clock
	// Skew: refresh at the latest when the token expires within this (see
	// Window); zero means DefaultSkew.
	Skew time.Duration
	// IDToken says that the caller needs the ID token (ghlogin token
	// --id-token): it is refreshed by the same rule, and a secret without a
	// usable one is an error (*NoIDTokenError, or *NeedsLoginError when
	// the refresh brought no new one).
	IDToken bool
	// OnRefresh, when set, is told just before a refresh request is made.
	OnRefresh func(Notice)
	// LockTimeout bounds the wait for the account's refresh lock; zero
	// means DefaultLockTimeout.
	LockTimeout time.Duration
	// Current is the secret the caller has just read; nil means Token reads it.
	Current *store.Secret
	// Rejected, when set, is an access token the server has just refused
	// (HTTP 401): while the stored token is still that one it is due,
	// whatever its expiry says, so a refresh token can replace it. Once
	// another process has replaced it, the new one is returned as it is.
	Rejected string
}

// NeedsLoginError means the token expired (or is about to) and cannot be
// refreshed: the refresh token is missing, expired or was refused. The
// stored secret is left as it was. Commands exit 4.
type NeedsLoginError struct {
	Host  string
	Login string
	// Reason says what went wrong, for example "the refresh token has expired".
	Reason string
	// Err is the server's refusal, when there was one (an *oauth.Error).
	Err error
	// LoginHost is the --host value that logs in to Host again (for
	// example http://127.0.0.1:8787 for a loopback http host); "" means Host.
	LoginHost string
	// Remaining is what was left of the token's lifetime when the refresh
	// failed: zero or less means it has expired (the zero value).
	Remaining time.Duration
	// DeadRefreshToken reports that the server no longer accepts the
	// refresh token (invalid_grant, bad_refresh_token, or invalid_request
	// answered to a refresh): logging in again is the only way, and the
	// endpoint settings are not at fault.
	DeadRefreshToken bool
}

// Error says whether the token expired or only expires soon, why it could
// not be refreshed, and how to log in again.
func (e *NeedsLoginError) Error() string {
	state := "expired"
	if e.Remaining > 0 {
		state = "expires in " + seconds(e.Remaining)
	}
	msg := fmt.Sprintf("the token for %s@%s %s and could not be refreshed", e.Login, e.Host, state)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	h := e.LoginHost
	if h == "" {
		h = e.Host
	}
	return msg + "; run ghlogin login --host " + h
}

// Unwrap returns the server's refusal.
func (e *NeedsLoginError) Unwrap() error { return e.Err }

// NoIDTokenError means the caller asked for the ID token (Options.IDToken)
// of an account that has none: a GitHub host, or a login without the
// openid scope.
type NoIDTokenError struct{ Host, Login string }

// Error names the account.
func (e *NoIDTokenError) Error() string {
	return fmt.Sprintf("the account %s@%s has no ID token", e.Login, e.Host)
}

// Notice tells, just before a refresh request, why it is made.
type Notice struct {
	Host, Login string
	// Remaining is what is left of the token's lifetime (zero or less:
	// expired).
	Remaining time.Duration
	// IDToken reports that the ID token, not the access token, is due.
	IDToken bool
}

// String reads "the token for L@H expires in 42 s, refreshing" or "the
// token for L@H expired 3 s ago, refreshing".
func (n Notice) String() string {
	what := "token"
	if n.IDToken {
		what = "ID token"
	}
	state := "expired"
	switch {
	case n.Remaining > 0:
		state = "expires in " + seconds(n.Remaining)
	case n.Remaining < -time.Second:
		state = "expired " + seconds(-n.Remaining) + " ago"
	}
	return fmt.Sprintf("the %s for %s@%s %s, refreshing", what, n.Login, n.Host, state)
}

// seconds writes d as whole seconds ("42 s"), rounded up so that a token
// with 0.4 s left does not read "expires in 0 s".
func seconds(d time.Duration) string {
	return fmt.Sprintf("%d s", int64((d+time.Second-1)/time.Second))
}

// Window is how long before sec expires it is refreshed (when.Window).
func Window(sec *store.Secret, skew time.Duration) time.Duration { return when.Window(sec, skew) }

// Due reports whether sec is inside its refresh window at now (when.Due).
func Due(sec *store.Secret, now time.Time, skew time.Duration) bool { return when.Due(sec, now, skew) }

// IDTokenDue reports whether sec's ID token is inside its refresh window at
// now, by the same rule, its lifetime read from its iat and exp. A secret
// without an ID token, or one whose expiry is unknown, is never due.
func IDTokenDue(sec *store.Secret, now time.Time, skew time.Duration) bool {
	if sec == nil || sec.IDToken == "" {
		return false
	}
	iat, exp := oauth.IDTokenTimes(sec.IDToken)
	if exp.IsZero() {
		exp = sec.IDTokenExpiresAt
	}
	if exp.IsZero() {
		return false
	}
	return !now.Add(when.Between(iat, exp, skew)).Before(exp)
}

// CanRefresh reports whether sec holds a refresh token that has not
// expired (when.CanRefresh).
func CanRefresh(sec *store.Secret, now time.Time) bool { return when.CanRefresh(sec, now) }

// LockName is the name of the lock that serializes refreshes of one account.
func LockName(host, login string) string { return "refresh-" + host + "-" + login }

// Token returns a's secret, refreshed first when it is due (Due; with
// opts.IDToken, IDTokenDue too). A token that is not due is returned
// without any request or lock. When it is due, Token takes the account's
// refresh lock, reads the secret again, and only if it is still due posts
// grant_type=refresh_token and stores the new pair with Replace. A token
// that is due but still valid and has no refresh token is returned as it
// is.
//
// Errors: *NeedsLoginError when only a new login can help (no or expired
// refresh token with an expired token, or the server refused the refresh);
// *NoIDTokenError (opts.IDToken, an account without one); anything else
// (network, 5xx, store) leaves the stored secret intact.
func Token(ctx context.Context, st Store, a store.Account, opts Options) (*store.Secret, error) {
	clk := opts.Clock
	if clk == nil {
		clk = clock.Real{}
	}
	skew := opts.Skew
	if skew <= 0 {
		skew = DefaultSkew
	}
	sec := opts.Current
	if sec == nil {
		var err error
		if sec, err = st.Secret(ctx, a); err != nil {
			return nil, err
		}
	}
	due := func(sec *store.Secret, now time.Time) bool {
		return Due(sec, now, skew) || opts.IDToken && IDTokenDue(sec, now, skew) ||
			opts.Rejected != "" && sec.Token == opts.Rejected
	}
	if !due(sec, clk.Now()) {
		return checkIDToken(a, sec, clk.Now(), opts)
	}
	if err := refreshable(a, sec, clk.Now()); err != nil || !CanRefresh(sec, clk.Now()) {
		if err != nil {
			return sec, err
		}
		return checkIDToken(a, sec, clk.Now(), opts)
	}
	lockTimeout := opts.LockTimeout
	if lockTimeout <= 0 {
		lockTimeout = DefaultLockTimeout
	}
	lctx, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	var result *store.Secret
	locked := false
	err := st.WithLock(lctx, LockName(a.Host, a.Login), func() error {
		locked = true
		cur, err := st.Secret(ctx, a)
		if err != nil {
			return err
		}
		now := clk.Now()
		if !due(cur, now) {
			result = cur // another process refreshed it meanwhile
			return nil
		}
		if err := refreshable(a, cur, now); err != nil || !CanRefresh(cur, now) {
			result = cur
			return err
		}
		if opts.OnRefresh != nil {
			n := Notice{Host: a.Host, Login: a.Login, Remaining: cur.ExpiresAt.Sub(now)}
			if !Due(cur, now, skew) {
				_, exp := oauth.IDTokenTimes(cur.IDToken)
				n.IDToken, n.Remaining = true, exp.Sub(now)
			}
			opts.OnRefresh(n)
		}
		fresh, err := post(ctx, a, cur, opts, now)
		if err != nil {
			return err
		}
		if err := st.Replace(ctx, a.Host, a.Login, fresh); err != nil {
			// The server has rotated the pair; the old one no longer works.
			return &NeedsLoginError{Host: a.Host, Login: a.Login, Remaining: cur.ExpiresAt.Sub(now),
				Reason: "the new token could not be saved: " + err.Error(), Err: err}
		}
		result = fresh
		return nil
	})
	if err != nil {
		if !locked && lctx.Err() != nil && ctx.Err() == nil {
			return nil, fmt.Errorf("waiting for another ghlogin process to refresh the token for %s@%s timed out after %s; try again", a.Login, a.Host, lockTimeout)
		}
		return nil, err
	}
	return checkIDToken(a, result, clk.Now(), opts)
}

// checkIDToken, when the caller needs the ID token, makes sure sec has one
// that has not expired.
func checkIDToken(a store.Account, sec *store.Secret, now time.Time, opts Options) (*store.Secret, error) {
	if !opts.IDToken || sec == nil {
		return sec, nil
	}
	if sec.IDToken == "" {
		return nil, &NoIDTokenError{Host: a.Host, Login: a.Login}
	}
	_, exp := oauth.IDTokenTimes(sec.IDToken)
	if !exp.IsZero() && !now.Before(exp) {
		return nil, &NeedsLoginError{Host: a.Host, Login: a.Login, Remaining: sec.ExpiresAt.Sub(now),
			Reason: "the ID token expired and the server sent no new one with the refreshed token"}
	}
	return sec, nil
}

// refreshable returns a *NeedsLoginError when sec is expired at now and has
// no usable refresh token, or has a refresh token that expired.
func refreshable(a store.Account, sec *store.Secret, now time.Time) error {
	left := sec.ExpiresAt.Sub(now)
	switch {
	case sec.RefreshToken != "" && !CanRefresh(sec, now):
		return &NeedsLoginError{Host: a.Host, Login: a.Login, Remaining: left, Reason: "the refresh token expired on " + sec.RefreshTokenExpiresAt.UTC().Format(time.RFC3339)}
	case sec.RefreshToken == "" && !sec.ExpiresAt.IsZero() && !now.Before(sec.ExpiresAt):
		return &NeedsLoginError{Host: a.Host, Login: a.Login, Remaining: left, Reason: "there is no refresh token"}
	}
	return nil
}

// deadRefreshCodes are the OAuth errors that mean the refresh token itself
// is no longer accepted: invalid_grant (RFC 6749 §5.2), GitHub's
// bad_refresh_token, and invalid_request, which some servers answer for an
// unknown refresh token.
var deadRefreshCodes = map[string]bool{"invalid_grant": true, "bad_refresh_token": true, "invalid_request": true}

// post makes the refresh request and builds the new secret.
func post(ctx context.Context, a store.Account, cur *store.Secret, opts Options, now time.Time) (*store.Secret, error) {
	client := opts.Client
	if client == nil {
		client = &oauth.Client{}
	}
	form := url.Values{
		"grant_type":    {GrantType},
		"refresh_token": {cur.RefreshToken},
	}
	// The server issued the access and ID tokens this refresh replaces and
	// may echo them with the refresh token: none may reach the error
	// (oauth.Post removes the refresh token and the client secret, which
	// the request carries, and these).
	tok, err := client.Exchange(oauth.WithSecrets(ctx, cur.Token, cur.IDToken), opts.TokenURL, opts.Credentials, form)
	if err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) {
			nl := &NeedsLoginError{Host: a.Host, Login: a.Login, Reason: oe.Error(), Err: oe, Remaining: cur.ExpiresAt.Sub(now)}
			if deadRefreshCodes[oe.Code] {
				nl.DeadRefreshToken = true
				nl.Reason = "the refresh token is no longer valid: " + oe.Error()
			}
			return nil, nl
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("refreshing the token for %s@%s: %w", a.Login, a.Host, err)
	}
	return NewSecret(tok, nil, cur, now), nil
}
