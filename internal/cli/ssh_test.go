package cli

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/agent/agenttest"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
)

// saveAccount stores login's token for host in the harness's file store.
func (h *harness) saveAccount(host, login, token string) {
	h.t.Helper()
	if err := h.store().Save(context.Background(), host, login, store.BackendFile, &store.Secret{Token: token}); err != nil {
		h.t.Fatal(err)
	}
}

// ghlogin's flags come first; everything from the first other argument on
// is ssh's.
func TestSSHFlags(t *testing.T) {
	h := newHarness(t, emuDefaults)
	env, _, _ := h.env("")
	a := newApp(env)
	for _, tc := range []struct {
		args  []string
		allow []string
		user  string
		ssh   []string
	}{
		{[]string{"build-1"}, nil, "", []string{"build-1"}},
		{[]string{"--allow", "github.com,ghe.example.com", "--user=alice", "-p", "2222", "me@build-1", "git", "pull"},
			[]string{"github.com", "ghe.example.com"}, "alice", []string{"-p", "2222", "me@build-1", "git", "pull"}},
		{[]string{"--allow=github.com", "--", "--user", "x"}, []string{"github.com"}, "", []string{"--user", "x"}},
		{[]string{"-A", "build-1", "--allow", "x"}, nil, "", []string{"-A", "build-1", "--allow", "x"}},
		// -u is --user, as everywhere else (ssh has no -u).
		{[]string{"-u", "alice", "-p", "2222", "build-1"}, nil, "alice", []string{"-p", "2222", "build-1"}},
		{[]string{"-ualice", "build-1"}, nil, "alice", []string{"build-1"}},
	} {
		var got *sshOptions
		if code := runCmd(t, a, newSSHCmd(a, func(o *sshOptions) error { got = o; return nil }), tc.args...); code != 0 {
			t.Fatalf("%v: exit %d", tc.args, code)
		}
		if !reflect.DeepEqual(got.Allow, tc.allow) || got.User != tc.user || !reflect.DeepEqual(got.Args, tc.ssh) {
			t.Errorf("%v: allow %q user %q ssh %q", tc.args, got.Allow, got.User, got.Args)
		}
	}
}

// Mistakes are said before anything connects: usage errors exit 2, a host
// without an account exits 4.
func TestSSHRefusesBeforeConnecting(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.saveAccount("github.com", "octocat", "gho_octocat")
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"ssh"}, ExitUsage, "ssh needs a destination"},
		{[]string{"ssh", "--allow"}, ExitUsage, "flag needs an argument"},
		{[]string{"ssh", "-N", "build-1"}, ExitUsage, "ssh argument -N: runs no remote command"},
		{[]string{"ssh", "-o", "ControlMaster=auto", "build-1"}, ExitUsage, "the agent needs a connection of its own"},
		{[]string{"ssh", "-p"}, ExitUsage, "ssh argument -p: needs a value"},
		{[]string{"ssh", "-p", "22", "--allow", "github.com", "build-1"}, ExitUsage, "--allow must come before ssh's options and the destination"},
		{[]string{"ssh", "--verbose", "build-1"}, ExitUsage, "ssh argument --verbose: is not an ssh option"},
		{[]string{"ssh", "--allow", "http://ghe.example.com", "build-1"}, ExitUsage, "--allow: invalid host \"http://ghe.example.com\": http"},
		{[]string{"agent", "--allow", "http://evil.com"}, ExitUsage, "--allow: invalid host \"http://evil.com\": http"},
		{[]string{"ssh", "--allow", "ghe.example.com", "build-1"}, ExitAuth, "ghe.example.com"},
		{[]string{"ssh", "--user", "mona", "build-1"}, ExitAuth, "mona"},
	} {
		r := h.run("", tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.msg) || strings.Contains(r.stderr, "Lending") {
			t.Errorf("%v: exit %d, stderr %q", tc.args, r.code, r.stderr)
		}
	}
	if r := h.run("", "ssh", "--help"); r.code != 0 || !strings.Contains(r.stdout, "--allow") {
		t.Errorf("--help: exit %d\n%s", r.code, r.stdout)
	}
}

// fakeSSH writes a stand-in for ssh whose remote is this machine: it turns
// the -R forward into a symbolic link and runs the remote command with sh,
// in home, as sshd would, and exits with its status.
func fakeSSH(t *testing.T, home string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "ssh")
	script := fmt.Sprintf(`#!/bin/sh
fwd=
while [ $# -gt 0 ]; do
	case $1 in
	-R) fwd=$2; shift 2 ;;
	-o|-p|-i|-F) shift 2 ;;
	--) shift; break ;;
	*) shift ;;
	esac
done
ln -s "${fwd#*:}" "${fwd%%%%:*}" || exit 255
cd %q && HOME=%q XDG_RUNTIME_DIR=%q SHELL=/bin/sh exec /bin/sh -c "$2"
`, home, home, home)
	if err := os.WriteFile(p, []byte(script), 0o700); err != nil {
		t.Fatal(err)
	}
	return p
}

// A whole session with a stand-in for ssh: the consent line names the
// default host's active account and the remote; the remote asks the agent
// (with socat, as the documented one-line helper does); the account of
// the session comes at the end; ghlogin exits with ssh's status.
func TestSSHSession(t *testing.T) {
	socat := requireTool(t, "socat", "apt install socat")
	h := newHarness(t, emuDefaults)
	h.saveAccount("github.com", "octocat", "gho_octocat_lent")
	home := t.TempDir()
	env, out, errb := h.env("")
	a := newApp(env)
	remote := `printf '{"v":1,"op":"token","host":"github.com","purpose":"git"}\n{"v":1,"op":"token","host":"ghe.example.com","purpose":"git"}\n' | ` +
		socat + ` -t5 -T5 - "UNIX-CONNECT:$GHLOGIN_AGENT_SOCK"; exit 3`
	cmd := newSSHCmd(a, func(o *sshOptions) error {
		o.Program = fakeSSH(t, home)
		return runSSH(context.Background(), o)
	})
	code := runCmd(t, a, cmd, "-p", "22", "me@build-1", remote)
	t.Logf("exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errb)
	if code != 3 {
		t.Fatalf("exit %d, want ssh's 3", code)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"login":"octocat","token":"gho_octocat_lent"`) || !strings.Contains(lines[1], `"code":"not_allowed"`) {
		t.Fatalf("the remote's answers: %q", lines)
	}
	want := "Lending your github.com login (octocat) to build-1 for this session\n" +
		"build-1 used your github.com token once for git; 1 request for ghe.example.com was refused\n"
	if errb.String() != want {
		t.Fatalf("stderr %q, want %q", errb, want)
	}
	// The forward's link on the remote is gone, and so is the agent's
	// socket here.
	matches, _ := filepath.Glob(filepath.Join(h.dir, "agent", "agent-*.sock"))
	if len(matches) != 0 {
		t.Fatalf("sockets left: %q", matches)
	}
}

// ghlogin agent serves until stopped, prints its socket for scripts, and
// says what it served.
func TestAgentCommand(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.saveAccount("github.com", "octocat", "gho_octocat_lent")
	run := t.TempDir()
	h.vars["XDG_RUNTIME_DIR"] = run
	env, _, errb := h.env("")
	pr, pw := io.Pipe()
	env.Stdout = pw
	a := newApp(env)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		root := a.bareRoot()
		cmd := newAgentCmd(a, nil)
		root.AddCommand(cmd)
		done <- a.execute(ctx, root, []string{"agent", "--print-socket", "--name", "laptop", "-v"})
		pw.Close()
	}()
	line, err := bufio.NewReader(pr).ReadString('\n')
	if err != nil {
		t.Fatal(err)
	}
	sock := strings.TrimSpace(line)
	if filepath.Dir(sock) != filepath.Join(run, "ghlogin") {
		t.Fatalf("socket %q", sock)
	}
	c := &agent.Client{Path: sock}
	g, err := c.Token(context.Background(), agent.Query{Host: "github.com", Purpose: agent.PurposeToken})
	if err != nil || g.Token != "gho_octocat_lent" || g.Agent != "laptop" {
		t.Fatalf("%v %v", g, err)
	}
	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Fatalf("exit %d\n%s", code, errb)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop")
	}
	if _, err := os.Stat(sock); !os.IsNotExist(err) {
		t.Errorf("the socket outlived the agent: %v", err)
	}
	for _, want := range []string{
		"Lending your github.com login (octocat) on " + sock + " until stopped (Ctrl-C)\n",
		"Clients find it with GHLOGIN_AGENT_SOCK=" + sock + "\n",
		"ghlogin agent: lent octocat's github.com token for token\n",
		"the agent's clients used your github.com token once for token\n",
	} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb)
		}
	}
	if strings.Contains(errb.String(), "gho_octocat_lent") {
		t.Fatal("the token was printed")
	}
}

// --socket puts the socket at a chosen path, in a directory only the user
// can enter.
func TestAgentSocketFlag(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.saveAccount("github.com", "octocat", "gho_x")
	open := filepath.Join(t.TempDir(), "open")
	if err := os.Mkdir(open, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o755); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "agent", "--socket", filepath.Join(open, "a.sock"))
	if r.code != ExitFailure || !strings.Contains(r.stderr, "chmod 700 "+open) {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}

// lender lends octocat's token on github.com; ghe.example.com is served
// but has no account.
type lender struct{}

func (lender) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	if q.Host != "github.com" {
		return nil, &store.NotLoggedInError{Host: q.Host}
	}
	return &agent.Grant{Host: q.Host, Login: "octocat", Token: "ghu_lent"}, nil
}

func (lender) Accounts(_ context.Context, host string) ([]agent.Account, error) {
	if host != "github.com" {
		return nil, nil
	}
	return []agent.Account{{Login: "octocat", Active: true}}, nil
}

// serveLender runs an agent over lender until the test ends.
func serveLender(t *testing.T) string {
	t.Helper()
	return agenttest.Serve(t, &agent.Server{Name: "laptop", Allowed: []string{"github.com", "ghe.example.com"}, Source: lender{}})
}

// setup-git, with no login here but one a ghlogin agent lends, says so by
// what the agent tells: the machine it runs on, not how it was started
// (ghlogin ssh or a standalone ghlogin agent).
func TestSetupGitSaysTheAgentLends(t *testing.T) {
	requireGit(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := newHarness(t, emuDefaults)
	h.vars[agent.EnvSock] = serveLender(t)
	r := h.run("", "setup-git", "--host", "github.com")
	if r.code != 0 || !strings.Contains(r.stderr, "The ghlogin agent on laptop lends octocat for github.com while it runs and its socket is reachable here; nothing is stored here\n") ||
		strings.Contains(r.stderr, "ghlogin ssh") {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
}

// On the remote: token and status use the forwarded agent; its refusals
// and its absence are sentences with ghlogin's exit statuses.
func TestRemoteCommands(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.vars[agent.EnvSock] = serveLender(t)
	if r := h.run("", "token"); r.code != 0 || r.stdout != "ghu_lent\n" {
		t.Fatalf("token: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	r := h.run("", "token", "--host", "ghe.example.com")
	if r.code != ExitAuth || !strings.Contains(r.stderr, "the agent on laptop cannot lend a token for ghe.example.com") || !strings.Contains(r.stderr, "log in on laptop with ghlogin login --host ghe.example.com, or log in here") {
		t.Fatalf("not logged in there: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "token", "--host", "other.example.com", "--user", "mona")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "the agent on laptop does not serve other.example.com; reconnect with ghlogin ssh --allow other.example.com …") {
		t.Fatalf("not served: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "github.com\n  ⇄ octocat (lent by the ghlogin agent on laptop)\n") ||
		!strings.Contains(r.stdout, "here: octocat (lent by the ghlogin agent on laptop)\n") || strings.Contains(r.stdout, "ghlogin ssh") {
		t.Fatalf("status: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	r = h.run("", "status", "--json")
	if r.code != 0 || !strings.Contains(r.stdout, `"forwarded": [`) || !strings.Contains(r.stdout, `"agent": "laptop"`) {
		t.Fatalf("status --json: exit %d\n%s", r.code, r.stdout)
	}
	h.vars[agent.EnvSock] = filepath.Join(t.TempDir(), "gone.sock")
	r = h.run("", "token")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "error: the forwarded agent is gone; reconnect or log in here (no ghlogin agent at "+h.vars[agent.EnvSock]+"; after logging in here, unset GHLOGIN_AGENT_SOCK)") {
		t.Fatalf("gone: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "status")
	if r.code != ExitAuth || !strings.Contains(r.stdout, "! the forwarded agent is gone; reconnect or log in here (no ghlogin agent at ") {
		t.Fatalf("status, gone: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// What failed on the laptop's side during a session (here a refresh whose
// server is gone) is said after the session, since the remote is only
// told to look here.
func TestSSHSessionProblems(t *testing.T) {
	socat := requireTool(t, "socat", "apt install socat")
	h := newHarness(t, emuDefaults)
	ts := h.token(emulator.AppClientID, "octocat")
	st := h.store()
	sec := &store.Secret{Token: ts.AccessToken, ExpiresAt: h.clk.Now().Add(time.Minute), RefreshToken: ts.RefreshToken}
	if err := st.Save(context.Background(), h.host, "octocat", store.BackendFile, sec); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts[h.host].Protocol = "http"
		f.Hosts[h.host].ClientID = emulator.AppClientID
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.srv.Close()
	env, out, errb := h.env("")
	a := newApp(env)
	remote := `printf '{"v":1,"op":"token","host":"` + h.host + `","purpose":"git"}\n' | ` + socat + ` -t5 -T5 - "UNIX-CONNECT:$GHLOGIN_AGENT_SOCK"`
	cmd := newSSHCmd(a, func(o *sshOptions) error {
		o.Program = fakeSSH(t, t.TempDir())
		return runSSH(context.Background(), o)
	})
	if code := runCmd(t, a, cmd, "--allow", h.host, "build-1", remote); code != 0 {
		t.Fatalf("exit %d\n%s", code, errb)
	}
	if !strings.Contains(out.String(), `"code":"internal"`) {
		t.Fatalf("the remote's answer: %s", out)
	}
	t.Logf("stderr:\n%s", errb)
	if !strings.Contains(errb.String(), "\nwarning: the agent could not serve "+h.host+": ") {
		t.Fatalf("stderr %q", errb)
	}
	if strings.Contains(out.String()+errb.String(), ts.AccessToken) || strings.Contains(errb.String(), ts.RefreshToken) {
		t.Fatal("a token was printed")
	}
}
