package session

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// Account chooses host's account for q (Resolve), reading the
// configuration fresh. host is a host name (hosts.Host.Name).
func (s *Session) Account(host string, q Query) (Choice, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return Choice{}, err
	}
	return Resolve(st, cfg, host, q)
}

// RevokeTimeout bounds the revocation requests of a logout or a refresh.
const RevokeTimeout = 20 * time.Second

// LogoutOptions are what a logout is asked besides the account.
type LogoutOptions struct {
	// Local removes the account without revoking its token (logout --local).
	Local bool
}

// LogoutResult is what a logout did. It never holds a token.
type LogoutResult struct {
	// Removed is the account removed.
	Removed Choice
	// NowActive is the host's active account afterwards ("" when none is
	// left).
	NowActive string
	// Revocation says what happened to the token on the server.
	Revocation Revocation
}

// Revocation is the outcome of ending a token on its server.
type Revocation struct {
	// Skipped: nothing was tried (logout --local, or there was no token to
	// revoke).
	Skipped bool
	// Result is what the server ended (nil when nothing was sent).
	Result *revoke.Result
	// Err says what was not revoked: a *revoke.CannotRevokeError (nothing
	// sent: no client secret or no endpoint; it names the page where the
	// person can revoke it), one or more *revoke.FailedError (joined), or
	// what stopped the attempt (the secret could not be read, the discovery
	// document could not be read). nil when everything was revoked.
	Err error
}

// Logout ends t's account named user (the active one when user is "") on
// the server, then removes it and its secret. Bindings do not choose the
// account a logout removes: logging out is about the account, not the
// directory. Unless opts.Local, the token
// is revoked first (revokeSecret); whatever the revocation's outcome (see
// LogoutResult.Revocation), the local copy is removed. Only a cancelled
// context stops the removal. The error is about finding or removing the
// account.
func (s *Session) Logout(ctx context.Context, t *Target, user string, opts LogoutOptions) (*LogoutResult, error) {
	c, err := s.Account(t.Host.Name, Query{User: user, UserFrom: UserFromFlag})
	if err != nil {
		return nil, err
	}
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	res := &LogoutResult{Removed: c, Revocation: Revocation{Skipped: true}}
	if !opts.Local {
		sec, err := st.SecretIn(ctx, cfg, c.Account)
		var nl *store.NotLoggedInError
		switch {
		case errors.As(err, &nl):
			// No token is left to revoke (it was removed, or a kernel
			// keyring forgot it).
		case err != nil:
			res.Revocation = Revocation{Err: fmt.Errorf("the token could not be read, so it was not revoked: %w", err)}
		default:
			res.Revocation = s.revokeSecret(ctx, t, sec)
		}
		if errors.Is(res.Revocation.Err, context.Canceled) {
			return nil, res.Revocation.Err
		}
	}
	next, err := st.Remove(ctx, c.Host, c.Login)
	if err != nil {
		return nil, err
	}
	res.NowActive = next
	return res, nil
}

// revokeSecret ends sec's tokens on t's server (package revoke): RFC 7009
// at the revocation endpoint (an OpenID Connect server's, read from its
// discovery document when the cache does not hold it), or GitHub's
// DELETE /applications/{client_id}/token with the client secret.
func (s *Session) revokeSecret(ctx context.Context, t *Target, sec *store.Secret) Revocation {
	if sec == nil || (sec.Token == "" && sec.RefreshToken == "") {
		return Revocation{Skipped: true}
	}
	ctx, cancel := context.WithTimeout(ctx, RevokeTimeout)
	defer cancel()
	if err := s.discoverIfNeeded(ctx, t); err != nil {
		return Revocation{Err: fmt.Errorf("the token was not revoked: %w", err)}
	}
	r := &revoke.Revoker{OAuth: s.oauthClient(), API: s.apiClient(RevokeTimeout)}
	res, err := r.Revoke(ctx, revoke.RequestFor(t.Endpoints, t.Credentials, sec))
	return Revocation{Result: res, Err: err}
}

// Switch makes t's account named user the active one; with user "" the
// next account in login order (store.Store.Switch).
func (s *Session) Switch(t *Target, user string) (store.Account, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return store.Account{}, err
	}
	return st.Switch(t.Host.Name, pick.Login(cfg, t.Host.Name, user))
}
