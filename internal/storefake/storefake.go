// Package storefake holds an in-memory store.Backend for tests: one that
// works, one that is unavailable, or one that forgot everything (a restart
// of a volatile store such as the kernel keyring). It lives apart from
// store/storetest because store's own tests import that package, which so
// cannot import store.
package storefake

import (
	"context"
	"sync"

	"github.com/ghlogin/ghlogin/store"
)

// Backend is a store.Backend in memory, registered under its name
// (store.Options.Backends) in place of the real one.
type Backend struct {
	name     string
	probeErr error
	mu       sync.Mutex
	m        map[string]*store.Secret
}

// New returns an empty Backend named name. A non-nil probeErr makes it
// unavailable: Probe and Set return it (a kernel that refuses keyctl).
func New(name string, probeErr error) *Backend {
	return &Backend{name: name, probeErr: probeErr, m: map[string]*store.Secret{}}
}

// Name is the backend's name.
func (b *Backend) Name() string { return b.name }

// Volatile reports true for the kernel keyring, whose keys a restart ends.
func (b *Backend) Volatile() bool { return b.name == store.BackendKernel }

// Get returns a copy of the secret kept for host and login, or
// store.ErrNotFound.
func (b *Backend) Get(_ context.Context, host, login string) (*store.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.m[host+"/"+login]; ok {
		c := *s
		return &c, nil
	}
	return nil, store.ErrNotFound
}

// Set keeps a copy of s, unless the backend is unavailable.
func (b *Backend) Set(_ context.Context, host, login string, s *store.Secret) error {
	if b.probeErr != nil {
		return b.probeErr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := *s
	b.m[host+"/"+login] = &c
	return nil
}

// Delete removes the secret, or returns store.ErrNotFound.
func (b *Backend) Delete(_ context.Context, host, login string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[host+"/"+login]; !ok {
		return store.ErrNotFound
	}
	delete(b.m, host+"/"+login)
	return nil
}

// Probe returns the error that makes the backend unavailable, or nil.
func (b *Backend) Probe(context.Context) error { return b.probeErr }

// Forget acts out a restart: the backend holds nothing any more.
func (b *Backend) Forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.m)
}
