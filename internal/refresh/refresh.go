// Package refresh renews expiring user tokens (GitHub App user tokens: ghu_…
// valid 8 hours, with a ghr_… refresh token valid 6 months) with the OAuth
// refresh_token grant, as GitHub documents in "Refreshing user access tokens".
//
// Refresh tokens rotate: each refresh returns a new pair and the old pair
// stops working. So a refresh happens under a cross-process lock per account,
// the secret is read again under the lock (another process may have refreshed
// it already), and the new pair replaces the old one in a single store write.
// Twenty git processes asking at once make exactly one refresh request.
package refresh

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// DefaultSkew is how long before expiry a token is refreshed.
const DefaultSkew = 5 * time.Minute

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
	// Skew: refresh when the token expires within this; zero means DefaultSkew.
	Skew time.Duration
	// LockTimeout bounds the wait for the account's refresh lock; zero
	// means DefaultLockTimeout.
	LockTimeout time.Duration
	// Current is the secret the caller has just read; nil means Token reads it.
	Current *store.Secret
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
}

func (e *NeedsLoginError) Error() string {
	msg := fmt.Sprintf("the token for %s@%s expired and could not be refreshed", e.Login, e.Host)
	if e.Reason != "" {
		msg += " (" + e.Reason + ")"
	}
	h := e.LoginHost
	if h == "" {
		h = e.Host
	}
	return msg + "; run ghlogin login --host " + h
}

func (e *NeedsLoginError) Unwrap() error { return e.Err }

// Due reports whether sec expires within skew of now and so should be
// refreshed. A token without an expiry is never due.
func Due(sec *store.Secret, now time.Time, skew time.Duration) bool {
	if sec == nil || sec.ExpiresAt.IsZero() {
		return false
	}
	return !now.Add(skew).Before(sec.ExpiresAt)
}

// CanRefresh reports whether sec holds a refresh token that has not expired.
func CanRefresh(sec *store.Secret, now time.Time) bool {
	return sec != nil && sec.RefreshToken != "" &&
		(sec.RefreshTokenExpiresAt.IsZero() || now.Before(sec.RefreshTokenExpiresAt))
}

// LockName is the name of the lock that serializes refreshes of one account.
func LockName(host, login string) string { return "refresh-" + host + "-" + login }

// Token returns a's secret, refreshed first when it expires within
// opts.Skew. A token that is not due is returned without any request or
// lock. When it is due, Token takes the account's refresh lock, reads the
// secret again, and only if it is still due posts grant_type=refresh_token
// and stores the new pair with Replace. A token that is due but still valid
// and has no refresh token is returned as it is.
//
// Errors: *NeedsLoginError when only a new login can help (no or expired
// refresh token with an expired token, or the server refused the refresh);
// anything else (network, 5xx, store) leaves the stored secret intact.
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
	if !Due(sec, clk.Now(), skew) {
		return sec, nil
	}
	if err := refreshable(a, sec, clk.Now()); err != nil || !CanRefresh(sec, clk.Now()) {
		return sec, err
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
		if !Due(cur, now, skew) {
			result = cur // another process refreshed it meanwhile
			return nil
		}
		if err := refreshable(a, cur, now); err != nil || !CanRefresh(cur, now) {
			result = cur
			return err
		}
		fresh, err := post(ctx, a, cur, opts, now)
		if err != nil {
			return err
		}
		if err := st.Replace(ctx, a.Host, a.Login, fresh); err != nil {
			// The server has rotated the pair; the old one no longer works.
			return &NeedsLoginError{Host: a.Host, Login: a.Login,
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
	return result, nil
}

// refreshable returns a *NeedsLoginError when sec is expired at now and has
// no usable refresh token, or has a refresh token that expired.
func refreshable(a store.Account, sec *store.Secret, now time.Time) error {
	switch {
	case sec.RefreshToken != "" && !CanRefresh(sec, now):
		return &NeedsLoginError{Host: a.Host, Login: a.Login, Reason: "the refresh token expired on " + sec.RefreshTokenExpiresAt.UTC().Format(time.RFC3339)}
	case sec.RefreshToken == "" && !now.Before(sec.ExpiresAt):
		return &NeedsLoginError{Host: a.Host, Login: a.Login, Reason: "there is no refresh token"}
	}
	return nil
}

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
	tok, err := client.Exchange(ctx, opts.TokenURL, opts.Credentials, form)
	if err != nil {
		var oe *oauth.Error
		if errors.As(err, &oe) {
			return nil, &NeedsLoginError{Host: a.Host, Login: a.Login, Reason: oe.Error(), Err: oe}
		}
		if errors.Is(err, context.Canceled) {
			return nil, err
		}
		return nil, fmt.Errorf("refreshing the token for %s@%s: %w", a.Login, a.Host, err)
	}
	return store.NewSecret(tok, nil, cur, now), nil
}
