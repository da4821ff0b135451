// Package e2e runs the built ghlogin binary against the built-in emulator, as a
// person or a script would: real processes, real HTTP on loopback, real files.
package e2e

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// bin is the ghlogin binary built once for the package. leanDir holds
// another ghlogin with the lean helper git-credential-ghlogin beside it,
// as the packages install them.
var bin, leanDir string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "ghlogin-e2e-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bin = filepath.Join(dir, "ghlogin")
	leanDir = filepath.Join(dir, "lean")
	for _, b := range [][]string{
		{"-o", bin, "../.."},
		{"-o", filepath.Join(leanDir, "ghlogin"), "../.."},
		{"-o", filepath.Join(leanDir, "git-credential-ghlogin"), "../../cmd/git-credential-ghlogin"},
	} {
		build := exec.Command("go", append([]string{"build"}, b...)...)
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building ghlogin:", err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// run is one ghlogin invocation's outcome.
type run struct {
	stdout, stderr string
	code           int
}

// sandbox is an isolated environment: its own config dir, file store, no browser.
type sandbox struct {
	t   *testing.T
	dir string
	env []string
	// bin is the ghlogin binary the sandbox runs (the package's bin).
	bin string
}

func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	env := []string{
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"GHLOGIN_CONFIG_DIR=" + filepath.Join(dir, "config"),
		"GHLOGIN_STORE=file",
		"GHLOGIN_BROWSER=none",
		"NO_COLOR=1",
		// No run asks an agent of the machine the tests run on (a
		// ghlogin ssh session's well-known socket).
		"GHLOGIN_AGENT_SOCK=none",
		"TMPDIR=" + os.TempDir(),
		// No session bus: a keyring call must fail fast, never autolaunch
		// a dbus-daemon that outlives the test.
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/ghlogin-e2e-bus",
	}
	return &sandbox{t: t, dir: dir, env: env, bin: bin}
}

// with returns a copy of the sandbox's environment plus extra variables.
func (s *sandbox) with(extra ...string) []string {
	return append(append([]string(nil), s.env...), extra...)
}

// run runs ghlogin to completion with stdin.
func (s *sandbox) run(stdin string, args ...string) run {
	s.t.Helper()
	return s.runEnv(s.env, stdin, args...)
}

func (s *sandbox) runEnv(env []string, stdin string, args ...string) run {
	s.t.Helper()
	return runCommand(s.t, "", env, stdin, s.bin, args...)
}

// runCommand runs name with args in dir (empty: the current directory) to
// completion, bounded by a minute, and returns its output and exit status.
func runCommand(t *testing.T, dir string, env []string, stdin, name string, args ...string) run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("running %s %v: %v", filepath.Base(name), args, err)
	}
	return run{stdout: out.String(), stderr: errb.String(), code: code}
}

// started is a ghlogin process still running, whose stdout is read line by line.
type started struct {
	cmd    *exec.Cmd
	lines  chan string
	stderr *lockedBuffer
	all    *bytes.Buffer
	done   chan struct{}
	// stdin is the process's standard input when startWithStdin started
	// it; nil otherwise.
	stdin io.WriteCloser
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was written so far.
func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// stderrText is what the process wrote to stderr so far.
func (p *started) stderrText() string { return p.stderr.String() }

// start runs ghlogin in the background.
func (s *sandbox) start(args ...string) *started {
	s.t.Helper()
	return s.startEnv(s.env, false, args...)
}

// startWithStdin runs ghlogin in the background with env, its standard
// input a pipe the test writes to (started.stdin).
func (s *sandbox) startWithStdin(env []string, args ...string) *started {
	s.t.Helper()
	return s.startEnv(env, true, args...)
}

func (s *sandbox) startEnv(env []string, withStdin bool, args ...string) *started {
	s.t.Helper()
	cmd := exec.Command(s.bin, args...)
	cmd.Env = env
	var stdin io.WriteCloser
	if withStdin {
		var err error
		if stdin, err = cmd.StdinPipe(); err != nil {
			s.t.Fatal(err)
		}
	} else {
		cmd.Stdin = strings.NewReader("")
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	p := &started{cmd: cmd, lines: make(chan string, 100), stderr: &lockedBuffer{}, all: &bytes.Buffer{}, done: make(chan struct{}), stdin: stdin}
	cmd.Stderr = p.stderr
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	go func() {
		defer close(p.lines)
		sc := bufio.NewScanner(io.TeeReader(stdout, p.all))
		for sc.Scan() {
			p.lines <- sc.Text()
		}
	}()
	s.t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	go func() { _ = cmd.Wait(); close(p.done) }()
	return p
}

// next returns the next stdout line, failing after timeout.
func (p *started) next(t *testing.T, timeout time.Duration) (string, bool) {
	t.Helper()
	select {
	case l, ok := <-p.lines:
		return l, ok
	case <-time.After(timeout):
		t.Fatalf("no output from ghlogin within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	return "", false
}

// wait waits for the process and returns its exit status.
func (p *started) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("ghlogin did not exit within %v; stderr:\n%s", timeout, p.stderr.String())
	}
	return p.cmd.ProcessState.ExitCode()
}

// event is one --json line.
type event map[string]any

func parseEvent(t *testing.T, line string) event {
	t.Helper()
	var e event
	if err := json.Unmarshal([]byte(line), &e); err != nil {
		t.Fatalf("stdout line is not a JSON object: %q (%v)", line, err)
	}
	if _, ok := e["event"].(string); !ok {
		t.Fatalf("JSON line without an event name: %q", line)
	}
	return e
}
