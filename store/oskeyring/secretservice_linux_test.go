//go:build linux

package oskeyring

import (
	"context"
	"errors"
	"math/rand/v2"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// The Secret Service check against real D-Bus daemons of the tests' own
// (storetest.PrivateBus), never the session's.

// fakeBusEnv is a process environment for checkSecretService; setenv
// records what the check names.
type fakeBusEnv struct {
	vars map[string]string
	set  map[string]string
}

func (f *fakeBusEnv) env() busEnv {
	f.set = map[string]string{}
	return busEnv{
		getenv: func(k string) string { return f.vars[k] },
		setenv: func(k, v string) error { f.set[k] = v; return nil },
		// A uid with no /run/user directory.
		uid: 1<<30 + rand.IntN(1<<20),
	}
}

func wantNoService(t *testing.T, err error, reason ...string) *store.NoKeyringServiceError {
	t.Helper()
	var ns *store.NoKeyringServiceError
	if !errors.As(err, &ns) {
		t.Fatalf("got %T %v, want *store.NoKeyringServiceError", err, err)
	}
	if !strings.HasPrefix(err.Error(), "no keyring service on this machine: ") {
		t.Errorf("message %q", err)
	}
	for _, r := range reason {
		if !strings.Contains(ns.Reason, r) {
			t.Errorf("reason %q does not say %q", ns.Reason, r)
		}
	}
	if strings.Contains(err.Error(), "unlock") && !strings.Contains(err.Error(), "could not be unlocked") {
		t.Errorf("message %q talks of unlocking", err)
	}
	return ns
}

func TestSecretServiceNoBusAddress(t *testing.T) {
	run := t.TempDir()
	for _, addr := range []string{"", "autolaunch:"} {
		f := &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": run, sessionBusEnv: addr}}
		start := time.Now()
		err := checkSecretService(context.Background(), f.env())
		wantNoService(t, err, "no D-Bus session bus", sessionBusEnv+" is not set", filepath.Join(run, "bus"), "/run/user/")
		if d := time.Since(start); d > time.Second {
			t.Errorf("took %v; it should be at once", d)
		}
		if len(f.set) != 0 {
			t.Errorf("set %v", f.set)
		}
	}
}

// deadSocket leaves a unix socket file that nothing listens on, as a bus
// whose daemon was killed does.
func deadSocket(t *testing.T, path string) {
	t.Helper()
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	l.SetUnlinkOnClose(false)
	l.Close()
}

func TestSecretServiceDeadBus(t *testing.T) {
	dir, err := os.MkdirTemp("", "ghl-dead")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "bus")
	deadSocket(t, sock)

	// Named by the variable: the socket refuses connections.
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: "unix:path=" + sock}}
	ns := wantNoService(t, checkSecretService(context.Background(), f.env()), "gone", "refuses connections")
	if !errors.Is(ns, syscall.ECONNREFUSED) {
		t.Errorf("cause %v", ns.Err)
	}
	// Found at $XDG_RUNTIME_DIR/bus: the same, and the variable is not set.
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": dir}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "refuses connections")
	if len(f.set) != 0 {
		t.Errorf("set %v for a dead bus", f.set)
	}
	// Named by the variable, but there is no such socket.
	f = &fakeBusEnv{vars: map[string]string{sessionBusEnv: "unix:path=" + filepath.Join(dir, "nothing")}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "gone", "no socket at "+filepath.Join(dir, "nothing"))
	// Only transports that would start something.
	f = &fakeBusEnv{vars: map[string]string{sessionBusEnv: "unixexec:path=/bin/true;launchd:env=X"}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "names no bus that can be reached without starting one")
}

func TestSecretServiceNotOnBus(t *testing.T) {
	addr, dir := storetest.PrivateBus(t)
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: addr}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "nothing on the D-Bus session bus provides the Secret Service (org.freedesktop.secrets)")
	// The bus is found at $XDG_RUNTIME_DIR/bus (where PrivateBus listens).
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": dir}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "org.freedesktop.secrets")
}

// A Secret Service that the bus could start on demand (a .service file) is
// not started: without a desktop session it is "no keyring service", with
// one it is taken as there; either way the service's program never runs.
func TestSecretServiceActivatableOnly(t *testing.T) {
	addr, dir := storetest.PrivateBus(t)
	marker := filepath.Join(dir, "started")
	script := filepath.Join(dir, "fake-secrets.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\ntouch "+marker+"\nsleep 30\n"), 0o700); err != nil {
		t.Fatal(err)
	}
	svc := "[D-BUS Service]\nName=org.freedesktop.secrets\nExec=" + script + "\n"
	if err := os.WriteFile(filepath.Join(dir, "services", "org.freedesktop.secrets.service"), []byte(svc), 0o600); err != nil {
		t.Fatal(err)
	}
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.BusObject().Call("org.freedesktop.DBus.ReloadConfig", 0).Err; err != nil {
		t.Fatal(err)
	}
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: addr}}
	wantNoService(t, checkSecretService(context.Background(), f.env()), "installed but not running")
	f.vars["DISPLAY"] = ":0"
	if err := checkSecretService(context.Background(), f.env()); err != nil {
		t.Fatalf("with a desktop session: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the check started the Secret Service")
	}
}

// A bus with gnome-keyring's Secret Service on it: available, and when the
// bus was found at $XDG_RUNTIME_DIR/bus, the variable now names it.
func TestSecretServiceGnomeKeyring(t *testing.T) {
	addr, dir := storetest.PrivateBus(t)
	storetest.StartKeyringDaemon(t, addr)
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: addr}}
	if err := checkSecretService(context.Background(), f.env()); err != nil {
		t.Fatalf("with gnome-keyring: %v", err)
	}
	if len(f.set) != 0 {
		t.Errorf("set %v though the variable was set", f.set)
	}
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": dir}}
	if err := checkSecretService(context.Background(), f.env()); err != nil {
		t.Fatalf("bus found at $XDG_RUNTIME_DIR/bus: %v", err)
	}
	if got := f.set[sessionBusEnv]; got != "unix:path="+filepath.Join(dir, "bus") {
		t.Errorf("%s set to %q", sessionBusEnv, got)
	}
}
