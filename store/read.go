package store

import (
	"context"
	"errors"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
)

// Account is one stored account as the index describes it (no secret).
type Account struct {
	Host   string   `json:"host"`
	Login  string   `json:"login"`
	Active bool     `json:"active"`
	Store  string   `json:"store"`
	Scopes []string `json:"scopes"`
	// RequestedScopes are the scopes the login asked for when the server
	// granted others (nil when they are the same as Scopes).
	RequestedScopes []string `json:"requested_scopes,omitempty"`
	// DisplayName is the owner's name when it is not the login (sanitised
	// server text; "" when none).
	DisplayName string    `json:"display_name,omitempty"`
	TokenType   string    `json:"token_type,omitempty"`
	ExpiresAt   time.Time `json:"expires_at,omitzero"`
	// RefreshExpiresAt is when the refresh token expires (zero: none or never).
	RefreshExpiresAt time.Time `json:"refresh_expires_at,omitzero"`
	// Invalid, when set, says why the token was removed (see Store.Invalidate).
	Invalid string `json:"invalid,omitempty"`
}

// Config reads the current configuration file (a missing file is empty).
func (s *Store) Config() (*ConfigFile, error) { return config.Load(s.opts.Dir) }

// Accounts lists stored accounts, of one host or of all when host is "",
// sorted by host then login.
func (s *Store) Accounts(host string) ([]Account, error) {
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return nil, err
	}
	names := cfg.HostNames()
	if host != "" {
		h, err := hostName(host)
		if err != nil {
			return nil, err
		}
		names = []string{h}
	}
	out := []Account{}
	for _, h := range names {
		hc := cfg.Hosts[h]
		for _, l := range hc.Logins() {
			out = append(out, toAccount(h, l, hc, hc.Accounts[l]))
		}
	}
	return out, nil
}

// Resolve finds host's account named login, or the active one when login is
// "" (host "" means github.com). It returns *NotLoggedInError when there is none.
func (s *Store) Resolve(host, login string) (Account, error) {
	if _, err := hostName(host); err != nil {
		return Account{}, err
	}
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return Account{}, err
	}
	return s.ResolveIn(cfg, host, login)
}

// ResolveIn is Resolve on a configuration the caller has already read with
// Config, so that a caller needing both (the git helper's get, which runs
// once per git operation) reads and parses the file once. cfg is not changed.
func (s *Store) ResolveIn(cfg *ConfigFile, host, login string) (Account, error) {
	h, err := hostName(host)
	if err != nil {
		return Account{}, err
	}
	if cfg == nil {
		cfg = config.New()
	}
	hc, l, err := pick(cfg, h, login)
	if err != nil {
		return Account{}, err
	}
	return toAccount(h, l, hc, hc.Accounts[l]), nil
}

// Secret reads an account's secret from the backend the index names. When
// the backend no longer holds it, the error is a *NotLoggedInError (Store
// set, and Gone when the backend forgets secrets on its own, as the kernel
// keyring does after a restart); when the index names a backend the store does not have, an
// *UnknownBackendError.
func (s *Store) Secret(ctx context.Context, a Account) (*Secret, error) {
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return nil, err
	}
	return s.SecretIn(ctx, cfg, a)
}

// SecretIn is Secret on a configuration the caller has already read with
// Config (see ResolveIn); errors are the same as Secret's.
func (s *Store) SecretIn(ctx context.Context, cfg *ConfigFile, a Account) (*Secret, error) {
	h, err := hostName(a.Host)
	if err != nil {
		return nil, err
	}
	if cfg == nil {
		cfg = config.New()
	}
	hc, login, err := pick(cfg, h, a.Login)
	if err != nil {
		return nil, err
	}
	entry := hc.Accounts[login]
	if entry.Invalid != "" {
		return nil, &NotLoggedInError{Host: h, Login: login, Invalid: entry.Invalid}
	}
	b, err := s.backendFor(cfg, entry.Store, h, login)
	if err != nil {
		return nil, err
	}
	sec, err := b.Get(ctx, h, login)
	if errors.Is(err, ErrNotFound) {
		return nil, &NotLoggedInError{Host: h, Login: login, Store: entry.Store, Gone: isVolatile(b)}
	}
	if err != nil {
		return nil, err
	}
	cp := *sec
	return &cp, nil
}

// pick finds the account login (or the active one) of host h.
func pick(cfg *config.File, h, login string) (*config.Host, string, error) {
	hc := cfg.Hosts[h]
	if hc == nil || len(hc.Accounts) == 0 {
		return nil, "", &NotLoggedInError{Host: h}
	}
	if login != "" {
		if hc.Accounts[login] == nil {
			return nil, "", &NotLoggedInError{Host: h, Login: login}
		}
		return hc, login, nil
	}
	if hc.Accounts[hc.Active] != nil {
		return hc, hc.Active, nil
	}
	// The active mark is missing or stale (a hand-edited file): use the
	// first account rather than claim there is none.
	return hc, hc.Logins()[0], nil
}

func toAccount(host, login string, hc *config.Host, a *config.Account) Account {
	scopes := append([]string{}, a.Scopes...)
	return Account{
		Host:             host,
		Login:            login,
		Active:           hc.Active == login,
		Store:            a.Store,
		Scopes:           scopes,
		RequestedScopes:  append([]string(nil), a.RequestedScopes...),
		DisplayName:      a.DisplayName,
		TokenType:        a.TokenType,
		ExpiresAt:        a.ExpiresAt,
		RefreshExpiresAt: a.RefreshExpiresAt,
		Invalid:          a.Invalid,
	}
}
