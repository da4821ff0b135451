package e2e

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// landedAt plays a browser on another device: it follows the authorization
// URL (the emulator approves at once) but not the redirect to the loopback
// callback, which leads nowhere there; it returns that address, as the
// browser's address bar shows it.
func landedAt(t *testing.T, authorize string) *url.URL {
	t.Helper()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(authorize)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	u, err := url.Parse(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusFound || err != nil || u.Path != "/callback" {
		t.Fatalf("the authorization page answered %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	return u
}

// withQuery returns u with its query parameters replaced by q.
func withQuery(u *url.URL, q url.Values) string {
	c := *u
	c.RawQuery = q.Encode()
	return c.String()
}

// Web login from another device through the binary (login --web --json
// --no-browser, pastes as lines on stdin) against the emulator: the address
// the browser ended on, or only its code, completes the login; a wrong
// state, garbage or a mistyped code are refused and asked again; error=
// ends the login with that error; five refusals end it; a browser on this
// machine reaching the loopback callback still wins while stdin stays open.
func TestPasteBackThroughBinary(t *testing.T) {
	srv := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	for _, tc := range []struct {
		name   string
		pastes func(t *testing.T, authorize string, landed *url.URL) []string
		want   string // the last event
		code   string // its error code
		exit   int
		stderr []string
	}{
		{name: "address", want: "success",
			pastes: func(t *testing.T, _ string, landed *url.URL) []string { return []string{landed.String()} }},
		{name: "code only", want: "success",
			pastes: func(t *testing.T, _ string, landed *url.URL) []string { return []string{landed.Query().Get("code")} }},
		{name: "wrong state then the address", want: "success", stderr: []string{"Not accepted: its state does not match this login"},
			pastes: func(t *testing.T, _ string, landed *url.URL) []string {
				q := landed.Query()
				q.Set("state", "an-older-login")
				return []string{withQuery(landed, q), landed.String()}
			}},
		{name: "garbage and a mistyped code, then the code", want: "success",
			stderr: []string{"Not accepted: it is neither an address nor a code", "Not accepted: the server did not accept the code"},
			pastes: func(t *testing.T, _ string, landed *url.URL) []string {
				return []string{"not what the browser showed", "0123456789abcdef0123", landed.Query().Get("code")}
			}},
		{name: "error=", want: "error", code: "access_denied", exit: 1,
			pastes: func(t *testing.T, authorize string, landed *url.URL) []string {
				a, _ := url.Parse(authorize)
				return []string{withQuery(landed, url.Values{"error": {"access_denied"}, "error_description": {"The user has denied your application access."}, "state": {a.Query().Get("state")}})}
			}},
		{name: "five refusals", want: "error", code: "failed", exit: 1, stderr: []string{"(1 try left)"},
			pastes: func(t *testing.T, _ string, _ *url.URL) []string {
				return []string{"x", "y", "z", "http://example.com/", "?code=a&state=b"}
			}},
		{name: "the loopback callback wins", want: "success",
			pastes: func(t *testing.T, _ string, landed *url.URL) []string {
				resp, err := http.Get(landed.String())
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				return nil
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			p := s.startWithStdin(s.with("GHLOGIN_CLIENT_SECRET="+emulator.DefaultClientSecret),
				"login", "--web", "--json", "--no-browser", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
			defer p.stdin.Close()
			line, _ := p.next(t, 30*time.Second)
			ev := parseEvent(t, line)
			if ev["event"] != "authorize" {
				t.Fatalf("first event %v", ev)
			}
			authorize := ev["url"].(string)
			landed := landedAt(t, authorize)
			for _, paste := range tc.pastes(t, authorize, landed) {
				if _, err := io.WriteString(p.stdin, paste+"\n"); err != nil {
					t.Fatal(err)
				}
			}
			var last event
			for {
				line, ok := p.next(t, 30*time.Second)
				if !ok {
					break
				}
				last = parseEvent(t, line)
			}
			exit := p.wait(t, 30*time.Second)
			if last["event"] != tc.want || exit != tc.exit || tc.code != "" && last["code"] != tc.code {
				t.Fatalf("exit %d, last event %v; want %s %s exit %d\nstderr:\n%s", exit, last, tc.want, tc.code, tc.exit, p.stderrText())
			}
			for _, want := range append([]string{"Paste the address your browser ended on (or just the code), as one line on standard input."}, tc.stderr...) {
				if !strings.Contains(p.stderrText(), want) {
					t.Errorf("stderr lacks %q:\n%s", want, p.stderrText())
				}
			}
			if tc.want != "success" {
				if r := s.run("", "token", "--host", srv.URL()); r.code != 4 {
					t.Errorf("token after a failed login: exit %d", r.code)
				}
				return
			}
			tok := s.mustToken("--host", srv.URL())
			if !tokenShape.MatchString(tok) || strings.Contains(p.all.String()+p.stderrText(), tok) {
				t.Fatalf("token %q (or it was printed)", tok)
			}
		})
	}
}

// osc8 finds the target of a terminal hyperlink.
var osc8 = regexp.MustCompile(`\x1b\]8;[^;]*;(http[^\x1b\x07]+)`)

// The terminal UI's web screen asks for the address and takes a terminal's
// paste (bracketed) into its field; Enter sends it and the login ends.
func TestPasteBackTerminalUI(t *testing.T) {
	srv := startEmulator(t, emulator.Config{AutoApproveWeb: true})
	s := newSandbox(t)
	env := s.with("GHLOGIN_CLIENT_SECRET="+emulator.DefaultClientSecret, "SSH_CONNECTION=10.0.0.1 50000 10.0.0.2 22")
	p := startTerminal(t, s.dir, env, bin, "login", "--web", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	p.waitFor("Paste the address your browser ended on", 30*time.Second)
	for _, want := range []string{"No browser will be opened here: this is an SSH session.", "enter submit"} {
		if !p.shows(want) {
			t.Errorf("the screen lacks %q:\n%s", want, p.text())
		}
	}
	m := osc8.FindStringSubmatch(p.raw())
	if m == nil {
		t.Fatalf("no link to the authorization page on the screen:\n%q", p.raw())
	}
	landed := landedAt(t, m[1])
	p.typeIn("q") // a letter for the field, not the cancel key
	p.typeIn("\r")
	p.waitFor("Not accepted: it is neither an address nor a code", 20*time.Second)
	p.typeIn("\x1b[200~" + landed.String() + "\x1b[201~")
	p.typeIn("\r")
	if code := p.wait(30 * time.Second); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%s", code, p.text())
	}
	if !p.shows("Logged in to " + emuHost(srv) + " as octocat") {
		t.Errorf("no success on the screen:\n%s", p.text())
	}
	if tok := s.mustToken("--host", srv.URL()); !tokenShape.MatchString(tok) || strings.Contains(p.raw(), tok) {
		t.Fatalf("token %q (or it was shown)", tok)
	}
}
