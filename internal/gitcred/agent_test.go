package gitcred

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/agent/agenttest"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/store"
)

const tokLent = "ghu_lentByTheLaptop0000000000000000000"

// lender lends octocat on github.com and emuHost, and records the queries.
type lender struct {
	mu    sync.Mutex
	asked []agent.Query
}

func (l *lender) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	l.mu.Lock()
	l.asked = append(l.asked, q)
	l.mu.Unlock()
	return &agent.Grant{Host: q.Host, Login: "octocat", Token: tokLent, ExpiresAt: time.Unix(1900000000, 0)}, nil
}

func (l *lender) Accounts(context.Context, string) ([]agent.Account, error) { return nil, nil }

func (l *lender) last() agent.Query {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.asked) == 0 {
		return agent.Query{}
	}
	return l.asked[len(l.asked)-1]
}

func (l *lender) count() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.asked)
}

// startLender serves l for github.com and emuHost until the test ends.
func startLender(t *testing.T, l *lender) string {
	t.Helper()
	return agenttest.Serve(t, &agent.Server{Name: "laptop", Allowed: []string{"github.com", emuHost}, Source: l})
}

// files lists what dir holds.
func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err == nil && p != dir {
			out = append(out, strings.TrimPrefix(p, dir))
		}
		return nil
	})
	return out
}

// On a remote where nobody logged in, the helper answers from the
// forwarded agent (before GH_TOKEN), with the owner from the path; it
// keeps the http rule; a host the agent does not lend gets the sentence
// naming --allow on stderr and nothing on stdout; nothing is written.
func TestGetFromAgent(t *testing.T) {
	dir := t.TempDir()
	st, err := store.Open(store.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts[emuHost] = &config.Host{Protocol: "http"}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before := files(t, dir)
	l := &lender{}
	sock := startLender(t, l)
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	h.Getenv = env(agent.EnvSock, sock, "GH_TOKEN", "gho_env")

	out, errs := run(t, h, "get", "protocol=https\nhost=github.com\npath=octo-org/hello.git\n\n")
	if want := "username=octocat\npassword=" + tokLent + "\npassword_expiry_utc=1900000000\n"; out != want || errs != "" {
		t.Fatalf("github.com: %q %q", out, errs)
	}
	if q := l.last(); q.Host != "github.com" || q.Owner != "octo-org" || q.User != "" || q.Purpose != agent.PurposeGit {
		t.Fatalf("asked %+v", q)
	}
	out, _ = run(t, h, "get", "protocol=https\nhost=github.com\nusername=x-access-token\n\n")
	if !strings.Contains(out, tokLent) || l.last().User != "" {
		t.Fatalf("x-access-token: %q %+v", out, l.last())
	}
	out, _ = run(t, h, "get", "protocol=https\nhost=github.com\nusername=alice\n\n")
	if !strings.Contains(out, tokLent) || l.last().User != "alice" {
		t.Fatalf("named: %q %+v", out, l.last())
	}
	// Plain http only for the loopback host recorded as http.
	if out, _ = run(t, h, "get", "protocol=http\nhost="+emuHost+"\n\n"); !strings.Contains(out, tokLent) {
		t.Fatalf("http host: %q", out)
	}
	n := l.count()
	if out, errs = run(t, h, "get", "protocol=http\nhost=localhost:9\n\n"); out != "" || errs != "" || l.count() != n {
		t.Fatalf("unrecorded http host: %q %q, agent asked %d times", out, errs, l.count()-n)
	}
	out, errs = run(t, h, "get", "protocol=https\nhost=ghe.example.com\n\n")
	if out != "" || errs != "ghlogin: the agent on laptop does not serve ghe.example.com; reconnect with ghlogin ssh --allow ghe.example.com …\n" {
		t.Fatalf("not lent: %q %q", out, errs)
	}
	// store and erase keep nothing of the agent's.
	run(t, h, "store", "protocol=https\nhost=github.com\nusername=octocat\npassword="+tokLent+"\n\n")
	run(t, h, "erase", "protocol=https\nhost=github.com\nusername=octocat\npassword="+tokLent+"\n\n")
	if got := files(t, dir); strings.Join(got, " ") != strings.Join(before, " ") {
		t.Fatalf("the helper wrote %q (before: %q)", got, before)
	}

	// The agent is gone: nothing on stdout, the sentence on stderr, at
	// once; GH_TOKEN is not used instead.
	h.Getenv = env(agent.EnvSock, filepath.Join(t.TempDir(), "gone.sock"), "GH_TOKEN", "gho_env")
	start := time.Now()
	out, errs = run(t, h, "get", "protocol=https\nhost=github.com\n\n")
	if out != "" || !strings.Contains(errs, "ghlogin: the forwarded agent is gone; reconnect or log in here (no ghlogin agent at ") || time.Since(start) > 5*time.Second {
		t.Fatalf("gone: %q %q", out, errs)
	}
}

// A host the agent does not lend is answered from this machine's own
// store, without a word about the agent.
func TestGetAgentThenStore(t *testing.T) {
	st := newFixtureStore(t, t.TempDir())
	sock := startLender(t, &lender{})
	var stderr bytes.Buffer
	h := newHelper(st, &stderr)
	h.Getenv = env(agent.EnvSock, sock)
	out, errs := run(t, h, "get", "protocol=https\nhost=ghe.example.com\n\n")
	if out != "username=alice\npassword="+tokAlice+"\n" || errs != "" {
		t.Fatalf("%q %q", out, errs)
	}
}

// git starts the helper for every fetch and push: it must not carry the
// terminal UI.
func TestHelperDependencies(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("the go command is required when CI=true")
		}
		t.Skip("the go command is not on PATH")
	}
	out, err := exec.Command(goBin, "list", "-deps", "github.com/ghlogin/ghlogin/internal/gitcred").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch {
		case strings.HasPrefix(dep, "github.com/charmbracelet/"), dep == "github.com/ghlogin/ghlogin/ui", strings.HasPrefix(dep, "github.com/spf13/cobra"):
			t.Errorf("the git helper depends on %s", dep)
		}
	}
}
