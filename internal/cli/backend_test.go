package cli

import (
	"context"
	"sync"

	"github.com/ghlogin/ghlogin/store"
)

// memKernel is a kernel keyring backend in memory: one that works, one the
// kernel refuses (probeErr), or one that forgot everything (a restart).
type memKernel struct {
	probeErr error
	mu       sync.Mutex
	m        map[string]*store.Secret
}

func newMemKernel(probeErr error) *memKernel {
	return &memKernel{probeErr: probeErr, m: map[string]*store.Secret{}}
}

func (b *memKernel) Name() string   { return store.BackendKernel }
func (b *memKernel) Volatile() bool { return true }
func (b *memKernel) Get(_ context.Context, host, login string) (*store.Secret, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if s, ok := b.m[host+"/"+login]; ok {
		c := *s
		return &c, nil
	}
	return nil, store.ErrNotFound
}
func (b *memKernel) Set(_ context.Context, host, login string, s *store.Secret) error {
	if b.probeErr != nil {
		return b.probeErr
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	c := *s
	b.m[host+"/"+login] = &c
	return nil
}
func (b *memKernel) Delete(_ context.Context, host, login string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.m[host+"/"+login]; !ok {
		return store.ErrNotFound
	}
	delete(b.m, host+"/"+login)
	return nil
}
func (b *memKernel) Probe(context.Context) error { return b.probeErr }

// forget acts out a restart.
func (b *memKernel) forget() {
	b.mu.Lock()
	defer b.mu.Unlock()
	clear(b.m)
}
