package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
)

// The store's errors carry data (host, login, backend, path, operation); the
// program using the store decides what to tell a person to do about them.

// ErrNotFound is returned by a backend that holds no secret for an account.
var ErrNotFound = errors.New("no secret stored for this account")

// NotLoggedInError means there is no (such) account for a host, or that the
// index lists the account but its backend no longer holds the secret (Store
// set), or that the secret was removed on purpose (Invalid set).
type NotLoggedInError struct {
	Host  string
	Login string // empty when no account at all
	// Store names the backend whose secret is missing ("" when the account
	// itself is missing).
	Store string
	// Invalid says why the token was removed (see Store.Invalidate).
	Invalid string
	// Gone is set when Store is a backend that keeps secrets in memory
	// only (the kernel keyring) and the secret is missing: the machine
	// restarted, or the keyring expired after going unused.
	Gone bool
}

// Error says what is missing.
func (e *NotLoggedInError) Error() string {
	switch {
	case e.Invalid != "":
		return fmt.Sprintf("the token for %s on %s was removed because %s", e.Login, e.Host, e.Invalid)
	case e.Gone:
		return fmt.Sprintf("the login for %s on %s was kept in memory and is gone (the machine restarted or it expired)", e.Login, e.Host)
	case e.Store != "":
		return fmt.Sprintf("the token for %s on %s is missing from the %s (removed outside ghlogin?)", e.Login, e.Host, place(e.Store))
	case e.Login != "":
		return fmt.Sprintf("no account %q for %s", e.Login, e.Host)
	}
	return fmt.Sprintf("not logged in to %s", e.Host)
}

// Unwrap returns ErrNotFound when the secret is missing from its backend.
func (e *NotLoggedInError) Unwrap() error {
	if e.Store != "" {
		return ErrNotFound
	}
	return nil
}

// KeyringUnavailableError means the OS keyring could not be used (no Secret
// Service, locked, or the call timed out).
type KeyringUnavailableError struct {
	Op      string // "read", "write", "delete"
	Timeout bool
	Err     error
}

// Error says what failed and, for a delete, that nothing was removed.
func (e *KeyringUnavailableError) Error() string {
	why := fmt.Sprint(e.Err)
	if e.Timeout {
		why = "the keyring did not answer in time"
	}
	msg := fmt.Sprintf("the OS keyring is not available (%s): %s", e.Op, why)
	var ns *NoKeyringServiceError
	switch {
	case e.Op != "delete":
	case errors.As(e.Err, &ns):
		msg += "; nothing was removed"
	default:
		msg += "; nothing was removed: unlock or start the keyring, then try again"
	}
	return msg
}

// Unwrap returns the underlying error.
func (e *KeyringUnavailableError) Unwrap() error { return e.Err }

// SecretTooLargeError means a backend refused a secret for its size (the
// Windows Credential Manager and macOS Keychain limit entries).
type SecretTooLargeError struct {
	Store string
	Err   error
}

// Error names the backend and its complaint.
func (e *SecretTooLargeError) Error() string {
	return fmt.Sprintf("the token is too large for the %s: %v", place(e.Store), e.Err)
}

// Unwrap returns the backend's error.
func (e *SecretTooLargeError) Unwrap() error { return e.Err }

// CorruptSecretError means a backend holds something for an account that
// is not a secret the store wrote. Saving the account again replaces it.
type CorruptSecretError struct {
	Host, Login, Store string
}

// Error says which secret cannot be read (never what it holds).
func (e *CorruptSecretError) Error() string {
	return fmt.Sprintf("the secret for %s on %s in the %s is not readable", e.Login, e.Host, place(e.Store))
}

// UnknownBackendError means the index names a backend this store does not
// have (a hand-edited file, or one written by a newer version).
type UnknownBackendError struct {
	// Path is the config file holding the index.
	Path        string
	Host, Login string
	// Store is the name the index gives.
	Store string
}

// Error names the file, the account and the backend name.
func (e *UnknownBackendError) Error() string {
	return fmt.Sprintf("the config file %s names an unknown store %q for %s on %s", e.Path, e.Store, e.Login, e.Host)
}

// ReadOnlyError is what a read-only backend (one that only offers secrets
// kept elsewhere, such as a forwarded agent) returns from Set and Delete.
// Removing an account that such a backend holds drops it from the index and
// leaves the secret where it is.
type ReadOnlyError struct {
	Store string
}

// Error names the backend.
func (e *ReadOnlyError) Error() string {
	return fmt.Sprintf("the %s cannot be written", place(e.Store))
}

// InvalidInputError is an argument the store refuses (never holding a secret).
type InvalidInputError struct{ Reason string }

// Error says what is wrong with the argument.
func (e *InvalidInputError) Error() string { return "cannot store the account: " + e.Reason }

// InsecureFileError means credentials.json can be read or written by other
// users. The store refuses to use it (as ssh does with private keys) until
// the mode is fixed, because the tokens in it may have been exposed.
type InsecureFileError struct {
	Path string
	Mode fs.FileMode
}

// Error says what is wrong and how to fix the mode.
func (e *InsecureFileError) Error() string {
	return fmt.Sprintf("%s is accessible by other users (mode %04o), so the tokens in it may have been exposed; run: chmod 600 %s (and consider revoking those tokens)", e.Path, e.Mode.Perm(), e.Path)
}

// CorruptFileError means credentials.json is not valid. The store never
// overwrites it then, since that would lose the tokens it may still hold.
type CorruptFileError struct {
	Path string
}

// Error says which file is unreadable and that it is left alone.
func (e *CorruptFileError) Error() string {
	return fmt.Sprintf("%s is not a valid credentials file; ghlogin will not overwrite it: move it away, then log in again", e.Path)
}

// LockError means a cross-process lock could not be taken in time (another
// process holds it) or at all.
type LockError struct {
	Path string
	Err  error
}

// Error says which lock could not be taken and why.
func (e *LockError) Error() string {
	if errors.Is(e.Err, context.DeadlineExceeded) || errors.Is(e.Err, context.Canceled) {
		return fmt.Sprintf("another ghlogin process is holding the lock %s; try again when it has finished", e.Path)
	}
	return fmt.Sprintf("cannot take the lock %s: %v", e.Path, e.Err)
}

// Unwrap returns the underlying error.
func (e *LockError) Unwrap() error { return e.Err }
