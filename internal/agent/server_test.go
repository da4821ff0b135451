package agent

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

func TestServeToken(t *testing.T) {
	src := newFakeSource()
	var log eventLog
	s := &Server{Name: "laptop", Allowed: []string{"GitHub.com"}, Source: src, Clock: clock.NewFake(t0), Log: log.add}
	c := dial(t, serve(t, s))

	r := c.send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
	want := Response{V: 1, Agent: "laptop", Host: "github.com", Login: "octocat", Token: canary, ExpiresAt: t0.Add(8 * time.Hour)}
	if !reflect.DeepEqual(*r, want) {
		t.Fatalf("got %v %q, want %v", *r, r.Token, want)
	}
	// The same connection carries more requests; user and owner reach the Source.
	r = c.send(`{"v":1,"op":"token","host":"github.com","owner":"octo-org","user":"hubot","purpose":"exec"}` + "\n")
	if r.Error != nil || r.Login != "hubot" || r.Token != "gho_hubot" || !r.ExpiresAt.IsZero() {
		t.Fatalf("got %v", *r)
	}
	if q := src.queries[1]; q != (Query{Host: "github.com", Owner: "octo-org", User: "hubot", Purpose: PurposeExec}) {
		t.Fatalf("query %+v", q)
	}
	c.send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\r\n")

	wantCounts := []Count{{Host: "github.com", Purpose: PurposeGit, Served: 2}, {Host: "github.com", Purpose: PurposeExec, Served: 1}}
	if got := s.Counts(); !reflect.DeepEqual(got, wantCounts) {
		t.Fatalf("counts %+v", got)
	}
	events := log.all()
	if len(events) != 3 {
		t.Fatalf("%d events", len(events))
	}
	if e := events[1]; e.Kind != EventServed || e.Login != "hubot" || e.Purpose != PurposeExec || e.Owner != "octo-org" || e.UID != os.Getuid() || !e.Time.Equal(t0) {
		t.Fatalf("event %+v", e)
	}
}

func TestServeNotAllowed(t *testing.T) {
	src := newFakeSource()
	var log eventLog
	s := &Server{Name: "laptop", Allowed: []string{"github.com", "ghe.example.com:443"}, Source: src, Log: log.add}
	c := dial(t, serve(t, s))
	r := c.send(`{"v":1,"op":"token","host":"evil.example.com","purpose":"git"}` + "\n")
	want := &Refusal{Code: CodeNotAllowed, Host: "evil.example.com", Reason: "this agent serves github.com and ghe.example.com only"}
	if r.Token != "" || !reflect.DeepEqual(r.Error, want) || r.Agent != "laptop" {
		t.Fatalf("got %+v", r.Error)
	}
	if src.calls.Load() != 0 {
		t.Fatal("the source was asked about a host that is not served")
	}
	if got := s.Counts(); !reflect.DeepEqual(got, []Count{{Host: "evil.example.com", Purpose: PurposeGit, Refused: 1}}) {
		t.Fatalf("counts %+v", got)
	}
	if e := log.all()[0]; e.Kind != EventRefused || e.Code != CodeNotAllowed || e.Host != "evil.example.com" {
		t.Fatalf("event %+v", e)
	}

	// An agent allowed nothing serves nothing.
	none := &Server{Source: src}
	r = dial(t, serve(t, none)).send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
	if r.Error == nil || r.Error.Code != CodeNotAllowed || r.Error.Reason != "this agent serves no host" {
		t.Fatalf("got %+v", r.Error)
	}
}

// The Source's errors become refusals whose reasons come from the errors'
// data, never from their text.
func TestServeSourceErrors(t *testing.T) {
	secretPath := errors.New("open /home/me/.config/ghlogin/credentials.json: permission denied")
	for _, tc := range []struct {
		err    error
		code   Code
		reason string
	}{
		{&store.NotLoggedInError{Host: "github.com"}, CodeNotLoggedIn, "not logged in to github.com"},
		{&store.NotLoggedInError{Host: "github.com", Login: "bob"}, CodeNotLoggedIn, `no account "bob" for github.com`},
		{&store.NotLoggedInError{Host: "github.com", Login: "bob", Store: store.BackendKeyring}, CodeNotLoggedIn, "the token for bob@github.com is no longer stored"},
		{fmt.Errorf("wrapped: %w", NeedsLogin("github.com", "bob", "the refresh token has expired\x1b[2J")),
			CodeNeedsLogin, "the token for bob@github.com expired and could not be refreshed (the refresh token has expired)"},
		// Not turned into NeedsLogin by the Source: internal.
		{&refresh.NeedsLoginError{Host: "github.com", Login: "bob"}, CodeInternal, "the token store or the token refresh failed"},
		{&store.CorruptSecretError{Host: "github.com", Login: "bob"}, CodeNeedsLogin, "the stored token for github.com cannot be used"},
		{&RefusedError{Code: CodeNotAllowed, Host: "github.com", Reason: "upstream says no"}, CodeNotAllowed, "upstream says no"},
		{secretPath, CodeInternal, "the token store or the token refresh failed"},
	} {
		src := newFakeSource()
		src.err = tc.err
		var log eventLog
		s := &Server{Allowed: []string{"github.com"}, Source: src, Log: log.add}
		r := dial(t, serve(t, s)).send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
		want := &Refusal{Code: tc.code, Host: "github.com", Reason: tc.reason}
		if !reflect.DeepEqual(r.Error, want) {
			t.Errorf("%v: got %+v, want %+v", tc.err, r.Error, want)
		}
		e := log.all()[0]
		if tc.code == CodeInternal {
			if e.Kind != EventError || e.Err != tc.err {
				t.Errorf("%v: event %+v", tc.err, e)
			}
		} else if e.Kind != EventRefused || e.Code != tc.code {
			t.Errorf("%v: event %+v", tc.err, e)
		}
	}
}

// A Source that takes too long is given up on, with a refusal the client
// gets before its own timeout.
func TestServeSourceTimeout(t *testing.T) {
	src := newFakeSource()
	src.block = true
	s := &Server{Allowed: []string{"github.com"}, Source: src, SourceTimeout: 50 * time.Millisecond}
	r := dial(t, serve(t, s)).send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
	if r.Error == nil || r.Error.Code != CodeInternal || r.Error.Reason != "getting the token took longer than 50ms" {
		t.Fatalf("got %+v", r.Error)
	}
}

// A Source that hands out a token for another host, or none, is not believed.
func TestServeChecksGrant(t *testing.T) {
	for _, g := range []*Grant{nil, {Host: "github.com"}, {Host: "evil.example.com", Token: canary}} {
		s := &Server{Allowed: []string{"github.com"}, Source: grantSource{g}}
		r := dial(t, serve(t, s)).send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
		if r.Token != "" || r.Error == nil || r.Error.Code != CodeInternal {
			t.Errorf("%v: got %v", g, *r)
		}
	}
}

type grantSource struct{ g *Grant }

func (s grantSource) Token(context.Context, Query) (*Grant, error)        { return s.g, nil }
func (s grantSource) Accounts(context.Context, string) ([]Account, error) { return nil, nil }

// Malformed lines are refused one by one, and the connection carries on.
func TestServeBadRequests(t *testing.T) {
	var log eventLog
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource(), Log: log.add}
	c := dial(t, serve(t, s))
	for _, tc := range []struct{ line, reason string }{
		{"{\n", "the request is not valid JSON: it ends too early"},
		{`{"v":1,"op":"token","host":"github.com","purpose":"git","token":"x"}` + "\n", `unknown field "token"`},
		{`{"v":1,"op":"token","host":"github.com","purpose":"git"}{"v":1,"op":"list"}` + "\n", "one request per line"},
		{"\x00\x01\n", "not valid JSON"},
		{`{"v":1,"op":"token","host":"github.com","purpose":"git","user":"../../x"}` + "\n", `"../../x" is not a valid user name`},
	} {
		r := c.send(tc.line)
		if r.Error == nil || r.Error.Code != CodeBadRequest || !strings.Contains(r.Error.Reason, tc.reason) || r.Error.Host != "" {
			t.Errorf("%q: got %+v", tc.line, r.Error)
		}
	}
	// Blank lines are skipped.
	if r := c.send("\n\n" + `{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n"); r.Token != canary {
		t.Fatalf("got %v", *r)
	}
	if got := s.Counts(); !reflect.DeepEqual(got, []Count{{Refused: 5}, {Host: "github.com", Purpose: PurposeGit, Served: 1}}) {
		t.Fatalf("counts %+v", got)
	}
}

// A line longer than MaxLine is refused and the connection closed: what
// follows cannot be told from the next request.
func TestServeOversized(t *testing.T) {
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	path := serve(t, s)
	for _, size := range []int{MaxLine + 1, 1 << 20} {
		c := dial(t, path)
		go c.Write([]byte(strings.Repeat("x", size) + "\n"))
		r := c.read()
		if r.Error == nil || r.Error.Code != CodeBadRequest || r.Error.Reason != "the request is longer than 8192 bytes" {
			t.Fatalf("%d bytes: got %+v", size, r.Error)
		}
		if !c.closed() {
			t.Fatalf("%d bytes: the connection stays open", size)
		}
	}
	// A request of exactly MaxLine bytes is answered.
	base := `{"v":1,"op":"token","host":"github.com","purpose":"git"}`
	line := base[:len(base)-1] + strings.Repeat(" ", MaxLine-len(base)) + "}"
	if r := dial(t, path).send(line + "\n"); r.Token != canary {
		t.Fatalf("got %v", *r)
	}
}

// A last line without a newline is read at EOF (as `printf … | socat` sends it).
func TestServeLineAtEOF(t *testing.T) {
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	c := dial(t, serve(t, s))
	c.Write([]byte(`{"v":1,"op":"token","host":"github.com","purpose":"git"}`))
	c.Conn.(*net.UnixConn).CloseWrite()
	if r := c.read(); r.Token != canary {
		t.Fatalf("got %v", *r)
	}
}

// A connection that stays silent is closed after IdleTimeout.
func TestServeIdleTimeout(t *testing.T) {
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource(), IdleTimeout: 100 * time.Millisecond}
	c := dial(t, serve(t, s))
	start := time.Now()
	if !c.closed() {
		t.Fatal("an idle connection stays open")
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("closed after %s", d)
	}
	// Half a line, then silence: closed too.
	c = dial(t, serve(t, s))
	c.Write([]byte(`{"v":1,`))
	if !c.closed() {
		t.Fatal("a connection with half a request stays open")
	}
}

func TestServeList(t *testing.T) {
	var log eventLog
	s := &Server{Name: "laptop", Allowed: []string{"github.com", "ghe.example.com", "broken.example.com"}, Source: newFakeSource(), Log: log.add}
	r := dial(t, serve(t, s)).send(`{"v":1,"op":"list"}` + "\n")
	want := Response{V: 1, Agent: "laptop", Hosts: []HostAccounts{
		{Host: "github.com", Accounts: []Account{{Login: "octocat", Active: true, ExpiresAt: t0.Add(8 * time.Hour)}, {Login: "hubot"}}},
		{Host: "ghe.example.com", Accounts: []Account{}},
		{Host: "broken.example.com", Accounts: []Account{}, Problem: "the agent could not read the accounts"},
	}}
	if !reflect.DeepEqual(*r, want) {
		t.Fatalf("got %+v", r.Hosts)
	}
	if got := s.Counts(); !reflect.DeepEqual(got, []Count{{Purpose: PurposeStatus, Served: 1}}) {
		t.Fatalf("counts %+v", got)
	}
	var errEvent bool
	for _, e := range log.all() {
		if e.Kind == EventError && e.Host == "broken.example.com" && e.Err != nil {
			errEvent = true
		}
	}
	if !errEvent {
		t.Fatal("the failure to list accounts was not logged")
	}
}

func TestServeConfig(t *testing.T) {
	ln, err := Listen(filepath.Join(t.TempDir(), "agent"))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	var ce *ConfigError
	if err := (&Server{}).Serve(context.Background(), ln); !errors.As(err, &ce) {
		t.Fatalf("no source: %v", err)
	}
	if err := (&Server{Source: newFakeSource(), Allowed: []string{"github.com/x"}}).Serve(context.Background(), ln); !errors.As(err, &ce) || !strings.Contains(err.Error(), `"github.com/x" is not a host name`) {
		t.Fatalf("bad host: %v", err)
	}
}

// Serve returns when its context ends, closing open connections, and
// closing the socket removes it.
func TestServeStops(t *testing.T) {
	sock, err := Listen(filepath.Join(t.TempDir(), "agent"))
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, sock) }()
	c := dial(t, sock.Path)
	c.send(`{"v":1,"op":"list"}` + "\n")
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return")
	}
	if !c.closed() {
		t.Fatal("an open connection outlived the agent")
	}
	if _, err := os.Lstat(sock.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the socket is still there: %v", err)
	}
}

// No event, count or value's String carries the token.
func TestNoTokenInEventsOrStrings(t *testing.T) {
	var log eventLog
	s := &Server{Allowed: []string{"github.com"}, Source: newFakeSource(), Log: log.add}
	path := serve(t, s)
	c := dial(t, path)
	r := c.send(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
	c.send(`{"v":1,"op":"token","host":"nope.example.com","purpose":"git"}` + "\n")
	c.send(`{"v":1,"op":"list"}` + "\n")
	g, err := (&Client{Path: path}).Token(context.Background(), Query{Host: "github.com", Purpose: PurposeGit})
	if err != nil || g.Token != canary {
		t.Fatalf("%v %v", g, err)
	}
	var all strings.Builder
	for _, e := range log.all() {
		fmt.Fprintf(&all, "%v %+v %#v\n", e, e, e)
	}
	fmt.Fprintf(&all, "%v %+v %#v %s\n", s.Counts(), *r, *r, r)
	fmt.Fprintf(&all, "%v %+v %#v %s %v %+v %#v\n", g, g, g, g, *g, *g, *g)
	fmt.Fprintf(&all, "%v\n", Report("build-1", s.Counts()))
	if strings.Contains(all.String(), canary) {
		t.Fatalf("the token leaked:\n%s", all.String())
	}
}

// Twenty requests at once for an expiring token, through the agent, a real
// file store and refresh.Token: one refresh, and every request gets the new
// token.
func TestServeConcurrentRefreshOnce(t *testing.T) {
	st, err := store.Open(store.Options{Dir: t.TempDir(), Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	old := &store.Secret{Token: "ghu_old", ExpiresAt: time.Now().Add(time.Minute), RefreshToken: "ghr_old", RefreshTokenExpiresAt: time.Now().Add(time.Hour)}
	if err := st.Save(ctx, "github.com", "octocat", store.BackendFile, old); err != nil {
		t.Fatal(err)
	}
	var refreshes atomic.Int32
	var valid sync.Map
	valid.Store("ghr_old", true)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if _, ok := valid.LoadAndDelete(r.PostForm.Get("refresh_token")); !ok {
			fmt.Fprint(w, `{"error":"bad_refresh_token"}`)
			return
		}
		n := refreshes.Add(1)
		valid.Store(fmt.Sprintf("ghr_%d", n), true)
		fmt.Fprintf(w, `{"access_token":"ghu_new%d","expires_in":28800,"refresh_token":"ghr_%d","refresh_token_expires_in":15811200}`, n, n)
	}))
	defer ts.Close()
	src := &storeSource{st: st, opts: refresh.Options{TokenURL: ts.URL, Credentials: oauth.Credentials{ClientID: "Iv1.test"}}}
	s := &Server{Allowed: []string{"github.com"}, Source: src, SourceTimeout: 30 * time.Second}
	client := &Client{Path: serve(t, s), Timeout: 30 * time.Second}

	var wg sync.WaitGroup
	errs := make(chan error, 20)
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g, err := client.Token(ctx, Query{Host: "github.com", Purpose: PurposeGit})
			if err == nil && (g.Token != "ghu_new1" || g.Login != "octocat") {
				err = fmt.Errorf("got %v", g)
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n := refreshes.Load(); n != 1 {
		t.Fatalf("%d refreshes", n)
	}
	if got := s.Counts(); !reflect.DeepEqual(got, []Count{{Host: "github.com", Purpose: PurposeGit, Served: 20}}) {
		t.Fatalf("counts %+v", got)
	}
}

// storeSource is a Source over a real store, as the ghlogin command's is.
type storeSource struct {
	st   *store.Store
	opts refresh.Options
}

func (s *storeSource) Token(ctx context.Context, q Query) (*Grant, error) {
	a, err := s.st.Resolve(q.Host, q.User)
	if err != nil {
		return nil, err
	}
	sec, err := refresh.Token(ctx, s.st, a, s.opts)
	var nl *refresh.NeedsLoginError
	if errors.As(err, &nl) {
		return nil, NeedsLogin(q.Host, nl.Login, nl.Reason)
	}
	if err != nil {
		return nil, err
	}
	return &Grant{Host: a.Host, Login: a.Login, Token: sec.Token, ExpiresAt: sec.ExpiresAt}, nil
}

func (s *storeSource) Accounts(context.Context, string) ([]Account, error) { return nil, nil }

// A process of another user is refused, even when the socket lets it in.
// The test runs socat as nobody (uid 65534), which needs root.
func TestServeRefusesOtherUser(t *testing.T) {
	if os.Getuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("this test runs a client as another user, which needs root; CI runs as root")
		}
		t.Skip("running a client as another user needs root")
	}
	socat := requireTool(t, "socat")
	// A directory and socket everyone may use, so that only the peer check
	// stands between nobody and the token.
	dir, err := os.MkdirTemp("", "agent-peer-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o755)
	path := filepath.Join(dir, "open.sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(path, 0o666)
	var log eventLog
	src := newFakeSource()
	s := &Server{Name: "laptop", Allowed: []string{"github.com"}, Source: src, Log: log.add}
	serveOn(t, s, ln)

	run := func(cred *syscall.Credential) string {
		cmd := exec.Command(socat, "-t5", "-T5", "-", "UNIX-CONNECT:"+path)
		cmd.Stdin = strings.NewReader(`{"v":1,"op":"token","host":"github.com","purpose":"git"}` + "\n")
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		var stderr strings.Builder
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("socat: %v: %s", err, stderr.String())
		}
		return string(out)
	}
	out := run(&syscall.Credential{Uid: 65534, Gid: 65534})
	if strings.Contains(out, canary) || !strings.Contains(out, `"error":{"code":"not_allowed","reason":"this agent answers only its own user"}`) {
		t.Fatalf("nobody got %s", out)
	}
	if src.calls.Load() != 0 {
		t.Fatal("the source was asked on behalf of another user")
	}
	if e := log.all()[0]; e.Kind != EventPeerRefused || e.UID != 65534 {
		t.Fatalf("event %+v", e)
	}
	// The agent's own user is served through the same socket.
	if out := run(nil); !strings.Contains(out, canary) {
		t.Fatalf("root got %s", out)
	}
}

// requireTool returns a program's path; it skips when the program is
// missing, except under CI=true.
func requireTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required (CI installs it)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}
