// Package storetest holds test helpers for programs that use package store:
// MemKeyring, an in-memory keyring that can be told to answer slowly, hang
// or fail, to act out what real keyrings do. Pass it as store.Options.Keyring.
package storetest

import (
	"fmt"
	"io/fs"
	"sort"
	"sync"
	"time"

	"github.com/zalando/go-keyring"
)

// MemKeyring is an in-memory store.Keyring for tests. It can be told to
// answer slowly, to hang, or to fail, to act out what real keyrings do.
// Missing entries are go-keyring's ErrNotFound wrapped with fs.ErrNotExist,
// as package oskeyring reports them.
type MemKeyring struct {
	mu    sync.Mutex
	items map[[2]string]string
	delay time.Duration
	hang  chan struct{}
	fail  map[string]error
	calls int
}

// errNotFound is a missing entry, as package oskeyring reports one.
var errNotFound = fmt.Errorf("%w (%w)", keyring.ErrNotFound, fs.ErrNotExist)

// NewMemKeyring returns an empty in-memory keyring.
func NewMemKeyring() *MemKeyring {
	return &MemKeyring{items: map[[2]string]string{}, fail: map[string]error{}}
}

// SetDelay makes every later call wait d before it acts.
func (m *MemKeyring) SetDelay(d time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.delay = d
}

// Hang makes every later call block until Release is called.
func (m *MemKeyring) Hang() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hang == nil {
		m.hang = make(chan struct{})
	}
}

// Release lets hanging calls go on and ends Hang.
func (m *MemKeyring) Release() {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.hang != nil {
		close(m.hang)
		m.hang = nil
	}
}

// FailWith makes later calls of op ("get", "set", "delete", or "" for all)
// return err; a nil err clears the failure.
func (m *MemKeyring) FailWith(op string, err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if err == nil {
		delete(m.fail, op)
		return
	}
	m.fail[op] = err
}

// Calls returns how many calls the keyring has received.
func (m *MemKeyring) Calls() int {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.calls
}

// Services lists the stored entries as "service/user", sorted.
func (m *MemKeyring) Services() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for k := range m.items {
		out = append(out, k[0]+"/"+k[1])
	}
	sort.Strings(out)
	return out
}

func (m *MemKeyring) enter(op string) error {
	m.mu.Lock()
	m.calls++
	delay, hang := m.delay, m.hang
	err := m.fail[op]
	if err == nil {
		err = m.fail[""]
	}
	m.mu.Unlock()
	if hang != nil {
		<-hang
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	return err
}

// Get returns a secret, or an error wrapping go-keyring's ErrNotFound and
// fs.ErrNotExist.
func (m *MemKeyring) Get(service, user string) (string, error) {
	if err := m.enter("get"); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.items[[2]string{service, user}]
	if !ok {
		return "", errNotFound
	}
	return v, nil
}

// Set stores a secret.
func (m *MemKeyring) Set(service, user, secret string) error {
	if err := m.enter("set"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.items[[2]string{service, user}] = secret
	return nil
}

// Delete removes a secret, or returns an error wrapping go-keyring's
// ErrNotFound and fs.ErrNotExist.
func (m *MemKeyring) Delete(service, user string) error {
	if err := m.enter("delete"); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{service, user}
	if _, ok := m.items[k]; !ok {
		return errNotFound
	}
	delete(m.items, k)
	return nil
}
