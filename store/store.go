package store

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

// Options configure Open.
type Options struct {
	// Dir is the config directory "" means $GHLOGIN_CONFIG_DIR, else the OS config directory + /ghlogin.
	Dir string
	// Keyring is the OS keyring: oskeyring.Keyring, or a fake in tests. nil
	// means this program has none: the keyring store then fails with a
	// *KeyringUnavailableError (a *NoKeyringServiceError inside), so a
	// program that never keeps secrets there (the lean git helper) links
	// no D-Bus client.
	Keyring Keyring
	// KeyringTimeout bounds every keyring call; zero means the config
	// file's keyring_timeout, else 3 s.
	KeyringTimeout time.Duration
	// LockTimeout bounds the wait for the store lock; zero means 30 s.
	LockTimeout time.Duration
	// Clock dates new accounts (AddedAt); nil means the real clock.
	Clock Clock
	// Backends are added after the store's own, replacing any of the same
	// name: programs that use the store give it a backend of their own,
	// and their tests replace "kernel" or "keyring" with one that acts out
	// a machine where it is unavailable (Probe and Set returning a
	// *KernelKeyringUnavailableError) or a restart (Get returning
	// ErrNotFound from a backend whose Volatile method returns true).
	Backends []Backend
}

// Store is the token store. Methods are safe for concurrent use by many
// goroutines and many processes sharing Dir.
type Store struct {
	opts Options
	// sem serialises this process's mutations before the file lock.
	sem chan struct{}
	// backends are the places secrets can be kept, by name.
	backends registry
	// files is the "file" backend (also in backends), kept at hand for
	// CredentialsPath and for tests.
	files *fileBackend
	// saveConfig writes the index; tests replace it to inject failures.
	saveConfig func(dir string, f *config.File) error
}

// Open prepares a store in opts.Dir (created 0700 when missing) with the
// keyring, kernel and file backends. The kernel backend is the real kernel
// keyring on Linux; elsewhere every use of it is a
// *KernelKeyringUnavailableError saying that it exists only on Linux.
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
		opts.Keyring = noKeyring{}
	}
	opts.Clock = clock.Or(opts.Clock)
	s := &Store{
		opts:       opts,
		sem:        make(chan struct{}, 1),
		files:      newFileBackend(opts.Dir),
		saveConfig: func(dir string, f *config.File) error { return f.Save(dir) },
	}
	s.backends.add(keyringBackend{kr: opts.Keyring})
	s.backends.add(newKernelBackend())
	s.backends.add(s.files)
	for _, b := range opts.Backends {
		s.backends.add(b)
	}
	return s, nil
}

// Dir returns the config directory.
func (s *Store) Dir() string { return s.opts.Dir }

// CredentialsPath returns the file store's path (for prompts and messages).
func (s *Store) CredentialsPath() string { return s.files.path }

// ConfigPath returns the config file's path.
func (s *Store) ConfigPath() string { return config.Path(s.opts.Dir) }

// Backends lists the names of the store's backends ("keyring", "kernel",
// "file").
func (s *Store) Backends() []string { return append([]string(nil), s.backends.order...) }

// hostName normalizes a host as the index keys it ("" means github.com).
func hostName(host string) (string, error) {
	h, err := hosts.Parse(host)
	if err != nil {
		return "", err
	}
	return h.Name, nil
}
