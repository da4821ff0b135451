package interop

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// ghlogin runs the built binary with a config directory of its own, the file
// store, no browser and none of the caller's tokens or settings.
type ghlogin struct {
	bin       string
	configDir string
	home      string
	prov      *provider
}

func newGhlogin(t *testing.T, p *provider) *ghlogin {
	t.Helper()
	bin := ghloginBinary(t)
	dir := t.TempDir()
	g := &ghlogin{bin: bin, configDir: filepath.Join(dir, "config"), home: filepath.Join(dir, "home"), prov: p}
	for _, d := range []string{g.configDir, g.home} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return g
}

// hostName is the provider as ghlogin names it (git's host[:port] form).
func (g *ghlogin) hostName() string { return strings.TrimPrefix(g.prov.Issuer, "http://") }

func (g *ghlogin) env() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch {
		case strings.HasPrefix(name, "GHLOGIN_"),
			name == "GH_TOKEN", name == "GITHUB_TOKEN", name == "GH_ENTERPRISE_TOKEN", name == "GITHUB_ENTERPRISE_TOKEN",
			name == "BROWSER", name == "HOME", name == "XDG_CONFIG_HOME", name == "NO_COLOR":
			continue
		}
		env = append(env, kv)
	}
	return append(env,
		"HOME="+g.home,
		"XDG_CONFIG_HOME="+filepath.Join(g.home, ".config"),
		"GHLOGIN_CONFIG_DIR="+g.configDir,
		"GHLOGIN_STORE=file",
		"GHLOGIN_BROWSER=none",
		"NO_COLOR=1",
	)
}

func (g *ghlogin) command(args ...string) *exec.Cmd {
	cmd := exec.Command(g.bin, args...)
	cmd.Env = g.env()
	cmd.Dir = g.home
	setProcessGroup(cmd)
	return cmd
}

// result is a finished command.
type result struct {
	Stdout, Stderr string
	Code           int
}

// run runs one ghlogin command to completion (bounded by commandTimeout).
func (g *ghlogin) run(t *testing.T, args ...string) result {
	t.Helper()
	return g.runIn(t, "", args...)
}

// runIn is run with stdin as the command's standard input.
func (g *ghlogin) runIn(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	cmd := g.command(args...)
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr syncBuffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("ghlogin %s: %v", strings.Join(args, " "), err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return result{Stdout: stdout.String(), Stderr: stderr.String(), Code: exitCode(t, err)}
	case <-time.After(commandTimeout):
		signalGroup(cmd, true)
		<-done
		t.Fatalf("ghlogin %s did not finish within %s\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), commandTimeout, stdout.String(), stderr.String())
		return result{}
	}
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	if err == nil {
		return 0
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ee.ExitCode() >= 0 {
		return ee.ExitCode()
	}
	t.Fatalf("ghlogin did not exit normally: %v", err)
	return -1
}

// mustRun runs a command that must succeed.
func (g *ghlogin) mustRun(t *testing.T, args ...string) result {
	t.Helper()
	r := g.run(t, args...)
	if r.Code != 0 {
		t.Fatalf("ghlogin %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r
}

// configure points ghlogin at the provider as a generic OAuth 2.0 host with
// `ghlogin config set`, then checks every value reads back unchanged with
// `config get` and `config list`. settings add to or replace the defaults.
func (g *ghlogin) configure(t *testing.T, settings map[string]string) {
	t.Helper()
	all := map[string]string{
		"protocol":        "http",
		"device_code_url": g.prov.Endpoint("/device/auth"),
		"token_url":       g.prov.Endpoint("/token"),
		"authorize_url":   g.prov.Endpoint("/auth"),
		"userinfo_url":    g.prov.Endpoint("/me"),
		"login_field":     "preferred_username",
		"client_auth":     "body",
		"store":           "file",
	}
	for k, v := range settings {
		all[k] = v
	}
	keys := slices.Sorted(maps.Keys(all))
	for _, k := range keys {
		if k == "client_secret" {
			// A secret is never an argument: it comes on standard input.
			if r := g.runIn(t, all[k]+"\n", "config", "set", "--host", g.prov.HostArg, k, "-"); r.Code != 0 {
				t.Fatalf("config set %s -: exit %d\n%s", k, r.Code, r.Stderr)
			}
			continue
		}
		g.mustRun(t, "config", "set", "--host", g.prov.HostArg, k, all[k])
	}
	list := g.mustRun(t, "config", "list", "--host", g.prov.HostArg).Stdout
	for _, k := range keys {
		got := strings.TrimSpace(g.mustRun(t, "config", "get", "--host", g.prov.HostArg, k).Stdout)
		if k == "client_secret" {
			if strings.Contains(list, all[k]) {
				t.Errorf("config list shows the client secret in clear:\n%s", list)
			}
			continue
		}
		want := all[k]
		if k == "scopes" {
			// A list: "a b" and "a,b" are the same setting, shown as "a,b".
			want = strings.Join(strings.FieldsFunc(want, func(r rune) bool { return r == ',' || r == ' ' }), ",")
		}
		if got != want {
			t.Errorf("config get %s = %q after config set %q", k, got, all[k])
		}
		// The harness sets GHLOGIN_STORE too: list says it is in force.
		if !slices.Contains(strings.Split(list, "\n"), k+"="+want) && !slices.Contains(strings.Split(list, "\n"), k+"="+want+" (from GHLOGIN_STORE)") {
			t.Errorf("config list lacks the line %s=%s:\n%s", k, want, list)
		}
	}
	if t.Failed() {
		t.FailNow()
	}
}

// event is one line of `login --json`.
type event map[string]any

func (e event) name() string { s, _ := e["event"].(string); return s }
func (e event) str(k string) string {
	s, _ := e[k].(string)
	return s
}

// loginRun is a running `ghlogin login`.
type loginRun struct {
	t      *testing.T
	cmd    *exec.Cmd
	json   bool
	events chan event
	lines  chan string // stderr lines
	// stdin is standard input when startLoginStdin started the login.
	stdin  io.WriteCloser
	stdout syncBuffer
	stderr syncBuffer
	done   chan struct{}
	err    error
	seen   []event
}

// startLogin starts `ghlogin login` with args. With --json among them, stdout
// must carry only JSON events; they arrive on events.
func (g *ghlogin) startLogin(t *testing.T, args ...string) *loginRun {
	t.Helper()
	return g.startFlowWith(t, false, "login", args...)
}

// startLoginStdin is startLogin with a pipe for standard input
// (loginRun.stdin), for pasting.
func (g *ghlogin) startLoginStdin(t *testing.T, args ...string) *loginRun {
	t.Helper()
	return g.startFlowWith(t, true, "login", args...)
}

// startFlow starts a ghlogin command that runs a login flow (login, or
// refresh) with args, as startLogin does.
func (g *ghlogin) startFlow(t *testing.T, command string, args ...string) *loginRun {
	t.Helper()
	return g.startFlowWith(t, false, command, args...)
}

func (g *ghlogin) startFlowWith(t *testing.T, withStdin bool, command string, args ...string) *loginRun {
	t.Helper()
	r := &loginRun{t: t, events: make(chan event, 64), lines: make(chan string, 256), done: make(chan struct{})}
	for _, a := range args {
		if a == "--json" {
			r.json = true
		}
	}
	r.cmd = g.command(append([]string{command}, args...)...)
	if withStdin {
		in, err := r.cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		r.stdin = in
		t.Cleanup(func() { in.Close() })
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := r.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		t.Fatalf("ghlogin login: %v", err)
	}
	readers := make(chan struct{}, 2)
	go func() {
		defer func() { readers <- struct{}{} }()
		defer close(r.events)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			r.stdout.Write([]byte(line + "\n"))
			if !r.json {
				continue
			}
			var ev event
			if err := json.Unmarshal([]byte(line), &ev); err != nil || ev.name() == "" {
				ev = event{"event": "not-json", "line": line}
			}
			r.events <- ev
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	go func() {
		defer func() { readers <- struct{}{} }()
		defer close(r.lines)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			r.stderr.Write([]byte(sc.Text() + "\n"))
			select {
			case r.lines <- sc.Text():
			default:
			}
		}
		_, _ = io.Copy(io.Discard, stderr)
	}()
	go func() {
		<-readers
		<-readers
		r.err = r.cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() { terminate(r.cmd, r.done) })
	return r
}

// next returns the next event, failing the test on a line that is not a JSON
// event, or when none comes within loginTimeout.
func (r *loginRun) next() (event, bool) {
	r.t.Helper()
	select {
	case ev, ok := <-r.events:
		if !ok {
			return nil, false
		}
		if ev.name() == "not-json" {
			r.t.Fatalf("login --json wrote a line that is not a JSON event to stdout: %q", ev["line"])
		}
		r.seen = append(r.seen, ev)
		return ev, true
	case <-time.After(loginTimeout):
		r.t.Fatalf("no event from ghlogin login within %s\nstderr:\n%s", loginTimeout, r.stderr.String())
		return nil, false
	}
}

// until returns the first event named one of names, skipping progress
// events (pending, slow_down, retry); any other event fails the test.
func (r *loginRun) until(names ...string) event {
	r.t.Helper()
	for {
		ev, ok := r.next()
		if !ok {
			r.t.Fatalf("ghlogin login ended without a %v event; events %v\nstderr:\n%s", names, r.seen, r.stderr.String())
		}
		for _, n := range names {
			if ev.name() == n {
				return ev
			}
		}
		switch ev.name() {
		case "pending", "slow_down", "retry":
			continue
		}
		r.t.Fatalf("unexpected event %v while waiting for %v\nstderr:\n%s\nprovider log:\n%s", ev, names, r.stderr.String(), shared.prov.Logs())
	}
}

// stderrLine returns the first stderr line containing substr.
func (r *loginRun) stderrLine(substr string) string {
	r.t.Helper()
	deadline := time.After(loginTimeout)
	for {
		select {
		case line, ok := <-r.lines:
			if !ok {
				r.t.Fatalf("ghlogin login ended without a line containing %q\nstderr:\n%s", substr, r.stderr.String())
			}
			if strings.Contains(line, substr) {
				return line
			}
		case <-deadline:
			r.t.Fatalf("no stderr line containing %q within %s\nstderr:\n%s", substr, loginTimeout, r.stderr.String())
		}
	}
}

// wait waits for the process to exit and returns its exit status; in JSON
// mode every remaining event is checked and collected.
func (r *loginRun) wait() int {
	r.t.Helper()
	if r.json {
		for {
			if _, ok := r.next(); !ok {
				break
			}
		}
	}
	select {
	case <-r.done:
	case <-time.After(loginTimeout):
		r.t.Fatalf("ghlogin login did not exit within %s\nstderr:\n%s", loginTimeout, r.stderr.String())
	}
	return exitCode(r.t, r.err)
}
