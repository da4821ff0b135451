package agent

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/store"
)

// canary is a token that must never show up anywhere but a response.
const canary = "ghu_CANARY0123456789abcdefghijklmnopqrs"

var t0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeSource serves fixed accounts: host → login → token.
type fakeSource struct {
	mu       sync.Mutex
	accounts map[string][]Account
	tokens   map[string]string // "login@host" → token
	active   map[string]string // host → login
	calls    atomic.Int32
	queries  []Query
	// err, when set, is returned by Token.
	err error
	// block, when set, makes Token wait for ctx to end.
	block bool
}

func newFakeSource() *fakeSource {
	return &fakeSource{
		accounts: map[string][]Account{"github.com": {{Login: "octocat", Active: true, ExpiresAt: t0.Add(8 * time.Hour)}, {Login: "hubot"}}},
		tokens:   map[string]string{"octocat@github.com": canary, "hubot@github.com": "gho_hubot"},
		active:   map[string]string{"github.com": "octocat"},
	}
}

func (f *fakeSource) Token(ctx context.Context, q Query) (*Grant, error) {
	f.calls.Add(1)
	f.mu.Lock()
	f.queries = append(f.queries, q)
	err, block := f.err, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if err != nil {
		return nil, err
	}
	login := q.User
	if login == "" {
		login = f.active[q.Host]
	}
	tok, ok := f.tokens[login+"@"+q.Host]
	if !ok {
		return nil, &store.NotLoggedInError{Host: q.Host, Login: q.User}
	}
	g := &Grant{Host: q.Host, Login: login, Token: tok}
	if login == "octocat" {
		g.ExpiresAt = t0.Add(8 * time.Hour)
	}
	return g, nil
}

func (f *fakeSource) Accounts(_ context.Context, host string) ([]Account, error) {
	if host == "broken.example.com" {
		return nil, errors.New("keyring exploded at /secret/path")
	}
	a, ok := f.accounts[host]
	if !ok {
		return nil, &store.NotLoggedInError{Host: host}
	}
	return a, nil
}

// eventLog collects a Server's events.
type eventLog struct {
	mu     sync.Mutex
	events []Event
}

func (l *eventLog) add(e Event) {
	l.mu.Lock()
	l.events = append(l.events, e)
	l.mu.Unlock()
}

func (l *eventLog) all() []Event {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Event(nil), l.events...)
}

// serve starts s on a new socket in a fresh directory and returns the
// socket's path; the server stops when the test ends.
func serve(t *testing.T, s *Server) string {
	t.Helper()
	sock, err := Listen(filepath.Join(t.TempDir(), "agent"))
	if err != nil {
		t.Fatal(err)
	}
	return serveOn(t, s, sock)
}

// serveOn runs s on ln until the test ends, and checks Serve's result.
func serveOn(t *testing.T, s *Server, ln net.Listener) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("Serve: %v", err)
			}
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return after its context ended")
		}
	})
	return ln.Addr().String()
}

// conn is a raw connection to an agent.
type conn struct {
	t *testing.T
	net.Conn
	r *bufio.Reader
}

func dial(t *testing.T, path string) *conn {
	t.Helper()
	c, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	return &conn{t: t, Conn: c, r: bufio.NewReader(c)}
}

// send writes s and reads one response line.
func (c *conn) send(s string) *Response {
	c.t.Helper()
	if _, err := c.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
	return c.read()
}

func (c *conn) read() *Response {
	c.t.Helper()
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		c.t.Fatalf("reading the response: %v", err)
	}
	var r Response
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		c.t.Fatalf("response %q: %v", line, err)
	}
	if r.V != Version {
		c.t.Fatalf("response version %d", r.V)
	}
	return &r
}

// closed reports whether the agent closed the connection (EOF within 5 s).
func (c *conn) closed() bool {
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	_, err := c.r.ReadByte()
	return errors.Is(err, os.ErrClosed) || err != nil && !errors.Is(err, os.ErrDeadlineExceeded)
}
