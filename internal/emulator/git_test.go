package emulator

import (
	"context"
	"errors"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// gitRunner runs the real git with an isolated configuration. With a token,
// a credential helper hands it to git from the environment (never an argument).
type gitRunner struct {
	t    *testing.T
	bin  string
	home string
}

func (g gitRunner) run(dir, token string, args ...string) (string, error) {
	g.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, g.bin, args...)
	cmd.Dir = dir
	env := []string{
		"HOME=" + g.home, "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=" + os.DevNull, "GIT_TERMINAL_PROMPT=0",
		"GIT_AUTHOR_NAME=Test", "GIT_AUTHOR_EMAIL=test@example.com", "GIT_COMMITTER_NAME=Test", "GIT_COMMITTER_EMAIL=test@example.com",
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "GIT_") && !strings.HasPrefix(kv, "HOME=") && !strings.HasPrefix(kv, "SSH_ASKPASS=") {
			env = append(env, kv)
		}
	}
	if token != "" {
		env = append(env, "EMU_TEST_TOKEN="+token, "GIT_CONFIG_COUNT=1", "GIT_CONFIG_KEY_0=credential.helper",
			`GIT_CONFIG_VALUE_0=!f() { test "$1" = get && printf 'username=x-access-token\npassword=%s\n' "$EMU_TEST_TOKEN"; }; f`)
	}
	cmd.Env = env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestGitSmartHTTP(t *testing.T) {
	g := gitRunner{t: t, bin: requireGit(t), home: t.TempDir()}
	repos := t.TempDir()
	if err := InitRepo(repos, "octocat", "hello"); err != nil {
		t.Fatal(err)
	}
	e := start(t, Config{GitRepos: repos})
	ts, err := e.s.IssueToken(DefaultClientID, "octocat", []string{"repo"})
	if err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()

	// Clone with a valid token, with and without .git.
	if out, err := g.run(work, ts.AccessToken, "clone", "--quiet", e.base+"/octocat/hello.git", "a"); err != nil {
		t.Fatalf("clone: %v\n%s", err, out)
	}
	readme, err := os.ReadFile(filepath.Join(work, "a", "README.md"))
	if err != nil || !strings.Contains(string(readme), "octocat/hello") {
		t.Fatalf("README: %v %q", err, readme)
	}
	if out, err := g.run(work, ts.AccessToken, "clone", "--quiet", e.base+"/octocat/hello", "b"); err != nil {
		t.Fatalf("clone without .git: %v\n%s", err, out)
	}

	// Push a commit.
	a := filepath.Join(work, "a")
	if err := os.WriteFile(filepath.Join(a, "new.txt"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"add", "new.txt"}, {"commit", "--quiet", "-m", "add new.txt"}} {
		if out, err := g.run(a, "", args...); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	if out, err := g.run(a, ts.AccessToken, "push", "--quiet", "origin", "main"); err != nil {
		t.Fatalf("push: %v\n%s", err, out)
	}
	local, _ := g.run(a, "", "rev-parse", "HEAD")
	remote, _ := g.run(repos, "", "--git-dir="+filepath.Join(repos, "octocat", "hello.git"), "rev-parse", "main")
	if strings.TrimSpace(local) != strings.TrimSpace(remote) || strings.TrimSpace(local) == "" {
		t.Fatalf("push did not land: local %q remote %q", local, remote)
	}

	// Without a token, with a bogus one, or with a revoked one, git is refused.
	if out, err := g.run(work, "", "clone", "--quiet", e.base+"/octocat/hello.git", "c"); err == nil {
		t.Fatalf("clone without a token succeeded:\n%s", out)
	}
	if out, err := g.run(work, "gho_"+strings.Repeat("A", 36), "clone", "--quiet", e.base+"/octocat/hello.git", "d"); err == nil ||
		!strings.Contains(out, "Authentication failed") {
		t.Fatalf("clone with a bogus token: %v\n%s", err, out)
	}
	e.s.Revoke(ts.AccessToken)
	if out, err := g.run(work, ts.AccessToken, "clone", "--quiet", e.base+"/octocat/hello.git", "e"); err == nil {
		t.Fatalf("clone with a revoked token succeeded:\n%s", out)
	}
	if strings.Contains(e.logs.all(), ts.AccessToken) {
		t.Fatalf("token in log:\n%s", e.logs.all())
	}
}

func TestGitHTTPAuthReplies(t *testing.T) {
	requireGit(t)
	repos := t.TempDir()
	if err := InitRepo(repos, "octocat", "hello"); err != nil {
		t.Fatal(err)
	}
	e := start(t, Config{GitRepos: repos})
	oauthTok, _ := e.s.IssueToken(DefaultClientID, "octocat", nil)
	appTok, _ := e.s.IssueToken(AppClientID, "octocat", nil)
	refs := "/octocat/hello.git/info/refs?service=git-upload-pack"
	basic := func(tok string) string {
		req := mustReq(http.MethodGet, e.base)
		req.SetBasicAuth("anyone", tok)
		return req.Header.Get("Authorization")
	}

	r := e.get(refs)
	if r.status != http.StatusUnauthorized || r.header.Get("WWW-Authenticate") != `Basic realm="GitHub"` {
		t.Fatalf("no credentials: %d %q", r.status, r.header.Get("WWW-Authenticate"))
	}
	if r := e.get(refs, "Authorization", basic("not-a-token")); r.status != http.StatusUnauthorized {
		t.Fatalf("bad token: %d", r.status)
	}
	r = e.get(refs, "Authorization", basic(oauthTok.AccessToken))
	if r.status != 200 || r.ctype != "application/x-git-upload-pack-advertisement" || !strings.Contains(r.body, "refs/heads/main") {
		t.Fatalf("valid token: %d %q", r.status, r.ctype)
	}
	if r := e.get("/octocat/missing.git/info/refs?service=git-upload-pack", "Authorization", basic(oauthTok.AccessToken)); r.status != http.StatusNotFound {
		t.Fatalf("missing repo: %d", r.status)
	}
	if r := e.get("/octocat/hello.git/info/refs?service=git-upload-pack", "Authorization", basic(appTok.AccessToken)); r.status != 200 {
		t.Fatalf("app token: %d", r.status)
	}
	e.clk.Advance(DefaultTokenLifetime)
	if r := e.get(refs, "Authorization", basic(appTok.AccessToken)); r.status != http.StatusUnauthorized {
		t.Fatalf("expired app token: %d", r.status)
	}
	// Traversal and odd names are not git routes.
	for _, p := range []string{"/../etc/info/refs", "/octocat/..%2f..%2fetc/info/refs", "/.hidden/x.git/info/refs", "/octocat/hello.git/objects/info/packs"} {
		if r := e.get(p, "Authorization", basic(oauthTok.AccessToken)); r.status != http.StatusNotFound {
			t.Errorf("%s: %d", p, r.status)
		}
	}
}

func TestGitDisabledWithoutRepos(t *testing.T) {
	e := start(t, Config{})
	if r := e.get("/octocat/hello.git/info/refs?service=git-upload-pack"); r.status != http.StatusNotFound {
		t.Fatalf("git route without GitRepos: %d", r.status)
	}
}

func TestInitRepoErrors(t *testing.T) {
	requireGit(t)
	dir := t.TempDir()
	if err := InitRepo(dir, "octocat", "x"); err != nil {
		t.Fatal(err)
	}
	if err := InitRepo(dir, "octocat", "x"); !errors.Is(err, fs.ErrExist) {
		t.Fatalf("second InitRepo: %v", err)
	}
	for _, bad := range [][2]string{{"..", "x"}, {"a/b", "x"}, {"octocat", "../x"}, {"", "x"}, {"octocat", ".x"}} {
		if err := InitRepo(dir, bad[0], bad[1]); !errors.Is(err, ErrInvalidName) {
			t.Errorf("InitRepo(%q, %q) = %v", bad[0], bad[1], err)
		}
	}
}

// With PrivateRepos, a repository is served only to its owner's token or
// an organisation member's; the log says whose token reached which
// repository.
func TestGitPrivateRepos(t *testing.T) {
	g := gitRunner{t: t, bin: requireGit(t), home: t.TempDir()}
	repos := t.TempDir()
	for _, r := range [][2]string{{"octocat", "y"}, {"my-org", "x"}} {
		if err := InitRepo(repos, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	e := start(t, Config{GitRepos: repos, PrivateRepos: true, Orgs: map[string][]string{"My-Org": {"HUBOT"}}})
	tok := func(login string) string {
		ts, err := e.s.IssueToken(DefaultClientID, login, []string{"repo"})
		if err != nil {
			t.Fatal(err)
		}
		return ts.AccessToken
	}
	octo, hubot := tok("octocat"), tok("hubot")
	for _, tc := range []struct {
		token, repo string
		ok          bool
	}{
		{octo, "octocat/y", true},
		{hubot, "octocat/y", false},
		{hubot, "my-org/x", true},
		{octo, "my-org/x", false},
	} {
		out, err := g.run(t.TempDir(), tc.token, "ls-remote", e.base+"/"+tc.repo+".git")
		if (err == nil) != tc.ok {
			t.Errorf("ls-remote %s: err %v, want ok=%v\n%s", tc.repo, err, tc.ok, out)
		}
		if !tc.ok && !strings.Contains(out, "not found") {
			t.Errorf("a private repository is not reported as not found:\n%s", out)
		}
	}
	var log []GitAccess
	for _, a := range e.s.GitLog() {
		if a.Service == "info/refs" { // git protocol v2 asks upload-pack too, once allowed
			log = append(log, a)
		}
	}
	want := []GitAccess{
		{"octocat", "y", "octocat", "info/refs", true},
		{"octocat", "y", "hubot", "info/refs", false},
		{"my-org", "x", "hubot", "info/refs", true},
		{"my-org", "x", "octocat", "info/refs", false},
	}
	if len(log) != len(want) {
		t.Fatalf("git log %+v", log)
	}
	for i := range want {
		if log[i] != want[i] {
			t.Errorf("git log[%d] = %+v, want %+v", i, log[i], want[i])
		}
	}
}
