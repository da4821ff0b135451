package e2e

// End-to-end tests of the git credential helper with the real git binary:
// git runs the built ghlogin (set up with `ghlogin setup-git`) against the
// in-process emulator, which serves bare repositories over smart HTTP and
// accepts only the tokens it issued.

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/oskeyring"
)

// requireGit returns the git binary, skipping the test when git is missing
// (failing instead when CI=true).
func requireGit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required when CI=true: %v", err)
		}
		t.Skipf("git is not installed (%v); these tests drive ghlogin through the real git binary — install git to run them", err)
	}
	return p
}

// gitEnv is a sandbox where git runs with a private global config and never
// prompts, and ghlogin is found on PATH when onPath is set.
type gitEnv struct {
	*sandbox
	git       string
	gitConfig string
	trace     string // GIT_TRACE output: which helper actions git ran
}

// helperKind is which helper git runs: the full binary (ghlogin
// git-credential) or the lean git-credential-ghlogin installed beside it.
type helperKind struct {
	name string
	lean bool
}

// helperKinds are both: every git test runs against each.
var helperKinds = []helperKind{{"full", false}, {"lean", true}}

// forHelpers runs fn as a subtest for each helper kind.
func forHelpers(t *testing.T, fn func(t *testing.T, k helperKind)) {
	for _, k := range helperKinds {
		t.Run(k.name, func(t *testing.T) { fn(t, k) })
	}
}

// binDir is the directory holding the ghlogin binary of kind k (and, for
// the lean kind, git-credential-ghlogin beside it).
func (k helperKind) binDir() string {
	if k.lean {
		return leanDir
	}
	return filepath.Dir(bin)
}

// helperValue is the helper entry setup-git writes for kind k.
func (k helperKind) helperValue(onPath bool) string {
	switch {
	case k.lean:
		return filepath.Join(leanDir, "git-credential-ghlogin")
	case onPath:
		return "!ghlogin git-credential"
	}
	return "!" + bin + " git-credential"
}

func newGitEnv(t *testing.T, onPath bool, k helperKind) *gitEnv {
	t.Helper()
	gitBin := requireGit(t)
	s := newSandbox(t)
	if k.lean {
		s.bin = filepath.Join(leanDir, "ghlogin")
	}
	g := &gitEnv{sandbox: s, git: gitBin, gitConfig: filepath.Join(s.dir, "gitconfig"), trace: filepath.Join(s.dir, "git-trace.txt")}
	path := os.Getenv("PATH")
	if onPath {
		path = filepath.Dir(s.bin) + string(os.PathListSeparator) + path
	}
	env := []string{"PATH=" + path}
	for _, kv := range s.env {
		if !strings.HasPrefix(kv, "PATH=") {
			env = append(env, kv)
		}
	}
	s.env = append(env,
		"GIT_CONFIG_GLOBAL="+g.gitConfig,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=Octocat", "GIT_AUTHOR_EMAIL=octocat@users.noreply.github.com",
		"GIT_COMMITTER_NAME=Octocat", "GIT_COMMITTER_EMAIL=octocat@users.noreply.github.com",
		"XDG_CONFIG_HOME="+filepath.Join(s.dir, "xdg"),
	)
	return g
}

// gitRun runs git in dir with the sandbox's environment plus GIT_TRACE.
func (g *gitEnv) gitRun(dir, stdin string, args ...string) run {
	g.t.Helper()
	env := append(append([]string(nil), g.env...), "GIT_TRACE="+g.trace)
	return runCommand(g.t, dir, env, stdin, g.git, args...)
}

// mustGit runs git and fails the test unless it exits 0.
func (g *gitEnv) mustGit(dir string, args ...string) run {
	g.t.Helper()
	r := g.gitRun(dir, "", args...)
	if r.code != 0 {
		g.t.Fatalf("git %s: exit %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r
}

// helperActions returns the ghlogin actions git ran since the last call
// (from GIT_TRACE's run_command lines), and clears the trace.
func (g *gitEnv) helperActions() []string {
	g.t.Helper()
	b, err := os.ReadFile(g.trace)
	if err != nil && !os.IsNotExist(err) {
		g.t.Fatal(err)
	}
	_ = os.Remove(g.trace)
	var acts []string
	for _, line := range strings.Split(string(b), "\n") {
		i := strings.Index(line, "run_command: ")
		full := strings.Contains(line, "git-credential ") && strings.Contains(line, "ghlogin")
		if i < 0 || !full && !strings.Contains(line, "git-credential-ghlogin ") {
			continue
		}
		f := strings.Fields(strings.Trim(line[i+len("run_command: "):], "'"))
		acts = append(acts, f[len(f)-1])
	}
	return acts
}

// storedSecret reads the account's secret from the sandbox's store, as the
// CLI does, without running ghlogin (whose token command would refresh it).
func (g *gitEnv) storedSecret(host string) (store.Account, *store.Secret) {
	g.t.Helper()
	st, err := store.Open(store.Options{Dir: filepath.Join(g.dir, "config"), Keyring: oskeyring.Keyring{}})
	if err != nil {
		g.t.Fatal(err)
	}
	acct, err := st.Resolve(host, "")
	if err != nil {
		g.t.Fatalf("no account for %s in the store: %v", host, err)
	}
	sec, err := st.Secret(context.Background(), acct)
	if err != nil {
		g.t.Fatalf("reading the secret for %s: %v", host, err)
	}
	return acct, sec
}

// gitEmulator starts the emulator with a repository octocat/hello (one
// commit on main) served over git smart HTTP.
func gitEmulator(t *testing.T, clients []emulator.Client) *emulator.Server {
	t.Helper()
	requireGit(t)
	repos := t.TempDir()
	if err := emulator.InitRepo(repos, "octocat", "hello"); err != nil {
		t.Fatal(err)
	}
	return startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1, GitRepos: repos, Clients: clients})
}

// hostOf is the emulator's host as git and the store name it.
func hostOf(srv *emulator.Server) string { return strings.TrimPrefix(srv.URL(), "http://") }

// loginAndSetup logs in with the device flow and runs setup-git.
func (g *gitEnv) loginAndSetup(srv *emulator.Server, clientID string) {
	g.t.Helper()
	if r := g.run("", "login", "--host", srv.URL(), "--client-id", clientID); r.code != 0 {
		g.t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	r := g.run("", "setup-git", "--host", srv.URL())
	if r.code != 0 {
		g.t.Fatalf("setup-git: exit %d\n%s", r.code, r.stderr)
	}
}

// helperEntries returns the helper list git reads for the emulator's URL.
func (g *gitEnv) helperEntries(srv *emulator.Server) []string {
	g.t.Helper()
	r := g.gitRun(g.dir, "", "config", "--global", "--get-all", "credential."+srv.URL()+".helper")
	if r.code != 0 {
		g.t.Fatalf("git config --get-all: exit %d: %s", r.code, r.stderr)
	}
	return strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
}

func TestGitCloneCommitPush(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		for _, onPath := range []bool{true, false} {
			name := "ghlogin on PATH"
			if !onPath {
				name = "absolute path"
			}
			t.Run(name, func(t *testing.T) {
				srv := gitEmulator(t, nil)
				g := newGitEnv(t, onPath, k)
				g.loginAndSetup(srv, emulator.DefaultClientID)

				want := k.helperValue(onPath)
				if got := g.helperEntries(srv); len(got) != 2 || got[0] != "" || got[1] != want {
					t.Fatalf("credential.%s.helper = %q, want [\"\" %q]", srv.URL(), got, want)
				}
				// Running it twice changes nothing.
				if r := g.run("", "setup-git", "--host", srv.URL()); r.code != 0 || !strings.Contains(r.stderr, "already") {
					t.Errorf("second setup-git: exit %d, stderr %q", r.code, r.stderr)
				}
				if got := g.helperEntries(srv); len(got) != 2 {
					t.Errorf("after a second setup-git: %q", got)
				}

				_, sec := g.storedSecret(hostOf(srv))
				work := filepath.Join(g.dir, "work")
				r := g.mustGit(g.dir, "clone", srv.URL()+"/octocat/hello.git", work)
				if acts := g.helperActions(); len(acts) == 0 || acts[0] != "get" {
					t.Errorf("git ran the helper actions %v during clone, want get first", acts)
				}
				if _, err := os.Stat(filepath.Join(work, "README.md")); err != nil {
					t.Fatalf("clone has no README.md: %v\n%s", err, r.stderr)
				}
				if err := os.WriteFile(filepath.Join(work, "hello.txt"), []byte("hello from ghlogin\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				g.mustGit(work, "add", "hello.txt")
				g.mustGit(work, "commit", "-q", "-m", "Add hello.txt")
				head := strings.TrimSpace(g.mustGit(work, "rev-parse", "HEAD").stdout)
				push := g.mustGit(work, "push", "origin", "main")
				if acts := g.helperActions(); len(acts) == 0 || acts[0] != "get" {
					t.Errorf("git ran the helper actions %v during push, want get first", acts)
				}
				// The push reached the emulator's repository: a fresh clone sees it.
				again := filepath.Join(g.dir, "again")
				g.mustGit(g.dir, "clone", "-q", srv.URL()+"/octocat/hello.git", again)
				if got := strings.TrimSpace(g.mustGit(again, "rev-parse", "HEAD").stdout); got != head {
					t.Errorf("after push, the server's main is %s, want %s", got, head)
				}
				if b, err := os.ReadFile(filepath.Join(again, "hello.txt")); err != nil || string(b) != "hello from ghlogin\n" {
					t.Errorf("pushed file: %q, %v", b, err)
				}
				// The token never shows in git's output or in the git config.
				cfg, _ := os.ReadFile(g.gitConfig)
				if strings.Contains(r.stdout+r.stderr+push.stdout+push.stderr+string(cfg), sec.Token) {
					t.Error("the token appeared in git's output or config")
				}
				// --unset removes exactly what setup-git wrote.
				if r := g.run("", "setup-git", "--host", srv.URL(), "--unset"); r.code != 0 {
					t.Fatalf("setup-git --unset: exit %d: %s", r.code, r.stderr)
				}
				if r := g.gitRun(g.dir, "", "config", "--global", "--get-all", "credential."+srv.URL()+".helper"); r.code != 1 || r.stdout != "" {
					t.Errorf("after --unset: exit %d, entries %q", r.code, r.stdout)
				}
				if r := g.gitRun(g.dir, "", "ls-remote", srv.URL()+"/octocat/hello.git"); r.code == 0 {
					t.Error("git still authenticates after setup-git --unset")
				}
			})
		}
	})
}

// appClients returns the built-in clients with the GitHub App's access
// tokens living for lifetime.
func appClients(lifetime time.Duration) []emulator.Client {
	cs := emulator.DefaultClients()
	for i := range cs {
		if cs[i].ID == emulator.AppClientID {
			cs[i].TokenLifetime = lifetime
		}
	}
	return cs
}

// userStatus asks the emulator's API about token, as GitHub's GET /user.
func userStatus(t *testing.T, srv *emulator.Server, token string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, srv.URL()+"/user", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

func TestGitFetchRefreshesExpiringToken(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		cases := []struct {
			name     string
			lifetime time.Duration
			expired  bool // wait until the token has really expired
		}{
			// Due: the token is in the last quarter of its lifetime (a token is
			// refreshed when min(5 min, a quarter of its lifetime) is left), not
			// yet expired: 4 s, waited out to its last half second.
			{"due in the last quarter of its lifetime", 4 * time.Second, false},
			// Expired: the emulator already rejects the token. The new token
			// lives two seconds too: long enough for the fetch it serves.
			{"expired", 2 * time.Second, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				srv := gitEmulator(t, appClients(tc.lifetime))
				g := newGitEnv(t, true, k)
				if r := g.run(emulator.AppClientSecret+"\n", "config", "set", "--host", srv.URL(), "client_secret", "-"); r.code != 0 {
					t.Fatalf("config set client_secret: exit %d: %s", r.code, r.stderr)
				}
				g.loginAndSetup(srv, emulator.AppClientID)
				host := hostOf(srv)
				_, before := g.storedSecret(host)
				if !strings.HasPrefix(before.Token, "ghu_") || !strings.HasPrefix(before.RefreshToken, "ghr_") || before.ExpiresAt.IsZero() {
					t.Fatalf("login stored token %.4s… refresh %.4s… expiry %v; want an expiring ghu_ with a ghr_ refresh token",
						before.Token, before.RefreshToken, before.ExpiresAt)
				}
				if !tc.expired {
					// Wait until the token is due (once; not a polling interval).
					time.Sleep(time.Until(before.ExpiresAt) - 500*time.Millisecond)
				}
				if tc.expired {
					// Wait the short lifetime out (once; not a polling interval).
					// Stored expiries are kept to the second, rounded down (a token is
					// refreshed early rather than late): the real one may be up to 1 s later.
					time.Sleep(time.Until(before.ExpiresAt) + 1100*time.Millisecond)
					if c := userStatus(t, srv, before.Token); c != http.StatusUnauthorized {
						t.Fatalf("the emulator answers %d for the expired token, want 401", c)
					}
				}
				if n := srv.Stats().Refreshes; n != 0 {
					t.Fatalf("%d refreshes before git ran", n)
				}

				work := filepath.Join(g.dir, "work")
				g.mustGit(g.dir, "init", "-q", "-b", "main", work)
				g.mustGit(work, "remote", "add", "origin", srv.URL()+"/octocat/hello.git")
				r := g.mustGit(work, "fetch", "origin")
				if got := g.helperActions(); strings.Join(got, ",") != "get,store" {
					t.Errorf("git ran the helper actions %v, want get then store (no erase)", got)
				}
				if n := srv.Stats().Refreshes; n != 1 {
					t.Errorf("the emulator saw %d refreshes during git fetch, want exactly 1", n)
				}
				if out := g.mustGit(work, "rev-parse", "--verify", "-q", "origin/main").stdout; strings.TrimSpace(out) == "" {
					t.Error("fetch did not bring origin/main")
				}
				_, after := g.storedSecret(host)
				if after.Token == before.Token || !strings.HasPrefix(after.Token, "ghu_") {
					t.Errorf("stored token after fetch: changed=%v prefix %.4s, want a new ghu_ token", after.Token != before.Token, after.Token)
				}
				if after.RefreshToken == before.RefreshToken || !strings.HasPrefix(after.RefreshToken, "ghr_") {
					t.Error("the refresh token was not rotated in the store")
				}
				// The store keeps whole seconds after a refresh; the new token
				// lives a full lifetime from the refresh.
				if after.ExpiresAt.Before(before.ExpiresAt.Truncate(time.Second)) {
					t.Errorf("new expiry %v is before the old %v", after.ExpiresAt, before.ExpiresAt)
				}
				if !tc.expired {
					if c := userStatus(t, srv, after.Token); c != http.StatusOK {
						t.Errorf("the emulator answers %d for the refreshed token, want 200", c)
					}
				}
				for _, tok := range []string{before.Token, before.RefreshToken, after.Token, after.RefreshToken} {
					if strings.Contains(r.stdout+r.stderr, tok) {
						t.Fatal("a token appeared in git's output")
					}
				}
			})
		}
	})
}

// statusDoc is `ghlogin status --json`.
type statusDoc struct {
	Hosts []struct {
		Host     string `json:"host"`
		Accounts []struct {
			Login string `json:"login"`
			State string `json:"state"`
			Error string `json:"error"`
		} `json:"accounts"`
	} `json:"hosts"`
}

func (g *gitEnv) status() (statusDoc, int) {
	g.t.Helper()
	r := g.run("", "status", "--json")
	var doc statusDoc
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		g.t.Fatalf("status --json printed %q (exit %d, stderr %q): %v", r.stdout, r.code, r.stderr, err)
	}
	return doc, r.code
}

// revokedAfterClone logs in with helper k, clones octocat/hello through
// it, and then revokes the token on the server: the work tree, and the
// secret as it was stored.
func revokedAfterClone(t *testing.T, k helperKind) (*emulator.Server, *gitEnv, string, *store.Secret) {
	t.Helper()
	srv := gitEmulator(t, nil)
	g := newGitEnv(t, true, k)
	g.loginAndSetup(srv, emulator.DefaultClientID)
	work := filepath.Join(g.dir, "work")
	g.mustGit(g.dir, "clone", "-q", srv.URL()+"/octocat/hello.git", work)
	g.helperActions()
	_, sec := g.storedSecret(hostOf(srv))
	srv.Revoke(sec.Token)
	return srv, g, work, sec
}

func TestGitRevokedTokenIsErased(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		srv, g, work, sec := revokedAfterClone(t, k)

		// git notices first (status noticing first is TestStatusRemovesADeadToken).
		r := g.gitRun(work, "", "fetch", "origin")
		if r.code == 0 {
			t.Fatal("git fetch with a revoked token succeeded")
		}
		if !strings.Contains(r.stderr, "Authentication failed") {
			t.Errorf("git's error does not say authentication failed:\n%s", r.stderr)
		}
		if got := strings.Join(g.helperActions(), ","); got != "get,erase" {
			t.Errorf("git ran the helper actions %q, want get,erase", got)
		}
		// ghlogin's erase (stderr goes through git to the person) says what happened.
		if !strings.Contains(r.stderr, "revoked") || !strings.Contains(r.stderr, "ghlogin login --host "+srv.URL()) {
			t.Errorf("git's stderr lacks ghlogin's explanation:\n%s", r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, sec.Token) {
			t.Fatal("the token appeared in git's output")
		}
		// The API confirmed 401, so the secret is gone but the account stays,
		// marked invalid with the reason: status exits 4 and says to log in
		// again, and token exits 4 with the same hint.
		doc, code := g.status()
		if code != 4 || len(doc.Hosts) != 1 || len(doc.Hosts[0].Accounts) != 1 || doc.Hosts[0].Accounts[0].State != "invalid" {
			t.Fatalf("status after erase: exit %d, %+v; want exit 4 and the account invalid", code, doc)
		}
		if msg := doc.Hosts[0].Accounts[0].Error; !strings.Contains(msg, "removed") || !strings.Contains(msg, "401") || !strings.Contains(msg, "ghlogin login --host") {
			t.Errorf("status error after erase %q does not say the token was removed and how to log in", msg)
		}
		if _, err := os.Stat(filepath.Join(g.dir, "config", store.CredentialsFile)); err == nil {
			b, _ := os.ReadFile(filepath.Join(g.dir, "config", store.CredentialsFile))
			if strings.Contains(string(b), sec.Token) {
				t.Error("the revoked token is still in the credentials file")
			}
		}
		if r := g.run("", "token", "--host", srv.URL()); r.code != 4 || !strings.Contains(r.stderr, "ghlogin login") {
			t.Errorf("token after erase: exit %d, stderr %q", r.code, r.stderr)
		}
		// The next git command answers nothing from ghlogin and fails without prompting.
		r = g.gitRun(work, "", "fetch", "origin")
		if r.code == 0 || !strings.Contains(r.stderr, "ghlogin login --host "+srv.URL()) || strings.Contains(r.stdout+r.stderr, sec.Token) {
			t.Errorf("fetch after erase: exit %d, stderr:\n%s\nwant a failure naming the login command", r.code, r.stderr)
		}
	})
}

func TestGitEraseKeepsWorkingToken(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		srv := gitEmulator(t, nil)
		g := newGitEnv(t, true, k)
		g.loginAndSetup(srv, emulator.DefaultClientID)
		host := hostOf(srv)
		_, sec := g.storedSecret(host)

		// A repository the account cannot see: GitHub answers 404, not 401, and
		// git reports it without erasing.
		r := g.gitRun(g.dir, "", "clone", srv.URL()+"/octocat/missing.git", filepath.Join(g.dir, "missing"))
		if r.code == 0 || !strings.Contains(strings.ToLower(r.stderr), "not found") {
			t.Fatalf("clone of a missing repository: exit %d\n%s", r.code, r.stderr)
		}
		if got := strings.Join(g.helperActions(), ","); got != "get" {
			t.Errorf("git ran the helper actions %q on a 404, want get only", got)
		}
		// Whatever git decides, an erase of a token that still works keeps it:
		// ask as git does when it rejects a credential.
		req := "url=" + srv.URL() + "/octocat/missing.git\nusername=octocat\npassword=" + sec.Token + "\n\n"
		if r := g.gitRun(g.dir, req, "credential", "reject"); r.code != 0 {
			t.Fatalf("git credential reject: exit %d: %s", r.code, r.stderr)
		}
		if got := strings.Join(g.helperActions(), ","); got != "erase" {
			t.Fatalf("git credential reject ran %q, want erase", got)
		}
		// Login checked the token once; erase must have asked again.
		userCalls := func() int { r := srv.Stats().Requests; return r["GET /user"] + r["GET /api/v3/user"] }
		if got := userCalls(); got != 2 {
			t.Errorf("GET /user seen %d times; want 2 (login, then erase checking the token)", got)
		}
		acct, after := g.storedSecret(host)
		if after.Token != sec.Token || acct.Login != "octocat" {
			t.Fatal("erase of a working token changed the store")
		}
		doc, code := g.status()
		if code != 0 || len(doc.Hosts) != 1 || doc.Hosts[0].Accounts[0].State != "valid" {
			t.Errorf("status after the erase: exit %d, %+v; want the account still valid", code, doc)
		}
		// Erase of a token that is not ours (a stale one) leaves the account too.
		bogus := "url=" + srv.URL() + "\nusername=octocat\npassword=gho_notthetokenghloginholds000000000000\n\n"
		if r := g.gitRun(g.dir, bogus, "credential", "reject"); r.code != 0 {
			t.Fatalf("git credential reject: exit %d: %s", r.code, r.stderr)
		}
		if _, after := g.storedSecret(host); after.Token != sec.Token {
			t.Fatal("erase of another token changed the store")
		}
		// And git still works with it.
		g.mustGit(g.dir, "clone", "-q", srv.URL()+"/octocat/hello.git", filepath.Join(g.dir, "work"))
	})
}

func TestGitFillOtherHostsGetNothing(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		srv := gitEmulator(t, nil)
		g := newGitEnv(t, true, k)
		g.loginAndSetup(srv, emulator.DefaultClientID)
		_, sec := g.storedSecret(hostOf(srv))
		// Ask ghlogin for every URL, not just the emulator's, so that the
		// helper itself (not git's URL matching) must refuse other hosts.
		if r := g.gitRun(g.dir, "", "config", "--global", "--add", "credential.helper", k.helperValue(true)); r.code != 0 {
			t.Fatal(r.stderr)
		}
		port := srv.URL()[strings.LastIndex(srv.URL(), ":")+1:]
		otherPort := "1"
		if port == "1" {
			otherPort = "2"
		}
		for _, u := range []string{
			"https://github.com/octocat/hello.git",
			"https://github.com.evil.io/octocat/hello.git",
			"http://github.com.evil.io/octocat/hello.git",
			"https://127.0.0.1.evil.io/octocat/hello.git",
			"http://127.0.0.1:" + otherPort + "/octocat/hello.git",
			"http://localhost:" + port + "/octocat/hello.git",
			"http://evil.io/127.0.0.1:" + port + "/octocat/hello.git",
			"http://hubot@127.0.0.1:" + port + "/octocat/hello.git", // an account ghlogin does not hold
		} {
			r := g.gitRun(g.dir, "url="+u+"\n\n", "credential", "fill")
			if r.code == 0 || strings.Contains(r.stdout, "password=") || strings.Contains(r.stdout+r.stderr, sec.Token) {
				t.Errorf("git credential fill for %s: exit %d, stdout %q; want no credential", u, r.code, r.stdout)
			}
		}
		// The emulator's own URL still gets the token, through the catch-all too.
		r := g.gitRun(g.dir, "url="+srv.URL()+"/octocat/hello.git\n\n", "credential", "fill")
		if r.code != 0 || !strings.Contains(r.stdout, "username=octocat\npassword="+sec.Token+"\n") {
			t.Errorf("fill for the emulator: exit %d, stdout has token: %v", r.code, strings.Contains(r.stdout, sec.Token))
		}
	})
}

// status noticing a revoked token first takes it out of the store, so git
// is never handed it: the next fetch fails at once, without prompting,
// and says why and how to log in again.
func TestStatusRemovesADeadToken(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		srv, g, work, sec := revokedAfterClone(t, k)

		doc, code := g.status()
		if code != 4 || len(doc.Hosts) != 1 || len(doc.Hosts[0].Accounts) != 1 || doc.Hosts[0].Accounts[0].State != "invalid" {
			t.Fatalf("status after revocation: exit %d, %+v; want exit 4 and state invalid", code, doc)
		}
		if msg := doc.Hosts[0].Accounts[0].Error; !strings.Contains(msg, "401") || !strings.Contains(msg, "removed from the store") || !strings.Contains(msg, "ghlogin login") {
			t.Errorf("status error %q does not say why, what it did and what to do", msg)
		}
		r := g.gitRun(work, "", "fetch", "origin")
		if r.code == 0 || !strings.Contains(r.stderr, "was removed because") || !strings.Contains(r.stderr, "ghlogin login --host "+srv.URL()) || strings.Contains(r.stdout+r.stderr, sec.Token) {
			t.Errorf("fetch after status removed the token: exit %d\n%s", r.code, r.stderr)
		}
		if got := strings.Join(g.helperActions(), ","); got != "get" {
			t.Errorf("git ran the helper actions %q, want get (nothing to erase)", got)
		}
	})
}
