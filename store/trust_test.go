//go:build !windows

package store

import (
	"errors"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
)

// A credentials.json another user owns could have been planted: it is
// refused with the chown to run, as ssh's StrictModes would.
func TestCredentialsOtherOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test needs root to chown a file to another user")
		}
		t.Skip("needs root to chown a file to another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	s := newStore(t, nil)
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(s.CredentialsPath(), uid, -1); err != nil {
		t.Fatal(err)
	}
	_, err = s.Secret(ctx, Account{Host: "github.com", Login: "a"})
	var ue *config.UntrustedError
	if !errors.As(err, &ue) || ue.Problem != config.OtherOwner || !strings.HasSuffix(err.Error(), "run: chown root "+s.CredentialsPath()) {
		t.Fatalf("Secret: %v, want a *config.UntrustedError with the chown to run", err)
	}
	// A config directory others can write is refused before anything is read.
	if err := os.Chown(s.CredentialsPath(), 0, -1); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(s.Dir(), 0o777); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{Dir: s.Dir()}); !errors.As(err, &ue) || ue.Problem != config.OthersCanWrite || !ue.Dir {
		t.Fatalf("Open: %v, want the directory refused", err)
	}
	if _, err := s.Accounts(""); !errors.As(err, &ue) {
		t.Fatalf("Accounts: %v, want the directory refused", err)
	}
}

// wantRefused checks err is a *config.UntrustedError for path whose message
// ends with fix.
func wantRefused(t *testing.T, what string, err error, path, fix string) {
	t.Helper()
	var ue *config.UntrustedError
	if !errors.As(err, &ue) || ue.Path != path || !ue.Inside || !strings.HasSuffix(err.Error(), "run: "+fix) {
		t.Errorf("%s: %v, want %s refused with the fix %q", what, err, path, fix)
	}
}

// The locks directory, the lock files and a login's owner and result files
// obey the config directory's rules: one that others could write is refused
// with the chmod to run, and nothing runs under it.
func TestLocksTrust(t *testing.T) {
	s := newStore(t, nil)
	ran := false
	run := func() error { ran = true; return nil }
	if err := s.WithLock(ctx, "refresh-x", run); err != nil || !ran {
		t.Fatalf("WithLock: %v", err)
	}
	locks := filepath.Join(s.Dir(), "locks")
	if fi, err := os.Stat(locks); err != nil || fi.Mode().Perm() != 0o700 {
		t.Fatalf("locks directory: %v %v", fi, err)
	}

	// A lock file others can write.
	lock := s.LockPath("refresh-x")
	os.Chmod(lock, 0o666)
	ran = false
	wantRefused(t, "WithLock, lock file 0666", s.WithLock(ctx, "refresh-x", run), lock, "chmod go-w "+lock)
	if ran {
		t.Error("WithLock ran under an untrusted lock")
	}
	os.Chmod(lock, 0o600)

	// The store lock, in the config directory.
	storeLock := filepath.Join(s.Dir(), "ghlogin.lock")
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	os.Chmod(storeLock, 0o622)
	wantRefused(t, "Save, store lock 0622", s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "t"}), storeLock, "chmod go-w "+storeLock)
	os.Chmod(storeLock, 0o600)

	// A login's result and owner files.
	lease, _, err := s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	if err != nil || lease == nil {
		t.Fatalf("BeginLogin: %v", err)
	}
	if err := lease.Publish(LoginResult{OK: true, Login: "a", Store: BackendFile}); err != nil {
		t.Fatal(err)
	}
	p := s.loginPaths("github.com")
	lease.Release()
	os.Chmod(p.result, 0o666)
	_, _, err = s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	wantRefused(t, "BeginLogin, result 0666", err, p.result, "chmod go-w "+p.result)
	os.Chmod(p.result, 0o600)
	if err := os.WriteFile(p.owner, []byte(`{"pid":1,"host":"github.com","flight":"f"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p.owner, 0o646)
	if _, _, err := readLoginOwner(p.owner, "github.com"); err == nil {
		t.Error("an owner record others can write was read")
	}
	os.Remove(p.owner)

	// The locks directory itself.
	os.Chmod(locks, 0o777)
	ran = false
	wantRefused(t, "WithLock, locks 0777", s.WithLock(ctx, "refresh-x", run), locks, "chmod go-w "+locks)
	_, _, err = s.BeginLogin(ctx, "github.com", LoginWaitOptions{})
	wantRefused(t, "BeginLogin, locks 0777", err, locks, "chmod go-w "+locks)
	if ran {
		t.Error("WithLock ran under an untrusted locks directory")
	}
}
