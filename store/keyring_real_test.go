package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// These tests use a real Secret Service. Locally they skip with a message
// when there is none; with CI=true they fail instead. To run them:
//
//	.ci/with-keyring go test -race ./store/

func skipOrFail(t *testing.T, format string, args ...any) {
	t.Helper()
	storetest.SkipOrFail(t, format, args...)
}

var (
	probeOnce sync.Once
	probeErr  error
)

// requireSecretService checks that the session's Secret Service answers a
// real Set, Get and Delete.
func requireSecretService(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		skipOrFail(t, "the Secret Service tests are for Linux")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		skipOrFail(t, "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service")
	}
	probeOnce.Do(func() {
		kb := keyringBackend{kr: osKeyring, timeout: 10 * time.Second}
		svc, user := Service("probe.ghlogin.invalid"), fmt.Sprintf("probe-%d", os.Getpid())
		if _, probeErr = kb.call(ctx, "write", func() (string, error) { return "", keyring.Set(svc, user, "x") }); probeErr != nil {
			return
		}
		var v string
		if v, probeErr = kb.call(ctx, "read", func() (string, error) { return keyring.Get(svc, user) }); probeErr == nil && v != "x" {
			probeErr = fmt.Errorf("read back %q", v)
		}
		if _, err := kb.call(ctx, "delete", func() (string, error) { return "", keyring.Delete(svc, user) }); probeErr == nil {
			probeErr = err
		}
	})
	if probeErr != nil {
		skipOrFail(t, "the Secret Service does not work here: %v", probeErr)
	}
}

func testHost() string { return fmt.Sprintf("kr%d-%d.test.example", os.Getpid(), rand.IntN(1e9)) }

func TestOSKeyringRoundTrip(t *testing.T) {
	requireSecretService(t)
	host := testHost()
	t.Cleanup(func() {
		keyring.Delete(Service(host), "octocat")
		keyring.Delete(Service(host), "hubot")
	})
	s, err := Open(Options{Dir: t.TempDir(), Keyring: osKeyring, KeyringTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Probe(ctx, BackendKeyring); err != nil {
		t.Fatalf("Probe on a working keyring: %v", err)
	}
	now := time.Now().UTC().Truncate(time.Second)
	full := &Secret{
		Token: "ghu_" + strings.Repeat("a", 36), TokenType: "bearer", Scopes: []string{"repo", "gist"},
		ExpiresAt: now.Add(8 * time.Hour), RefreshToken: "ghr_" + strings.Repeat("b", 76), RefreshTokenExpiresAt: now.Add(180 * 24 * time.Hour),
	}
	if err := s.Save(ctx, host, "octocat", BackendKeyring, full); err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, host, "hubot", BackendKeyring, &Secret{Token: "gho_hubot"}); err != nil {
		t.Fatal(err)
	}
	// The keyring holds one JSON secret per account under ghlogin:HOST.
	raw, err := keyring.Get("ghlogin:"+host, "octocat")
	if err != nil {
		t.Fatal(err)
	}
	var got Secret
	if err := json.Unmarshal([]byte(raw), &got); err != nil || !reflect.DeepEqual(&got, full) {
		t.Fatalf("keyring holds %+v (%v)", got, err)
	}
	sec, err := s.Secret(ctx, Account{Host: host, Login: "octocat"})
	if err != nil || !reflect.DeepEqual(sec, full) {
		t.Fatalf("Secret = %+v, %v", sec, err)
	}
	// The index knows, but holds no token.
	cfgData, _ := os.ReadFile(s.ConfigPath())
	if strings.Contains(string(cfgData), full.Token) || strings.Contains(string(cfgData), full.RefreshToken) {
		t.Fatal("token in the index")
	}
	a, _ := s.Resolve(host, "")
	if a.Login != "hubot" || a.Store != BackendKeyring {
		t.Fatalf("active = %+v", a)
	}
	if a, _ := s.Switch(host, ""); a.Login != "octocat" {
		t.Fatalf("switch = %+v", a)
	}
	if next, err := s.Remove(ctx, host, "octocat"); err != nil || next != "hubot" {
		t.Fatalf("remove = %q, %v", next, err)
	}
	if _, err := keyring.Get(Service(host), "octocat"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("secret left in the keyring: %v", err)
	}
	if token(t, s, host, "") != "gho_hubot" {
		t.Fatal("other account's token")
	}
	// Deleted behind ghlogin's back: a clear "log in again".
	keyring.Delete(Service(host), "hubot")
	var nl *NotLoggedInError
	if _, err := s.Secret(ctx, Account{Host: host, Login: "hubot"}); !errors.As(err, &nl) || nl.Store != BackendKeyring || nl.Login != "hubot" || !errors.Is(err, ErrNotFound) {
		t.Fatalf("missing secret: %v", err)
	}
	if _, err := s.Remove(ctx, host, "hubot"); err != nil {
		t.Fatal(err)
	}
}

// A second login while the keyring works, then a failing index write: the
// real keyring gets the previous secret back.
func TestOSKeyringIndexFailureRestores(t *testing.T) {
	requireSecretService(t)
	host := testHost()
	t.Cleanup(func() { keyring.Delete(Service(host), "a"); keyring.Delete(Service(host), "b") })
	s, err := Open(Options{Dir: t.TempDir(), Keyring: osKeyring, KeyringTimeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, host, "a", BackendKeyring, &Secret{Token: "old"}); err != nil {
		t.Fatal(err)
	}
	s.saveConfig = func(string, *config.File) error { return errors.New("disk full") }
	if err := s.Save(ctx, host, "a", BackendKeyring, &Secret{Token: "new"}); err == nil {
		t.Fatal("want error")
	}
	if err := s.Save(ctx, host, "b", BackendKeyring, &Secret{Token: "b"}); err == nil {
		t.Fatal("want error")
	}
	if token(t, s, host, "a") != "old" {
		t.Fatal("previous token not restored")
	}
	if _, err := keyring.Get(Service(host), "b"); !errors.Is(err, keyring.ErrNotFound) {
		t.Fatalf("new secret not removed: %v", err)
	}
}

// No session bus at all: the error comes at once, says what to do, and
// nothing is written.
func TestKeyringNoBus(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus is the OS keyring on Linux only")
	}
	dir := t.TempDir()
	r := runKeyringOp(t, "H_DIR="+dir, "H_OP=save", "H_HOST=github.com", "H_LOGIN=octocat", "H_TOKEN=gho_canary", "H_TIMEOUT=3s",
		"DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-such-socket"))
	if r.Type != "KeyringUnavailableError" || r.Timeout || r.ElapsedMS > 3000 {
		t.Fatalf("no bus: %+v", r)
	}
	if !strings.Contains(r.Err, "not available") {
		t.Errorf("message %q does not say the keyring is not available", r.Err)
	}
	if strings.Contains(r.Err, "canary") {
		t.Fatal("token in the error")
	}
	s, _ := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if got := logins(t, s, ""); len(got) != 0 {
		t.Fatalf("index written: %v", got)
	}
	r = runKeyringOp(t, "H_DIR="+dir, "H_OP=probe", "H_TIMEOUT=3s", "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-such-socket"))
	if r.Type != "KeyringUnavailableError" {
		t.Fatalf("probe with no bus: %+v", r)
	}
}

// A session bus without a Secret Service on it.
func TestKeyringNoSecretService(t *testing.T) {
	addr, _ := storetest.PrivateBus(t)
	dir := t.TempDir()
	r := runKeyringOp(t, "H_DIR="+dir, "H_OP=save", "H_HOST=github.com", "H_LOGIN=octocat", "H_TOKEN=gho_canary", "H_TIMEOUT=3s",
		"DBUS_SESSION_BUS_ADDRESS="+addr)
	if r.Type != "KeyringUnavailableError" || r.Timeout || r.ElapsedMS > 3000 {
		t.Fatalf("no Secret Service: %+v", r)
	}
	if !strings.Contains(r.Err, "org.freedesktop.secrets") || !strings.Contains(r.Err, "not available") {
		t.Errorf("message: %s", r.Err)
	}
	r = runKeyringOp(t, "H_DIR="+dir, "H_OP=probe", "H_TIMEOUT=3s", "DBUS_SESSION_BUS_ADDRESS="+addr)
	if r.Type != "KeyringUnavailableError" {
		t.Fatalf("probe with no Secret Service: %+v", r)
	}
}

// A locked keyring (its unlock prompt cannot be shown here): reading and
// writing fail with *KeyringUnavailableError within the timeout, and the
// account stored before stays in the index.
func TestKeyringLocked(t *testing.T) {
	addr, _ := storetest.PrivateBus(t)
	env := storetest.StartKeyringDaemon(t, addr)
	dir := t.TempDir()
	base := append([]string{"H_DIR=" + dir, "H_HOST=github.com", "H_TIMEOUT=2s"}, env...)
	r := runKeyringOp(t, append(base, "H_OP=save", "H_LOGIN=octocat", "H_TOKEN=gho_first")...)
	if r.Err != "" {
		t.Fatalf("save while unlocked: %+v", r)
	}
	if r := runKeyringOp(t, append(base, "H_OP=probe")...); r.Err != "" {
		t.Fatalf("probe while unlocked: %+v", r)
	}
	r = runKeyringOp(t, append(base, "H_OP=secret", "H_LOGIN=octocat")...)
	if r.Err != "" || r.Token != "gho_first" {
		t.Fatalf("read while unlocked: %+v", r)
	}

	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	svc := conn.Object("org.freedesktop.secrets", "/org/freedesktop/secrets")
	var coll dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.ReadAlias", 0, "default").Store(&coll); err != nil || coll == "/" {
		t.Fatalf("default collection: %q %v", coll, err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	if err := svc.Call("org.freedesktop.Secret.Service.Lock", 0, []dbus.ObjectPath{coll}).Store(&locked, &prompt); err != nil {
		t.Fatal(err)
	}
	isLocked, err := conn.Object("org.freedesktop.secrets", coll).GetProperty("org.freedesktop.Secret.Collection.Locked")
	if err != nil || isLocked.Value() != true {
		t.Fatalf("collection not locked: %v %v", isLocked, err)
	}

	for _, op := range [][]string{{"H_OP=probe"}, {"H_OP=secret", "H_LOGIN=octocat"}, {"H_OP=save", "H_LOGIN=hubot", "H_TOKEN=gho_second"}} {
		r := runKeyringOp(t, append(base, op...)...)
		if r.Type != "KeyringUnavailableError" || r.ElapsedMS > 2500 {
			t.Fatalf("%v on a locked keyring: %+v", op, r)
		}
		if !strings.Contains(r.Err, "the OS keyring is not available") {
			t.Errorf("message: %s", r.Err)
		}
		t.Logf("%v: %s (timeout=%v, %d ms)", op, r.Err, r.Timeout, r.ElapsedMS)
	}
	s, _ := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if got := logins(t, s, ""); !reflect.DeepEqual(got, []string{"github.com/octocat*"}) {
		t.Fatalf("index: %v", got)
	}
}
