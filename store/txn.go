package store

// Every write is one transaction under the store lock: the secret first,
// then the index (config.toml) in one atomic write. When the index cannot be
// written, the backend is put back as it was, so nothing already stored is
// lost and no account exists without its secret.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/oauth/grammar"
)

// UpdateConfig runs fn on the configuration under the store's lock and writes
// the result atomically when fn returns nil.
func (s *Store) UpdateConfig(fn func(*ConfigFile) error) error {
	unlock, err := s.lockStore(context.Background())
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return err
	}
	if err := fn(cfg); err != nil {
		return err
	}
	return s.saveConfig(s.opts.Dir, cfg)
}

// Save stores sec for host/login in backend ("keyring" or "file"; "" means
// the host's store setting, else keyring), records the account in the index
// and makes it the host's active account. The secret is written first, then
// the index; when the index cannot be written the previous secret is put
// back (or the new one removed), so nothing already stored is lost. When the
// account moves to another backend, its secret is removed from the old one
// afterwards (best effort).
func (s *Store) Save(ctx context.Context, host, login, backend string, sec *Secret) error {
	return s.SaveWith(ctx, host, login, backend, sec, nil)
}

// SaveWith is Save that also applies update to the host's settings in the
// same transaction: under the same lock, in the same write of the config
// file as the account's index entry. A login uses it to remember what it
// relied on (the client ID, the http protocol of a loopback host, endpoint
// overrides), so the account never exists without them. When update fails,
// nothing is stored. update may be nil.
func (s *Store) SaveWith(ctx context.Context, host, login, backend string, sec *Secret, update func(*HostConfig) error) error {
	h, cfg, unlock, err := s.beginWrite(ctx, host, login, sec)
	if err != nil {
		return err
	}
	defer unlock()
	if backend == "" {
		backend = BackendKeyring
		if hc := cfg.Hosts[h]; hc != nil && hc.Store != "" {
			backend = hc.Store
		}
	}
	b, err := s.chosen(cfg, backend)
	if err != nil {
		return err
	}
	prev := cfg.Hosts[h].Account(login)

	// 0. The host's settings, checked before anything is written.
	hc, err := cfg.EnsureHost(h)
	if err != nil {
		return err
	}
	if update != nil {
		if err := update(hc); err != nil {
			return err
		}
	}

	// 1. The secret, remembering what to put back.
	restore, err := putSecret(ctx, b, h, login, sec)
	if err != nil {
		return err
	}

	// 2. The index, with the host's settings, in one write.
	if hc.Accounts == nil {
		hc.Accounts = map[string]*config.Account{}
	}
	added := s.opts.Clock.Now().UTC().Truncate(time.Second)
	if prev != nil && !prev.AddedAt.IsZero() {
		added = prev.AddedAt
	}
	hc.Accounts[login] = &config.Account{
		Store:            backend,
		Scopes:           append([]string(nil), sec.Scopes...),
		RequestedScopes:  requestedIfDifferent(sec),
		DisplayName:      sec.DisplayName,
		TokenType:        sec.TokenType,
		ExpiresAt:        sec.ExpiresAt,
		RefreshExpiresAt: sec.RefreshTokenExpiresAt,
		AddedAt:          added,
	}
	hc.Active = login
	if err := s.commit(cfg, restore, "previous token"); err != nil {
		return err
	}

	// 3. The account moved: forget the secret in the old backend.
	if prev != nil && prev.Store != backend {
		if old, ok := s.backend(cfg, prev.Store); ok {
			_ = old.Delete(context.WithoutCancel(ctx), h, login)
		}
	}
	return nil
}

// Replace stores sec as the secret of the existing account host/login, in
// the backend it already uses, and updates its index entry (scopes, token
// type, expiries) without changing which account is active; a mark left by
// Invalidate is cleared. A refreshed token pair, and the new login of
// `ghlogin refresh`, go through here. It returns *NotLoggedInError when the
// account no longer exists (it is never re-created). The secret is written
// first; when the index cannot be written the previous secret is put back.
func (s *Store) Replace(ctx context.Context, host, login string, sec *Secret) error {
	h, cfg, unlock, err := s.beginWrite(ctx, host, login, sec)
	if err != nil {
		return err
	}
	defer unlock()
	entry := cfg.Hosts[h].Account(login)
	if entry == nil {
		return &NotLoggedInError{Host: h, Login: login}
	}
	b, err := s.backendFor(cfg, entry.Store, h, login)
	if err != nil {
		return err
	}
	restore, err := putSecret(ctx, b, h, login, sec)
	if err != nil {
		return err
	}
	entry.Scopes = append([]string(nil), sec.Scopes...)
	entry.RequestedScopes = requestedIfDifferent(sec)
	entry.DisplayName = sec.DisplayName
	entry.Invalid = "" // a new token: whatever made the old one invalid is past
	entry.TokenType = sec.TokenType
	entry.ExpiresAt = sec.ExpiresAt
	entry.RefreshExpiresAt = sec.RefreshTokenExpiresAt
	return s.commit(cfg, restore, "previous token")
}

// Remove deletes an account's secret and index entry (login "" means the
// active account) and, when it was active, activates another account of the
// host if one remains (returned as newActive, "" when none). The secret goes
// first; when the index cannot be written the secret is put back. A secret
// already missing from its backend does not stop the removal; a keyring that
// cannot be reached does (the token would stay behind).
func (s *Store) Remove(ctx context.Context, host, login string) (newActive string, err error) {
	h, cfg, unlock, err := s.beginChange(ctx, host)
	if err != nil {
		return "", err
	}
	defer unlock()
	hc, login, err := pick(cfg, h, login)
	if err != nil {
		return "", err
	}
	restore, err := s.dropSecret(ctx, cfg, h, login, hc.Accounts[login])
	if err != nil {
		return "", err
	}

	delete(hc.Accounts, login)
	if hc.Active == login || hc.Accounts[hc.Active] == nil {
		hc.Active = ""
		if rest := hc.Logins(); len(rest) > 0 {
			hc.Active = rest[0]
		}
	}
	if len(hc.Accounts) == 0 {
		hc.Accounts = nil
		if hc.IsEmpty() {
			delete(cfg.Hosts, h)
		}
	}
	if err := s.commit(cfg, restore, "token"); err != nil {
		return "", err
	}
	return hc.Active, nil
}

// Invalidate deletes an account's secret because the host rejected it (the
// git helper's erase, after the API answered 401) but keeps the account in
// the index marked with reason, so listings show it as invalid and reads
// return *NotLoggedInError with Invalid set. The next Save for the account
// clears the mark.
func (s *Store) Invalidate(ctx context.Context, host, login, reason string) error {
	if reason == "" {
		reason = "the host rejected it"
	}
	h, cfg, unlock, err := s.beginChange(ctx, host)
	if err != nil {
		return err
	}
	defer unlock()
	hc, login, err := pick(cfg, h, login)
	if err != nil {
		return err
	}
	entry := hc.Accounts[login]
	restore, err := s.dropSecret(ctx, cfg, h, login, entry)
	if err != nil {
		return err
	}
	entry.Invalid = reason
	return s.commit(cfg, restore, "token")
}

// Switch makes login the host's active account; with login "" it moves to
// the next account in login order (toggles when there are two).
func (s *Store) Switch(host, login string) (Account, error) {
	h, cfg, unlock, err := s.beginChange(context.Background(), host)
	if err != nil {
		return Account{}, err
	}
	defer unlock()
	hc, cur, err := pick(cfg, h, login)
	if err != nil {
		return Account{}, err
	}
	if login == "" {
		logins := hc.Logins()
		for i, l := range logins {
			if l == cur {
				cur = logins[(i+1)%len(logins)]
				break
			}
		}
	}
	hc.Active = cur
	if err := s.saveConfig(s.opts.Dir, cfg); err != nil {
		return Account{}, err
	}
	return toAccount(h, cur, hc, hc.Accounts[cur]), nil
}

// requestedIfDifferent is what the index keeps of sec's requested scopes:
// them when the server granted others, else nothing.
func requestedIfDifferent(sec *Secret) []string {
	if sec.RequestedScopes == nil || grammar.SameScopes(sec.RequestedScopes, sec.Scopes) {
		return nil
	}
	return append([]string(nil), sec.RequestedScopes...)
}

// beginWrite checks what Save and Replace are given, takes the store's lock
// and reads the configuration fresh under it. The caller must call unlock.
func (s *Store) beginWrite(ctx context.Context, host, login string, sec *Secret) (h string, cfg *config.File, unlock func(), err error) {
	if _, err := hostName(host); err != nil {
		return "", nil, nil, err
	}
	if err := checkLogin(login); err != nil {
		return "", nil, nil, err
	}
	if err := checkSecret(sec); err != nil {
		return "", nil, nil, err
	}
	return s.beginChange(ctx, host)
}

// beginChange normalizes host, takes the store's lock and reads the
// configuration fresh under it. The caller must call unlock.
func (s *Store) beginChange(ctx context.Context, host string) (h string, cfg *config.File, unlock func(), err error) {
	if h, err = hostName(host); err != nil {
		return "", nil, nil, err
	}
	if unlock, err = s.lockStore(ctx); err != nil {
		return "", nil, nil, err
	}
	if cfg, err = config.Load(s.opts.Dir); err != nil {
		unlock()
		return "", nil, nil, err
	}
	return h, cfg, unlock, nil
}

// commit writes the index; when it cannot, restore puts the backend back as
// it was and the index write's error is returned (naming what could not be
// put back, if restoring failed too).
func (s *Store) commit(cfg *config.File, restore func() error, what string) error {
	err := s.saveConfig(s.opts.Dir, cfg)
	if err == nil {
		return nil
	}
	if rerr := restore(); rerr != nil {
		return fmt.Errorf("%w; and the %s could not be put back: %v", err, what, rerr)
	}
	return err
}

// putSecret writes sec for h/login into b and returns a function that puts
// back what b held before (for when the index cannot be written): the
// previous secret, or nothing.
func putSecret(ctx context.Context, b Backend, h, login string, sec *Secret) (restore func() error, err error) {
	old, err := b.Get(ctx, h, login)
	var cse *CorruptSecretError
	if errors.Is(err, ErrNotFound) || errors.As(err, &cse) {
		old, err = nil, nil
	}
	if err != nil {
		return nil, err
	}
	if err := b.Set(ctx, h, login, sec); err != nil {
		return nil, err
	}
	return func() error {
		// The caller's ctx may be what failed; restoring must still run.
		rctx := context.WithoutCancel(ctx)
		if old != nil {
			return b.Set(rctx, h, login, old)
		}
		if err := b.Delete(rctx, h, login); err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		return nil
	}, nil
}

// dropSecret deletes an account's secret from its backend and returns a
// function that puts it back (for when the index cannot be written). A
// secret already missing, one a read-only backend keeps, or one in a
// backend this store does not have is not an error (the index entry goes
// all the same); a backend that cannot be reached is.
func (s *Store) dropSecret(ctx context.Context, cfg *config.File, h, login string, entry *config.Account) (restore func() error, err error) {
	none := func() error { return nil }
	b, ok := s.backend(cfg, entry.Store)
	if !ok {
		return none, nil
	}
	old, err := b.Get(ctx, h, login)
	var cse *CorruptSecretError
	switch {
	case errors.Is(err, ErrNotFound):
		return none, nil
	case errors.As(err, &cse):
		old = nil
	case err != nil:
		return nil, err
	}
	var ro *ReadOnlyError
	if err := b.Delete(ctx, h, login); err != nil && !errors.Is(err, ErrNotFound) {
		if errors.As(err, &ro) {
			return none, nil
		}
		return nil, err
	}
	if old == nil {
		return none, nil
	}
	return func() error { return b.Set(context.WithoutCancel(ctx), h, login, old) }, nil
}
