package store

// This file declares the Store API that commands and the git helper use.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

// ErrNotFound is returned by a backend that holds no secret for an account.
var ErrNotFound = errors.New("no secret stored for this account")

// NotLoggedInError means there is no (such) account for a host, or that the
// index lists the account but its backend no longer holds the secret (Store
// set). Commands exit 4.
type NotLoggedInError struct {
	Host  string
	Login string // empty when no account at all
	// Store names the backend whose secret is missing ("" when the account
	// itself is missing).
	Store string
	// Invalid says why the token was removed (see Store.Invalidate).
	Invalid string
}

// Error says what went wrong and what to do.
func (e *NotLoggedInError) Error() string {
	if e.Invalid != "" {
		return fmt.Sprintf("the token for %s on %s was removed because %s; log in again: ghlogin login --host %s", e.Login, e.Host, e.Invalid, e.Host)
	}
	if e.Store != "" {
		return fmt.Sprintf("the token for %s on %s is missing from the %s (removed outside ghlogin?); log in again: ghlogin login --host %s", e.Login, e.Host, backendPlace(e.Store), e.Host)
	}
	if e.Login != "" {
		return fmt.Sprintf("no account %q for %s; run: ghlogin login --host %s", e.Login, e.Host, e.Host)
	}
	return fmt.Sprintf("not logged in to %s; run: ghlogin login --host %s", e.Host, e.Host)
}

// Unwrap returns ErrNotFound when the secret is missing from its backend.
func (e *NotLoggedInError) Unwrap() error {
	if e.Store != "" {
		return ErrNotFound
	}
	return nil
}

// KeyringUnavailableError means the OS keyring could not be used (no Secret
// Service, locked, or the call timed out). The message names the alternatives.
type KeyringUnavailableError struct {
	Op      string // "read", "write", "delete"
	Timeout bool
	Err     error
}

// Error says what went wrong and what to do.
func (e *KeyringUnavailableError) Error() string {
	why := fmt.Sprint(e.Err)
	if e.Timeout {
		why = "the keyring did not answer in time"
	}
	if e.Op == "delete" {
		return fmt.Sprintf("the OS keyring is not available (%s): %s; nothing was removed: unlock or start the keyring, then try again", e.Op, why)
	}
	return fmt.Sprintf("the OS keyring is not available (%s): %s; to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file", e.Op, why)
}

// Unwrap returns the underlying error.
func (e *KeyringUnavailableError) Unwrap() error { return e.Err }

// Keyring is the part of github.com/zalando/go-keyring the store uses; tests
// inject a fake to simulate hangs and failures.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// Options configure Open.
type Options struct {
	// Dir is the config directory (see config.Dir); "" means config.Dir().
	Dir string
	// Keyring defaults to the OS keyring through go-keyring (OSKeyring).
	Keyring Keyring
	// KeyringTimeout bounds every keyring call; zero means the config
	// file's keyring_timeout, else 3 s.
	KeyringTimeout time.Duration
	// LockTimeout bounds the wait for the store lock; zero means 30 s.
	LockTimeout time.Duration
}

// Store is the token store. Methods are safe for concurrent use by many
// goroutines and many processes sharing Dir.
type Store struct {
	opts Options
	// sem serialises this process's mutations before the file lock.
	sem chan struct{}
	// Hooks that tests replace to inject failures.
	saveConfig func(dir string, f *config.File) error
	files      fileBackend
}

// Open prepares a store in opts.Dir (created 0700 when missing).
func Open(opts Options) (*Store, error) {
	if opts.Dir == "" {
		d, err := config.Dir()
		if err != nil {
			return nil, err
		}
		opts.Dir = d
	}
	abs, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cannot use the config directory %s: %w", opts.Dir, err)
	}
	opts.Dir = abs
	if err := config.EnsureDir(opts.Dir); err != nil {
		return nil, err
	}
	if opts.Keyring == nil {
		opts.Keyring = OSKeyring{}
	}
	return &Store{
		opts:       opts,
		sem:        make(chan struct{}, 1),
		saveConfig: func(dir string, f *config.File) error { return f.Save(dir) },
		files:      fileBackend{path: filepath.Join(opts.Dir, CredentialsFile), write: defaultWrite},
	}, nil
}

// Dir returns the config directory.
func (s *Store) Dir() string { return s.opts.Dir }

// CredentialsPath returns the file store's path (for prompts and messages).
func (s *Store) CredentialsPath() string { return s.files.path }

// ConfigPath returns the config file's path.
func (s *Store) ConfigPath() string { return config.Path(s.opts.Dir) }

// Config reads the current configuration file (a missing file is empty).
func (s *Store) Config() (*config.File, error) { return config.Load(s.opts.Dir) }

// UpdateConfig runs fn on the configuration under the store's lock and writes
// the result atomically when fn returns nil.
func (s *Store) UpdateConfig(fn func(*config.File) error) error {
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

// keyringFor returns the keyring backend with the timeout in force.
func (s *Store) keyringFor(cfg *config.File) keyringBackend {
	t := s.opts.KeyringTimeout
	if t <= 0 {
		t = cfg.Timeout()
	}
	return keyringBackend{kr: s.opts.Keyring, timeout: t}
}

// hostName normalizes a host as the index keys it ("" means github.com).
func hostName(host string) (string, error) {
	h, err := hosts.Parse(host)
	if err != nil {
		return "", err
	}
	return h.Name, nil
}

// InvalidInputError is an argument the store refuses (never holding a secret).
type InvalidInputError struct{ Reason string }

// Error says what went wrong and what to do.
func (e *InvalidInputError) Error() string { return "cannot store the account: " + e.Reason }

func checkLogin(login string) error {
	if login == "" || strings.TrimSpace(login) != login || len(login) > 255 {
		return &InvalidInputError{"the login is empty, too long or has surrounding spaces"}
	}
	for _, r := range login {
		if r < ' ' || r == 0x7f {
			return &InvalidInputError{"the login holds control characters"}
		}
	}
	return nil
}

func checkSecret(sec *Secret) error {
	if sec == nil || sec.Token == "" {
		return &InvalidInputError{"the token is empty"}
	}
	for _, t := range []string{sec.Token, sec.RefreshToken} {
		for _, r := range t {
			if r <= ' ' || r == 0x7f {
				return &InvalidInputError{"the token holds spaces or control characters"}
			}
		}
	}
	return nil
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
func (s *Store) SaveWith(ctx context.Context, host, login, backend string, sec *Secret, update func(*config.Host) error) error {
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
	if backend != BackendKeyring && backend != BackendFile {
		return &InvalidInputError{fmt.Sprintf("unknown store %q; use keyring or file", backend)}
	}
	prev := cfg.Hosts[h].Account(login)
	kb := s.keyringFor(cfg)

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
	restore, err := s.putSecret(ctx, cfg, backend, h, login, sec, prev != nil && prev.Store == BackendKeyring)
	if err != nil {
		return err
	}

	// 2. The index, with the host's settings, in one write.
	if hc.Accounts == nil {
		hc.Accounts = map[string]*config.Account{}
	}
	added := time.Now().UTC().Truncate(time.Second)
	if prev != nil && !prev.AddedAt.IsZero() {
		added = prev.AddedAt
	}
	hc.Accounts[login] = &config.Account{
		Store:            backend,
		Scopes:           append([]string(nil), sec.Scopes...),
		TokenType:        sec.TokenType,
		ExpiresAt:        sec.ExpiresAt,
		RefreshExpiresAt: sec.RefreshTokenExpiresAt,
		AddedAt:          added,
	}
	hc.Active = login
	if err := s.saveConfig(s.opts.Dir, cfg); err != nil {
		if rerr := restore(); rerr != nil {
			return fmt.Errorf("%w; and the previous token could not be put back: %v", err, rerr)
		}
		return err
	}

	// 3. The account moved: forget the secret in the old backend.
	if prev != nil && prev.Store != backend {
		switch prev.Store {
		case BackendKeyring:
			_ = kb.del(context.WithoutCancel(ctx), h, login)
		case BackendFile:
			if c, err := s.files.read(); err == nil && c.get(h, login) != nil {
				c.put(h, login, nil)
				_ = s.files.save(c)
			}
		}
	}
	return nil
}

func toAccount(host, login string, hc *config.Host, a *config.Account) Account {
	scopes := append([]string{}, a.Scopes...)
	return Account{
		Host:             host,
		Login:            login,
		Active:           hc.Active == login,
		Store:            a.Store,
		Scopes:           scopes,
		TokenType:        a.TokenType,
		ExpiresAt:        a.ExpiresAt,
		RefreshExpiresAt: a.RefreshExpiresAt,
		Invalid:          a.Invalid,
	}
}

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

// Secret reads an account's secret from the backend the index names. When
// the backend no longer holds it, the error is a *NotLoggedInError (Store
// set) saying to log in again.
func (s *Store) Secret(ctx context.Context, a Account) (*Secret, error) {
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return nil, err
	}
	return s.SecretIn(ctx, cfg, a)
}

// Remove deletes an account's secret and index entry (login "" means the
// active account) and, when it was active, activates another account of the
// host if one remains (returned as newActive, "" when none). The secret goes
// first; when the index cannot be written the secret is put back. A secret
// already missing from its backend does not stop the removal; a keyring that
// cannot be reached does (the token would stay behind).
func (s *Store) Remove(ctx context.Context, host, login string) (newActive string, err error) {
	h, err := hostName(host)
	if err != nil {
		return "", err
	}
	unlock, err := s.lockStore(ctx)
	if err != nil {
		return "", err
	}
	defer unlock()
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return "", err
	}
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
		if !hc.HasSettings() {
			delete(cfg.Hosts, h)
		}
	}
	if err := s.saveConfig(s.opts.Dir, cfg); err != nil {
		if rerr := restore(); rerr != nil {
			return "", fmt.Errorf("%w; and the token could not be put back: %v", err, rerr)
		}
		return "", err
	}
	return hc.Active, nil
}

// Switch makes login the host's active account; with login "" it moves to
// the next account in login order (toggles when there are two).
func (s *Store) Switch(host, login string) (Account, error) {
	h, err := hostName(host)
	if err != nil {
		return Account{}, err
	}
	unlock, err := s.lockStore(context.Background())
	if err != nil {
		return Account{}, err
	}
	defer unlock()
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return Account{}, err
	}
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

// WithLock runs fn holding the cross-process lock named name (for example
// "refresh-HOST-LOGIN"; any characters, sanitized into a file name under
// DIR/locks), waiting until ctx is done to get it. Waiting ends with a
// *LockError wrapping ctx's error.
func (s *Store) WithLock(ctx context.Context, name string, fn func() error) error {
	return s.withNamedLock(ctx, name, fn)
}

// dropSecret deletes an account's secret from its backend and returns a
// function that puts it back (for when the index cannot be written). A
// secret already missing is not an error; a keyring that cannot be reached is.
func (s *Store) dropSecret(ctx context.Context, cfg *config.File, h, login string, entry *config.Account) (restore func() error, err error) {
	kb := s.keyringFor(cfg)
	restore = func() error { return nil }
	switch entry.Store {
	case BackendKeyring:
		old, err := kb.get(ctx, h, login)
		var cse *CorruptSecretError
		switch {
		case errors.Is(err, ErrNotFound):
		case errors.As(err, &cse):
			if err := kb.del(ctx, h, login); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
		case err != nil:
			return nil, err
		default:
			if err := kb.del(ctx, h, login); err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			restore = func() error { return kb.set(context.WithoutCancel(ctx), h, login, old) }
		}
	case BackendFile:
		creds, err := s.files.read()
		if err != nil {
			return nil, err
		}
		if old := creds.get(h, login); old != nil {
			creds.put(h, login, nil)
			if err := s.files.save(creds); err != nil {
				return nil, err
			}
			restore = func() error {
				c, err := s.files.read()
				if err != nil {
					return err
				}
				c.put(h, login, old)
				return s.files.save(c)
			}
		}
	}

	return restore, nil
}

// Invalidate deletes an account's secret because the host rejected it (the
// git helper's erase, after the API answered 401) but keeps the account in
// the index marked with reason, so status shows it as invalid and commands
// say to log in again. The next login for the account clears the mark.
func (s *Store) Invalidate(ctx context.Context, host, login, reason string) error {
	h, err := hostName(host)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "the host rejected it"
	}
	unlock, err := s.lockStore(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		return err
	}
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
	if err := s.saveConfig(s.opts.Dir, cfg); err != nil {
		if rerr := restore(); rerr != nil {
			return fmt.Errorf("%w; and the token could not be put back: %v", err, rerr)
		}
		return err
	}
	return nil
}

// putSecret writes sec for h/login into backend and returns a function that
// puts back what the backend held before (for when the index cannot be
// written). readOld says whether the keyring may already hold a secret for
// the account (reading it costs a keyring call).
func (s *Store) putSecret(ctx context.Context, cfg *config.File, backend, h, login string, sec *Secret, readOld bool) (restore func() error, err error) {
	switch backend {
	case BackendKeyring:
		kb := s.keyringFor(cfg)
		var old *Secret
		if readOld {
			old, err = kb.get(ctx, h, login)
			var cse *CorruptSecretError
			if errors.Is(err, ErrNotFound) || errors.As(err, &cse) {
				old, err = nil, nil
			}
			if err != nil {
				return nil, err
			}
		}
		if err := kb.set(ctx, h, login, sec); err != nil {
			return nil, err
		}
		return func() error {
			// The caller's ctx may be what failed; restoring must still run.
			rctx := context.WithoutCancel(ctx)
			if old != nil {
				return kb.set(rctx, h, login, old)
			}
			if err := kb.del(rctx, h, login); err != nil && !errors.Is(err, ErrNotFound) {
				return err
			}
			return nil
		}, nil
	case BackendFile:
		creds, err := s.files.read()
		if err != nil {
			return nil, err
		}
		old := creds.get(h, login)
		creds.put(h, login, sec)
		if err := s.files.save(creds); err != nil {
			return nil, err
		}
		return func() error {
			c, err := s.files.read()
			if err != nil {
				return err
			}
			c.put(h, login, old)
			return s.files.save(c)
		}, nil
	}
	return nil, fmt.Errorf("the config file %s names an unknown store %q for %s on %s; log in again: ghlogin login --host %s", s.ConfigPath(), backend, login, h, h)
}

// beginWrite checks what Save and Replace are given, takes the store's lock
// and reads the configuration fresh under it. The caller must call unlock.
func (s *Store) beginWrite(ctx context.Context, host, login string, sec *Secret) (h string, cfg *config.File, unlock func(), err error) {
	if h, err = hostName(host); err != nil {
		return "", nil, nil, err
	}
	if err := checkLogin(login); err != nil {
		return "", nil, nil, err
	}
	if err := checkSecret(sec); err != nil {
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
