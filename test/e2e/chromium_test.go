//go:build linux

package e2e

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// chromiumFlags are the flags every headless Chromium in the tests runs with
// (besides --user-data-dir and the URL). There is no --dump-dom: Chromium
// stays up and follows every redirect, as a person's browser would.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
}

// findChromium returns the path of a Chromium binary (GHLOGIN_TEST_CHROMIUM,
// or Debian's chromium). Without one the test skips, unless CI=true, where a missing browser is a failure.
func findChromium(t *testing.T) string {
	t.Helper()
	candidates := []string{"/usr/bin/chromium", "chromium", "chromium-browser"}
	if p := os.Getenv("GHLOGIN_TEST_CHROMIUM"); p != "" {
		candidates = []string{p}
	}
	for _, name := range candidates {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("no chromium found (tried %s; apt-get install chromium, or set GHLOGIN_TEST_CHROMIUM): "+
		"the web flow end-to-end test needs a real browser", strings.Join(candidates, ", "))
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + " and CI=true forbids skipping it")
	}
	t.Skip(msg)
	return ""
}

// headlessBrowser is a browser command for GHLOGIN_BROWSER: a wrapper script
// that starts headless Chromium on the URL in a session and process group of
// its own, with a fresh profile, and records the group's id so the test can
// stop every Chromium process afterwards.
type headlessBrowser struct {
	// Command is the wrapper script's path, for GHLOGIN_BROWSER.
	Command string
	// root holds the profiles, Chromium's HOME and the group id file; every
	// Chromium process names it on its command line.
	root     string
	pgidFile string
	logFile  string
}

// newHeadlessBrowser writes the wrapper script and registers a cleanup that
// stops every Chromium it started.
func newHeadlessBrowser(t *testing.T, chromium string) *headlessBrowser {
	t.Helper()
	root := t.TempDir()
	b := &headlessBrowser{
		Command:  filepath.Join(root, "browser.sh"),
		root:     root,
		pgidFile: filepath.Join(root, "pgids"),
		logFile:  filepath.Join(root, "chromium.log"),
	}
	args := []string{shellQuote(chromium)}
	for _, f := range chromiumFlags {
		args = append(args, shellQuote(f))
	}
	script := fmt.Sprintf(`#!/bin/sh
# Headless Chromium for the ghlogin e2e tests: a fresh profile per launch, in
# a new session (so a process group of its own, whose id is recorded).
set -e
root=%[1]s
profile=$(mktemp -d "$root/profile.XXXXXX")
HOME="$root" XDG_CONFIG_HOME="$root/config" XDG_CACHE_HOME="$root/cache"
export HOME XDG_CONFIG_HOME XDG_CACHE_HOME
exec setsid /bin/sh -c 'echo $$ >>"$0"; exec "$@"' %[2]s %[3]s --user-data-dir="$profile" "$1" </dev/null >>%[4]s 2>&1
`, shellQuote(root), shellQuote(b.pgidFile), strings.Join(args, " "), shellQuote(b.logFile))
	if err := os.WriteFile(b.Command, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.stop(); err != nil {
			t.Errorf("stopping chromium: %v", err)
		}
	})
	return b
}

// launches returns the process group ids of the Chromiums started so far.
func (b *headlessBrowser) launches() []int {
	data, err := os.ReadFile(b.pgidFile)
	if err != nil {
		return nil
	}
	var out []int
	for _, f := range strings.Fields(string(data)) {
		if n, err := strconv.Atoi(f); err == nil && n > 1 {
			out = append(out, n)
		}
	}
	return out
}

// waitLaunched waits until the wrapper has started Chromium n times.
func (b *headlessBrowser) waitLaunched(t *testing.T, n int, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for len(b.launches()) < n {
		if time.Now().After(deadline) {
			t.Fatalf("chromium was started %d times within %v, want %d", len(b.launches()), timeout, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// log returns what Chromium wrote, for failure messages.
func (b *headlessBrowser) log() string {
	data, _ := os.ReadFile(b.logFile)
	return string(data)
}

// stop ends every process group the wrapper started (SIGTERM, then SIGKILL),
// then any process left that names the browser's directory on its command
// line (Chromium's crash handler detaches into a group of its own).
func (b *headlessBrowser) stop() error {
	for _, pgid := range b.launches() {
		if err := killGroup(pgid); err != nil {
			return err
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := processesNaming(b.root + string(filepath.Separator))
		if len(pids) == 0 {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("chromium processes %v outlived the test", pids)
		}
		// Give the crash handler a moment to exit by itself, then insist.
		if time.Until(deadline) < 8*time.Second {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killGroup sends SIGTERM to a process group and SIGKILL if it is still there
// after three seconds; it returns once the group is gone.
func killGroup(pgid int) error {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return nil
	}
	deadline := time.Now().Add(3 * time.Second)
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			deadline = time.Now().Add(5 * time.Second)
			for syscall.Kill(-pgid, 0) == nil {
				if time.Now().After(deadline) {
					return fmt.Errorf("process group %d survived SIGKILL", pgid)
				}
				time.Sleep(20 * time.Millisecond)
			}
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return nil
}

// processesNaming returns the ids of live processes whose command line
// contains s (zombies, which have none, are not listed).
func processesNaming(s string) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		cmdline, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if bytes.Contains(cmdline, []byte(s)) {
			out = append(out, pid)
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
