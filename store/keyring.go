package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/zalando/go-keyring"
)

// ServicePrefix starts the keyring service name of every secret:
// "ghlogin:HOST", with the account's login as the user.
const ServicePrefix = "ghlogin:"

// Service returns the keyring service name for host.
func Service(host string) string { return ServicePrefix + host }

// OSKeyring is the operating system's keyring (macOS Keychain, Windows
// Credential Manager, Secret Service on Linux) through go-keyring.
type OSKeyring struct{}

// Get reads a secret.
func (OSKeyring) Get(service, user string) (string, error) { return keyring.Get(service, user) }

// Set writes (or replaces) a secret.
func (OSKeyring) Set(service, user, secret string) error { return keyring.Set(service, user, secret) }

// Delete removes a secret.
func (OSKeyring) Delete(service, user string) error { return keyring.Delete(service, user) }

// keyringBackend bounds every call to a Keyring and turns its errors into
// the store's: ErrNotFound or *KeyringUnavailableError.
type keyringBackend struct {
	kr      Keyring
	timeout time.Duration
}

// call runs fn in a goroutine and waits at most kb.timeout for it. A call
// that does not return in time is left to finish on its own (D-Bus and
// Keychain calls cannot be interrupted); the caller gets an error at once.
func (kb keyringBackend) call(ctx context.Context, op string, fn func() (string, error)) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", err
	}
	type result struct {
		v   string
		err error
	}
	ch := make(chan result, 1)
	go func() {
		v, err := fn()
		ch <- result{v, err}
	}()
	t := time.NewTimer(kb.timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, classifyKeyringError(op, r.err)
	case <-t.C:
		return "", &KeyringUnavailableError{Op: op, Timeout: true, Err: fmt.Errorf("no answer within %v: %w", kb.timeout, context.DeadlineExceeded)}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func classifyKeyringError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound), errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return fmt.Errorf("the token is too large for the OS keyring; use --store file or set GHLOGIN_STORE=file: %w", err)
	case strings.Contains(err.Error(), "failed to unlock"):
		return &KeyringUnavailableError{Op: op, Err: fmt.Errorf("the keyring is locked and could not be unlocked (unlock it in your desktop session): %w", err)}
	default:
		// No session bus, no Secret Service on it, a locked collection
		// whose unlock prompt was dismissed, an access denial: all mean
		// the keyring cannot be used now.
		return &KeyringUnavailableError{Op: op, Err: err}
	}
}

// get reads and decodes host/login's secret.
func (kb keyringBackend) get(ctx context.Context, host, login string) (*Secret, error) {
	v, err := kb.call(ctx, "read", func() (string, error) { return kb.kr.Get(Service(host), login) })
	if err != nil {
		return nil, err
	}
	var sec Secret
	if err := json.Unmarshal([]byte(v), &sec); err != nil || sec.Token == "" {
		// The content is not quoted: it may be a token stored by something else.
		return nil, &CorruptSecretError{Host: host, Login: login, Store: BackendKeyring}
	}
	return &sec, nil
}

// set encodes and writes host/login's secret.
func (kb keyringBackend) set(ctx context.Context, host, login string, sec *Secret) error {
	data, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	_, err = kb.call(ctx, "write", func() (string, error) { return "", kb.kr.Set(Service(host), login, string(data)) })
	return err
}

// del removes host/login's secret; ErrNotFound when there was none.
func (kb keyringBackend) del(ctx context.Context, host, login string) error {
	_, err := kb.call(ctx, "delete", func() (string, error) { return "", kb.kr.Delete(Service(host), login) })
	return err
}

// CorruptSecretError means a backend holds something for an account that
// is not a ghlogin secret. Logging in again replaces it.
type CorruptSecretError struct {
	Host, Login, Store string
}

// Error says what went wrong and what to do.
func (e *CorruptSecretError) Error() string {
	return fmt.Sprintf("the secret for %s on %s in the %s is not readable; log in again: ghlogin login --host %s", e.Login, e.Host, backendPlace(e.Store), e.Host)
}

func backendPlace(b string) string {
	if b == BackendFile {
		return "credentials file"
	}
	return "OS keyring"
}
