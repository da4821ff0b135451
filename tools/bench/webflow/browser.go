//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// chromiumFlags are the e2e test's flags: headless, no --dump-dom (so
// Chromium follows every redirect), nothing that reaches the network.
var chromiumFlags = []string{
	"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
	"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
}

// browser is a wrapper script that starts headless Chromium on its one
// argument, a URL, with a fresh profile, in a session of its own whose
// process group id it records.
type browser struct {
	command  string
	root     string
	pgidFile string
	logFile  string
}

func newBrowser(root, chromium string) (*browser, error) {
	if err := os.MkdirAll(root, 0o700); err != nil {
		return nil, err
	}
	b := &browser{
		command:  filepath.Join(root, "browser.sh"),
		root:     root,
		pgidFile: filepath.Join(root, "pgids"),
		logFile:  filepath.Join(root, "chromium.log"),
	}
	args := []string{shellQuote(chromium)}
	for _, f := range chromiumFlags {
		args = append(args, shellQuote(f))
	}
	script := fmt.Sprintf(`#!/bin/sh
set -e
root=%[1]s
profile=$(mktemp -d "$root/profile.XXXXXX")
HOME="$root" XDG_CONFIG_HOME="$root/config" XDG_CACHE_HOME="$root/cache"
export HOME XDG_CONFIG_HOME XDG_CACHE_HOME
exec setsid /bin/sh -c 'echo $$ >>"$0"; exec "$@"' %[2]s %[3]s --user-data-dir="$profile" "$1" </dev/null >>%[4]s 2>&1
`, shellQuote(root), shellQuote(b.pgidFile), strings.Join(args, " "), shellQuote(b.logFile))
	if err := os.WriteFile(b.command, []byte(script), 0o700); err != nil {
		return nil, err
	}
	return b, nil
}

// launchedAt returns when the wrapper started Chromium: the time it wrote
// the process group id, just before exec'ing Chromium.
func (b *browser) launchedAt() (time.Time, error) {
	fi, err := os.Stat(b.pgidFile)
	if err != nil {
		return time.Time{}, fmt.Errorf("the browser was never started: %w", err)
	}
	return fi.ModTime(), nil
}

// log returns what Chromium wrote.
func (b *browser) log() string {
	data, _ := os.ReadFile(b.logFile)
	return string(data)
}

// stop ends the process groups the wrapper started, then any process left
// that names the browser's directory (Chromium's crash handler detaches into
// a group of its own), and waits until they are gone.
func (b *browser) stop() {
	data, _ := os.ReadFile(b.pgidFile)
	for _, f := range strings.Fields(string(data)) {
		if pgid, err := strconv.Atoi(f); err == nil && pgid > 1 {
			killGroup(pgid)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		pids := processesNaming(b.root + string(filepath.Separator))
		if len(pids) == 0 || time.Now().After(deadline) {
			return
		}
		if time.Until(deadline) < 8*time.Second {
			for _, pid := range pids {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// killGroup sends SIGTERM to a process group, SIGKILL after three seconds,
// and returns once the group is gone (or after five more seconds).
func killGroup(pgid int) {
	if err := syscall.Kill(-pgid, syscall.SIGTERM); errors.Is(err, syscall.ESRCH) {
		return
	}
	deadline := time.Now().Add(3 * time.Second)
	killed := false
	for syscall.Kill(-pgid, 0) == nil {
		if time.Now().After(deadline) {
			if killed {
				return
			}
			_ = syscall.Kill(-pgid, syscall.SIGKILL)
			killed, deadline = true, time.Now().Add(5*time.Second)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// processesNaming returns the ids of live processes whose command line
// contains s.
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
		if err == nil && bytes.Contains(cmdline, []byte(s)) {
			out = append(out, pid)
		}
	}
	return out
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
