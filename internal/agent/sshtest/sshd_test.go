package sshtest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/store"
)

// remoteRole names the variable that makes this test binary act as the
// remote side's client (run by the ssh session's shell).
const remoteRole = "GHLOGIN_SSHTEST_REMOTE"

func TestMain(m *testing.M) {
	if os.Getenv(remoteRole) == "1" {
		os.Exit(remote(os.Args[1:]))
	}
	os.Exit(m.Run())
}

// remote asks the agent it finds as the remote ghlogin would (FromEnv),
// one request per argument pair: "token HOST" or "list".
func remote(args []string) int {
	c, ok := agent.FromEnv(os.Getenv)
	if !ok {
		fmt.Println("no agent")
		return 2
	}
	fmt.Println("sock", c.Path)
	ctx := context.Background()
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "token":
			i++
			g, err := c.Token(ctx, agent.Query{Host: args[i], Purpose: agent.PurposeGit})
			if err != nil {
				fmt.Println("error", hint.Explain(err))
				continue
			}
			fmt.Println("token", g.Agent, g.Login, g.Token)
		case "list":
			l, err := c.List(ctx)
			if err != nil {
				fmt.Println("error", hint.Explain(err))
				continue
			}
			b, _ := json.Marshal(l)
			fmt.Println("list", string(b))
		}
	}
	return 0
}

const canary = "ghu_SSHCANARY0123456789abcdefghijklmnop"

// source lends one account on github.com.
type source struct{}

func (source) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	if q.Host != "github.com" {
		return nil, &store.NotLoggedInError{Host: q.Host}
	}
	return &agent.Grant{Host: q.Host, Login: "octocat", Token: canary, ExpiresAt: time.Now().Add(time.Hour)}, nil
}

func (source) Accounts(_ context.Context, host string) ([]agent.Account, error) {
	if host != "github.com" {
		return nil, &store.NotLoggedInError{Host: host}
	}
	return []agent.Account{{Login: "octocat", Active: true}}, nil
}

// laptop is the local side: an agent on a socket of its own.
type laptop struct {
	srv  *agent.Server
	sock *agent.Socket
	stop func()
}

func startLaptop(t *testing.T, allowed ...string) *laptop {
	t.Helper()
	sock, err := agent.Listen(filepath.Join(t.TempDir(), "run", "ghlogin"))
	if err != nil {
		t.Fatal(err)
	}
	l := &laptop{srv: &agent.Server{Name: "laptop", Allowed: allowed, Source: source{}}, sock: sock}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- l.srv.Serve(ctx, sock) }()
	var once sync.Once
	l.stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
		})
	}
	t.Cleanup(l.stop)
	return l
}

// remoteSide is the remote machine's environment: a home and a runtime
// directory of its own.
type remoteSide struct {
	home, run string
}

func newRemote(t *testing.T) (*Server, remoteSide) {
	t.Helper()
	base := t.TempDir()
	r := remoteSide{home: filepath.Join(base, "home"), run: filepath.Join(base, "run")}
	for _, d := range []string{r.home, r.run} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	srv := Start(t, Options{Env: map[string]string{"HOME": r.home, "XDG_RUNTIME_DIR": r.run}})
	return srv, r
}

// self is this test binary, which the remote session runs as the client.
func self(t *testing.T) string {
	t.Helper()
	p, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// Through a real ssh session: the remote finds the agent through
// GHLOGIN_AGENT_SOCK, gets the token for an allowed host, is refused
// another host with the sentence that says what to do, lists the
// accounts; nothing is written in the remote's home; when the session
// ends the remote socket and the well-known link are gone, and a new
// request fails at once saying the agent is gone.
func TestSessionLendsToken(t *testing.T) {
	srv, rem := newRemote(t)
	lap := startLaptop(t, "github.com")
	args := append(srv.ClientArgs(), srv.Destination(),
		"env", remoteRole+"=1", self(t), "token", "github.com", "token", "ghe.example.com", "list")
	plan, err := agent.BuildSSH(agent.SSHRequest{Args: args, LocalSocket: lap.sock.Path, Nonce: agent.NewNonce()})
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code, err := Run(context.Background(), plan.Argv, "", time.Minute)
	if err != nil || code != 0 {
		t.Fatalf("ssh: exit %d, %v\nstdout %s\nstderr %s", code, err, out, stderr)
	}
	want := []string{
		"sock " + plan.RemoteSocket,
		"token laptop octocat " + canary,
		"error the agent on laptop does not serve ghe.example.com; reconnect with ghlogin ssh --allow ghe.example.com …",
		`list {"Agent":"laptop","Hosts":[{"host":"github.com","accounts":[{"login":"octocat","active":true}]}]}`,
	}
	if got := strings.Split(strings.TrimSpace(out), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("remote output:\n%s\nwant:\n%s\nstderr %s", out, strings.Join(want, "\n"), stderr)
	}

	if got := agent.Report(plan.RemoteName, lap.srv.Counts()); got != "127.0.0.1 used your github.com token once for git and listed your accounts once; 1 request for ghe.example.com was refused" {
		t.Fatalf("report %q", got)
	}
	for _, p := range []string{plan.RemoteSocket, filepath.Join(rem.run, "ghlogin", "agent.sock")} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s outlived the session: %v", p, err)
		}
	}
	assertNoToken(t, rem.home, canary)
	assertNoToken(t, rem.run, canary)

	// A request after the session, at the path the session used.
	c := &agent.Client{Path: plan.RemoteSocket}
	start := time.Now()
	_, err = c.Token(context.Background(), agent.Query{Host: "github.com", Purpose: agent.PurposeGit})
	var na *agent.NoAgentError
	if !errors.As(err, &na) || time.Since(start) > 5*time.Second {
		t.Fatalf("after the session: %v", err)
	}
	if got := hint.Explain(err); !strings.HasPrefix(got, "the forwarded agent is gone; reconnect or log in here (no ghlogin agent at "+plan.RemoteSocket+"; ") {
		t.Fatal(got)
	}
}

// The user's command runs as their shell would run it, and its exit status
// comes back through ssh.
func TestSessionCommand(t *testing.T) {
	srv, _ := newRemote(t)
	lap := startLaptop(t, "github.com")
	args := append(srv.ClientArgs(), srv.Destination(), `echo "a  b" 'it'"'"'s' $GHLOGIN_AGENT_SOCK;`, "exit", "7")
	plan, err := agent.BuildSSH(agent.SSHRequest{Args: args, LocalSocket: lap.sock.Path, Nonce: agent.NewNonce()})
	if err != nil {
		t.Fatal(err)
	}
	out, stderr, code, err := Run(context.Background(), plan.Argv, "", time.Minute)
	if err != nil || code != 7 {
		t.Fatalf("ssh: exit %d, %v; stderr %s", code, err, stderr)
	}
	if out != "a  b it's "+plan.RemoteSocket+"\n" {
		t.Fatalf("stdout %q", out)
	}
	if _, err := os.Lstat(plan.RemoteSocket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the socket outlived the session: %v", err)
	}
}

// The laptop's agent went away while the session is open: the remote's
// request fails at once, saying so.
func TestSessionAgentGone(t *testing.T) {
	srv, _ := newRemote(t)
	lap := startLaptop(t, "github.com")
	lap.stop()
	args := append(srv.ClientArgs(), srv.Destination(), "env", remoteRole+"=1", self(t), "token", "github.com")
	plan, err := agent.BuildSSH(agent.SSHRequest{Args: args, LocalSocket: lap.sock.Path, Nonce: agent.NewNonce()})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	out, stderr, code, err := Run(context.Background(), plan.Argv, "", time.Minute)
	if err != nil || code != 0 {
		t.Fatalf("ssh: exit %d, %v; stderr %s", code, err, stderr)
	}
	if !strings.Contains(out, "\nerror the forwarded agent is gone; reconnect or log in here\n") {
		t.Fatalf("stdout %q", out)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("took %s", d)
	}
}

// With a terminal and no command, the login shell runs with the variable
// set (util-linux script provides the terminal).
func TestSessionLoginShell(t *testing.T) {
	scriptPath, err := exec.LookPath("script")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("script (util-linux) is required")
		}
		t.Skip("script (util-linux) is not installed")
	}
	srv, _ := newRemote(t)
	lap := startLaptop(t, "github.com")
	plan, err := agent.BuildSSH(agent.SSHRequest{Args: append(srv.ClientArgs(), srv.Destination()), LocalSocket: lap.sock.Path, Nonce: agent.NewNonce(), Terminal: true})
	if err != nil {
		t.Fatal(err)
	}
	if plan.Argv[len(plan.Argv)-3] != "--" || !contains(plan.Argv, "-t") {
		t.Fatalf("argv %q", plan.Argv)
	}
	quoted := make([]string, len(plan.Argv))
	for i, a := range plan.Argv {
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	argv := []string{scriptPath, "-qefc", strings.Join(quoted, " "), "/dev/null"}
	out, stderr, code, err := Run(context.Background(), argv, "echo \"SOCK=[$GHLOGIN_AGENT_SOCK]\"; shopt -q login_shell && echo LOGIN=yes; exit 0\n", time.Minute)
	if err != nil || code != 0 {
		t.Fatalf("exit %d, %v\nstdout %q\nstderr %s", code, err, out, stderr)
	}
	if !strings.Contains(out, "SOCK=["+plan.RemoteSocket+"]") || !strings.Contains(out, "LOGIN=yes") {
		t.Fatalf("stdout %q", out)
	}
	if _, err := os.Lstat(plan.RemoteSocket); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the socket outlived the session: %v", err)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// assertNoToken fails when any file under dir holds token.
func assertNoToken(t *testing.T, dir, token string) {
	t.Helper()
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return nil
		}
		if b, err := os.ReadFile(p); err == nil && strings.Contains(string(b), token) {
			t.Errorf("%s holds the token", p)
		}
		return nil
	})
}
