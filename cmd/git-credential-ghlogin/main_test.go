package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/agent/agenttest"
	"github.com/ghlogin/ghlogin/store"
)

// heavy are packages the lean helper must not link: each costs every git
// request start-up time and binary size for work the helper hands off.
// net/http is among them: the helper makes no HTTP request.
var heavy = []string{
	"net/http/...",
	"html/template",
	"github.com/charmbracelet/...",
	"github.com/spf13/cobra/...",
	"github.com/coreos/go-oidc/...",
	"github.com/go-jose/go-jose/...",
	"golang.org/x/oauth2/...",
	"cloud.google.com/go/...",
	"github.com/google/cel-go/...",
	"google.golang.org/protobuf/...",
	"github.com/zalando/go-keyring/...",
	"github.com/godbus/dbus/...",
	"github.com/ghlogin/ghlogin/store/oskeyring",
	"github.com/skip2/go-qrcode/...",
	"github.com/ghlogin/ghlogin/internal/emulator/...",
	"github.com/ghlogin/ghlogin/internal/workload/...",
	"github.com/ghlogin/ghlogin/internal/cli",
	"github.com/ghlogin/ghlogin/internal/session",
	"github.com/ghlogin/ghlogin/internal/hint",
	"github.com/ghlogin/ghlogin/internal/refresh",
	"github.com/ghlogin/ghlogin/internal/githubapi",
	"github.com/ghlogin/ghlogin/internal/oidcdisc",
	"github.com/ghlogin/ghlogin/internal/gitcred",
	"github.com/ghlogin/ghlogin/oauth",
	"github.com/ghlogin/ghlogin/deviceflow",
	"github.com/ghlogin/ghlogin/webflow",
	"github.com/ghlogin/ghlogin/ui/...",
}

// isHeavy reports whether package p is in heavy: an entry ending in "/..."
// names a package and everything below it, another names one package.
func isHeavy(p string) bool {
	for _, h := range heavy {
		if tree, ok := strings.CutSuffix(h, "/..."); ok {
			if p == tree || strings.HasPrefix(p, tree+"/") {
				return true
			}
		} else if p == h {
			return true
		}
	}
	return false
}

// TestNoHeavyImports lists the lean helper's packages (go list -deps) and
// fails if a heavy one is among them. The OS keyring (go-keyring) and the
// Secret Service check with its D-Bus client (godbus) live in package
// oskeyring, which this binary does not link.
func TestNoHeavyImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the go command is required when CI=true: %v", err)
		}
		t.Skipf("the go command is not on PATH (%v)", err)
	}
	out, err := exec.Command(goBin, "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, p := range strings.Fields(string(out)) {
		if isHeavy(p) {
			t.Errorf("git-credential-ghlogin imports %s; keep it out of the lean helper (hand the work to ghlogin instead)", p)
		}
	}
}

// fixture is a config directory with one account in the file store.
type fixture struct {
	dir string
}

func newFixture(t *testing.T, sec *store.Secret) *fixture {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "config")
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendFile, sec); err != nil {
		t.Fatal(err)
	}
	return &fixture{dir: dir}
}

// runLean runs the helper in this process with the environment set. No
// agent of the machine the test runs on is asked unless env names one.
func runLean(t *testing.T, env map[string]string, stdin string, args ...string) (int, string, string) {
	t.Helper()
	t.Setenv(agent.EnvSock, "none")
	for k, v := range env {
		t.Setenv(k, v)
	}
	var out, errb bytes.Buffer
	code := run(args, strings.NewReader(stdin), &out, &errb)
	return code, out.String(), errb.String()
}

// fakeFull puts a stand-in ghlogin first on PATH that records its
// arguments and standard input and answers a fixed credential.
func fakeFull(t *testing.T) (record string) {
	t.Helper()
	bin := t.TempDir()
	record = filepath.Join(bin, "record")
	script := "#!/bin/sh\n{ echo \"$@\"; cat; } > '" + record + "'\necho username=from-full\necho password=gho_full\nexit 7\n"
	if err := os.WriteFile(filepath.Join(bin, "ghlogin"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", bin+string(os.PathListSeparator)+os.Getenv("PATH"))
	return record
}

func TestGetFromFileStore(t *testing.T) {
	fx := newFixture(t, &store.Secret{Token: "gho_stored"})
	code, out, _ := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir, "GH_TOKEN": ""}, "protocol=https\nhost=github.com\n\n", "get")
	if code != 0 || out != "username=octocat\npassword=gho_stored\n" {
		t.Fatalf("exit %d, answer %q", code, out)
	}
}

func TestGetEnvToken(t *testing.T) {
	fx := newFixture(t, &store.Secret{Token: "gho_stored"})
	code, out, _ := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir, "GH_TOKEN": "gho_env"}, "protocol=https\nhost=github.com\n\n", "get")
	if code != 0 || out != "username=x-access-token\npassword=gho_env\n" {
		t.Fatalf("exit %d, answer %q", code, out)
	}
}

func TestNothingForOthers(t *testing.T) {
	fx := newFixture(t, &store.Secret{Token: "gho_stored"})
	record := fakeFull(t)
	for _, req := range []string{
		"protocol=https\nhost=example.org\n\n",    // a host ghlogin never saw
		"protocol=http\nhost=github.com\n\n",      // plain http
		"protocol=ssh\nhost=github.com\n\n",       // not https
		"host=github.com\n\n",                     // no protocol (CVE-2020-11008)
		"protocol=https\nhost=git hub.com\n\n",    // not a host name
		"protocol=https\nhost=example.org:99\n\n", // port of an unknown host
	} {
		code, out, _ := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir, "GH_TOKEN": ""}, req, "get")
		if code != 0 || out != "" {
			t.Errorf("%q: exit %d, answer %q", req, code, out)
		}
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("the full binary was run for a request ghlogin does not answer")
	}
}

// A token due for refresh, a malformed request and erase go to the full
// binary, with git's request unchanged, and its exit status comes back.
func TestHandOff(t *testing.T) {
	due := &store.Secret{Token: "ghu_due", ExpiresAt: time.Now().Add(time.Minute), RefreshToken: "ghr_x"}
	for _, tc := range []struct {
		name, stdin string
		args        []string
		sec         *store.Secret
	}{
		{"due", "protocol=https\nhost=github.com\n\n", []string{"get"}, due},
		{"malformed", "protocol=https\nno equals sign\n\n", []string{"get"}, &store.Secret{Token: "gho_ok"}},
		{"erase", "protocol=https\nhost=github.com\npassword=gho_ok\n\n", []string{"erase"}, &store.Secret{Token: "gho_ok"}},
		{"unknown account", "protocol=https\nhost=github.com\nusername=nobody\n\n", []string{"get"}, &store.Secret{Token: "gho_ok"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fx := newFixture(t, tc.sec)
			record := fakeFull(t)
			code, out, _ := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir, "GH_TOKEN": ""}, tc.stdin, tc.args...)
			if code != 7 || out != "username=from-full\npassword=gho_full\n" {
				t.Fatalf("exit %d, answer %q; want the full binary's", code, out)
			}
			got, err := os.ReadFile(record)
			if err != nil {
				t.Fatal(err)
			}
			want := "git-credential " + strings.Join(tc.args, " ") + "\n" + tc.stdin
			if string(got) != want {
				t.Fatalf("the full binary got %q, want %q", got, want)
			}
		})
	}
}

func TestCapabilityAndStore(t *testing.T) {
	code, out, _ := runLean(t, nil, "", "capability")
	if code != 0 || out != "version 0\n" {
		t.Fatalf("capability: exit %d, %q", code, out)
	}
	fx := newFixture(t, &store.Secret{Token: "gho_stored"})
	record := fakeFull(t)
	code, out, _ = runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir}, "protocol=https\nhost=github.com\nusername=u\npassword=p\n\n", "store")
	if code != 0 || out != "" {
		t.Fatalf("store: exit %d, %q", code, out)
	}
	if _, err := os.Stat(record); err == nil {
		t.Fatal("store ran the full binary")
	}
}

// lender lends octocat's token for github.com (the hosts the agent
// serves are its business) and has no account on any other host.
type lender struct{}

func (lender) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	if q.Host != "github.com" {
		return nil, &store.NotLoggedInError{Host: q.Host}
	}
	return &agent.Grant{Host: q.Host, Login: "octocat", Token: "ghu_lent", ExpiresAt: time.Unix(1900000000, 0)}, nil
}

func (lender) Accounts(context.Context, string) ([]agent.Account, error) { return nil, nil }

// The lean helper follows pick.Find's rule itself: the forwarded agent's
// token first (before GH_TOKEN and the store), the store when the agent
// does not serve the host, and the agent's failure or refusal explained on
// stderr as ghlogin explains it; the full binary is never run, so the
// agent is asked once per request (it counts and logs each).
func TestAgent(t *testing.T) {
	empty := filepath.Join(t.TempDir(), "config") // nobody logged in here
	for _, tc := range []struct {
		name    string
		allowed []string
		dir     func(t *testing.T) string
		sock    func(t *testing.T, srv *agent.Server) string
		ghToken string
		req     string
		out     string
		stderr  string
		counts  []agent.Count
	}{
		{name: "lent", allowed: []string{"github.com"},
			dir:    func(t *testing.T) string { return newFixture(t, &store.Secret{Token: "gho_stored"}).dir },
			req:    "protocol=https\nhost=github.com\npath=octo-org/hello.git\n\n",
			out:    "username=octocat\npassword=ghu_lent\npassword_expiry_utc=1900000000\n",
			counts: []agent.Count{{Host: "github.com", Purpose: agent.PurposeGit, Served: 1}}},
		{name: "not served, environment", allowed: []string{"ghe.example.com"},
			dir:     func(t *testing.T) string { return newFixture(t, &store.Secret{Token: "gho_stored"}).dir },
			ghToken: "gho_env",
			req:     "protocol=https\nhost=github.com\n\n",
			out:     "username=x-access-token\npassword=gho_env\n",
			counts:  []agent.Count{{Host: "github.com", Purpose: agent.PurposeGit, Refused: 1}}},
		{name: "not served, stored here", allowed: []string{"ghe.example.com"},
			dir:    func(t *testing.T) string { return newFixture(t, &store.Secret{Token: "gho_stored"}).dir },
			req:    "protocol=https\nhost=github.com\n\n",
			out:    "username=octocat\npassword=gho_stored\n",
			counts: []agent.Count{{Host: "github.com", Purpose: agent.PurposeGit, Refused: 1}}},
		{name: "not served, nothing here", allowed: []string{"ghe.example.com"},
			dir:    func(*testing.T) string { return empty },
			req:    "protocol=https\nhost=github.com\n\n",
			stderr: "ghlogin: the agent on laptop does not serve github.com; reconnect with ghlogin ssh --allow github.com …\n",
			counts: []agent.Count{{Host: "github.com", Purpose: agent.PurposeGit, Refused: 1}}},
		{name: "unknown host", allowed: []string{"github.com"},
			dir:    func(*testing.T) string { return empty },
			req:    "protocol=https\nhost=example.org\n\n",
			stderr: "ghlogin: the agent on laptop does not serve example.org; reconnect with ghlogin ssh --allow example.org …\n",
			counts: []agent.Count{{Host: "example.org", Purpose: agent.PurposeGit, Refused: 1}}},
		{name: "gone", allowed: []string{"github.com"},
			dir:    func(t *testing.T) string { return newFixture(t, &store.Secret{Token: "gho_stored"}).dir },
			sock:   func(t *testing.T, _ *agent.Server) string { return filepath.Join(t.TempDir(), "gone.sock") },
			req:    "protocol=https\nhost=github.com\n\n",
			stderr: "ghlogin: the forwarded agent is gone; reconnect or log in here (no ghlogin agent at {sock}; after logging in here, unset GHLOGIN_AGENT_SOCK)\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := &agent.Server{Name: "laptop", Allowed: tc.allowed, Source: lender{}}
			sock := ""
			if tc.sock != nil {
				sock = tc.sock(t, srv)
			} else {
				sock = agenttest.Serve(t, srv)
			}
			record := fakeFull(t)
			code, out, errs := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": tc.dir(t), "GH_TOKEN": tc.ghToken, agent.EnvSock: sock}, tc.req, "get")
			if want := strings.ReplaceAll(tc.stderr, "{sock}", sock); code != 0 || out != tc.out || errs != want {
				t.Fatalf("exit %d\nanswer %q, want %q\nstderr %q, want %q", code, out, tc.out, errs, want)
			}
			if _, err := os.Stat(record); err == nil {
				t.Fatal("the full binary was run")
			}
			if got := srv.Counts(); !slices.Equal(got, tc.counts) {
				t.Fatalf("the agent counted %+v, want %+v", got, tc.counts)
			}
		})
	}
}

// A refusal with a stored token due for refresh goes to the full binary,
// which refreshes it (and asks the agent again: a rare case, kept simple).
func TestAgentRefusedDueHandsOff(t *testing.T) {
	due := &store.Secret{Token: "ghu_due", ExpiresAt: time.Now().Add(time.Minute), RefreshToken: "ghr_x"}
	fx := newFixture(t, due)
	sock := agenttest.Serve(t, &agent.Server{Name: "laptop", Allowed: []string{"ghe.example.com"}, Source: lender{}})
	record := fakeFull(t)
	code, out, _ := runLean(t, map[string]string{"GHLOGIN_CONFIG_DIR": fx.dir, "GH_TOKEN": "", agent.EnvSock: sock}, "protocol=https\nhost=github.com\n\n", "get")
	if code != 7 || out != "username=from-full\npassword=gho_full\n" {
		t.Fatalf("exit %d, answer %q; want the full binary's", code, out)
	}
	if _, err := os.Stat(record); err != nil {
		t.Fatal("the full binary was not run")
	}
}

// A person who runs the helper by hand learns what it is; git's unknown
// actions are still ignored in silence.
func TestVersionAndHelp(t *testing.T) {
	code, out, _ := runLean(t, nil, "", "--version")
	if code != 0 || !strings.HasPrefix(out, "git-credential-ghlogin ") || strings.Count(out, "\n") != 1 {
		t.Fatalf("--version: exit %d, %q", code, out)
	}
	code, out, _ = runLean(t, nil, "", "--help")
	if code != 0 || !strings.Contains(out, "usage: git-credential-ghlogin get|store|erase|capability") {
		t.Fatalf("--help: exit %d, %q", code, out)
	}
	code, out, errs := runLean(t, nil, "", "frobnicate")
	if code != 0 || out != "" || errs != "" {
		t.Fatalf("unknown action: exit %d, %q %q", code, out, errs)
	}
}
