package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/ghlogin/ghlogin/internal/config"
)

// ResolveIn is Resolve on a configuration the caller has already read with
// Config, so that a caller needing both (the git helper's get, which runs
// once per git operation) reads and parses the file once. cfg is not changed.
func (s *Store) ResolveIn(cfg *config.File, host, login string) (Account, error) {
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

// SecretIn is Secret on a configuration the caller has already read with
// Config (see ResolveIn); errors are the same as Secret's.
func (s *Store) SecretIn(ctx context.Context, cfg *config.File, a Account) (*Secret, error) {
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
	var sec *Secret
	switch entry.Store {
	case BackendFile:
		creds, err := s.files.read()
		if err != nil {
			return nil, err
		}
		if sec = creds.get(h, login); sec == nil {
			err = ErrNotFound
		} else if sec.Token == "" {
			return nil, &CorruptSecretError{Host: h, Login: login, Store: BackendFile}
		}
		if err != nil {
			return nil, &NotLoggedInError{Host: h, Login: login, Store: entry.Store}
		}
	case BackendKeyring:
		sec, err = s.keyringFor(cfg).get(ctx, h, login)
		if errors.Is(err, ErrNotFound) {
			return nil, &NotLoggedInError{Host: h, Login: login, Store: entry.Store}
		}
		if err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("the config file %s names an unknown store %q for %s on %s; log in again: ghlogin login --host %s", s.ConfigPath(), entry.Store, login, h, h)
	}
	cp := *sec
	return &cp, nil
}
