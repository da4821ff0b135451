package agent

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestClientToken(t *testing.T) {
	s := &Server{Name: "laptop\x1b]0;pwned\x07", Allowed: []string{"github.com"}, Source: newFakeSource()}
	c := &Client{Path: serve(t, s)}
	g, err := c.Token(context.Background(), Query{Host: "GitHub.com", Purpose: PurposeGit})
	if err != nil {
		t.Fatal(err)
	}
	want := Grant{Host: "github.com", Login: "octocat", Token: canary, ExpiresAt: t0.Add(8 * time.Hour), Agent: "laptop"}
	if !reflect.DeepEqual(*g, want) {
		t.Fatalf("got %v, want %v", g, &want)
	}
	if g.String() != "agent.Grant{octocat@github.com}" || fmt.Sprintf("%#v", g) != g.String() {
		t.Fatal(g.String())
	}

	_, err = c.Token(context.Background(), Query{Host: "ghe.example.com", Purpose: PurposeGit})
	var re *RefusedError
	if !errors.As(err, &re) || *re != (RefusedError{Agent: "laptop", Code: CodeNotAllowed, Host: "ghe.example.com", Reason: "this agent serves github.com only"}) {
		t.Fatalf("got %#v", err)
	}
	if err.Error() != "the agent on laptop does not serve ghe.example.com" {
		t.Fatal(err)
	}
	_, err = c.Token(context.Background(), Query{Host: "github.com", User: "nobody", Purpose: PurposeToken})
	if !errors.As(err, &re) || re.Code != CodeNotLoggedIn || err.Error() != `the agent on laptop cannot lend a token for github.com: no account "nobody" for github.com` {
		t.Fatalf("got %v", err)
	}
	// A request the agent finds malformed.
	_, err = c.Token(context.Background(), Query{Host: "github.com", Purpose: "lunch"})
	if !errors.As(err, &re) || re.Code != CodeBadRequest || re.Host != "" {
		t.Fatalf("got %v", err)
	}
}

func TestClientList(t *testing.T) {
	s := &Server{Name: "laptop", Allowed: []string{"github.com", "ghe.example.com"}, Source: newFakeSource()}
	l, err := (&Client{Path: serve(t, s)}).List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := &Listing{Agent: "laptop", Hosts: []HostAccounts{
		{Host: "github.com", Accounts: []Account{{Login: "octocat", Active: true, ExpiresAt: t0.Add(8 * time.Hour)}, {Login: "hubot"}}},
		{Host: "ghe.example.com", Accounts: []Account{}},
	}}
	if !reflect.DeepEqual(l, want) {
		t.Fatalf("got %+v", l)
	}
}

// Nothing at the path: NoAgentError at once.
func TestClientNoAgent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "missing.sock")
	_, err := (&Client{Path: path}).Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	var na *NoAgentError
	if !errors.As(err, &na) || na.Path != path || err.Error() != "no ghlogin agent at "+path {
		t.Fatalf("got %v", err)
	}
	// A path through a file is no agent either.
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := (&Client{Path: file + "/x.sock"}).List(context.Background()); !errors.As(err, &na) {
		t.Fatalf("got %v", err)
	}
}

// A socket nobody listens on (the session ended but the file stayed), and
// an agent that closes without answering: GoneError.
func TestClientGone(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	_, err = (&Client{Path: path}).Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	var gone *GoneError
	if !errors.As(err, &gone) || err.Error() != "the forwarded agent is gone" {
		t.Fatalf("stale socket: got %v", err)
	}

	// Mid-session: the connection opens (sshd's end of a forward accepts
	// it), then closes without an answer, as when the laptop went away.
	path2 := filepath.Join(dir, "dying.sock")
	ln2, err := net.Listen("unix", path2)
	if err != nil {
		t.Fatal(err)
	}
	defer ln2.Close()
	go func() {
		for {
			c, err := ln2.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.Close()
		}
	}()
	_, err = (&Client{Path: path2}).Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	if !errors.As(err, &gone) {
		t.Fatalf("closed mid-request: got %v", err)
	}
}

// An agent that accepts and never answers: the client returns within its
// Timeout.
func TestClientTimeout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "silent.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	held := make(chan net.Conn, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			held <- c
		}
	}()
	c := &Client{Path: path, Timeout: 200 * time.Millisecond}
	start := time.Now()
	_, err = c.Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	elapsed := time.Since(start)
	var te *TimeoutError
	if !errors.As(err, &te) || te.After != 200*time.Millisecond || err.Error() != "the ghlogin agent at "+path+" did not answer within 200ms" {
		t.Fatalf("got %v", err)
	}
	if elapsed > 3*time.Second {
		t.Fatalf("returned after %s", elapsed)
	}

	// The caller's context ends first: its error, at once.
	(<-held).Close()
	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-held; cancel() }()
	c.Timeout = time.Minute
	start = time.Now()
	if _, err := c.List(ctx); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v", err)
	}
	if elapsed := time.Since(start); elapsed > 10*time.Second {
		t.Fatalf("returned after %s", elapsed)
	}
}

// Answers that break the protocol are ProtocolErrors, never a token.
func TestClientProtocolErrors(t *testing.T) {
	for _, tc := range []struct {
		answer, reason string
		list           bool
	}{
		{"hello\n", "not JSON", false},
		{`{"v":2,"token":"` + canary + `","host":"github.com"}` + "\n", "protocol version 2", false},
		{`{"v":1,"host":"evil.example.com","login":"x","token":"` + canary + `"}` + "\n", `a token for "evil.example.com" when asked for "github.com"`, false},
		{`{"v":1,"host":"github.com","login":"x"}` + "\n", "no token and no refusal", false},
		{`{"v":1,"token":"` + canary + `"}` + "\n", "a token in answer to a list request", true},
		{`{"v":1,"agent":"` + strings.Repeat("a", MaxResponse) + `"}` + "\n", "an answer longer than", false},
	} {
		path := filepath.Join(t.TempDir(), "odd.sock")
		ln, err := net.Listen("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			bufio.NewReader(c).ReadString('\n')
			c.Write([]byte(tc.answer))
			c.Close()
		}()
		c := &Client{Path: path}
		if tc.list {
			_, err = c.List(context.Background())
		} else {
			_, err = c.Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
		}
		ln.Close()
		var pe *ProtocolError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tc.reason) || strings.Contains(err.Error(), canary) {
			t.Errorf("%.60s: got %v", tc.answer, err)
		}
	}
}

// A refusal sent before the agent read the request still reaches the
// client (as the agent answers another user's process).
func TestClientReadsEarlyRefusal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "early.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		c.Write([]byte(`{"v":1,"agent":"laptop","error":{"code":"not_allowed","reason":"this agent answers only its own user"}}` + "\n"))
		c.Close()
	}()
	_, err = (&Client{Path: path}).Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	if err == nil || err.Error() != "the agent on laptop refused the request: this agent answers only its own user" {
		t.Fatalf("got %v", err)
	}
}

// When nothing listens at Path, the Fallback answers.
func TestClientFallback(t *testing.T) {
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	live := serve(t, s)
	for _, dead := range []string{filepath.Join(t.TempDir(), "old.sock"), staleSocket(t)} {
		c := &Client{Path: dead, Fallback: live}
		if g, err := c.Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit}); err != nil || g.Token != canary {
			t.Fatalf("%s: %v %v", dead, g, err)
		}
	}
	// A dead fallback reports the first path.
	c := &Client{Path: filepath.Join(t.TempDir(), "a.sock"), Fallback: filepath.Join(t.TempDir(), "b.sock")}
	var na *NoAgentError
	if _, err := c.List(context.Background()); !errors.As(err, &na) || na.Path != c.Path {
		t.Fatalf("got %v", err)
	}
}

// staleSocket is a socket file nobody listens on.
func staleSocket(t *testing.T) string {
	path := filepath.Join(t.TempDir(), "stale.sock")
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	return path
}

func TestFromEnv(t *testing.T) {
	uid := os.Getuid()
	env := func(kv ...string) func(string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return func(k string) string { return m[k] }
	}
	run := t.TempDir()
	wkDir := filepath.Join(run, "ghlogin")
	wk := filepath.Join(wkDir, "agent.sock")

	// Nothing set, nothing there.
	if c, ok := fromEnv(env("XDG_RUNTIME_DIR", run), uid); ok {
		t.Fatalf("got %+v", c)
	}
	// The variable wins, even when its socket is gone.
	if c, ok := fromEnv(env(EnvSock, "/gone.sock", "XDG_RUNTIME_DIR", run), uid); !ok || *c != (Client{Path: "/gone.sock"}) {
		t.Fatalf("got %+v %v", c, ok)
	}
	if _, ok := fromEnv(env(EnvSock, "none", "XDG_RUNTIME_DIR", run), uid); ok {
		t.Fatal("none did not turn the agent off")
	}

	// A session linked the well-known path to its socket.
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	live := serve(t, s)
	if err := os.Mkdir(wkDir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(live, wk); err != nil {
		t.Fatal(err)
	}
	c, ok := fromEnv(env("XDG_RUNTIME_DIR", run), uid)
	if !ok || *c != (Client{Path: wk}) {
		t.Fatalf("got %+v %v", c, ok)
	}
	if g, err := c.Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit}); err != nil || g.Token != canary {
		t.Fatalf("%v %v", g, err)
	}
	if c, ok := fromEnv(env(EnvSock, "/gone.sock", "XDG_RUNTIME_DIR", run), uid); !ok || *c != (Client{Path: "/gone.sock", Fallback: wk}) {
		t.Fatalf("got %+v %v", c, ok)
	}
	if c, ok := fromEnv(env(EnvSock, wk, "XDG_RUNTIME_DIR", run), uid); !ok || *c != (Client{Path: wk}) {
		t.Fatalf("got %+v %v", c, ok)
	}
	if _, ok := fromEnv(env(EnvSock, "none", "XDG_RUNTIME_DIR", run), uid); ok {
		t.Fatal("none did not turn the agent off")
	}

	// A directory others can enter is not trusted.
	os.Chmod(wkDir, 0o755)
	if c, ok := fromEnv(env("XDG_RUNTIME_DIR", run), uid); ok {
		t.Fatalf("open directory: got %+v", c)
	}
	os.Chmod(wkDir, 0o700)
	// A link to something that is not a socket is not used.
	os.Remove(wk)
	os.Symlink("/etc/hostname", wk)
	if c, ok := fromEnv(env("XDG_RUNTIME_DIR", run), uid); ok {
		t.Fatalf("not a socket: got %+v", c)
	}
	// Without XDG_RUNTIME_DIR the well-known path is in /tmp, per user.
	if got := WellKnownPath(env(), 1234); got != "/tmp/ghlogin-1234/agent.sock" {
		t.Fatal(got)
	}
	if got := WellKnownPath(env("XDG_RUNTIME_DIR", "relative"), 1234); got != "/tmp/ghlogin-1234/agent.sock" {
		t.Fatal(got)
	}
}

// BenchmarkClientToken is one token request through a real socket: a
// connection, a request line, the peer check, a response line.
func BenchmarkClientToken(b *testing.B) {
	sock, err := Listen(filepath.Join(b.TempDir(), "agent"))
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	go s.Serve(ctx, sock)
	c := &Client{Path: sock.Path}
	for b.Loop() {
		if _, err := c.Token(ctx, Query{Host: "github.com", Purpose: PurposeGit}); err != nil {
			b.Fatal(err)
		}
	}
}
