//go:build linux

package store

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/store/storetest"
)

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
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "XDG_RUNTIME_DIR=") &&
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
