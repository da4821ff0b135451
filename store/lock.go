package store

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/ghlogin/ghlogin/internal/config"
)

// DefaultLockTimeout is how long a Store mutation waits for the store lock
// when Options.LockTimeout is zero.
const DefaultLockTimeout = 30 * time.Second

// storeLockFile is the lock every Store mutation takes, in the config directory.
const storeLockFile = "ghlogin.lock"

// lockFile takes an exclusive advisory lock on path (created 0600 when
// missing), polling with a short, growing, jittered backoff until ctx is
// done. It returns the function that releases it. A lock file that
// another user owns or could write is refused (*UntrustedError,
// checkLock): whoever can open it can hold the lock.
func lockFile(ctx context.Context, path string) (func(), error) {
	if err := checkLock(path); err != nil {
		return nil, err
	}
	fl := flock.New(path, flock.SetPermissions(0o600))
	delay := time.Millisecond
	for {
		ok, err := fl.TryLock()
		if err != nil {
			return nil, &LockError{Path: path, Err: err}
		}
		if ok {
			return func() { _ = fl.Unlock() }, nil
		}
		// Jitter keeps many waiting processes from polling in step.
		d := delay/2 + rand.N(delay/2+1)
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, &LockError{Path: path, Err: ctx.Err()}
		case <-t.C:
		}
		if delay < 50*time.Millisecond {
			delay *= 2
		}
	}
}

// checkLock refuses a lock file, when there is one, that another user owns
// or could write (config.CheckInside).
func checkLock(path string) error { return config.CheckInside(path, false) }

// lockDir is the directory of the named locks (WithLock, BeginLogin).
func (s *Store) lockDir() string { return filepath.Join(s.opts.Dir, "locks") }

// lockName turns a caller's lock name into a safe file name: letters,
// digits, '.', '_' and '-' are kept, anything else becomes '_'; when the
// name had to be changed (or is long) a short hash of the original is added
// so that different names never share a lock.
func lockName(name string) string {
	var b strings.Builder
	changed := false
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-' || (r == '.' && i > 0)
		if ok {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
			changed = true
		}
	}
	s := b.String()
	if s == "" {
		s, changed = "lock", true
	}
	if len(s) > 100 {
		s, changed = s[:100], true
	}
	if changed {
		sum := sha256.Sum256([]byte(name))
		s += "-" + hex.EncodeToString(sum[:4])
	}
	return s
}

// LockPath returns the file that WithLock(name) locks.
func (s *Store) LockPath(name string) string {
	return filepath.Join(s.lockDir(), lockName(name)+".lock")
}

// WithLock runs fn holding the cross-process lock named name (for example
// "refresh-HOST-LOGIN"; any characters, sanitized into a file name under
// DIR/locks), waiting until ctx is done to get it. Waiting ends with a
// *LockError wrapping ctx's error. A locks directory or lock file that
// another user owns or could write is refused with a *UntrustedError.
func (s *Store) WithLock(ctx context.Context, name string, fn func() error) error {
	if err := s.ensureLockDir(); err != nil {
		return err
	}
	unlock, err := lockFile(ctx, s.LockPath(name))
	if err != nil {
		return err
	}
	defer unlock()
	return fn()
}

// ensureLockDir creates the locks directory (mode 0700) or checks the one
// there (config.EnsureInside): *UntrustedError when another user
// owns it or could write it, a *LockError when it cannot be made.
func (s *Store) ensureLockDir() error {
	err := config.EnsureInside(s.lockDir())
	var ue *UntrustedError
	if err != nil && !errors.As(err, &ue) {
		return &LockError{Path: s.lockDir(), Err: err}
	}
	return err
}

// lockStore takes the store lock: first within the process (so goroutines
// queue without polling), then across processes. ctx and the store's lock
// timeout both bound the wait.
func (s *Store) lockStore(ctx context.Context) (func(), error) {
	ctx, cancel := context.WithTimeout(ctx, s.lockTimeout())
	defer cancel()
	path := filepath.Join(s.opts.Dir, storeLockFile)
	select {
	case s.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, &LockError{Path: path, Err: ctx.Err()}
	}
	unlock, err := lockFile(ctx, path)
	if err != nil {
		<-s.sem
		return nil, err
	}
	// Under the lock no other writer is mid-write, so any temporary file
	// left in the directory is from a process that died; remove it (it may
	// hold a secret).
	s.removeStaleTemps()
	return func() {
		unlock()
		<-s.sem
	}, nil
}

func (s *Store) lockTimeout() time.Duration {
	if s.opts.LockTimeout > 0 {
		return s.opts.LockTimeout
	}
	return DefaultLockTimeout
}

func (s *Store) removeStaleTemps() {
	ents, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		if !e.Type().IsRegular() || !strings.HasSuffix(n, ".tmp") {
			continue
		}
		if strings.HasPrefix(n, "."+CredentialsFile+".") || strings.HasPrefix(n, "."+config.FileName+".") {
			_ = os.Remove(filepath.Join(s.opts.Dir, n))
		}
	}
}
