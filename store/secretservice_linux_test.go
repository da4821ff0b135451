//go:build linux

package store

import (
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/store/storetest"
)

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

func wantNoService(t *testing.T, err error, reason ...string) *NoKeyringServiceError {
	t.Helper()
	var ns *NoKeyringServiceError
	if !errors.As(err, &ns) {
		t.Fatalf("got %T %v, want *NoKeyringServiceError", err, err)
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
		err := checkSecretService(ctx, f.env())
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
	ns := wantNoService(t, checkSecretService(ctx, f.env()), "gone", "refuses connections")
	if !errors.Is(ns, syscall.ECONNREFUSED) {
		t.Errorf("cause %v", ns.Err)
	}
	// Found at $XDG_RUNTIME_DIR/bus: the same, and the variable is not set.
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": dir}}
	wantNoService(t, checkSecretService(ctx, f.env()), "refuses connections")
	if len(f.set) != 0 {
		t.Errorf("set %v for a dead bus", f.set)
	}
	// Named by the variable, but there is no such socket.
	f = &fakeBusEnv{vars: map[string]string{sessionBusEnv: "unix:path=" + filepath.Join(dir, "nothing")}}
	wantNoService(t, checkSecretService(ctx, f.env()), "gone", "no socket at "+filepath.Join(dir, "nothing"))
	// Only transports that would start something.
	f = &fakeBusEnv{vars: map[string]string{sessionBusEnv: "unixexec:path=/bin/true;launchd:env=X"}}
	wantNoService(t, checkSecretService(ctx, f.env()), "names no bus that can be reached without starting one")
}

func TestSecretServiceNotOnBus(t *testing.T) {
	addr := privateBus(t)
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: addr}}
	wantNoService(t, checkSecretService(ctx, f.env()), "nothing on the D-Bus session bus provides the Secret Service (org.freedesktop.secrets)")
	// The bus is found at $XDG_RUNTIME_DIR/bus (where privateBus listens).
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": busDir(t, addr)}}
	wantNoService(t, checkSecretService(ctx, f.env()), "org.freedesktop.secrets")
}

// busDir is the directory of a private bus's socket.
func busDir(t *testing.T, addr string) string {
	t.Helper()
	p := addressKey(strings.TrimPrefix(addr, "unix:"), "path")
	if p == "" {
		t.Fatalf("bus address %q has no path", addr)
	}
	return filepath.Dir(p)
}

// A Secret Service that the bus could start on demand (a .service file) is
// not started: without a desktop session it is "no keyring service", with
// one it is taken as there; either way the service's program never runs.
func TestSecretServiceActivatableOnly(t *testing.T) {
	addr := privateBus(t)
	dir := busDir(t, addr)
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
	wantNoService(t, checkSecretService(ctx, f.env()), "installed but not running")
	f.vars["DISPLAY"] = ":0"
	if err := checkSecretService(ctx, f.env()); err != nil {
		t.Fatalf("with a desktop session: %v", err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("the check started the Secret Service")
	}
}

// A bus with gnome-keyring's Secret Service on it: available, and when the
// bus was found at $XDG_RUNTIME_DIR/bus, the variable now names it.
func TestSecretServiceGnomeKeyring(t *testing.T) {
	addr := privateBus(t)
	startKeyringDaemon(t, addr)
	f := &fakeBusEnv{vars: map[string]string{sessionBusEnv: addr}}
	if err := checkSecretService(ctx, f.env()); err != nil {
		t.Fatalf("with gnome-keyring: %v", err)
	}
	if len(f.set) != 0 {
		t.Errorf("set %v though the variable was set", f.set)
	}
	dir := busDir(t, addr)
	f = &fakeBusEnv{vars: map[string]string{"XDG_RUNTIME_DIR": dir}}
	if err := checkSecretService(ctx, f.env()); err != nil {
		t.Fatalf("bus found at $XDG_RUNTIME_DIR/bus: %v", err)
	}
	if got := f.set[sessionBusEnv]; got != "unix:path="+filepath.Join(dir, "bus") {
		t.Errorf("%s set to %q", sessionBusEnv, got)
	}
}

// leakMarker is put in a helper's environment; every process it starts,
// and every process those start (dbus-launch, the dbus-daemon it forks, the
// gnome-keyring-daemon that bus activates), inherits it.
const leakMarker = "GHLOGIN_LEAK_MARK"

// daemonsMarked lists the D-Bus and keyring daemons (pgrep) that carry
// mark in their environment, so the count ignores those of other programs
// running on this machine.
func daemonsMarked(t *testing.T, mark string) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"dbus-daemon", "dbus-launch", "gnome-keyring-d"} {
		b, _ := exec.Command("pgrep", "-x", name).Output()
		for _, f := range strings.Fields(string(b)) {
			env, err := os.ReadFile("/proc/" + f + "/environ")
			if err != nil {
				continue
			}
			if strings.Contains("\x00"+string(env), "\x00"+leakMarker+"="+mark+"\x00") {
				out = append(out, name+"["+f+"]")
			}
		}
	}
	return out
}

func killMarked(t *testing.T, mark string) {
	for _, p := range daemonsMarked(t, mark) {
		pid, _ := strconv.Atoi(p[strings.Index(p, "[")+1 : len(p)-1])
		syscall.Kill(pid, syscall.SIGKILL)
	}
}

// noBusEnv is a helper environment with no session bus to be found, as on
// a server over SSH: no DBUS_SESSION_BUS_ADDRESS, an empty XDG_RUNTIME_DIR.
func noBusEnv(t *testing.T, mark string) []string {
	t.Helper()
	if _, err := exec.LookPath("pgrep"); err != nil {
		skipOrFail(t, "pgrep is not installed (apt-get install procps)")
	}
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		skipOrFail(t, "this machine has a session bus at /run/user/%d/bus", os.Getuid())
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, sessionBusEnv+"=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") &&
			!strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "WAYLAND_DISPLAY=") {
			env = append(env, kv)
		}
	}
	return append(env, "XDG_RUNTIME_DIR="+t.TempDir(), leakMarker+"="+mark, "HOME="+t.TempDir())
}

// runMarked runs a helper mode with env and returns its output.
func runMarked(t *testing.T, env []string, mode string, extra ...string) string {
	t.Helper()
	cmd := helperCmd(t, mode)
	cmd.Env = append(append(env, helperEnv+"="+mode), extra...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Logf("helper %s: %v: %s", mode, err, out)
	}
	return string(out)
}

// With no session bus, every keyring operation fails at once with "no
// keyring service on this machine", and no dbus-daemon or
// gnome-keyring-daemon is left behind. The control run shows that the
// count would see them: go-keyring called directly launches a bus.
func TestKeyringNoBusLeavesNoProcess(t *testing.T) {
	mark := fmt.Sprintf("%d-%d", os.Getpid(), rand.IntN(1e9))
	env := noBusEnv(t, mark)
	t.Cleanup(func() { killMarked(t, mark) })
	dir := t.TempDir()
	// An account the index places in the keyring (written through an
	// in-memory one), for the reads and the removal.
	s, err := Open(Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Save(ctx, "github.com", "octocat", BackendKeyring, &Secret{Token: "gho_x"}); err != nil {
		t.Fatal(err)
	}
	for _, op := range []string{"probe", "save", "secret", "remove"} {
		before := daemonsMarked(t, mark)
		start := time.Now()
		out := runMarked(t, env, "keyring-op", "H_DIR="+dir, "H_OP="+op, "H_HOST=github.com", "H_LOGIN=octocat", "H_TOKEN=gho_canary", "H_TIMEOUT=10s")
		if !strings.Contains(out, "no keyring service on this machine") || !strings.Contains(out, "KeyringUnavailableError") {
			t.Errorf("%s: %s", op, out)
		}
		if strings.Contains(out, "canary") {
			t.Errorf("%s: token in the output", op)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s took %v", op, d)
		}
		time.Sleep(300 * time.Millisecond) // a daemonizing child would be up by now
		if after := daemonsMarked(t, mark); len(after) != len(before) {
			t.Fatalf("%s left processes: before %v, after %v", op, before, after)
		}
	}

	// What a login would offer here: the kernel keyring first, the file,
	// and the keyring as unusable, saying why.
	before := daemonsMarked(t, mark)
	out := runMarked(t, env, "keyring-op", "H_DIR="+dir, "H_OP=offers", "H_TIMEOUT=10s")
	var r keyringOpResult
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("offers: %s", out)
	}
	if strings.Join(r.Offers, " ") != "kernel file keyring(unusable)" || !strings.Contains(r.Why, "no keyring service on this machine") {
		t.Errorf("offers on a server: %+v", r)
	}
	time.Sleep(300 * time.Millisecond)
	if after := daemonsMarked(t, mark); len(after) != len(before) {
		t.Fatalf("offers left processes: %v", after)
	}

	if _, err := exec.LookPath("dbus-launch"); err != nil {
		t.Logf("no dbus-launch here, so nothing could have been launched; control skipped")
		return
	}
	runMarked(t, env, "raw-keyring")
	deadline := time.Now().Add(5 * time.Second)
	for len(daemonsMarked(t, mark)) == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	leaked := daemonsMarked(t, mark)
	if len(leaked) == 0 {
		t.Fatal("control: go-keyring called directly left no process, so the count above proves nothing")
	}
	t.Logf("control: go-keyring called directly left %v (killed now)", leaked)
}

// helperRawKeyring calls go-keyring without the Secret Service check, as
// ghlogin used to.
func helperRawKeyring() error {
	_, err := keyring.Get("ghlogin:probe.invalid", "ghlogin-probe")
	fmt.Println("raw keyring:", err)
	return nil
}
