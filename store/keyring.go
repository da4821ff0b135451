package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
)

// ServicePrefix starts the keyring service name of every secret:
// "ghlogin:HOST", with the account's login as the user.
const ServicePrefix = "ghlogin:"

// Service returns the keyring service name for host.
func Service(host string) string { return ServicePrefix + host }

// probeUser is the keyring user Probe looks up; nothing is ever stored under it.
const probeUser = "ghlogin-probe"

// Keyring is the part of github.com/zalando/go-keyring the store uses: the
// OS keyring is package oskeyring's Keyring, and tests inject a fake (see
// package storetest) to act out hangs and failures. Get and Delete report a
// missing entry with an error that wraps fs.ErrNotExist (or ErrNotFound); a
// secret too large for the keyring is a *SecretTooLargeError.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// noKeyring is the Keyring of a store opened without one (Options.Keyring
// nil): the program links no OS keyring, so every call says there is none.
type noKeyring struct{}

func (noKeyring) err() error {
	return &NoKeyringServiceError{Reason: "this program was built without the OS keyring"}
}

// Get fails: there is no keyring.
func (k noKeyring) Get(string, string) (string, error) { return "", k.err() }

// Set fails: there is no keyring.
func (k noKeyring) Set(string, string, string) error { return k.err() }

// Delete fails: there is no keyring.
func (k noKeyring) Delete(string, string) error { return k.err() }

// keyringBackend is the "keyring" Backend: one JSON-encoded Secret per
// account, service Service(host), user the login. It bounds every call to
// the Keyring and turns its errors into the store's: ErrNotFound,
// *KeyringUnavailableError, *SecretTooLargeError, *CorruptSecretError.
type keyringBackend struct {
	kr      Keyring
	timeout time.Duration
}

// Name returns "keyring".
func (kb keyringBackend) Name() string { return BackendKeyring }

// tuned returns kb with the timeout in force.
func (kb keyringBackend) tuned(t tuning) Backend {
	kb.timeout = t.keyringTimeout
	return kb
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
	timeout := kb.timeout
	if timeout <= 0 {
		timeout = config.DefaultKeyringTimeout
	}
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-ch:
		return r.v, classifyKeyringError(op, r.err)
	case <-t.C:
		return "", &KeyringUnavailableError{Op: op, Timeout: true, Err: fmt.Errorf("no answer within %v: %w", timeout, context.DeadlineExceeded)}
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

func classifyKeyringError(op string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrNotFound):
		return ErrNotFound
	case errors.As(err, new(*SecretTooLargeError)), errors.As(err, new(*KeyringUnavailableError)):
		// Already classified (a keyring that is not there says so itself):
		// wrapping it again would repeat its sentence.
		return err
	case strings.Contains(err.Error(), "failed to unlock"):
		return &KeyringUnavailableError{Op: op, Err: fmt.Errorf("the keyring is locked and could not be unlocked (unlock it in your desktop session): %w", err)}
	default:
		// No session bus, no Secret Service on it, a locked collection
		// whose unlock prompt was dismissed, an access denial: all mean
		// the keyring cannot be used now.
		return &KeyringUnavailableError{Op: op, Err: err}
	}
}

// Get reads and decodes host/login's secret.
func (kb keyringBackend) Get(ctx context.Context, host, login string) (*Secret, error) {
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

// Set encodes and writes host/login's secret.
func (kb keyringBackend) Set(ctx context.Context, host, login string, sec *Secret) error {
	data, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	_, err = kb.call(ctx, "write", func() (string, error) { return "", kb.kr.Set(Service(host), login, string(data)) })
	return err
}

// Delete removes host/login's secret; ErrNotFound when there was none.
func (kb keyringBackend) Delete(ctx context.Context, host, login string) error {
	_, err := kb.call(ctx, "delete", func() (string, error) { return "", kb.kr.Delete(Service(host), login) })
	return err
}

// Probe makes a bounded lookup of an entry that does not exist: it needs
// the bus, the Secret Service (or Keychain / Credential Manager) and an
// unlocked collection, and writes nothing. A failure is a
// *KeyringUnavailableError (Timeout when it did not answer in time).
func (kb keyringBackend) Probe(ctx context.Context) error {
	_, err := kb.call(ctx, "read", func() (string, error) { return kb.kr.Get(Service("probe"), probeUser) })
	if err == nil || errors.Is(err, ErrNotFound) {
		return nil
	}
	return err
}
