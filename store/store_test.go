package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store/storetest"
)

func newStore(t *testing.T, kr Keyring) *Store {
	t.Helper()
	if kr == nil {
		kr = storetest.NewMemKeyring()
	}
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "ghlogin"), Keyring: kr, KeyringTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func logins(t *testing.T, s *Store, host string) []string {
	t.Helper()
	accts, err := s.Accounts(host)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range accts {
		l := a.Host + "/" + a.Login
		if a.Active {
			l += "*"
		}
		out = append(out, l)
	}
	return out
}

func token(t *testing.T, s *Store, host, login string) string {
	t.Helper()
	a, err := s.Resolve(host, login)
	if err != nil {
		t.Fatal(err)
	}
	sec, err := s.Secret(context.Background(), a)
	if err != nil {
		t.Fatal(err)
	}
	return sec.Token
}

var ctx = context.Background()

func TestAccountsAddSwitchRemove(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			s := newStore(t, nil)
			exp := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := s.Save(ctx, "github.com", "octocat", backend, &Secret{Token: "gho_one", TokenType: "bearer", Scopes: []string{"repo", "gist"}, ExpiresAt: exp}); err != nil {
				t.Fatal(err)
			}
			if err := s.Save(ctx, "github.com", "hubot", backend, &Secret{Token: "gho_two"}); err != nil {
				t.Fatal(err)
			}
			if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/hubot*", "github.com/octocat"}) {
				t.Fatalf("after two logins: %v", got)
			}
			a, _ := s.Resolve("github.com", "octocat")
			if a.Store != backend || !reflect.DeepEqual(a.Scopes, []string{"repo", "gist"}) || !a.ExpiresAt.Equal(exp) || a.TokenType != "bearer" || a.Active {
				t.Fatalf("account = %+v", a)
			}
			if token(t, s, "github.com", "") != "gho_two" || token(t, s, "github.com", "octocat") != "gho_one" {
				t.Fatal("wrong tokens")
			}
			// Switch toggles between two.
			if a, err := s.Switch("github.com", ""); err != nil || a.Login != "octocat" || !a.Active {
				t.Fatalf("toggle: %+v %v", a, err)
			}
			if a, _ := s.Switch("github.com", ""); a.Login != "hubot" {
				t.Fatalf("toggle back: %+v", a)
			}
			if a, _ := s.Switch("github.com", "octocat"); a.Login != "octocat" {
				t.Fatalf("switch by name: %+v", a)
			}
			var nl *NotLoggedInError
			if _, err := s.Switch("github.com", "ghost"); !errors.As(err, &nl) || nl.Login != "ghost" {
				t.Fatalf("unknown login: %v", err)
			}
			if _, err := s.Switch("ghe.example.com", ""); !errors.As(err, &nl) || nl.Login != "" || nl.Host != "ghe.example.com" {
				t.Fatalf("unknown host: %v", err)
			}
			// Logging out the active account activates the other one.
			next, err := s.Remove(ctx, "github.com", "octocat")
			if err != nil || next != "hubot" {
				t.Fatalf("remove: %q %v", next, err)
			}
			if got := logins(t, s, "github.com"); !reflect.DeepEqual(got, []string{"github.com/hubot*"}) {
				t.Fatalf("after remove: %v", got)
			}
			if _, err := s.Secret(ctx, Account{Host: "github.com", Login: "octocat"}); !errors.As(err, &nl) {
				t.Fatalf("secret of removed account: %v", err)
			}
			// Removing the last one leaves none; the empty host entry goes away.
			if next, err := s.Remove(ctx, "github.com", ""); err != nil || next != "" {
				t.Fatalf("remove last: %q %v", next, err)
			}
			if _, err := s.Resolve("github.com", ""); !errors.As(err, &nl) || nl.Host != "github.com" || nl.Login != "" || nl.Store != "" || err.Error() != "not logged in to github.com" {
				t.Fatalf("resolve with none: %v", err)
			}
			cfg, _ := s.Config()
			if len(cfg.Hosts) != 0 {
				t.Fatalf("empty host kept: %+v", cfg.Hosts)
			}
			if _, err := s.Remove(ctx, "github.com", "hubot"); !errors.As(err, &nl) {
				t.Fatalf("remove again: %v", err)
			}
			if backend == BackendFile {
				c, err := s.files.read()
				if err != nil || len(c) != 0 {
					t.Fatalf("credentials left: %v %v", c.Logins(), err)
				}
			}
		})
	}
}

func TestSaveAgainReplacesAndKeepsOthers(t *testing.T) {
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t1"})
	s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "t2"})
	s.Switch("github.com", "a")
	if err := s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "t3"}); err != nil {
		t.Fatal(err)
	}
	if token(t, s, "github.com", "b") != "t3" || token(t, s, "github.com", "a") != "t1" {
		t.Fatal("tokens wrong")
	}
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/a", "github.com/b*"}) {
		t.Fatalf("re-login should make b active: %v", got)
	}
}

func TestHostsAreNormalized(t *testing.T) {
	s := newStore(t, nil)
	if err := s.Save(ctx, "HTTPS://GitHub.COM:443", "octocat", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "http://127.0.0.1:80", "dev", BackendFile, &Secret{Token: "u"}); err != nil {
		t.Fatal(err)
	}
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"127.0.0.1/dev*", "github.com/octocat*"}) {
		t.Fatalf("keys: %v", got)
	}
	for _, h := range []string{"github.com", "GITHUB.com", "github.com:443", "https://github.com", ""} {
		if a, err := s.Resolve(h, ""); err != nil || a.Host != "github.com" {
			t.Errorf("Resolve(%q) = %+v, %v", h, a, err)
		}
	}
	c, _ := s.files.read()
	if c.get("github.com", "octocat") == nil {
		t.Fatalf("credentials not keyed by normalized host: %v", c.Logins())
	}
	if err := s.Save(ctx, "http://example.com", "x", BackendFile, &Secret{Token: "t"}); err == nil {
		t.Fatal("http for a non-loopback host must be refused")
	}
}

func TestSaveRejectsBadInput(t *testing.T) {
	s := newStore(t, nil)
	var ie *InvalidInputError
	for _, c := range []struct {
		login, backend string
		sec            *Secret
	}{
		{"", BackendFile, &Secret{Token: "t"}},
		{" a", BackendFile, &Secret{Token: "t"}},
		{"a\nb", BackendFile, &Secret{Token: "t"}},
		{"a", BackendFile, nil},
		{"a", BackendFile, &Secret{}},
		{"a", BackendFile, &Secret{Token: "gho_canary\npassword=x"}},
		{"a", "disk", &Secret{Token: "t"}},
	} {
		err := s.Save(ctx, "github.com", c.login, c.backend, c.sec)
		if !errors.As(err, &ie) {
			t.Errorf("Save(%q, %q) = %v; want *InvalidInputError", c.login, c.backend, err)
		} else if strings.Contains(err.Error(), "canary") {
			t.Errorf("token in error: %v", err)
		}
	}
	if got := logins(t, s, ""); len(got) != 0 {
		t.Fatalf("stored: %v", got)
	}
}

func TestDefaultBackendFromHostSetting(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	if err := s.UpdateConfig(func(f *config.File) error { return f.Set("ghe.example.com", "store", "file") }); err != nil {
		t.Fatal(err)
	}
	s.Save(ctx, "ghe.example.com", "a", "", &Secret{Token: "t"})
	s.Save(ctx, "github.com", "b", "", &Secret{Token: "u"})
	a, _ := s.Resolve("ghe.example.com", "a")
	b, _ := s.Resolve("github.com", "b")
	if a.Store != BackendFile || b.Store != BackendKeyring {
		t.Fatalf("stores: %s %s", a.Store, b.Store)
	}
	// The host's settings survive account changes.
	s.Remove(ctx, "ghe.example.com", "a")
	cfg, _ := s.Config()
	if v, _ := cfg.Get("ghe.example.com", "store"); v != "file" {
		t.Fatalf("setting lost: %q", v)
	}
}

func TestMoveBetweenBackends(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "k"})
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "f"}); err != nil {
		t.Fatal(err)
	}
	if len(kr.Services()) != 0 {
		t.Fatalf("keyring still holds %v", kr.Services())
	}
	if token(t, s, "github.com", "a") != "f" {
		t.Fatal("token not moved")
	}
	if err := s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "k2"}); err != nil {
		t.Fatal(err)
	}
	c, _ := s.files.read()
	if len(c) != 0 || !reflect.DeepEqual(kr.Services(), []string{"ghlogin:github.com/a"}) {
		t.Fatalf("file %v keyring %v", c.Logins(), kr.Services())
	}
}

func TestFileAndDirModes(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Log("file modes are not checked on Windows")
		return
	}
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	s.WithLock(ctx, "x", func() error { return nil })
	for path, want := range map[string]os.FileMode{
		s.Dir():                               0o700,
		s.CredentialsPath():                   0o600,
		s.ConfigPath():                        0o600,
		filepath.Join(s.Dir(), storeLockFile): 0o600,
		filepath.Join(s.Dir(), "locks"):       0o700,
		s.LockPath("x"):                       0o600,
	} {
		st, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if st.Mode().Perm() != want {
			t.Errorf("%s mode %04o, want %04o", path, st.Mode().Perm(), want)
		}
	}
	cfg, _ := os.ReadFile(s.ConfigPath())
	if strings.Contains(string(cfg), `"t"`) || strings.Contains(string(cfg), "token = ") {
		t.Fatalf("secret in the index:\n%s", cfg)
	}
}

func TestInsecureCredentialsFileRefused(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Log("file modes are not checked on Windows")
		return
	}
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	os.Chmod(s.CredentialsPath(), 0o644)
	var ie *InsecureFileError
	_, err := s.Secret(ctx, Account{Host: "github.com", Login: "a"})
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "chmod 600 "+s.CredentialsPath()) {
		t.Fatalf("Secret: %v", err)
	}
	if err := s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "u"}); !errors.As(err, &ie) {
		t.Fatalf("Save: %v", err)
	}
	os.Chmod(s.CredentialsPath(), 0o600)
	if token(t, s, "github.com", "a") != "t" {
		t.Fatal("token lost")
	}
}

func TestCorruptCredentialsNeverOverwritten(t *testing.T) {
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	junk := []byte(`{"github.com": {"a": {"token": "t"}`)
	os.WriteFile(s.CredentialsPath(), junk, 0o600)
	var ce *CorruptFileError
	if err := s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "u"}); !errors.As(err, &ce) || !strings.Contains(err.Error(), s.CredentialsPath()) {
		t.Fatalf("Save: %v", err)
	}
	if _, err := s.Secret(ctx, Account{Host: "github.com", Login: "a"}); !errors.As(err, &ce) {
		t.Fatalf("Secret: %v", err)
	}
	got, _ := os.ReadFile(s.CredentialsPath())
	if string(got) != string(junk) {
		t.Fatal("corrupt file was replaced")
	}
}

func TestCorruptConfigNeverOverwritten(t *testing.T) {
	s := newStore(t, nil)
	os.WriteFile(s.ConfigPath(), []byte("[hosts\n"), 0o600)
	var pe *config.ParseError
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"}); !errors.As(err, &pe) {
		t.Fatalf("Save: %v", err)
	}
	if _, err := s.Accounts(""); !errors.As(err, &pe) {
		t.Fatalf("Accounts: %v", err)
	}
	if _, err := os.Stat(s.CredentialsPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("secret written although the index cannot be")
	}
}

func TestSecretMissingFromBackend(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "t"})
	s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "u"})
	kr.Delete(Service("github.com"), "a")
	os.WriteFile(s.CredentialsPath(), []byte("{}"), 0o600)
	for login, backend := range map[string]string{"a": BackendKeyring, "b": BackendFile} {
		_, err := s.Secret(ctx, Account{Host: "github.com", Login: login})
		var nl *NotLoggedInError
		if !errors.As(err, &nl) || nl.Store != backend || nl.Host != "github.com" || nl.Login != login || !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is missing from the") {
			t.Fatalf("%s: %v", login, err)
		}
	}
	// Logging out still works and cleans the index.
	if _, err := s.Remove(ctx, "github.com", "a"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, "github.com", "b"); err != nil {
		t.Fatal(err)
	}
	if got := logins(t, s, ""); len(got) != 0 {
		t.Fatal(got)
	}
}

func TestCorruptKeyringEntry(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "t"})
	kr.Set(Service("github.com"), "a", "not-json-canary")
	_, err := s.Secret(ctx, Account{Host: "github.com", Login: "a"})
	var cs *CorruptSecretError
	if !errors.As(err, &cs) || strings.Contains(err.Error(), "canary") {
		t.Fatalf("Secret: %v", err)
	}
	// A new login replaces it.
	if err := s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "t2"}); err != nil || token(t, s, "github.com", "a") != "t2" {
		t.Fatalf("relogin: %v", err)
	}
}

func TestKeyringHangTimesOut(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.opts.KeyringTimeout = 150 * time.Millisecond
	if err := s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "t1"}); err != nil {
		t.Fatal(err)
	}
	kr.Hang()
	defer kr.Release()
	for name, op := range map[string]func() error{
		"save":   func() error { return s.Save(ctx, "github.com", "b", BackendKeyring, &Secret{Token: "t2"}) },
		"secret": func() error { _, err := s.Secret(ctx, Account{Host: "github.com", Login: "a"}); return err },
		"remove": func() error { _, err := s.Remove(ctx, "github.com", "a"); return err },
	} {
		start := time.Now()
		err := op()
		el := time.Since(start)
		var ku *KeyringUnavailableError
		if !errors.As(err, &ku) || !ku.Timeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("%s: %v", name, err)
		}
		if el < 150*time.Millisecond || el > 2*time.Second {
			t.Errorf("%s took %v; want about the 150ms timeout", name, el)
		}
		if !strings.Contains(err.Error(), "did not answer in time") {
			t.Errorf("%s: message %q does not say the keyring did not answer", name, err)
		}
	}
	kr.Release()
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/a*"}) {
		t.Fatalf("index changed by failed calls: %v", got)
	}
}

func TestKeyringTimeoutFromConfig(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s, err := Open(Options{Dir: t.TempDir(), Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	s.UpdateConfig(func(f *config.File) error { return f.Set("", "keyring_timeout", "200ms") })
	kr.Hang()
	defer kr.Release()
	start := time.Now()
	err = s.Save(ctx, "github.com", "a", BackendKeyring, &Secret{Token: "t"})
	el := time.Since(start)
	var ku *KeyringUnavailableError
	if !errors.As(err, &ku) || !ku.Timeout || el < 200*time.Millisecond || el > 2*time.Second {
		t.Fatalf("err %v after %v", err, el)
	}
}

func TestKeyringCallHonoursContext(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.opts.KeyringTimeout = time.Minute
	kr.Hang()
	defer kr.Release()
	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := s.Save(c, "github.com", "a", BackendKeyring, &Secret{Token: "t"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want the context's error, got %v", err)
	}
}

// dbusError mimics what go-keyring returns when the Secret Service is absent.
var dbusError = errors.New("The name org.freedesktop.secrets was not provided by any .service files")

func TestKeyringUnavailableKeepsFirstAccount(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	if err := s.Save(ctx, "github.com", "first", BackendKeyring, &Secret{Token: "t1"}); err != nil {
		t.Fatal(err)
	}
	kr.FailWith("set", dbusError)
	err := s.Save(ctx, "github.com", "second", BackendKeyring, &Secret{Token: "t2"})
	var ku *KeyringUnavailableError
	if !errors.As(err, &ku) || ku.Timeout || ku.Op != "write" || !errors.Is(err, dbusError) {
		t.Fatalf("Save: %v", err)
	}
	// Updating the first account fails too, and keeps it.
	if err := s.Save(ctx, "github.com", "first", BackendKeyring, &Secret{Token: "t3"}); !errors.As(err, &ku) {
		t.Fatalf("Save first: %v", err)
	}
	kr.FailWith("set", nil)
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/first*"}) {
		t.Fatalf("index: %v", got)
	}
	if token(t, s, "github.com", "first") != "t1" {
		t.Fatal("first token lost")
	}
	// Locked keyring on read.
	kr.FailWith("get", errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"))
	if _, err := s.Secret(ctx, Account{Host: "github.com", Login: "first"}); !errors.As(err, &ku) || ku.Op != "read" {
		t.Fatalf("Secret: %v", err)
	}
	// Logout cannot remove the token now: it says so and keeps the account.
	if _, err := s.Remove(ctx, "github.com", "first"); !errors.As(err, &ku) {
		t.Fatalf("Remove: %v", err)
	}
	kr.FailWith("get", nil)
	if token(t, s, "github.com", "first") != "t1" {
		t.Fatal("first token lost")
	}
}

// failIndex makes the store's index writes fail while on is set.
func failIndex(s *Store, on *atomic.Bool) {
	orig := s.saveConfig
	s.saveConfig = func(dir string, f *config.File) error {
		if on.Load() {
			return errors.New("disk full")
		}
		return orig(dir, f)
	}
}

func TestIndexFailureRestoresSecrets(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			kr := storetest.NewMemKeyring()
			s := newStore(t, kr)
			var broken atomic.Bool
			failIndex(s, &broken)
			if err := s.Save(ctx, "github.com", "a", backend, &Secret{Token: "old"}); err != nil {
				t.Fatal(err)
			}
			broken.Store(true)
			// Re-login of a: the old token is put back.
			if err := s.Save(ctx, "github.com", "a", backend, &Secret{Token: "new"}); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("Save: %v", err)
			}
			if token(t, s, "github.com", "a") != "old" {
				t.Fatal("old token not restored")
			}
			// A new account: its secret is removed again.
			if err := s.Save(ctx, "github.com", "b", backend, &Secret{Token: "b"}); err == nil {
				t.Fatal("Save b should fail")
			}
			if backend == BackendKeyring {
				if got := kr.Services(); !reflect.DeepEqual(got, []string{"ghlogin:github.com/a"}) {
					t.Fatalf("keyring: %v", got)
				}
			} else if c, _ := s.files.read(); !reflect.DeepEqual(c.Logins(), []string{"github.com/a"}) {
				t.Fatalf("file: %v", c.Logins())
			}
			// Logout: the secret is put back when the index cannot change.
			if _, err := s.Remove(ctx, "github.com", "a"); err == nil {
				t.Fatal("Remove should fail")
			}
			if token(t, s, "github.com", "a") != "old" {
				t.Fatal("token lost by a failed logout")
			}
			broken.Store(false)
			if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/a*"}) {
				t.Fatalf("index: %v", got)
			}
		})
	}
}

func TestSecretWriteFailureLeavesIndex(t *testing.T) {
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	s.files.write = func(string, []byte) error { return errors.New("no space left on device") }
	if err := s.Save(ctx, "github.com", "b", BackendFile, &Secret{Token: "u"}); err == nil {
		t.Fatal("want error")
	}
	if _, err := s.Remove(ctx, "github.com", "a"); err == nil {
		t.Fatal("want error")
	}
	s.files.write = defaultWrite
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/a*"}) {
		t.Fatalf("index: %v", got)
	}
	if token(t, s, "github.com", "a") != "t" {
		t.Fatal("token lost")
	}
}

func TestUpdateConfig(t *testing.T) {
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	if err := s.UpdateConfig(func(f *config.File) error { return f.Set("github.com", "client_id", "Iv1.x") }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	if err := s.UpdateConfig(func(f *config.File) error { f.Hosts = nil; return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
	cfg, _ := s.Config()
	if cfg.Host("github.com").ClientID != "Iv1.x" || cfg.Host("github.com").Account("a") == nil {
		t.Fatalf("config: %+v", cfg.Host("github.com"))
	}
}

func TestConcurrentGoroutines(t *testing.T) {
	s := newStore(t, nil)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			login := string(rune('a' + i))
			if err := s.Save(ctx, "github.com", login, BackendFile, &Secret{Token: "t" + login}); err != nil {
				t.Error(err)
			}
		}(i)
	}
	wg.Wait()
	if got := logins(t, s, ""); len(got) != 20 {
		t.Fatalf("got %d accounts: %v", len(got), got)
	}
	c, _ := s.files.read()
	if len(c.Logins()) != 20 {
		t.Fatalf("file: %v", c.Logins())
	}
}

func TestWithLock(t *testing.T) {
	s := newStore(t, nil)
	var inside, max atomic.Int32
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := s.WithLock(ctx, "refresh-github.com-octocat", func() error {
				n := inside.Add(1)
				if n > max.Load() {
					max.Store(n)
				}
				time.Sleep(5 * time.Millisecond)
				inside.Add(-1)
				return nil
			})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if max.Load() != 1 {
		t.Fatalf("%d holders at once", max.Load())
	}
	// A held lock makes a waiter give up when its context ends.
	release := make(chan struct{})
	held := make(chan struct{})
	go s.WithLock(ctx, "busy", func() error { close(held); <-release; return nil })
	<-held
	c, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	ran := false
	err := s.WithLock(c, "busy", func() error { ran = true; return nil })
	close(release)
	var le *LockError
	if !errors.As(err, &le) || !errors.Is(err, context.DeadlineExceeded) || ran || !strings.Contains(err.Error(), "another ghlogin process") {
		t.Fatalf("err %v ran %v", err, ran)
	}
	// fn's error comes back.
	boom := errors.New("boom")
	if err := s.WithLock(ctx, "x", func() error { return boom }); !errors.Is(err, boom) {
		t.Fatal(err)
	}
}

func TestLockNames(t *testing.T) {
	s := newStore(t, nil)
	seen := map[string]string{}
	for _, name := range []string{"refresh-github.com-octocat", "refresh-127.0.0.1:8787-a", "refresh-127.0.0.1_8787-a", "../../etc/passwd", "", ".hidden", "a/b", "a_b", strings.Repeat("x", 300)} {
		p := s.LockPath(name)
		if filepath.Dir(p) != filepath.Join(s.Dir(), "locks") {
			t.Errorf("%q escapes the locks dir: %s", name, p)
		}
		if prev, dup := seen[p]; dup {
			t.Errorf("%q and %q share %s", name, prev, p)
		}
		seen[p] = name
		if len(filepath.Base(p)) > 120 {
			t.Errorf("%q: name too long", name)
		}
	}
	if got := filepath.Base(s.LockPath("refresh-github.com-octocat")); got != "refresh-github.com-octocat.lock" {
		t.Errorf("plain name changed: %s", got)
	}
}

func TestStaleTempFilesRemoved(t *testing.T) {
	s := newStore(t, nil)
	stale := filepath.Join(s.Dir(), "."+CredentialsFile+".123.tmp")
	os.WriteFile(stale, []byte("secret"), 0o600)
	other := filepath.Join(s.Dir(), "notes.tmp")
	os.WriteFile(other, []byte("x"), 0o600)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("stale temp file kept")
	}
	if _, err := os.Stat(other); err != nil {
		t.Fatal("unrelated file removed")
	}
}

func TestAccountJSONHasScopesArray(t *testing.T) {
	s := newStore(t, nil)
	s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
	a, _ := s.Resolve("", "")
	if a.Scopes == nil {
		t.Fatal("Scopes should be an empty list, not null")
	}
}

func TestReplaceKeepsActiveAndBackend(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			s := newStore(t, nil)
			s.Save(ctx, "github.com", "a", backend, &Secret{Token: "a1", RefreshToken: "r1"})
			s.Save(ctx, "github.com", "b", backend, &Secret{Token: "b1"})
			exp := time.Date(2031, 1, 1, 0, 0, 0, 0, time.UTC)
			if err := s.Replace(ctx, "GitHub.com", "a", &Secret{Token: "a2", RefreshToken: "r2", ExpiresAt: exp, Scopes: []string{"repo"}}); err != nil {
				t.Fatal(err)
			}
			if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/a", "github.com/b*"}) {
				t.Fatalf("active changed: %v", got)
			}
			cfg, _ := s.Config()
			a, err := s.ResolveIn(cfg, "github.com", "a")
			if err != nil || a.Store != backend || !a.ExpiresAt.Equal(exp) || !reflect.DeepEqual(a.Scopes, []string{"repo"}) {
				t.Fatalf("index entry: %+v %v", a, err)
			}
			sec, err := s.SecretIn(ctx, cfg, a)
			if err != nil || sec.Token != "a2" || sec.RefreshToken != "r2" {
				t.Fatalf("secret: %v", err)
			}
			var nl *NotLoggedInError
			if err := s.Replace(ctx, "github.com", "gone", &Secret{Token: "x"}); !errors.As(err, &nl) {
				t.Fatalf("Replace of a missing account: %v", err)
			}
			if got := logins(t, s, ""); len(got) != 2 {
				t.Fatalf("Replace created an account: %v", got)
			}
			var broken atomic.Bool
			failIndex(s, &broken)
			broken.Store(true)
			if err := s.Replace(ctx, "github.com", "a", &Secret{Token: "a3"}); err == nil {
				t.Fatal("want error")
			}
			if token(t, s, "github.com", "a") != "a2" {
				t.Fatal("previous token not restored")
			}
		})
	}
}

func TestProbe(t *testing.T) {
	kr := storetest.NewMemKeyring()
	s := newStore(t, kr)
	s.opts.KeyringTimeout = 100 * time.Millisecond
	if err := s.Probe(ctx, BackendKeyring); err != nil {
		t.Fatal(err)
	}
	if len(kr.Services()) != 0 {
		t.Fatalf("Probe wrote to the keyring: %v", kr.Services())
	}
	var ku *KeyringUnavailableError
	kr.FailWith("get", dbusError)
	if err := s.Probe(ctx, BackendKeyring); !errors.As(err, &ku) || ku.Timeout {
		t.Fatalf("unavailable: %v", err)
	}
	kr.FailWith("get", nil)
	kr.Hang()
	err := s.Probe(ctx, BackendKeyring)
	kr.Release()
	if !errors.As(err, &ku) || !ku.Timeout {
		t.Fatalf("hang: %v", err)
	}
	if err := s.Probe(ctx, BackendFile); err != nil {
		t.Fatal(err)
	}
	if runtime.GOOS != "windows" {
		s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t"})
		os.Chmod(s.CredentialsPath(), 0o640)
		var ie *InsecureFileError
		if err := s.Probe(ctx, BackendFile); !errors.As(err, &ie) {
			t.Fatalf("insecure file: %v", err)
		}
	}
	var ii *InvalidInputError
	if err := s.Probe(ctx, "disk"); !errors.As(err, &ii) {
		t.Fatal(err)
	}
}

// Logging out the last account of a host keeps the host's bindings: they
// name the account, and the person sees them reported rather than lost.
func TestRemoveKeepsBindings(t *testing.T) {
	s := newStore(t, nil)
	if err := s.Save(ctx, "github.com", "alice-work", BackendFile, &Secret{Token: "gho_work"}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateConfig(func(f *config.File) error {
		f.Hosts["github.com"].OwnerBindings = map[string]string{"my-org": "alice-work"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Remove(ctx, "github.com", "alice-work"); err != nil {
		t.Fatal(err)
	}
	cfg, err := s.Config()
	if err != nil {
		t.Fatal(err)
	}
	h := cfg.Hosts["github.com"]
	if h == nil || h.OwnerBindings["my-org"] != "alice-work" || len(h.Accounts) != 0 {
		t.Fatalf("after removing the bound account: %+v", h)
	}
}

// An error the keyring already classified is passed on as it is: its
// sentence is said once.
func TestClassifyKeepsAClassifiedError(t *testing.T) {
	inner := &KeyringUnavailableError{Op: "read", Err: &NoKeyringServiceError{Reason: "no bus"}}
	got := classifyKeyringError("read", fmt.Errorf("probe: %w", inner))
	if n := strings.Count(got.Error(), "the OS keyring is not available"); n != 1 {
		t.Errorf("said %d times: %v", n, got)
	}
}
