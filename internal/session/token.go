package session

import (
	"context"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// Token is the token a command uses. Never log it.
type Token struct {
	// Secret holds the token in Secret.Token (and, for a stored account,
	// what the store keeps with it).
	Secret *store.Secret
	// Env names the environment variable the token came from; "" for a
	// stored token.
	Env string
	// Account is the stored account the token belongs to (zero for a
	// token from the environment).
	Account Choice
}

// String never shows the token.
func (t *Token) String() string {
	if t == nil {
		return "<nil token>"
	}
	if t.Env != "" {
		return "session.Token{env=" + t.Env + "}"
	}
	return "session.Token{account=" + t.Account.Login + "@" + t.Account.Host + "}"
}

// GoString hides the token from %#v too.
func (t *Token) GoString() string { return t.String() }

// Token returns the token for t: the environment's (EnvToken) unless q
// names an account, else the stored secret of the account Resolve chooses
// for q, refreshed first when it expires within refresh.DefaultSkew
// (refresh.Token). Errors: *store.NotLoggedInError when there is no
// account, *BindingError when a binding names a missing account,
// *refresh.NeedsLoginError when only a new login can help.
func (s *Session) Token(ctx context.Context, t *Target, q Query) (*Token, error) {
	if q.User == "" {
		if tok, name := s.EnvToken(t); tok != "" {
			return &Token{Secret: &store.Secret{Token: tok}, Env: name}, nil
		}
	}
	st, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	c, err := Resolve(st, cfg, t.Host.Name, q)
	if err != nil {
		return nil, err
	}
	sec, err := refresh.Token(ctx, st, c.Account, s.RefreshOptions(t))
	if err != nil {
		return nil, err
	}
	return &Token{Secret: sec, Account: c}, nil
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

// Refresh returns a's secret, refreshed first when it expires within
// refresh.DefaultSkew; sec is the secret the caller has just read. The token
// endpoint and OAuth client come from the host's resolution (ResolveHost),
// as for a command. A secret that is not due costs no configuration read,
// lock or request, which matters on the git helper's path. It has the
// signature of gitcred.RefreshFunc.
func (s *Session) Refresh(ctx context.Context, a store.Account, sec *store.Secret) (*store.Secret, error) {
	if !refresh.Due(sec, s.Now(), refresh.DefaultSkew) {
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
	opts := s.RefreshOptions(t)
	opts.Current = sec
	return refresh.Token(ctx, st, a, opts)
}

// CheckToken asks host's API whether token still works: nil when it does,
// a *githubapi.UnauthorizedError (HTTP 401) when it does not, any other
// error when it could not tell. host is a configuration key (an account's
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
	_, err = s.apiClient(timeout).GetUser(ctx, t.Endpoints.UserInfoURL, t.Endpoints.LoginField, token)
	return err
}
