package session

import (
	"context"
	"errors"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// LoginWait configures BeginLogin.
type LoginWait struct {
	// Since is when the caller found it needed a login: a login for the
	// host that finished at or after Since is the caller's too (see
	// store.LoginWaitOptions.Since). Zero means the session's clock now.
	Since time.Time
	// OnWait hears whose login the caller waits for (see
	// store.LoginWaitOptions.OnWait).
	OnWait func(store.LoginOwner)
	// Recheck, once the caller holds the lease, looks for a usable token
	// for the host (the account User, else the active one) that someone
	// stored meanwhile without publishing a result (a login by token, an
	// older ghlogin): when there is one the caller uses it instead of
	// starting a flow. The git helper sets it: it needs a token, not a
	// new login.
	Recheck bool
	User    string
}

// WaitedLoginError is the failure of the login this process waited for,
// in another process: the same error, with the same message, error code
// and exit status.
type WaitedLoginError struct {
	Host   string
	Result store.LoginResult
}

// Error is the message the other login ended with.
func (e *WaitedLoginError) Error() string { return e.Result.ErrorMessage }

// ErrorCode is the other login's error code, as JSON error events carry it.
func (e *WaitedLoginError) ErrorCode() string { return e.Result.ErrorCode }

// ExitCode is the exit status the other login ended with (1 when unknown).
func (e *WaitedLoginError) ExitCode() int {
	if e.Result.ExitCode == 0 {
		return 1
	}
	return e.Result.ExitCode
}

// BeginLogin makes the caller the one process running a login for t's host
// (several processes often need one at once: git runs a credential helper
// per remote operation, scripts start `ghlogin login` in parallel), or
// waits for the process that runs one, bounded by ctx (store.BeginLogin).
// It returns one of:
//
//   - a lease: run the login, then EndLogin;
//   - the login that the caller waited for (or that finished since
//     w.Since), which stored a token: report it as this login's success;
//     with w.Recheck also an account found usable once the lease was held;
//   - a *WaitedLoginError: the login waited for failed; report the same;
//   - any other error (a *store.LoginWaitError when ctx ended the wait).
func (s *Session) BeginLogin(ctx context.Context, t *Target, w LoginWait) (*store.LoginLease, *Login, error) {
	st, err := s.Store()
	if err != nil {
		return nil, nil, err
	}
	since := w.Since
	if since.IsZero() {
		since = s.Now()
	}
	lease, res, err := st.BeginLogin(ctx, t.Host.Name, store.LoginWaitOptions{OnWait: w.OnWait, Since: since, Clock: s.Clock})
	switch {
	case err != nil:
		return nil, nil, err
	case res != nil && !res.OK:
		return nil, nil, &WaitedLoginError{Host: t.Host.Name, Result: *res}
	case res != nil:
		return nil, s.stored(st, t.Host.Name, res.Login, res.Store), nil
	}
	if w.Recheck {
		if l := s.usable(ctx, st, t.Host.Name, w.User); l != nil {
			lease.Release()
			return nil, l, nil
		}
	}
	return lease, nil, nil
}

// stored describes the account login of host as a Login, from the index
// when it is there (scopes, expiry), else from what a result said.
func (s *Session) stored(st *store.Store, host, login, backend string) *Login {
	l := &Login{Host: host, Login: login, Store: backend}
	if ac, err := st.Resolve(host, login); err == nil {
		l.Store, l.Scopes, l.ExpiresAt, l.RefreshExpiresAt = ac.Store, ac.Scopes, ac.ExpiresAt, ac.RefreshExpiresAt
	}
	l.Kept = st.Describe(l.Store)
	return l
}

// usable returns host's account user (the active one when "") when its
// token can be read and still works or can be refreshed; nil otherwise.
func (s *Session) usable(ctx context.Context, st *store.Store, host, user string) *Login {
	ac, err := st.Resolve(host, user)
	if err != nil {
		return nil
	}
	sec, err := st.Secret(ctx, ac)
	if err != nil || sec.Token == "" {
		return nil
	}
	now := s.Now()
	if !sec.ExpiresAt.IsZero() && !now.Before(sec.ExpiresAt) &&
		(sec.RefreshToken == "" || !sec.RefreshTokenExpiresAt.IsZero() && !now.Before(sec.RefreshTokenExpiresAt)) {
		return nil
	}
	return s.stored(st, host, ac.Login, ac.Store)
}

// EndLogin publishes the outcome of the login run under lease for the
// processes that waited for it, then releases the lease: a success with
// the account stored, or the failure with err's message (Describe), its
// error code (the one an error in its chain carries with an ErrorCode
// method, else oauth.ErrorCode) and exitCode. A cancelled login publishes
// nothing: a waiter then takes over and runs the login itself, since the
// person who cancelled may not be the one waiting.
func (s *Session) EndLogin(lease *store.LoginLease, l *Login, err error, exitCode int) {
	if lease == nil {
		return
	}
	defer lease.Release()
	switch {
	case err == nil && l != nil:
		_ = lease.Publish(store.LoginResult{OK: true, Login: l.Login, Store: l.Store})
	case err == nil, errors.Is(err, context.Canceled):
	default:
		// The code an error in the chain carries (the command line's, or
		// that of a login this one waited for) wins.
		code := oauth.ErrorCode(err)
		var coded interface{ ErrorCode() string }
		if errors.As(err, &coded) && coded.ErrorCode() != "" {
			code = coded.ErrorCode()
		}
		_ = lease.Publish(store.LoginResult{ErrorCode: code, ErrorMessage: s.describe(err), ExitCode: exitCode})
	}
}
