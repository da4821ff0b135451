package store

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/ghlogin/ghlogin/internal/config"
)

// probeUser is the keyring user Probe looks up; nothing is ever stored under it.
const probeUser = "ghlogin-probe"

// Probe checks, before a login, that backend can take a token, so a command
// can offer the alternative before the user has gone through the browser:
//   - keyring: a bounded lookup of an entry that does not exist, which needs
//     the bus, the Secret Service (or Keychain / Credential Manager) and an
//     unlocked collection, and writes nothing. A failure is a
//     *KeyringUnavailableError (Timeout when it did not answer in time).
//   - file: the config directory exists or can be created, and an existing
//     credentials.json is readable, valid and private (*InsecureFileError,
//     *CorruptFileError otherwise).
func (s *Store) Probe(ctx context.Context, backend string) error {
	switch backend {
	case BackendKeyring:
		cfg, err := config.Load(s.opts.Dir)
		if err != nil {
			cfg = config.New()
		}
		_, err = s.keyringFor(cfg).call(ctx, "read", func() (string, error) {
			return s.opts.Keyring.Get(Service("probe"), probeUser)
		})
		if err == nil || errors.Is(err, ErrNotFound) {
			return nil
		}
		return err
	case BackendFile:
		if err := config.EnsureDir(s.opts.Dir); err != nil {
			return err
		}
		if _, err := os.Stat(s.opts.Dir); err != nil {
			return err
		}
		_, err := s.files.read()
		return err
	}
	return &InvalidInputError{fmt.Sprintf("unknown store %q; use keyring or file", backend)}
}
