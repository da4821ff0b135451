package session

import (
	"context"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/store"
)

// Token is the token a command uses (pick.Token). Never log it.
type Token = pick.Token

// Token returns the token for t as Find decides: a forwarded agent's, else
// the environment's (EnvToken) unless q names an account, else the stored
// secret of the account Resolve chooses for q, refreshed first when it is
// due (refresh.Token). Errors: *store.NotLoggedInError when there is no
// account, *BindingError when a binding names a missing account,
// *refresh.NeedsLoginError when only a new login can help, and the agent's
// (*agent.RefusedError, *agent.GoneError and the like).
func (s *Session) Token(ctx context.Context, t *Target, q Query) (*Token, error) {
	return s.TokenWith(ctx, t, q, TokenOptions{})
}

// TokenOptions are what a command asks of TokenWith besides the account.
type TokenOptions struct {
	// IDToken: the caller needs the account's OpenID Connect ID token
	// (token --id-token). It is refreshed by the same rule as the access
	// token; a token from the environment, which has none, is not used,
	// and neither is a forwarded agent, which lends access tokens only.
	IDToken bool
	// OnRefresh, when set, is told just before a refresh request, with
	// whether the token expires soon or has expired (refresh.Notice).
	OnRefresh func(refresh.Notice)
	// Purpose is what a forwarded agent counts the request as
	// (agent.PurposeExec); "" means agent.PurposeToken.
	Purpose agent.Purpose
}

// TokenWith is Token with opts. With opts.IDToken the errors include
// *refresh.NoIDTokenError (an account without one).
func (s *Session) TokenWith(ctx context.Context, t *Target, q Query, opts TokenOptions) (*Token, error) {
	if opts.IDToken {
		return s.storedToken(ctx, t, q, opts)
	}
	purpose := opts.Purpose
	if purpose == "" {
		purpose = agent.PurposeToken
	}
	l := Lookup{Host: t.Host, Origin: t.Origin, Known: t.Known(), Owner: q.Owner, User: q.User, Purpose: purpose}
	if err := s.stalledAgent(); err != nil {
		// The agent already let this session's list request time out
		// (choosing the default host): asking it again would only wait
		// as long once more before the same answer.
		return nil, err
	}
	return Find(ctx, s.getenv, l, func(ctx context.Context, _ error) (*Token, error) {
		return s.storedToken(ctx, t, q, opts)
	})
}

// storedToken is TokenWith's store step.
func (s *Session) storedToken(ctx context.Context, t *Target, q Query, opts TokenOptions) (*Token, error) {
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	c, err := Resolve(st, cfg, t.Host.Name, q)
	if err != nil {
		return nil, err
	}
	cur, err := st.SecretIn(ctx, cfg, c.Account)
	if err != nil {
		return nil, err
	}
	if s.due(cur, opts.IDToken) {
		// Only a refresh needs the token endpoint: an OpenID Connect host
		// whose discovery document is not cached is asked for it now.
		if err := s.discoverIfNeeded(ctx, t); err != nil {
			return nil, err
		}
	}
	ro := s.RefreshOptions(t)
	ro.Current, ro.IDToken, ro.OnRefresh = cur, opts.IDToken, opts.OnRefresh
	sec, err := refresh.Token(ctx, st, c.Account, ro)
	if err != nil {
		return nil, err
	}
	return &Token{Secret: sec, Account: c}, nil
}

// due reports whether sec must be refreshed before it is handed out: the
// access token is in its refresh window (refresh.Due), or idToken is set and
// the ID token is.
func (s *Session) due(sec *store.Secret, idToken bool) bool {
	now := s.Now()
	return refresh.Due(sec, now, refresh.DefaultSkew) || idToken && refresh.IDTokenDue(sec, now, refresh.DefaultSkew)
}

// RefreshOptions configures refresh.Token for t's accounts: t's token
// endpoint and OAuth client, the session's HTTP client and clock.
func (s *Session) RefreshOptions(t *Target) refresh.Options {
	return refresh.Options{
		Client:      s.oauthClient(),
		TokenURL:    t.Endpoints.TokenURL,
		Credentials: t.Credentials,
		Clock:       s.clock(),
	}
}

// Refresh returns a's secret, refreshed first when it is due
// (refresh.Due); sec is the secret the caller has just read. The token
// endpoint and OAuth client come from the host's resolution, as for a
// command; an OpenID Connect host's endpoints from the discovery cache (read
// from the server only when the cache has nothing). A secret that is not due
// costs no configuration read, lock or request, which matters on the git
// helper's path. It has the signature of gitcred.RefreshFunc.
func (s *Session) Refresh(ctx context.Context, a store.Account, sec *store.Secret) (*store.Secret, error) {
	if !s.due(sec, false) {
		return sec, nil
	}
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	t, err := s.storedTarget(cfg, a.Host)
	if err != nil {
		return nil, err
	}
	if err := s.discoverIfNeeded(ctx, t); err != nil {
		return nil, err
	}
	opts := s.RefreshOptions(t)
	opts.Current = sec
	return refresh.Token(ctx, st, a, opts)
}

// RefreshRejected refreshes a's token because the server has just refused
// sec.Token (HTTP 401, or 403 with invalid_token), whatever its expiry
// says: an account with a usable refresh token gets a new pair instead of
// being taken out of the store. Errors as refresh.Token's: a
// *refresh.NeedsLoginError when only a new login can help (no refresh
// token, or the server refused it too); anything else (network, 5xx) leaves
// the stored secret as it was. It has the signature of gitcred.RefreshFunc.
func (s *Session) RefreshRejected(ctx context.Context, a store.Account, sec *store.Secret) (*store.Secret, error) {
	if sec.RefreshToken == "" {
		return nil, &refresh.NeedsLoginError{Host: a.Host, Login: a.Login, Reason: "there is no refresh token"}
	}
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	t, err := s.storedTarget(cfg, a.Host)
	if err != nil {
		return nil, err
	}
	if err := s.discoverIfNeeded(ctx, t); err != nil {
		return nil, err
	}
	opts := s.RefreshOptions(t)
	opts.Current, opts.Rejected = sec, sec.Token
	return refresh.Token(ctx, st, a, opts)
}

// CheckToken asks host's API whether token still works: nil when it does,
// a *githubapi.UnauthorizedError when it does not (HTTP 401, or 403 with
// error="invalid_token": githubapi.IsUnauthorized), any other error when it
// could not tell (a *githubapi.SSORequiredError among them: the token works
// but an organisation wants it authorized). host is a configuration key (an account's
// host). The call is bounded by EraseCheckTimeout. It has the signature of
// gitcred.CheckFunc.
func (s *Session) CheckToken(ctx context.Context, host, token string) error {
	_, cfg, err := s.Config()
	if err != nil {
		return err
	}
	return s.checkIn(ctx, cfg, host, token, EraseCheckTimeout)
}

// checkIn asks host's user info endpoint who token belongs to.
func (s *Session) checkIn(ctx context.Context, cfg *config.File, host, token string, timeout time.Duration) error {
	t, err := s.storedTarget(cfg, host)
	if err != nil {
		return err
	}
	return s.check(ctx, t, token, timeout)
}

// NoCheckError means a host has no endpoint to ask whether a token works:
// an OpenID Connect server without userinfo_endpoint.
type NoCheckError struct{ Host string }

// Error names the host.
func (e *NoCheckError) Error() string {
	return e.Host + " has no userinfo endpoint to check the token with"
}

// check asks t's user info endpoint whether token works: an OpenID Connect
// host's userinfo (any claims will do), another host's user API.
func (s *Session) check(ctx context.Context, t *Target, token string, timeout time.Duration) error {
	if t.Kind() == config.KindOIDC {
		if err := s.discoverIfNeeded(ctx, t); err != nil {
			return err
		}
		if t.Endpoints.UserInfoURL == "" {
			return &NoCheckError{Host: t.Host.Name}
		}
		_, err := s.apiClient(timeout).UserInfo(ctx, t.Endpoints.UserInfoURL, token)
		return err
	}
	_, err := s.apiClient(timeout).GetUser(ctx, t.Endpoints.UserInfoURL, t.Endpoints.LoginField, token)
	return err
}
