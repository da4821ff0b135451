package cli

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
)

// lockedBuffer is a buffer written by a login and read by the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// liveLogin is a login running in-process whose stdin the test writes.
type liveLogin struct {
	stdin          *io.PipeWriter
	stdout, stderr *lockedBuffer
	done           chan int
}

func (h *harness) startLogin(tty bool, args ...string) *liveLogin {
	h.t.Helper()
	env, _, _ := h.env("")
	pr, pw := io.Pipe()
	l := &liveLogin{stdin: pw, stdout: &lockedBuffer{}, stderr: &lockedBuffer{}, done: make(chan int, 1)}
	env.Stdin, env.Stdout, env.Stderr = pr, l.stdout, l.stderr
	env.StdinTTY, env.StderrTTY = tty, tty
	env.Opener = nil
	go func() { l.done <- Main(context.Background(), args, env) }()
	h.t.Cleanup(func() { pw.Close() })
	return l
}

// authorizeURL waits for the login's authorize event (--json) and returns its URL.
func (l *liveLogin) authorizeURL(t *testing.T) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		for _, line := range strings.Split(l.stdout.String(), "\n") {
			var ev map[string]any
			if json.Unmarshal([]byte(line), &ev) == nil && ev["event"] == "authorize" {
				return ev["url"].(string)
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("no authorize event; stdout %q stderr %q", l.stdout.String(), l.stderr.String())
	return ""
}

func (l *liveLogin) wait(t *testing.T) int {
	t.Helper()
	select {
	case code := <-l.done:
		return code
	case <-time.After(20 * time.Second):
		t.Fatalf("the login did not end; stderr:\n%s", l.stderr.String())
	}
	return -1
}

// landing is where the emulator sends a browser on another device: the
// callback address the browser ends on, not followed.
func landing(t *testing.T, authorize string) string {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	loc := resp.Header.Get("Location")
	if resp.StatusCode != http.StatusFound || !strings.Contains(loc, "/callback?") {
		t.Fatalf("authorize answered %d %q", resp.StatusCode, loc)
	}
	return loc
}

// Web login with no browser here: the address the browser ended on,
// pasted on stdin (a wrong state first), completes the login; the success
// event is the same as with the loopback callback.
func TestLoginWebPasteBack(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveWeb: true})
	h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.DefaultClientSecret
	h.vars["SSH_CONNECTION"] = "10.0.0.1 22 10.0.0.2 22"
	l := h.startLogin(false, "login", "--web", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	auth := l.authorizeURL(t)
	addr := landing(t, auth)
	u, _ := url.Parse(addr)
	q := u.Query()
	q.Set("state", "forged-state")
	forged := *u
	forged.RawQuery = q.Encode()
	io.WriteString(l.stdin, forged.String()+"\n")
	io.WriteString(l.stdin, addr+"\n")
	if code := l.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, l.stderr.String())
	}
	evs := jsonLines(t, l.stdout.String())
	if last := evs[len(evs)-1]; last["event"] != "success" || last["login"] != "octocat" || last["store"] != "file" {
		t.Fatalf("events %v", evs)
	}
	for _, want := range []string{"Paste the address your browser ended on (or just the code), as one line on standard input.", "Not accepted: its state does not match"} {
		if !strings.Contains(l.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, l.stderr.String())
		}
	}
	sec, err := h.store().Secret(context.Background(), store.Account{Host: h.host, Login: "octocat"})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(l.stdout.String()+l.stderr.String(), sec.Token) {
		t.Fatal("the token was printed")
	}
}

// The loopback callback still wins when a browser on this machine reaches
// it: the login ends though stdin stays open, and plain mode says what to
// paste.
func TestLoginWebPasteLoopbackWins(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveWeb: true})
	h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.DefaultClientSecret
	l := h.startLogin(false, "login", "--web", "--no-browser", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
	var auth string
	deadline := time.Now().Add(10 * time.Second)
	for auth == "" && time.Now().Before(deadline) {
		if _, rest, ok := strings.Cut(l.stderr.String(), "log in: "); ok {
			auth, _, _ = strings.Cut(rest, "\n")
		}
		time.Sleep(5 * time.Millisecond)
	}
	browser(t)(auth)
	if code := l.wait(t); code != 0 {
		t.Fatalf("exit %d\n%s", code, l.stderr.String())
	}
	for _, want := range []string{"Open this URL in a browser on any device to log in: ", "Paste the address your browser ended on (or just the code) and press Enter:",
		"The browser came back", "Logged in to " + h.host + " as octocat"} {
		if !strings.Contains(l.stderr.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, l.stderr.String())
		}
	}
}
