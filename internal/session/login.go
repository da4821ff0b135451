package session

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// Login is a login just saved. It never holds a token.
type Login struct {
	Host  string
	Login string
	// Store is the backend that keeps the token.
	Store  string
	Scopes []string
}

// CheckStore makes sure t.Store can take a token before the person spends
// time approving a login. When the OS keyring is unavailable and ask is
// true, it asks through Confirm (when set) whether to keep the token in the
// file store instead, and on yes sets t.Store to "file". Otherwise it
// returns the store's *store.KeyringUnavailableError: it never falls back
// silently. Other stores are checked when the token is saved.
func (s *Session) CheckStore(ctx context.Context, t *Target, ask bool) error {
	if t.Store != store.BackendKeyring {
		return nil
	}
	st, err := s.Store()
	if err != nil {
		return err
	}
	perr := st.Probe(ctx, store.BackendKeyring)
	if perr == nil {
		return nil
	}
	var ku *store.KeyringUnavailableError
	if !errors.As(perr, &ku) || !ask || s.Confirm == nil {
		return perr
	}
	q := fmt.Sprintf("The OS keyring is not available (%v).\nKeep the token in %s instead (a file readable only by you)?", ku.Err, st.CredentialsPath())
	if ku.Timeout {
		q = fmt.Sprintf("The OS keyring did not answer in time.\nKeep the token in %s instead (a file readable only by you)?", st.CredentialsPath())
	}
	ok, err := s.Confirm(q)
	if err != nil || !ok {
		return perr
	}
	t.Store = store.BackendFile
	return nil
}

// Identify asks t's API (its user info endpoint) who token belongs to.
func (s *Session) Identify(ctx context.Context, t *Target, token string) (*githubapi.User, error) {
	return s.apiClient(IdentifyTimeout).GetUser(ctx, t.Endpoints.UserInfoURL, t.Endpoints.LoginField, token)
}

// SaveLogin finishes a login whose flow returned tok: it asks the API who
// the token belongs to, builds the secret (store.NewSecret; the scopes the
// API confirms win over the token reply's), and saves the account, its
// secret and the host's remembered settings (Remember) in one store
// transaction, in t.Store. When any part fails nothing is stored.
func (s *Session) SaveLogin(ctx context.Context, t *Target, tok *oauth.Token) (*Login, error) {
	u, err := s.Identify(ctx, t, tok.AccessToken)
	if err != nil {
		return nil, fmt.Errorf("checking the new token with %s: %w", t.Host.Name, err)
	}
	scopes := tok.Scopes()
	if u.ScopesKnown {
		scopes = u.Scopes
	}
	return s.save(ctx, t, u.Login, store.NewSecret(tok, scopes, nil, s.Now()))
}

// SaveToken is SaveLogin for a token the person gave (login --with-token):
// a bearer token with the scopes the API reports.
func (s *Session) SaveToken(ctx context.Context, t *Target, token string) (*Login, error) {
	u, err := s.Identify(ctx, t, token)
	if err != nil {
		return nil, fmt.Errorf("checking the token with %s: %w", t.Host.Name, err)
	}
	return s.save(ctx, t, u.Login, store.NewSecret(&oauth.Token{AccessToken: token, TokenType: "bearer"}, u.Scopes, nil, s.Now()))
}

func (s *Session) save(ctx context.Context, t *Target, login string, sec *store.Secret) (*Login, error) {
	st, err := s.Store()
	if err != nil {
		return nil, err
	}
	if err := st.SaveWith(ctx, t.Host.Name, login, t.Store, sec, t.Remember); err != nil {
		return nil, fmt.Errorf("storing the token: %w", err)
	}
	return &Login{Host: t.Host.Name, Login: login, Store: t.Store, Scopes: sec.Scopes}, nil
}

// Remember updates hc, the host's settings, with what a login to t relied
// on, so later commands (token refresh, the git helper) find it: the http
// scheme of a loopback host, the client ID (unless one is set), and the
// endpoint settings given as flags. store.SaveWith applies it in the same
// write as the account.
func (t *Target) Remember(hc *config.Host) error {
	if t.Host.Scheme == "http" {
		hc.Protocol = "http"
	}
	if hc.ClientID == "" {
		hc.ClientID = t.Credentials.ClientID
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	o := t.Overrides
	set(&hc.DeviceCodeURL, o.DeviceCodeURL)
	set(&hc.AuthorizeURL, o.AuthorizeURL)
	set(&hc.TokenURL, o.TokenURL)
	set(&hc.APIURL, o.APIURL)
	set(&hc.UserInfoURL, o.UserInfoURL)
	set(&hc.LoginField, o.LoginField)
	set(&hc.ClientAuth, o.ClientAuth)
	return nil
}
