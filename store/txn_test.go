package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// countWrites counts the store's index writes.
func countWrites(s *Store) *atomic.Int32 {
	var n atomic.Int32
	orig := s.saveConfig
	s.saveConfig = func(dir string, f *config.File) error {
		n.Add(1)
		return orig(dir, f)
	}
	return &n
}

func TestSaveWithAppliesSettingsInTheSameWrite(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			s := newStore(t, nil)
			writes := countWrites(s)
			// What the index write carries: the account and the setting together.
			var seen *config.Host
			orig := s.saveConfig
			s.saveConfig = func(dir string, f *config.File) error {
				cp := *f.Hosts["ghe.example.com"]
				seen = &cp
				return orig(dir, f)
			}
			err := s.SaveWith(ctx, "ghe.example.com", "octocat", backend, &Secret{Token: "gho_a"}, func(h *config.Host) error {
				h.ClientID = "Iv1.remembered"
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if writes.Load() != 1 {
				t.Fatalf("%d index writes, want 1", writes.Load())
			}
			if seen == nil || seen.ClientID != "Iv1.remembered" || seen.Accounts["octocat"] == nil || seen.Active != "octocat" {
				t.Fatalf("the one write held %+v", seen)
			}
			cfg, _ := s.Config()
			if hc := cfg.Host("ghe.example.com"); hc.ClientID != "Iv1.remembered" || hc.Account("octocat").Store != backend {
				t.Fatalf("config: %+v", hc)
			}
			if token(t, s, "ghe.example.com", "octocat") != "gho_a" {
				t.Fatal("token")
			}
		})
	}
}

func TestSaveWithUpdateErrorStoresNothing(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			kr := storetest.NewMemKeyring()
			s := newStore(t, kr)
			writes := countWrites(s)
			boom := errors.New("bad setting")
			err := s.SaveWith(ctx, "ghe.example.com", "octocat", backend, &Secret{Token: "gho_a"}, func(h *config.Host) error {
				h.ClientID = "Iv1.half"
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatalf("SaveWith = %v, want the update's error", err)
			}
			if writes.Load() != 0 {
				t.Fatalf("%d index writes after a failed update", writes.Load())
			}
			if len(kr.Services()) != 0 {
				t.Fatalf("keyring holds %v", kr.Services())
			}
			if _, err := os.Stat(s.CredentialsPath()); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("credentials file written: %v", err)
			}
			cfg, _ := s.Config()
			if len(cfg.Hosts) != 0 {
				t.Fatalf("config: %+v", cfg.Hosts)
			}
		})
	}
}

func TestSaveWithIndexFailureRestoresSecretAndSettings(t *testing.T) {
	for _, backend := range []string{BackendKeyring, BackendFile} {
		t.Run(backend, func(t *testing.T) {
			kr := storetest.NewMemKeyring()
			s := newStore(t, kr)
			if err := s.SaveWith(ctx, "ghe.example.com", "octocat", backend, &Secret{Token: "gho_old"}, func(h *config.Host) error {
				h.ClientID = "Iv1.old"
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			var broken atomic.Bool
			failIndex(s, &broken)
			broken.Store(true)
			update := func(h *config.Host) error { h.ClientID = "Iv1.new"; return nil }
			// A new login of the same account: the old token comes back.
			if err := s.SaveWith(ctx, "ghe.example.com", "octocat", backend, &Secret{Token: "gho_new"}, update); err == nil || !strings.Contains(err.Error(), "disk full") {
				t.Fatalf("SaveWith = %v", err)
			}
			// A new account: its secret goes away again.
			if err := s.SaveWith(ctx, "ghe.example.com", "hubot", backend, &Secret{Token: "gho_hubot"}, update); err == nil {
				t.Fatal("SaveWith of a new account succeeded with a broken index")
			}
			broken.Store(false)
			if token(t, s, "ghe.example.com", "octocat") != "gho_old" {
				t.Fatal("the previous token was not put back")
			}
			cfg, _ := s.Config()
			hc := cfg.Host("ghe.example.com")
			if hc.ClientID != "Iv1.old" || !reflect.DeepEqual(hc.Logins(), []string{"octocat"}) {
				t.Fatalf("settings or index changed: client_id %q, logins %v", hc.ClientID, hc.Logins())
			}
			if backend == BackendKeyring {
				if got := kr.Services(); !reflect.DeepEqual(got, []string{"ghlogin:ghe.example.com/octocat"}) {
					t.Fatalf("keyring: %v", got)
				}
			} else if c, _ := s.files.read(); !reflect.DeepEqual(c.Logins(), []string{"ghe.example.com/octocat"}) {
				t.Fatalf("file: %v", c.Logins())
			}
		})
	}
}

func TestAddedAtFromTheClock(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 987654321, time.FixedZone("X", 3600))
	clk := clock.NewFake(t0)
	s, err := Open(Options{Dir: filepath.Join(t.TempDir(), "ghlogin"), Keyring: storetest.NewMemKeyring(), Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t1"}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Hour)
	// Logging in again keeps the date the account was first added.
	if err := s.Save(ctx, "github.com", "a", BackendFile, &Secret{Token: "t2"}); err != nil {
		t.Fatal(err)
	}
	cfg, _ := s.Config()
	want := time.Date(2025, 3, 1, 11, 0, 0, 0, time.UTC)
	if got := cfg.Host("github.com").Account("a").AddedAt; !got.Equal(want) || got.Location() != time.UTC {
		t.Fatalf("AddedAt = %v, want %v", got, want)
	}
}

// readOnly is a backend that offers secrets kept elsewhere (like a
// forwarded agent) and cannot be written.
type readOnly struct{ secrets map[string]*Secret }

func (r readOnly) Name() string { return "agent" }
func (r readOnly) Get(_ context.Context, host, login string) (*Secret, error) {
	if s := r.secrets[host+"/"+login]; s != nil {
		cp := *s
		return &cp, nil
	}
	return nil, ErrNotFound
}
func (r readOnly) Set(context.Context, string, string, *Secret) error {
	return &ReadOnlyError{Store: "agent"}
}
func (r readOnly) Delete(context.Context, string, string) error {
	return &ReadOnlyError{Store: "agent"}
}
func (r readOnly) Probe(context.Context) error { return nil }

// index writes an index entry for host/login in backend by hand, as a
// backend that is not written through Save (or a hand-edited file) would.
func index(t *testing.T, s *Store, host, login, backend string) {
	t.Helper()
	err := s.UpdateConfig(func(f *config.File) error {
		hc, err := f.EnsureHost(host)
		if err != nil {
			return err
		}
		if hc.Accounts == nil {
			hc.Accounts = map[string]*config.Account{}
		}
		hc.Accounts[login] = &config.Account{Store: backend}
		hc.Active = login
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestRegistryAddsBackendsWithoutTouchingTransactions(t *testing.T) {
	s := newStore(t, nil)
	s.backends.add(readOnly{secrets: map[string]*Secret{"github.com/agent-user": {Token: "gho_agent"}}})
	if got := s.Backends(); !reflect.DeepEqual(got, []string{BackendKeyring, BackendKernel, BackendFile, "agent"}) {
		t.Fatalf("Backends = %v", got)
	}
	if err := s.Probe(ctx, "agent"); err != nil {
		t.Fatal(err)
	}
	// Reading goes through the registry.
	index(t, s, "github.com", "agent-user", "agent")
	if token(t, s, "github.com", "agent-user") != "gho_agent" {
		t.Fatal("agent token")
	}
	// Writing a read-only backend fails and writes no index entry.
	var ro *ReadOnlyError
	if err := s.Save(ctx, "github.com", "other", "agent", &Secret{Token: "t"}); !errors.As(err, &ro) || ro.Store != "agent" {
		t.Fatalf("Save into a read-only backend: %v", err)
	}
	if err := s.Replace(ctx, "github.com", "agent-user", &Secret{Token: "t"}); !errors.As(err, &ro) {
		t.Fatalf("Replace in a read-only backend: %v", err)
	}
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/agent-user*"}) {
		t.Fatalf("index: %v", got)
	}
	// Removing drops the index entry and leaves the secret where it is.
	if _, err := s.Remove(ctx, "github.com", "agent-user"); err != nil {
		t.Fatal(err)
	}
	if got := logins(t, s, ""); len(got) != 0 {
		t.Fatalf("index: %v", got)
	}
	var ii *InvalidInputError
	if err := s.Save(ctx, "github.com", "x", "disk", &Secret{Token: "t"}); !errors.As(err, &ii) || !strings.Contains(err.Error(), "use keyring, kernel, file or agent") {
		t.Fatalf("unknown backend: %v", err)
	}
}

func TestUnknownBackendInTheIndex(t *testing.T) {
	s := newStore(t, nil)
	index(t, s, "github.com", "octocat", "future")
	a, err := s.Resolve("github.com", "")
	if err != nil || a.Store != "future" {
		t.Fatalf("Resolve: %+v %v", a, err)
	}
	var ub *UnknownBackendError
	_, err = s.Secret(ctx, a)
	if !errors.As(err, &ub) || ub.Store != "future" || ub.Host != "github.com" || ub.Login != "octocat" || ub.Path != s.ConfigPath() {
		t.Fatalf("Secret: %v", err)
	}
	if err := s.Replace(ctx, "github.com", "octocat", &Secret{Token: "t"}); !errors.As(err, &ub) {
		t.Fatalf("Replace: %v", err)
	}
	// A new login moves the account to a backend the store has.
	if err := s.Save(ctx, "github.com", "octocat", BackendFile, &Secret{Token: "t"}); err != nil {
		t.Fatal(err)
	}
	index(t, s, "github.com", "hubot", "future")
	if err := s.Invalidate(ctx, "github.com", "hubot", ""); err != nil {
		t.Fatalf("Invalidate: %v", err)
	}
	// Logging out still works: the index entry goes.
	if _, err := s.Remove(ctx, "github.com", "hubot"); err != nil {
		t.Fatalf("Remove: %v", err)
	}
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/octocat*"}) {
		t.Fatalf("index: %v", got)
	}
}
