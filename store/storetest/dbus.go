package storetest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// SkipOrFail skips the test with a message saying what is missing, or
// fails it when CI=true: in CI the real components are installed and every
// test must run.
func SkipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this test must run, not skip)", msg)
	}
	t.Skip(msg + "; run it with: .ci/with-keyring go test ./store/...")
}

// PrivateBus starts a D-Bus session daemon of its own for the test, with
// no service files (so nothing is started on demand), listening at
// dir/bus; service files put in dir/services are read on ReloadConfig. It
// returns the bus's address and dir, and stops the daemon when the test
// ends.
func PrivateBus(t testing.TB) (addr, dir string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("D-Bus is the OS keyring on Linux only")
	}
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		SkipOrFail(t, "dbus-daemon is not installed (apt-get install dbus)")
	}
	dir, err := os.MkdirTemp("", "ghl-bus")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Mkdir(filepath.Join(dir, "services"), 0o700)
	cfg := fmt.Sprintf(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s/bus</listen>
  <servicedir>%s/services</servicedir>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`, dir, dir)
	cfgPath := filepath.Join(dir, "session.conf")
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("dbus-daemon", "--config-file="+cfgPath, "--nofork", "--print-address")
	out, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon: %v", err)
	}
	return strings.TrimSpace(line), dir
}

// StartKeyringDaemon runs gnome-keyring-daemon on the private bus with a
// throwaway HOME and an unlocked login keyring; it returns the environment
// a helper needs to use it.
func StartKeyringDaemon(t testing.TB, addr string) []string {
	t.Helper()
	if _, err := exec.LookPath("gnome-keyring-daemon"); err != nil {
		SkipOrFail(t, "gnome-keyring-daemon is not installed (apt-get install gnome-keyring)")
	}
	home, err := os.MkdirTemp("", "ghl-home")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(home) })
	env := []string{
		"DBUS_SESSION_BUS_ADDRESS=" + addr,
		"HOME=" + home,
		"XDG_DATA_HOME=" + filepath.Join(home, "data"),
		"XDG_CONFIG_HOME=" + filepath.Join(home, "config"),
		"XDG_RUNTIME_DIR=" + home,
	}
	cmd := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	cmd.Env = append(os.Environ(), env...)
	cmd.Stdin = strings.NewReader("pass")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var has bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, "org.freedesktop.secrets").Store(&has); err == nil && has {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("gnome-keyring-daemon did not register on the bus")
		}
		time.Sleep(50 * time.Millisecond)
	}
	return env
}
