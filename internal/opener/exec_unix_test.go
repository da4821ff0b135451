//go:build unix

package opener

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// recorder is a browser command that writes its arguments (NUL-terminated)
// to the file named by its first argument.
const recorder = `#!/bin/sh
out=$1
shift
for a in "$@"; do printf '%s\0' "$a"; done > "$out.tmp"
mv "$out.tmp" "$out"
`

func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitFile waits for a file a started process writes.
func waitFile(t *testing.T, path string) []byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return b
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared: the browser command did not run", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func recordedArgs(t *testing.T, path string) []string {
	t.Helper()
	b := waitFile(t, path)
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil
	}
	return strings.Split(string(b), "\x00")
}

// killLater kills the process whose pid a script writes to pidFile.
func killLater(t *testing.T, pidFile string) {
	t.Cleanup(func() {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return
		}
		if pid, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && pid > 1 {
			_ = syscall.Kill(pid, syscall.SIGKILL)
		}
	})
}

const testURL = "https://github.com/login/oauth/authorize?client_id=Ov23li&redirect_uri=http%3A%2F%2F127.0.0.1%3A4321%2Fcallback&scope=repo+gist&state=abc"

func TestGhloginBrowserBeatsBrowser(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "rec", recorder)
	a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
	s := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": script + " " + a, "BROWSER": script + " " + b})}
	if err := s.Open(testURL); err != nil {
		t.Fatal(err)
	}
	if got := recordedArgs(t, a); len(got) != 1 || got[0] != testURL {
		t.Errorf("GHLOGIN_BROWSER got %q, want the URL alone", got)
	}
	if _, err := os.Stat(b); err == nil {
		t.Error("BROWSER ran although GHLOGIN_BROWSER is set")
	}
}

func TestBrowserUsedWithoutGhloginBrowser(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "rec", recorder)
	out := filepath.Join(dir, "out")
	s := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": "  ", "BROWSER": script + " " + out})}
	if err := s.Open(testURL); err != nil {
		t.Fatal(err)
	}
	if got := recordedArgs(t, out); len(got) != 1 || got[0] != testURL {
		t.Errorf("BROWSER got %q", got)
	}
}

func TestURLIsOneArgument(t *testing.T) {
	dir := t.TempDir()
	script := writeScript(t, dir, "rec", recorder)
	marker := filepath.Join(dir, "pwned")
	nasty := "https://example.test/a b?x=1&y=$(touch " + marker + ");z=`touch " + marker + "`&q='\"\\ *|<>"
	cases := []struct {
		cmdline string
		want    []string
	}{
		{"", []string{nasty}},
		{" --new-window", []string{"--new-window", nasty}},
		{" --app=%s --incognito", []string{"--app=" + nasty, "--incognito"}},
	}
	for i, c := range cases {
		out := filepath.Join(dir, "out"+strconv.Itoa(i))
		s := System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": script + " " + out + c.cmdline})}
		if err := s.Open(nasty); err != nil {
			t.Fatal(err)
		}
		got := recordedArgs(t, out)
		if strings.Join(got, "\x00") != strings.Join(c.want, "\x00") {
			t.Errorf("%q: argv %q, want %q", c.cmdline, got, c.want)
		}
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the URL went through a shell")
	}
}

func TestOpenDoesNotWaitForTheBrowser(t *testing.T) {
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := writeScript(t, dir, "slow", "#!/bin/sh\necho $$ > \""+pidFile+"\"\nexec sleep 60\n")
	killLater(t, pidFile)
	began := time.Now()
	if err := (System{Getenv: env(map[string]string{"GHLOGIN_BROWSER": script})}).Open(testURL); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Open took %v: it waited for the browser", d)
	}
	waitFile(t, pidFile)
}

func TestOpenCommandNotFound(t *testing.T) {
	err := System{Getenv: env(map[string]string{"BROWSER": "/nonexistent/ghlogin-browser --flag"})}.Open(testURL)
	if !errors.Is(err, exec.ErrNotFound) && !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Open = %v, want a not-found error", err)
	}
	if !strings.Contains(err.Error(), "/nonexistent/ghlogin-browser") || !strings.Contains(err.Error(), "BROWSER") {
		t.Errorf("message %q does not say which command or what to do", err)
	}
}

// The platform opener (pkg/browser) runs xdg-open on Linux and the BSDs.
func platformOpenerDir(t *testing.T, body string) string {
	t.Helper()
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		t.Skip("pkg/browser runs /usr/bin/open here, not xdg-open from PATH")
	}
	dir := t.TempDir()
	writeScript(t, dir, "xdg-open", "#!/bin/sh\nPATH=/usr/bin:/bin\n"+body)
	t.Setenv("PATH", dir)
	return dir
}

func TestPlatformOpener(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	platformOpenerDir(t, "for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \""+out+".tmp\"\nmv \""+out+".tmp\" \""+out+"\"\n")
	if err := (System{Getenv: env(nil)}).Open(testURL); err != nil {
		t.Fatal(err)
	}
	if got := recordedArgs(t, out); len(got) != 1 || got[0] != testURL {
		t.Errorf("xdg-open got %q", got)
	}
}

func TestPlatformOpenerBrowserKeepsRunning(t *testing.T) {
	// xdg-open starts the browser and exits; the browser inherits xdg-open's
	// stdout and stderr. Open must not wait for the browser to close them.
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	platformOpenerDir(t, "sleep 60 &\necho $! > \""+pidFile+"\"\n")
	killLater(t, pidFile)
	old := openWait
	openWait = time.Minute
	defer func() { openWait = old }()
	began := time.Now()
	if err := (System{Getenv: env(nil)}).Open(testURL); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 10*time.Second {
		t.Errorf("Open took %v: it waited for the browser xdg-open started", d)
	}
}

func TestPlatformOpenerSlow(t *testing.T) {
	// A text browser behind xdg-open keeps xdg-open running: Open gives up
	// waiting for an error after openWait.
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	platformOpenerDir(t, "echo $$ > \""+pidFile+"\"\nexec sleep 60\n")
	killLater(t, pidFile)
	old := openWait
	openWait = 100 * time.Millisecond
	defer func() { openWait = old }()
	began := time.Now()
	if err := (System{Getenv: env(nil)}).Open(testURL); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 5*time.Second {
		t.Errorf("Open took %v", d)
	}
	waitFile(t, pidFile)
}

func TestPlatformOpenerFails(t *testing.T) {
	platformOpenerDir(t, "exit 3\n")
	err := System{Getenv: env(nil)}.Open(testURL)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || !strings.Contains(err.Error(), "GHLOGIN_BROWSER") {
		t.Fatalf("Open = %v, want the exit error and what to do", err)
	}
}

func TestPlatformOpenerMissing(t *testing.T) {
	if runtime.GOOS == "darwin" || runtime.GOOS == "ios" {
		t.Skip("pkg/browser runs /usr/bin/open here")
	}
	t.Setenv("PATH", t.TempDir())
	err := System{Getenv: env(nil)}.Open(testURL)
	if !errors.Is(err, exec.ErrNotFound) || !strings.Contains(err.Error(), "open the URL yourself") {
		t.Fatalf("Open = %v, want exec.ErrNotFound with what to do", err)
	}
}
