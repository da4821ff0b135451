package store

// This file declares the Store API that commands and the git helper use.
// The bodies are being written (issue 2/3); the signatures are the contract.

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ghlogin/ghlogin/config"
)

// ErrNotFound is returned by a backend that holds no secret for an account.
var ErrNotFound = errors.New("no secret stored for this account")

// NotLoggedInError means there is no (such) account for a host. Commands exit 4.
type NotLoggedInError struct {
	Host  string
	Login string // empty when no account at all
}

func (e *NotLoggedInError) Error() string {
	if e.Login != "" {
		return fmt.Sprintf("no account %q for %s; run: ghlogin login --host %s", e.Login, e.Host, e.Host)
	}
	return fmt.Sprintf("not logged in to %s; run: ghlogin login --host %s", e.Host, e.Host)
}

// KeyringUnavailableError means the OS keyring could not be used (no Secret
// Service, locked, or the call timed out). The message names the alternatives.
type KeyringUnavailableError struct {
	Op      string // "read", "write", "delete"
	Timeout bool
	Err     error
}

func (e *KeyringUnavailableError) Error() string {
	why := fmt.Sprint(e.Err)
	if e.Timeout {
		why = "the keyring did not answer in time"
	}
	return fmt.Sprintf("the OS keyring is not available (%s): %s; to keep the token in a file readable only by you instead, use --store file or set GHLOGIN_STORE=file", e.Op, why)
}

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
	// Dir is the config directory (see config.Dir).
	Dir string
	// Keyring defaults to the OS keyring through go-keyring.
	Keyring Keyring
	// KeyringTimeout bounds every keyring call; zero means the config
	// file's keyring_timeout, else 3 s.
	KeyringTimeout time.Duration
}

// Store is the token store. Methods are safe for concurrent use by many
// processes sharing Dir.
type Store struct {
	opts Options
}

// Open prepares a store in opts.Dir (created 0700 when missing).
func Open(opts Options) (*Store, error) { return &Store{opts: opts}, errors.New("store: pending") }

// Dir returns the config directory.
func (s *Store) Dir() string { return s.opts.Dir }

// CredentialsPath returns the file store's path (for prompts and messages).
func (s *Store) CredentialsPath() string { return "" }

// Config reads the current configuration file (a missing file is empty).
func (s *Store) Config() (*config.File, error) { return nil, errors.New("store: pending") }

// UpdateConfig runs fn on the configuration under the store's lock and writes
// the result atomically when fn returns nil.
func (s *Store) UpdateConfig(fn func(*config.File) error) error { return errors.New("store: pending") }

// Save stores sec for host/login in backend ("keyring" or "file"), records the
// account in the index and makes it the host's active account. On failure
// nothing already stored is lost.
func (s *Store) Save(ctx context.Context, host, login, backend string, sec *Secret) error {
	return errors.New("store: pending")
}

// Accounts lists stored accounts, of one host or of all when host is "",
// sorted by host then login.
func (s *Store) Accounts(host string) ([]Account, error) { return nil, errors.New("store: pending") }

// Resolve finds host's account named login, or the active one when login is
// "". It returns *NotLoggedInError when there is none.
func (s *Store) Resolve(host, login string) (Account, error) {
	return Account{}, errors.New("store: pending")
}

// Secret reads an account's secret from its backend.
func (s *Store) Secret(ctx context.Context, a Account) (*Secret, error) {
	return nil, errors.New("store: pending")
}

// Remove deletes an account's secret and index entry and, when it was
// active, activates another account of the host if one remains (returned as
// newActive, "" when none).
func (s *Store) Remove(ctx context.Context, host, login string) (newActive string, err error) {
	return "", errors.New("store: pending")
}

// Switch makes login the host's active account; with login "" it moves to
// the next account (toggles when there are two).
func (s *Store) Switch(host, login string) (Account, error) {
	return Account{}, errors.New("store: pending")
}

// WithLock runs fn holding the cross-process lock named name (for example
// "refresh-HOST-LOGIN"), waiting until ctx is done to get it.
func (s *Store) WithLock(ctx context.Context, name string, fn func() error) error {
	return errors.New("store: pending")
}
