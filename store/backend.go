package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
)

// Backend names, as the index records them.
const (
	BackendKeyring = "keyring"
	BackendFile    = "file"
)

// Backend keeps the secrets of one kind of storage: the OS keyring, the
// credentials file, or others to come. A Store calls a backend only under
// its lock for Set and Delete, so a backend need not lock across processes
// itself. Backends never see the index.
type Backend interface {
	// Name is how the index refers to the backend ("keyring", "file").
	Name() string
	// Get returns host/login's secret: ErrNotFound when it holds none,
	// *CorruptSecretError when what it holds is not a secret.
	Get(ctx context.Context, host, login string) (*Secret, error)
	// Set stores or replaces host/login's secret. A read-only backend
	// returns *ReadOnlyError.
	Set(ctx context.Context, host, login string, s *Secret) error
	// Delete removes host/login's secret: ErrNotFound when there was none;
	// a read-only backend returns *ReadOnlyError.
	Delete(ctx context.Context, host, login string) error
	// Probe checks, writing nothing, that the backend can take a secret now.
	Probe(ctx context.Context) error
}

// volatile is a Backend that forgets its secrets on its own (the kernel
// keyring after a restart or idle expiry): a secret missing from it is
// "gone", not "removed outside ghlogin".
type volatile interface {
	Volatile() bool
}

// isVolatile reports whether b forgets its secrets on its own.
func isVolatile(b Backend) bool {
	v, ok := b.(volatile)
	return ok && v.Volatile()
}

// places are the backends as messages name them; a backend missing here is
// "the NAME store".
var places = map[string]string{
	BackendKeyring: "OS keyring",
	BackendKernel:  "kernel keyring",
	BackendFile:    "credentials file",
}

func place(name string) string {
	if p, ok := places[name]; ok {
		return p
	}
	return name + " store"
}

// tuning is what the configuration in force says about backends.
type tuning struct {
	// keyringTimeout bounds every OS keyring call.
	keyringTimeout time.Duration
}

// tunable is a Backend whose settings come from the configuration of the
// operation at hand (the keyring's call timeout); the Store asks it for a
// tuned copy before each use.
type tunable interface {
	Backend
	tuned(t tuning) Backend
}

// registry is the Store's set of backends, by name, in the order messages
// list them.
type registry struct {
	order  []string
	byName map[string]Backend
}

// add registers b, replacing a backend of the same name.
func (r *registry) add(b Backend) {
	if r.byName == nil {
		r.byName = map[string]Backend{}
	}
	if _, ok := r.byName[b.Name()]; !ok {
		r.order = append(r.order, b.Name())
	}
	r.byName[b.Name()] = b
}

// choices lists the names for a message: "keyring or file".
func (r *registry) choices() string {
	switch n := len(r.order); n {
	case 0:
		return "none"
	case 1:
		return r.order[0]
	default:
		return strings.Join(r.order[:n-1], ", ") + " or " + r.order[n-1]
	}
}

// tuning returns the backend settings for cfg: Options first, then the
// config file's, then the defaults.
func (s *Store) tuning(cfg *config.File) tuning {
	t := s.opts.KeyringTimeout
	if t <= 0 {
		t = cfg.Timeout()
	}
	return tuning{keyringTimeout: t}
}

// backend returns the backend called name, tuned to cfg, and false when the
// store has none by that name.
func (s *Store) backend(cfg *config.File, name string) (Backend, bool) {
	b, ok := s.backends.byName[name]
	if !ok {
		return nil, false
	}
	if t, ok := b.(tunable); ok {
		b = t.tuned(s.tuning(cfg))
	}
	return b, true
}

// backendFor is backend for the account h/login that the index of cfg
// keeps in name: an unknown name is an *UnknownBackendError.
func (s *Store) backendFor(cfg *config.File, name, h, login string) (Backend, error) {
	b, ok := s.backend(cfg, name)
	if !ok {
		return nil, &UnknownBackendError{Path: s.ConfigPath(), Host: h, Login: login, Store: name}
	}
	return b, nil
}

// chosen is backend for a name a caller passed in: an unknown name is an
// *InvalidInputError listing the choices.
func (s *Store) chosen(cfg *config.File, name string) (Backend, error) {
	b, ok := s.backend(cfg, name)
	if !ok {
		return nil, &InvalidInputError{fmt.Sprintf("unknown store %q; use %s", name, s.backends.choices())}
	}
	return b, nil
}
