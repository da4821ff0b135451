package store

import (
	"context"
	"fmt"
)

// Replace stores sec as the secret of the existing account host/login, in
// the backend it already uses, and updates its index entry (scopes, token
// type, expiries) without changing which account is active. A refreshed
// token pair goes through here. It returns *NotLoggedInError when the
// account no longer exists (it is never re-created). The secret is written
// first; when the index cannot be written the previous secret is put back.
func (s *Store) Replace(ctx context.Context, host, login string, sec *Secret) error {
	h, cfg, unlock, err := s.beginWrite(ctx, host, login, sec)
	if err != nil {
		return err
	}
	defer unlock()
	hc := cfg.Hosts[h]
	entry := hc.Account(login)
	if entry == nil {
		return &NotLoggedInError{Host: h, Login: login}
	}

	restore, err := s.putSecret(ctx, cfg, entry.Store, h, login, sec, true)
	if err != nil {
		return err
	}

	entry.Scopes = append([]string(nil), sec.Scopes...)
	entry.TokenType = sec.TokenType
	entry.ExpiresAt = sec.ExpiresAt
	entry.RefreshExpiresAt = sec.RefreshTokenExpiresAt
	if err := s.saveConfig(s.opts.Dir, cfg); err != nil {
		if rerr := restore(); rerr != nil {
			return fmt.Errorf("%w; and the previous token could not be put back: %v", err, rerr)
		}
		return err
	}
	return nil
}
