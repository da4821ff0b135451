package store

import (
	"context"

	"github.com/ghlogin/ghlogin/internal/config"
)

// Probe checks, before a login, that backend can take a token, so a command
// can offer the alternative before the user has gone through the browser.
// It writes no secret:
//   - keyring: a bounded lookup of an entry that does not exist, which needs
//     the bus, the Secret Service (or Keychain / Credential Manager) and an
//     unlocked collection. A failure is a *KeyringUnavailableError (Timeout
//     when it did not answer in time).
//   - file: the config directory exists or can be created, and an existing
//     credentials.json is readable, valid and private (*InsecureFileError,
//     *CorruptFileError otherwise).
//
// An unknown backend name is an *InvalidInputError.
func (s *Store) Probe(ctx context.Context, backend string) error {
	cfg, err := config.Load(s.opts.Dir)
	if err != nil {
		// The probe is about the backend; a broken config file is
		// reported by whatever reads it next.
		cfg = config.New()
	}
	b, err := s.chosen(cfg, backend)
	if err != nil {
		return err
	}
	return b.Probe(ctx)
}
