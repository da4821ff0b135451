//go:build linux

package e2e

import (
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// authorizeURLRe finds the authorization URL ghlogin shows on stderr.
var authorizeURLRe = regexp.MustCompile(`http://127\.0\.0\.1:\d+/login/oauth/authorize\?\S+`)

// checkAuthorizeURL checks the URL ghlogin sent the browser to and returns
// the loopback callback's port.
func checkAuthorizeURL(t *testing.T, srv *emulator.Server, raw string) string {
	t.Helper()
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("authorize URL %q: %v", raw, err)
	}
	if !strings.HasPrefix(raw, srv.URL()+"/login/oauth/authorize?") {
		t.Errorf("authorize URL %q is not the emulator's authorization endpoint", raw)
	}
	q := u.Query()
	if q.Get("client_id") != emulator.DefaultClientID {
		t.Errorf("client_id = %q", q.Get("client_id"))
	}
	if !regexp.MustCompile(`^[A-Za-z0-9_-]{43}$`).MatchString(q.Get("state")) {
		t.Errorf("state %q is not 32 random bytes in base64url", q.Get("state"))
	}
	if q.Get("code_challenge_method") != "S256" || len(q.Get("code_challenge")) != 43 {
		t.Errorf("PKCE S256 not in use: method %q, challenge %q", q.Get("code_challenge_method"), q.Get("code_challenge"))
	}
	cb, err := url.Parse(q.Get("redirect_uri"))
	if err != nil || cb.Scheme != "http" || cb.Hostname() != "127.0.0.1" || cb.Path != "/callback" || cb.Port() == "" {
		t.Fatalf("redirect_uri %q is not http://127.0.0.1:PORT/callback", q.Get("redirect_uri"))
	}
	return cb.Port()
}

// checkPortClosed fails unless nothing listens on the loopback port any more.
func checkPortClosed(t *testing.T, port string) {
	t.Helper()
	c, err := net.DialTimeout("tcp4", net.JoinHostPort("127.0.0.1", port), time.Second)
	if err == nil {
		c.Close()
		t.Errorf("the callback listener on port %s is still open after the login", port)
	}
}

// checkWebStats checks that Chromium really went to the authorization page
// and that exactly one code was exchanged for one token.
func checkWebStats(t *testing.T, srv *emulator.Server) {
	t.Helper()
	st := srv.Stats()
	if n := st.Requests["GET /login/oauth/authorize"]; n != 1 {
		t.Errorf("the browser requested the authorization page %d times, want 1", n)
	}
	if n := st.Requests["POST /login/oauth/access_token"]; n != 1 {
		t.Errorf("%d token requests, want 1 (one code exchange)", n)
	}
	if st.TokensIssued != 1 || st.DeviceCodes != 0 {
		t.Errorf("tokens issued %d, device codes %d; want 1 and 0", st.TokensIssued, st.DeviceCodes)
	}
}

// storedToken runs `ghlogin token` and returns the gho_ token it prints.
func storedToken(t *testing.T, s *sandbox, srv *emulator.Server) string {
	t.Helper()
	r := s.run("", "token", "--host", srv.URL())
	if r.code != 0 {
		t.Fatalf("token exit %d: %s", r.code, r.stderr)
	}
	tok := strings.TrimSpace(r.stdout)
	if !tokenShape.MatchString(tok) {
		t.Fatalf("token prints %q, want a gho_ token", tok)
	}
	return tok
}

func TestWebLoginChromium(t *testing.T) {
	chromium := findChromium(t)
	for _, tc := range []struct {
		name string
		// viaConfig sets the client secret with `ghlogin config set`
		// instead of GHLOGIN_CLIENT_SECRET.
		viaConfig bool
	}{
		{"secret from GHLOGIN_CLIENT_SECRET", false},
		{"secret from config set", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := startEmulator(t, emulator.Config{AutoApproveWeb: true})
			s := newSandbox(t)
			b := newHeadlessBrowser(t, chromium)
			env := s.with("GHLOGIN_BROWSER=" + b.Command)
			if tc.viaConfig {
				if r := s.run(emulator.DefaultClientSecret+"\n", "config", "set", "--host", srv.URL(), "client_secret", "-"); r.code != 0 {
					t.Fatalf("config set exit %d: %s", r.code, r.stderr)
				}
			} else {
				env = append(env, "GHLOGIN_CLIENT_SECRET="+emulator.DefaultClientSecret)
			}

			start := time.Now()
			r := s.runEnv(env, "", "login", "--web", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
			if r.code != 0 {
				t.Fatalf("login --web exit %d\nstderr:\n%s\nchromium:\n%s", r.code, r.stderr, b.log())
			}
			t.Logf("login --web with headless chromium took %v", time.Since(start).Round(time.Millisecond))
			if r.stdout != "" {
				t.Errorf("plain login wrote to stdout: %q", r.stdout)
			}
			host := strings.TrimPrefix(srv.URL(), "http://")
			if want := "Logged in to " + host + " as octocat"; !strings.Contains(r.stderr, want) {
				t.Errorf("stderr lacks %q:\n%s", want, r.stderr)
			}
			raw := authorizeURLRe.FindString(r.stderr)
			if raw == "" {
				t.Fatalf("stderr does not show the authorization URL:\n%s", r.stderr)
			}
			port := checkAuthorizeURL(t, srv, raw)
			if n := len(b.launches()); n != 1 {
				t.Errorf("chromium was started %d times, want 1", n)
			}
			checkWebStats(t, srv)

			tok := storedToken(t, s, srv)
			if strings.Contains(r.stdout+r.stderr, tok) {
				t.Fatal("the token appeared in login's output")
			}
			if strings.Contains(b.log(), tok) {
				t.Fatal("the token reached the browser")
			}
			checkPortClosed(t, port)
		})
	}
}

func TestWebLoginChromiumJSON(t *testing.T) {
	chromium := findChromium(t)
	srv := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	s := newSandbox(t)
	b := newHeadlessBrowser(t, chromium)
	s.env = s.with("GHLOGIN_BROWSER="+b.Command, "GHLOGIN_CLIENT_SECRET="+emulator.DefaultClientSecret)

	p := s.start("login", "--web", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	var events []event
	for {
		line, ok := p.next(t, 60*time.Second)
		if !ok {
			break
		}
		events = append(events, parseEvent(t, line))
	}
	if code := p.wait(t, 10*time.Second); code != 0 {
		t.Fatalf("login --web --json exit %d; stderr:\n%s\nchromium:\n%s", code, p.stderr, b.log())
	}
	if len(events) != 2 {
		t.Fatalf("want exactly authorize then success; got %v", events)
	}
	auth := events[0]
	if auth["event"] != "authorize" {
		t.Fatalf("first event %v, want authorize", auth)
	}
	raw, _ := auth["url"].(string)
	port := checkAuthorizeURL(t, srv, raw)
	if len(auth) != 2 {
		t.Errorf("authorize has fields beyond event and url: %v", auth)
	}
	last := events[1]
	if last["event"] != "success" || last["host"] != strings.TrimPrefix(srv.URL(), "http://") || last["login"] != "octocat" || last["store"] != "file" {
		t.Errorf("last event = %v", last)
	}
	checkWebStats(t, srv)

	tok := storedToken(t, s, srv)
	if strings.Contains(p.all.String()+p.stderr.String(), tok) {
		t.Fatal("the token appeared in a JSON event or on stderr")
	}
	checkPortClosed(t, port)
}
