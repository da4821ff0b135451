package e2e

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// Exit statuses as the product contract sets them, over the built binary:
// 0 success, 1 failure, 2 usage error, 4 not logged in, 130 cancelled. Every
// error is one "error: " line (plus, for a mistake in the command line's
// shape, a pointer to that command's help).
func TestExitStatusTable(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	s := newSandbox(t)
	for _, tc := range []struct {
		stdin string
		args  []string
		code  int
		want  string // in stderr
		help  string // the help pointer, or "" for none
	}{
		{"", []string{"--version"}, 0, "", ""},
		{"", []string{"frobnicate"}, 2, `error: unknown command "frobnicate" for "ghlogin"`, "ghlogin"},
		{"", []string{"login", "--bogus"}, 2, "error: unknown flag: --bogus", "ghlogin login"},
		{"", []string{"config", "get", "--bogus"}, 2, "error: unknown flag: --bogus", "ghlogin config get"},
		{"", []string{"login", "--device", "--web"}, 2, "error: --device and --web cannot be used together", "ghlogin login"},
		{"", []string{"login", "--web", "--wait", "1h"}, 2, "error: --web and --wait cannot be used together: --wait asks for new device codes", "ghlogin login"},
		{"x\n", []string{"login", "--with-token", "--scopes", "x"}, 2, "error: --with-token and --scopes cannot be used together", "ghlogin login"},
		{"", []string{"login", "--host", "a.example.com", "--hostname", "b.example.com"}, 2, "error: --host and --hostname cannot be used together", "ghlogin login"},
		{"", []string{"login", "extra"}, 2, `error: ghlogin login takes no arguments (got "extra")`, "ghlogin login"},
		{"", []string{"config", "set"}, 2, "error: ghlogin config set needs a KEY and a VALUE", "ghlogin config set"},
		{"", []string{"config", "frob"}, 2, `error: unknown command "frob" for "ghlogin config"; use get, list or set`, "ghlogin config"},
		{"", []string{"git-credential"}, 2, "error: ghlogin git-credential needs git's action: get, store or erase", "ghlogin git-credential"},
		{"", []string{"completion", "tcsh"}, 2, `error: no completion for "tcsh"`, ""},
		{"", []string{"login", "--timeout", "-1s", "--client-id", "x"}, 2, "error: --timeout -1s: give a duration above zero", ""},
		{"", []string{"login", "--device-code-url", "notaurl", "--client-id", "x"}, 2, "error: --device-code-url: give an absolute URL", ""},
		{"", []string{"login", "--host", "http://example.com"}, 2, "error: --host: invalid host", ""},
		{"", []string{"login", "-p", "ftp", "--client-id", "x"}, 2, `error: --git-protocol "ftp": use https or ssh`, ""},
		{"", []string{"login", "--web", "--host", srv.URL(), "--client-id", emulator.DefaultClientID}, 1, "error: no OAuth client secret for " + emuHost(srv), ""},
		{"", []string{"config", "get", "nonsense"}, 2, `error: unknown setting "nonsense"`, ""},
		{"", []string{"config", "set", "client_auth", "digest"}, 2, `error: invalid value "digest" for client_auth`, ""},
		{"gho_REJECTED0123456789abcdefghijklmnopqrst\n", []string{"login", "--with-token", "--host", srv.URL()}, 1,
			"error: " + emuHost(srv) + " did not accept the token (HTTP 401); nothing was stored", ""},
		{"", []string{"token"}, 4, "error: not logged in to github.com", ""},
		{"", []string{"switch"}, 4, "error: not logged in to github.com", ""},
		{"", []string{"logout"}, 4, "error: not logged in to github.com", ""},
		{"", []string{"status"}, 4, "error: not logged in to any host; run: ghlogin login", ""},
	} {
		r := s.run(tc.stdin, tc.args...)
		if r.code != tc.code || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("ghlogin %s: exit %d, want %d; stderr %q", strings.Join(tc.args, " "), r.code, tc.code, r.stderr)
			continue
		}
		pointer := "Run '" + tc.help + " --help' for usage."
		switch {
		case tc.help != "" && !strings.HasSuffix(r.stderr, pointer+"\n"):
			t.Errorf("ghlogin %s: no pointer to %q: %q", strings.Join(tc.args, " "), tc.help, r.stderr)
		case tc.help == "" && strings.Contains(r.stderr, "--help' for usage"):
			t.Errorf("ghlogin %s: a help pointer for an error that is not about syntax: %q", strings.Join(tc.args, " "), r.stderr)
		}
		if tc.code != 0 && tc.code != 4 && strings.Count(r.stderr, "error: ") != 1 {
			t.Errorf("ghlogin %s: not one error line: %q", strings.Join(tc.args, " "), r.stderr)
		}
	}
}

// Ctrl-C (SIGINT) during a login exits 130.
func TestExitStatusCancelled(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	// SIGINT is Ctrl-C; SIGTERM a stop; SIGHUP the terminal or SSH session
	// going away: each cancels, with the cancelled event under --json.
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			s := newSandbox(t)
			p := s.start("login", "--json", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
			if line, ok := p.next(t, 30*time.Second); !ok || !strings.Contains(line, `"event":"code"`) {
				t.Fatalf("first line %q", line)
			}
			if err := p.cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			if code := p.wait(t, 30*time.Second); code != 130 {
				t.Fatalf("exit %d, want 130; stderr %q", code, p.stderr.String())
			}
			if !strings.Contains(p.all.String(), `"code":"cancelled"`) {
				t.Errorf("no cancelled event: %q", p.all.String())
			}
		})
	}
}
