package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/zalando/go-keyring"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
)

// The tests that need a real Secret Service skip with a message when there is
// none, and fail under CI=true. Run them with:
//
//	.ci/with-keyring go test -race ./test/e2e/ -run Keyring

// skipOrFailKeyring skips a test that needs a component this machine lacks,
// or fails it under CI=true, where every test must run.
func skipOrFailKeyring(t *testing.T, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s (CI=true: this test must run, not skip)", msg)
	}
	t.Skip(msg + "; run it with: .ci/with-keyring go test ./test/e2e/ -run Keyring")
}

var (
	secretServiceOnce sync.Once
	secretServiceErr  error
)

// requireSecretService checks that this session's Secret Service answers a
// real Set, Get and Delete within a few seconds.
func requireSecretService(t *testing.T) {
	t.Helper()
	if runtime.GOOS != "linux" {
		skipOrFailKeyring(t, "the Secret Service tests are for Linux")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		skipOrFailKeyring(t, "no D-Bus session (DBUS_SESSION_BUS_ADDRESS is unset), so no Secret Service")
	}
	secretServiceOnce.Do(func() {
		done := make(chan error, 1)
		go func() {
			svc, user := store.Service("probe.e2e.ghlogin.invalid"), fmt.Sprintf("probe-%d", os.Getpid())
			if err := keyring.Set(svc, user, "x"); err != nil {
				done <- err
				return
			}
			v, err := keyring.Get(svc, user)
			if err == nil && v != "x" {
				err = fmt.Errorf("read back %q", v)
			}
			if derr := keyring.Delete(svc, user); err == nil {
				err = derr
			}
			done <- err
		}()
		select {
		case secretServiceErr = <-done:
		case <-time.After(10 * time.Second):
			secretServiceErr = errors.New("the Secret Service did not answer within 10s")
		}
	})
	if secretServiceErr != nil {
		skipOrFailKeyring(t, "the Secret Service does not work here: %v", secretServiceErr)
	}
}

// keyringEnv is the sandbox's environment with the keyring as the default
// store and this session's D-Bus, so the binary reaches the Secret Service.
func keyringEnv(s *sandbox, extra ...string) []string {
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "GHLOGIN_STORE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GHLOGIN_STORE=keyring")
	for _, k := range []string{"DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR"} {
		if v, ok := os.LookupEnv(k); ok {
			env = append(env, k+"="+v)
		}
	}
	return append(env, extra...)
}

// noKeyringEnv is an environment whose keyring cannot be reached: the
// session bus address names a socket that does not exist.
func noKeyringEnv(s *sandbox, extra ...string) []string {
	var env []string
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "GHLOGIN_STORE=") {
			env = append(env, kv)
		}
	}
	env = append(env, "GHLOGIN_STORE=keyring", "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent/ghlogin-e2e-bus", "XDG_RUNTIME_DIR="+filepath.Join(s.dir, "no-runtime"))
	return append(env, extra...)
}

// keyringSecret reads what ghlogin keeps in the keyring for host/login.
func keyringSecret(t *testing.T, host, login string) (*store.Secret, error) {
	t.Helper()
	v, err := keyring.Get(store.Service(host), login)
	if err != nil {
		return nil, err
	}
	var sec store.Secret
	if err := json.Unmarshal([]byte(v), &sec); err != nil {
		t.Fatalf("the keyring entry for %s on %s is not ghlogin's JSON: %v", login, host, err)
	}
	return &sec, nil
}

// regexpUserCode matches a device flow user code such as WDJB-MJHT.
var regexpUserCode = regexp.MustCompile(`\b[A-Z0-9]{4}-[A-Z0-9]{4}\b`)

// shq quotes s for a POSIX shell.
func shq(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func readFileString(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		t.Fatal(err)
	}
	return string(b)
}

func TestKeyringLoginTokenStatusLogout(t *testing.T) {
	requireSecretService(t)
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	// Every run reaches this session's Secret Service; the default store
	// stays file, so --store keyring is what puts the first token there.
	s.env = append(keyringEnv(s), "GHLOGIN_STORE=file")
	credsPath := filepath.Join(s.dir, "config", "credentials.json")
	t.Cleanup(func() {
		_ = keyring.Delete(store.Service(host), "octocat")
		_ = keyring.Delete(store.Service(host), "hubot")
	})

	// A device login with --store keyring (the sandbox defaults to file).
	r := s.run("", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--store", "keyring")
	if r.code != 0 {
		t.Fatalf("login --store keyring: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "octocat") {
		t.Errorf("login does not say who logged in:\n%s", r.stderr)
	}
	sec, err := keyringSecret(t, host, "octocat")
	if err != nil {
		t.Fatalf("no keyring entry service=%s user=octocat after login: %v", store.Service(host), err)
	}
	if !tokenShape.MatchString(sec.Token) {
		t.Fatalf("the keyring entry holds no gho_ token")
	}
	octo := sec.Token
	if strings.Contains(r.stdout+r.stderr, octo) {
		t.Fatal("login printed the token")
	}
	if strings.Contains(readFileString(t, credsPath), octo) {
		t.Fatal("a keyring login also wrote the token to credentials.json")
	}
	if cfg := readFileString(t, filepath.Join(s.dir, "config", "config.toml")); strings.Contains(cfg, octo) {
		t.Fatal("the token is in config.toml")
	}
	// secret-tool, as a person would look, finds the same entry.
	if st, err := exec.LookPath("secret-tool"); err == nil {
		out, err := exec.Command(st, "lookup", "service", store.Service(host), "username", "octocat").Output()
		if err != nil || !strings.Contains(string(out), octo) {
			t.Errorf("secret-tool lookup service %s username octocat: %v (found the token: %v)", store.Service(host), err, strings.Contains(string(out), octo))
		}
	} else if os.Getenv("CI") == "true" {
		t.Error("secret-tool is missing (apt-get install libsecret-tools)")
	}

	// token reads it back.
	if got := s.mustToken("--host", host); got != octo {
		t.Fatal("token does not print the token kept in the keyring")
	}

	// A second account, given with --with-token, under GHLOGIN_STORE=keyring.
	hubot := issueToken(t, srv, "hubot", "gist")
	r = s.runEnv(keyringEnv(s), hubot+"\n", "login", "--with-token", "--host", srv.URL())
	if r.code != 0 || !strings.Contains(r.stderr, "keyring") {
		t.Fatalf("login --with-token with GHLOGIN_STORE=keyring: exit %d\n%s", r.code, r.stderr)
	}
	if sec, err := keyringSecret(t, host, "hubot"); err != nil || sec.Token != hubot {
		t.Fatalf("hubot's token is not in the keyring (err %v)", err)
	}
	if strings.Contains(readFileString(t, credsPath), hubot) {
		t.Fatal("hubot's token went to credentials.json")
	}
	r = s.run("", "status", "--json")
	if r.code != 0 {
		t.Fatalf("status: exit %d\n%s", r.code, r.stderr)
	}
	h := parseAcctStatus(t, r.stdout).find(t, host)
	for _, login := range []string{"octocat", "hubot"} {
		if a := h.account(t, login); a.Store != "keyring" || a.State != "valid" {
			t.Errorf("status of %s: store %q state %q (%s); want keyring, valid", login, a.Store, a.State, a.Error)
		}
	}
	if strings.Contains(r.stdout+r.stderr, octo) || strings.Contains(r.stdout+r.stderr, hubot) {
		t.Fatal("status printed a token")
	}

	// With the keyring gone, commands say so instead of claiming the token is bad.
	r = s.runEnv(noKeyringEnv(s), "", "token", "--host", host)
	if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "keyring") {
		t.Errorf("token with the keyring unreachable: exit %d, stdout %q, stderr %q; want 1 and a message about the keyring", r.code, r.stdout, r.stderr)
	}
	r = s.runEnv(noKeyringEnv(s), "", "status", "--json")
	for _, a := range parseAcctStatus(t, r.stdout).find(t, host).Accounts {
		if a.State == "invalid" || a.State == "valid" || !strings.Contains(a.Error, "keyring") {
			t.Errorf("status of %s with the keyring unreachable: state %q, error %q", a.Login, a.State, a.Error)
		}
	}
	if r.code == 4 {
		t.Errorf("status with the keyring unreachable: exit 4, but the accounts exist")
	}
	// logout cannot remove the secret, so it removes nothing.
	if r := s.runEnv(noKeyringEnv(s), "", "logout", "--host", host, "--user", "octocat"); r.code != 1 || !strings.Contains(r.stderr, "keyring") {
		t.Errorf("logout with the keyring unreachable: exit %d, stderr %q; want 1 and a message about the keyring", r.code, r.stderr)
	}
	if sec, err := keyringSecret(t, host, "octocat"); err != nil || sec.Token != octo {
		t.Fatalf("a failed logout lost octocat's keyring entry (err %v)", err)
	}
	if got := s.mustToken("--host", host, "--user", "octocat"); got != octo {
		t.Fatal("a failed logout removed octocat's account")
	}

	// switch needs no secret; logout removes exactly one keyring entry.
	if r := s.run("", "switch", "--host", host, "--user", "octocat"); r.code != 0 {
		t.Fatalf("switch: exit %d\n%s", r.code, r.stderr)
	}
	if r := s.run("", "logout", "--host", host); r.code != 0 || !strings.Contains(r.stderr, "now hubot") {
		t.Fatalf("logout: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := keyringSecret(t, host, "octocat"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after logout, octocat's keyring entry: %v, want not found", err)
	}
	if sec, err := keyringSecret(t, host, "hubot"); err != nil || sec.Token != hubot {
		t.Errorf("logging out octocat touched hubot's keyring entry (err %v)", err)
	}
	if got := s.mustToken("--host", host); got != hubot {
		t.Error("token does not print hubot's token after octocat's logout")
	}
	if r := s.run("", "logout", "--host", host); r.code != 0 {
		t.Fatalf("second logout: exit %d\n%s", r.code, r.stderr)
	}
	if _, err := keyringSecret(t, host, "hubot"); !errors.Is(err, keyring.ErrNotFound) {
		t.Errorf("after logout, hubot's keyring entry: %v, want not found", err)
	}
	if r := s.run("", "token", "--host", host); r.code != 4 {
		t.Errorf("token after both logouts: exit %d, want 4", r.code)
	}
}

func TestKeyringUnavailableWithoutTerminal(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	credsPath := filepath.Join(s.dir, "config", "credentials.json")
	cfgPath := filepath.Join(s.dir, "config", "config.toml")

	// An account already kept in the file store.
	hubot := issueToken(t, srv, "hubot", "repo")
	s.loginTok(srv.URL(), hubot)
	credsBefore, cfgBefore := readFileString(t, credsPath), readFileString(t, cfgPath)
	reqBefore := srv.Stats().Requests

	check := func(name string, r run) {
		t.Helper()
		if r.code != 1 {
			t.Errorf("%s with the keyring unreachable: exit %d, want 1\nstderr:\n%s", name, r.code, r.stderr)
		}
		for _, want := range []string{"keyring", "--store file", "GHLOGIN_STORE=file"} {
			if !strings.Contains(r.stderr, want) {
				t.Errorf("%s: the message does not name %q:\n%s", name, want, r.stderr)
			}
		}
	}

	start := time.Now()
	r := s.runEnv(noKeyringEnv(s), "", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("login took %v to give up on the keyring", took)
	}
	check("login", r)
	if r.stdout != "" {
		t.Errorf("login wrote to stdout: %q", r.stdout)
	}
	if regexpUserCode.MatchString(r.stderr) {
		t.Errorf("login showed a user code before finding that the token could not be kept:\n%s", r.stderr)
	}
	// With --json the failure is the one event on stdout.
	r = s.runEnv(noKeyringEnv(s), "", "login", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if lines := strings.Split(strings.TrimSpace(r.stdout), "\n"); len(lines) != 1 {
		t.Errorf("login --json printed %d lines, want one error event:\n%s", len(lines), r.stdout)
	} else if e := parseEvent(t, lines[0]); e["event"] != "error" {
		t.Errorf("login --json: event %v, want an error", e)
	} else {
		check("login --json", run{stderr: fmt.Sprint(e["message"]), code: r.code})
	}
	check("login --store keyring", s.runEnv(noKeyringEnv(s, "GHLOGIN_STORE=file"), "", "login", "--store", "keyring", "--host", srv.URL(), "--client-id", emulator.DefaultClientID))
	octo := issueToken(t, srv, "octocat", "repo")
	r = s.runEnv(noKeyringEnv(s), octo+"\n", "login", "--with-token", "--host", srv.URL())
	check("login --with-token", r)
	if strings.Contains(r.stderr, octo) {
		t.Fatal("the token appeared in the error message")
	}

	// The device flow never started, no token was sent anywhere.
	if after := srv.Stats().Requests; totalRequests(after) != totalRequests(reqBefore) {
		t.Errorf("the failed logins reached the server: before %v, after %v", reqBefore, after)
	}
	// Nothing stored is lost or changed.
	if got := readFileString(t, credsPath); got != credsBefore {
		t.Error("credentials.json changed")
	}
	if got := readFileString(t, cfgPath); got != cfgBefore {
		t.Errorf("config.toml changed:\nbefore:\n%s\nafter:\n%s", cfgBefore, got)
	}
	// A file account works without the keyring.
	if r := s.runEnv(noKeyringEnv(s), "", "token", "--host", host); r.code != 0 || strings.TrimSpace(r.stdout) != hubot {
		t.Errorf("token for a file account with the keyring unreachable: exit %d, stderr %q", r.code, r.stderr)
	}

	// The two ways out the message names both work.
	r = s.runEnv(noKeyringEnv(s), "", "login", "--store", "file", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if r.code != 0 {
		t.Fatalf("login --store file with the keyring unreachable: exit %d\n%s", r.code, r.stderr)
	}
	r = s.runEnv(noKeyringEnv(s, "GHLOGIN_STORE=file"), octo+"\n", "login", "--with-token", "--host", srv.URL())
	if r.code != 0 {
		t.Fatalf("GHLOGIN_STORE=file login --with-token with the keyring unreachable: exit %d\n%s", r.code, r.stderr)
	}
	h := parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host)
	for _, login := range []string{"octocat", "hubot"} {
		if a := h.account(t, login); a.Store != "file" || a.State != "valid" {
			t.Errorf("%s: store %q state %q, want file, valid", login, a.Store, a.State)
		}
	}
	if got := s.mustToken("--host", host, "--user", "hubot"); got != hubot {
		t.Error("hubot's token changed")
	}
}

// tmuxSession is a detached tmux session on a private server socket.
type tmuxSession struct {
	t       *testing.T
	tmux    string
	sock    string
	name    string
	exitOut string
}

// startTmux runs ghlogin with args on a terminal (a tmux pane) with env, and
// records its exit status in a file.
func startTmux(t *testing.T, s *sandbox, env []string, args ...string) *tmuxSession {
	t.Helper()
	tm, err := exec.LookPath("tmux")
	if err != nil {
		skipOrFailKeyring(t, "tmux is not installed (apt-get install tmux)")
	}
	ts := &tmuxSession{t: t, tmux: tm, sock: filepath.Join(s.dir, "tmux.sock"), name: "ghlogin", exitOut: filepath.Join(s.dir, "exit-status")}
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&script, "export %s=%s\n", k, shq(v))
	}
	script.WriteString("export TERM=xterm-256color\n")
	fmt.Fprintf(&script, "%s", shq(bin))
	for _, a := range args {
		fmt.Fprintf(&script, " %s", shq(a))
	}
	fmt.Fprintf(&script, "\necho $? > %s.tmp && mv %s.tmp %s\nsleep 600\n", shq(ts.exitOut), shq(ts.exitOut), shq(ts.exitOut))
	path := filepath.Join(s.dir, "run.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tm, "-S", ts.sock, "-f", "/dev/null", "new-session", "-d", "-s", ts.name, "-x", "220", "-y", "50", path)
	cmd.Env = []string{"HOME=" + s.dir, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tm, "-S", ts.sock, "kill-server").Run() })
	return ts
}

// screen returns the pane's text, wrapped lines joined.
func (ts *tmuxSession) screen() string {
	out, err := exec.Command(ts.tmux, "-S", ts.sock, "capture-pane", "-p", "-J", "-t", ts.name).Output()
	if err != nil {
		return ""
	}
	return string(out)
}

// waitFor waits until the pane shows want.
func (ts *tmuxSession) waitFor(want string, timeout time.Duration) string {
	ts.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		sc := ts.screen()
		if strings.Contains(sc, want) {
			return sc
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("the terminal does not show %q within %v; it shows:\n%s", want, timeout, sc)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// send types keys into the pane.
func (ts *tmuxSession) send(keys ...string) {
	ts.t.Helper()
	args := append([]string{"-S", ts.sock, "send-keys", "-t", ts.name}, keys...)
	if out, err := exec.Command(ts.tmux, args...).CombinedOutput(); err != nil {
		ts.t.Fatalf("tmux send-keys: %v\n%s", err, out)
	}
}

// exitCode waits for ghlogin to end and returns its exit status.
func (ts *tmuxSession) exitCode(timeout time.Duration) int {
	ts.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		if b, err := os.ReadFile(ts.exitOut); err == nil {
			var code int
			if _, err := fmt.Sscan(string(b), &code); err == nil {
				return code
			}
		}
		if time.Now().After(deadline) {
			ts.t.Fatalf("ghlogin did not exit within %v; the terminal shows:\n%s", timeout, ts.screen())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// storeMenu is the question a login asks on a terminal when the keyring
// cannot be used: the kernel keyring first where this kernel allows it,
// the file store (plaintext at rest), cancel. It returns each store's
// number in it.
func storeMenu(t *testing.T, screen, host, credsPath string) (kernel, file, cancel string) {
	t.Helper()
	for _, want := range []string{"Cannot keep the token for " + host + " in the OS keyring", "no keyring service on this machine",
		"Where should ghlogin keep it instead?"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the question lacks %q:\n%s", want, screen)
		}
	}
	n := 1
	if kernelKeyringWorks(t) {
		kernel = "1"
		n++
		if !strings.Contains(screen, "1) kernel keyring: in memory only, never written to disk") {
			t.Errorf("the kernel keyring is not offered first:\n%s", screen)
		}
	}
	file, cancel = fmt.Sprint(n), fmt.Sprint(n+1)
	for _, want := range []string{file + ") " + credsPath + ": plaintext at rest", cancel + ") cancel", "Choose 1-" + cancel + ":"} {
		if !strings.Contains(screen, want) {
			t.Errorf("the question lacks %q:\n%s", want, screen)
		}
	}
	return kernel, file, cancel
}

// withoutStoreEnv is env without GHLOGIN_STORE, which wins over a host's
// store setting.
func withoutStoreEnv(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "GHLOGIN_STORE=") {
			out = append(out, kv)
		}
	}
	return out
}

// kernelKeyringWorks reports whether this kernel lets ghlogin use the
// kernel keyring (a container's seccomp profile may not).
func kernelKeyringWorks(t *testing.T) bool {
	t.Helper()
	st, err := store.Open(store.Options{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	return st.Probe(context.Background(), store.BackendKernel) == nil
}

// No keyring service, on a terminal: the login asks where to keep the token
// instead, before the flow starts; the file store, chosen, is remembered
// for the host (the next login asks nothing).
func TestKeyringUnavailableTerminalOffersFileStore(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	credsPath := filepath.Join(s.dir, "config", "credentials.json")

	ts := startTmux(t, s, noKeyringEnv(s), "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--no-browser")
	sc := ts.waitFor("Choose 1-", 20*time.Second)
	_, file, _ := storeMenu(t, sc, host, credsPath)
	if n := srv.Stats().DeviceCodes; n != 0 {
		t.Errorf("the device flow started (%d codes) before the question was answered", n)
	}
	ts.send(file, "Enter")
	if code := ts.exitCode(40 * time.Second); code != 0 {
		t.Fatalf("login after choosing the file store: exit %d; the terminal shows:\n%s", code, ts.screen())
	}
	tok := s.mustToken("--host", host)
	if !tokenShape.MatchString(tok) {
		t.Fatalf("token after the login = %q", tok)
	}
	if !strings.Contains(readFileString(t, credsPath), tok) {
		t.Fatal("the token is not in credentials.json, the store the person chose")
	}
	if fi, err := os.Stat(credsPath); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("credentials.json mode: %v (err %v), want 0600", fi.Mode().Perm(), err)
	}
	if a := parseAcctStatus(t, s.run("", "status", "--json").stdout).find(t, host).account(t, "octocat"); a.Store != "file" || a.State != "valid" {
		t.Errorf("status: store %q state %q, want file, valid", a.Store, a.State)
	}
	if got := strings.TrimSpace(s.runEnv(withoutStoreEnv(s.env), "", "config", "get", "--host", host, "store").stdout); got != "file" {
		t.Errorf("the host's store setting is %q, want file (remembered)", got)
	}
	if strings.Contains(ts.screen(), tok) {
		t.Fatal("the token appeared on the terminal")
	}
	// The next login, still without a keyring, asks nothing (GHLOGIN_STORE,
	// which would win over the host's setting, unset).
	if r := s.runEnv(withoutStoreEnv(noKeyringEnv(s)), "", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID); r.code != 0 || strings.Contains(r.stderr, "Choose") {
		t.Errorf("second login: exit %d\n%s", r.code, r.stderr)
	}
}

// Cancel at the question: nothing starts, nothing changes, exit 130.
func TestKeyringUnavailableTerminalDeclined(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	host := emuHost(srv)
	s := newSandbox(t)
	hubot := issueToken(t, srv, "hubot", "repo")
	s.loginTok(srv.URL(), hubot)
	credsPath := filepath.Join(s.dir, "config", "credentials.json")
	before := readFileString(t, credsPath)

	ts := startTmux(t, s, noKeyringEnv(s), "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--no-browser")
	_, _, cancel := storeMenu(t, ts.waitFor("Choose 1-", 20*time.Second), host, credsPath)
	ts.send(cancel, "Enter")
	if code := ts.exitCode(20 * time.Second); code != 130 {
		t.Errorf("login after cancel: exit %d, want 130", code)
	}
	if sc := ts.screen(); !strings.Contains(sc, "error: cancelled") {
		t.Errorf("after cancel, the terminal shows:\n%s", sc)
	}
	if n := srv.Stats().DeviceCodes; n != 0 {
		t.Errorf("the device flow started (%d codes) though the person cancelled", n)
	}
	if readFileString(t, credsPath) != before {
		t.Error("credentials.json changed though the person cancelled")
	}
	if got := s.mustToken("--host", host); got != hubot {
		t.Error("the stored account changed")
	}
}

// busConfig is a private session bus: no service activation, so nothing but
// the test's own connection can own the Secret Service's name.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>session</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
    <allow own="*"/>
  </policy>
</busconfig>
`

// hangingSecretService starts a private D-Bus daemon on which this test owns
// org.freedesktop.secrets and never answers a Secret Service call, as a stuck
// keyring daemon does (gh hit this on WSL). It returns the bus address.
func hangingSecretService(t *testing.T) string {
	t.Helper()
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		skipOrFailKeyring(t, "dbus-daemon is not installed (apt-get install dbus)")
	}
	dir, err := os.MkdirTemp("", "ghlogin-bus-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "bus")
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(fmt.Sprintf(busConfig, sock)), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--nopidfile")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dbus-daemon: %v", err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := "unix:path=" + sock
	var conn *dbus.Conn
	for deadline := time.Now().Add(10 * time.Second); ; {
		if conn, err = dbus.Connect(addr); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("connecting to the private bus: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	release := make(chan struct{})
	t.Cleanup(func() { close(release); conn.Close() })
	stuck := func() *dbus.Error {
		<-release
		return dbus.MakeFailedError(errors.New("the test ended"))
	}
	methods := map[string]any{
		"Unlock": func([]dbus.ObjectPath) ([]dbus.ObjectPath, dbus.ObjectPath, *dbus.Error) {
			return nil, "/", stuck()
		},
		"OpenSession": func(string, dbus.Variant) (dbus.Variant, dbus.ObjectPath, *dbus.Error) {
			return dbus.MakeVariant(""), "/", stuck()
		},
		"SearchItems": func(map[string]string) ([]dbus.ObjectPath, []dbus.ObjectPath, *dbus.Error) {
			return nil, nil, stuck()
		},
	}
	if err := conn.ExportMethodTable(methods, "/org/freedesktop/secrets", "org.freedesktop.Secret.Service"); err != nil {
		t.Fatal(err)
	}
	props := map[string]any{
		"Get": func(string, string) (dbus.Variant, *dbus.Error) { return dbus.MakeVariant(""), stuck() },
	}
	if err := conn.ExportMethodTable(props, "/org/freedesktop/secrets", "org.freedesktop.DBus.Properties"); err != nil {
		t.Fatal(err)
	}
	if reply, err := conn.RequestName("org.freedesktop.secrets", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("owning org.freedesktop.secrets on the private bus: %v (reply %v)", err, reply)
	}
	return addr
}

func TestKeyringHangingSecretServiceTimesOut(t *testing.T) {
	addr := hangingSecretService(t)
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	s := newSandbox(t)
	env := func(extra ...string) []string {
		return noKeyringEnv(s, append([]string{"DBUS_SESSION_BUS_ADDRESS=" + addr}, extra...)...)
	}
	timed := func(name string, want time.Duration, r func() run) {
		t.Helper()
		start := time.Now()
		res := r()
		took := time.Since(start)
		if res.code != 1 {
			t.Errorf("%s with a keyring that never answers: exit %d, want 1\n%s", name, res.code, res.stderr)
		}
		if took < want || took > want+5*time.Second {
			t.Errorf("%s gave up after %v; the keyring timeout is %v", name, took, want)
		}
		for _, w := range []string{"did not answer in time", "--store file", "GHLOGIN_STORE=file"} {
			if !strings.Contains(res.stderr, w) {
				t.Errorf("%s: the message does not say %q:\n%s", name, w, res.stderr)
			}
		}
	}
	// The default bound is 3 s.
	timed("login", 3*time.Second, func() run {
		return s.runEnv(env(), "", "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	})
	// keyring_timeout changes it.
	if r := s.run("", "config", "set", "keyring_timeout", "1s"); r.code != 0 {
		t.Fatalf("config set keyring_timeout: exit %d, stderr %q", r.code, r.stderr)
	}
	octo := issueToken(t, srv, "octocat", "repo")
	timed("login --with-token", time.Second, func() run {
		return s.runEnv(env(), octo+"\n", "login", "--with-token", "--host", srv.URL())
	})
	if n := srv.Stats().DeviceCodes; n != 0 {
		t.Errorf("the device flow started (%d codes) with a keyring that cannot take the token", n)
	}
	if r := s.run("", "token", "--host", emuHost(srv)); r.code != 4 {
		t.Errorf("token after the failed logins: exit %d, want 4", r.code)
	}
	// The file store, as the message says, works whatever the keyring does.
	if r := s.runEnv(env("GHLOGIN_STORE=file"), octo+"\n", "login", "--with-token", "--host", srv.URL()); r.code != 0 {
		t.Fatalf("GHLOGIN_STORE=file login with a stuck keyring: exit %d\n%s", r.code, r.stderr)
	}
}
