package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
)

// requireKernelKeyring skips (fails when CI=true) unless this kernel lets
// ghlogin use the kernel keyring and keyctl is installed.
func requireKernelKeyring(t *testing.T) string {
	t.Helper()
	skip := func(why string) {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s; required when CI=true", why)
		}
		t.Skip(why)
	}
	keyctl, err := exec.LookPath("keyctl")
	if err != nil {
		skip("keyctl is not installed (apt-get install keyutils)")
	}
	if !kernelKeyringWorks(t) {
		skip("this kernel refuses the kernel keyring (a container's seccomp profile?)")
	}
	return keyctl
}

// unlinkKernelKey removes host/login's key from the persistent keyring with
// keyctl, as a restart (or the keyring's idle expiry) would have.
func unlinkKernelKey(t *testing.T, keyctl, host, login string) {
	t.Helper()
	ring, err := exec.Command(keyctl, "get_persistent", "@p").Output()
	if err != nil {
		t.Fatalf("keyctl get_persistent: %v", err)
	}
	r := strings.TrimSpace(string(ring))
	id, err := exec.Command(keyctl, "search", r, "user", store.KernelDescription(host, login)).Output()
	if err != nil {
		t.Fatalf("keyctl search: no key %s: %v", store.KernelDescription(host, login), err)
	}
	if out, err := exec.Command(keyctl, "unlink", strings.TrimSpace(string(id)), r).CombinedOutput(); err != nil {
		t.Fatalf("keyctl unlink: %v\n%s", err, out)
	}
}

// The kernel keyring through the binary: login --store kernel keeps the
// token in memory only (nothing in the config directory holds it); token,
// status and git use it; once its key is gone (a restart, acted out with
// keyctl) token exits 4 and status (--offline too) says the login was kept
// in memory and is gone, and exits 4.
func TestKernelStoreThroughBinary(t *testing.T) {
	keyctl := requireKernelKeyring(t)
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	t.Cleanup(func() { s.run("", "logout", "--host", srv.URL()) })

	r := s.run("", "login", "--store", "kernel", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if r.code != 0 {
		t.Fatalf("login --store kernel: exit %d\n%s", r.code, r.stderr)
	}
	flat := strings.Join(strings.Fields(r.stderr), " ")
	if !strings.Contains(flat, "The token is kept in the kernel keyring until the machine restarts") || !strings.Contains(flat, "Then log in again: ghlogin login --host "+srv.URL()) {
		t.Errorf("the success line does not say where the token is kept and for how long:\n%s", r.stderr)
	}
	tok := s.mustToken("--host", srv.URL())
	if !tokenShape.MatchString(tok) {
		t.Fatalf("token = %q", tok)
	}
	_ = filepath.Walk(filepath.Join(s.dir, "config"), func(path string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() && strings.Contains(readFileString(t, path), tok) {
			t.Errorf("the token is on disk, in %s", path)
		}
		return nil
	})
	st := s.run("", "status", "--json")
	if a := parseAcctStatus(t, st.stdout).find(t, host).account(t, "octocat"); a.Store != "kernel" || a.State != "valid" {
		t.Errorf("status: store %q state %q, want kernel, valid", a.Store, a.State)
	}
	if !strings.Contains(st.stdout, `"plaintext_at_rest": false`) || !strings.Contains(st.stdout, `"kept_until": "until the machine restarts`) {
		t.Errorf("status --json:\n%s", st.stdout)
	}
	if r := s.run("", "status"); !strings.Contains(r.stdout, "store: kernel (in memory only; kept until the machine restarts") {
		t.Errorf("status:\n%s", r.stdout)
	}

	unlinkKernelKey(t, keyctl, host, "octocat")
	gone := "the login for octocat on " + host + " was kept in memory and is gone (the machine restarted or it expired); log in again: ghlogin login --host " + srv.URL()
	r = s.run("", "token", "--host", srv.URL())
	if r.code != 4 || strings.TrimSpace(r.stderr) != "error: "+gone || r.stdout != "" {
		t.Errorf("token after the key is gone: exit %d, stdout %q, stderr %q; want 4 and %q", r.code, r.stdout, r.stderr, gone)
	}
	// status exits 4 too (a new login is needed), and --offline, which
	// asks no server, still looks the key up.
	for _, args := range [][]string{{"status"}, {"status", "--offline"}, {"status", "--offline", "--json"}} {
		r = s.run("", args...)
		if r.code != 4 || !strings.Contains(r.stdout, gone) {
			t.Errorf("%v after the key is gone: exit %d\n%s", args, r.code, r.stdout)
		}
		if strings.Contains(r.stdout+r.stderr, "keyctl") || strings.Contains(r.stdout+r.stderr, "errno") {
			t.Errorf("a raw kernel error reached the person:\n%s%s", r.stdout, r.stderr)
		}
	}
	if r := s.run("", "status", "--offline", "--json"); !strings.Contains(r.stdout, `"state": "invalid"`) {
		t.Errorf("status --offline --json does not say the login is invalid:\n%s", r.stdout)
	}
}

// No keyring service, on a terminal: choosing the kernel keyring at the
// question keeps the token there and remembers the choice for the host.
func TestKeyringUnavailableTerminalChoosesKernel(t *testing.T) {
	requireKernelKeyring(t)
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	t.Cleanup(func() { s.run("", "logout", "--host", srv.URL()) })
	ts := startTmux(t, s, noKeyringEnv(s), "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--no-browser")
	kernel, _, _ := storeMenu(t, ts.waitFor("Choose 1-", 20*time.Second), host, filepath.Join(s.dir, "config", "credentials.json"))
	ts.send(kernel, "Enter")
	if code := ts.exitCode(40 * time.Second); code != 0 {
		t.Fatalf("login after choosing the kernel keyring: exit %d; the terminal shows:\n%s", code, ts.screen())
	}
	if a := parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host).account(t, "octocat"); a.Store != "kernel" || a.State != "valid" {
		t.Errorf("status: store %q state %q, want kernel, valid", a.Store, a.State)
	}
	if got := strings.TrimSpace(s.runEnv(withoutStoreEnv(s.env), "", "config", "get", "--host", host, "store").stdout); got != "kernel" {
		t.Errorf("the host's store setting is %q, want kernel", got)
	}
}

// leakMark marks the environment of the processes a test starts, and so of
// every process they start in turn (dbus-launch, the dbus-daemon it forks,
// a gnome-keyring-daemon activated on it).
const leakMark = "GHLOGIN_E2E_LEAK_MARK"

// markedDaemons lists the D-Bus and keyring daemons whose environment holds
// leakMark=mark: those started on behalf of this test, not other programs'.
func markedDaemons(t *testing.T, mark string) []string {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		comm, err := os.ReadFile(filepath.Join("/proc", e.Name(), "comm"))
		if err != nil {
			continue
		}
		switch name := strings.TrimSpace(string(comm)); name {
		case "dbus-daemon", "dbus-launch", "gnome-keyring-d":
			env, err := os.ReadFile(filepath.Join("/proc", e.Name(), "environ"))
			if err == nil && strings.Contains("\x00"+string(env), "\x00"+leakMark+"="+mark+"\x00") {
				out = append(out, name+"["+e.Name()+"]")
			}
		}
	}
	return out
}

// A server with no session bus and no terminal: a login that would keep
// the token in the keyring fails at once (exit 1) naming --store kernel,
// --store file and GHLOGIN_STORE, starts no flow, and leaves no dbus-daemon
// or gnome-keyring-daemon behind (counted before and after).
func TestNoKeyringNoTerminal(t *testing.T) {
	if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
		t.Skipf("this machine has a session bus at /run/user/%d/bus", os.Getuid())
	}
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	s := newSandbox(t)
	mark := fmt.Sprint(time.Now().UnixNano())
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "GHLOGIN_STORE=") && !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") {
			env = append(env, kv)
		}
	}
	env = append(env, "XDG_RUNTIME_DIR="+t.TempDir(), leakMark+"="+mark)
	if before := markedDaemons(t, mark); len(before) != 0 {
		t.Fatalf("daemons before: %v", before)
	}
	start := time.Now()
	r := s.runEnv(env, "", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("login took %v to give up", took)
	}
	if r.code != 1 {
		t.Errorf("exit %d, want 1\n%s", r.code, r.stderr)
	}
	wants := []string{"cannot keep the token for " + emuHost(srv) + " in the OS keyring", "no keyring service on this machine", "no D-Bus session bus",
		"there is no terminal to ask where to keep it instead", "--store file (or GHLOGIN_STORE=file)"}
	if kernelKeyringWorks(t) {
		wants = append(wants, "--store kernel (or GHLOGIN_STORE=kernel)")
	}
	for _, want := range wants {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the message lacks %q:\n%s", want, r.stderr)
		}
	}
	if n := srv.Stats().Requests["POST /login/device/code"]; n != 0 {
		t.Errorf("the device flow started (%d requests)", n)
	}
	// A dbus-launch started on the login's behalf forks its daemons before
	// it returns, so they are there once the login has exited.
	if after := markedDaemons(t, mark); len(after) != 0 {
		t.Errorf("left behind: %v", after)
	}
	// GHLOGIN_STORE=kernel (or file) is the way out.
	store := "file"
	if kernelKeyringWorks(t) {
		store = "kernel"
		t.Cleanup(func() { s.runEnv(env, "", "logout", "--host", srv.URL()) })
	}
	if r := s.runEnv(append(env, "GHLOGIN_STORE="+store), "", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID); r.code != 0 {
		t.Errorf("GHLOGIN_STORE=%s login: exit %d\n%s", store, r.code, r.stderr)
	}
	if after := markedDaemons(t, mark); len(after) != 0 {
		t.Errorf("left behind: %v", after)
	}
}
