// Package oskeyring links the operating system's keyring (macOS Keychain,
// Windows Credential Manager, the Secret Service on Linux and the BSDs)
// into the token store through github.com/zalando/go-keyring. Pass Keyring
// as store.Options.Keyring. It is apart from package store, with the
// Secret Service check (CheckSecretService), so that programs which only
// read the file store or the kernel keyring (the lean git credential
// helper) link neither go-keyring nor a D-Bus client.
package oskeyring

import (
	"context"
	"errors"
	"fmt"
	"io/fs"

	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/store"
)

// Keyring is the OS keyring through go-keyring, a store.Keyring. Every
// call first checks, with CheckSecretService, that a Secret Service
// is there: go-keyring is never called where it would start a D-Bus
// daemon, and the error then is a *store.NoKeyringServiceError.
type Keyring struct{}

// Get reads a secret; a missing one is an error wrapping fs.ErrNotExist and
// go-keyring's ErrNotFound.
func (Keyring) Get(service, user string) (string, error) {
	if err := CheckSecretService(context.Background()); err != nil {
		return "", err
	}
	v, err := keyring.Get(service, user)
	return v, translate(err)
}

// Set writes (or replaces) a secret; one too large for the keyring is a
// *store.SecretTooLargeError.
func (Keyring) Set(service, user, secret string) error {
	if err := CheckSecretService(context.Background()); err != nil {
		return err
	}
	return translate(keyring.Set(service, user, secret))
}

// Delete removes a secret; a missing one is an error wrapping
// fs.ErrNotExist and go-keyring's ErrNotFound.
func (Keyring) Delete(service, user string) error {
	if err := CheckSecretService(context.Background()); err != nil {
		return err
	}
	return translate(keyring.Delete(service, user))
}

// translate turns go-keyring's sentinel errors into the store's contract
// (see store.Keyring).
func translate(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, keyring.ErrNotFound):
		return fmt.Errorf("%w (%w)", err, fs.ErrNotExist)
	case errors.Is(err, keyring.ErrSetDataTooBig):
		return &store.SecretTooLargeError{Store: store.BackendKeyring, Err: err}
	}
	return err
}
