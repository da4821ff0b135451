package e2e

// End-to-end tests of bindings with the real git: the emulator serves
// private repositories of two owners (octocat/y to octocat, my-org/x to the
// organisation's member hubot) and records whose token reached which
// repository, so a clone that works used the right account.

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// bindEnv is a git sandbox logged in to an emulator serving private
// repositories as hubot and octocat (octocat active), with setup-git done.
type bindEnv struct {
	*gitEnv
	srv         *emulator.Server
	octo, hubot string
}

func newBindEnv(t *testing.T, k helperKind) *bindEnv {
	t.Helper()
	requireGit(t)
	repos := t.TempDir()
	for _, r := range [][2]string{{"octocat", "y"}, {"my-org", "x"}} {
		if err := emulator.InitRepo(repos, r[0], r[1]); err != nil {
			t.Fatal(err)
		}
	}
	srv := startEmulator(t, emulator.Config{GitRepos: repos, PrivateRepos: true, Orgs: map[string][]string{"my-org": {"hubot"}}})
	g := newGitEnv(t, true, k)
	b := &bindEnv{gitEnv: g, srv: srv, hubot: issueToken(t, srv, "hubot", "repo"), octo: issueToken(t, srv, "octocat", "repo")}
	g.loginTok(srv.URL(), b.hubot)
	g.loginTok(srv.URL(), b.octo) // the last login is the active account
	if r := g.run("", "setup-git", "--host", srv.URL()); r.code != 0 {
		t.Fatalf("setup-git: exit %d\n%s", r.code, r.stderr)
	}
	return b
}

// ghlogin runs ghlogin in dir and fails the test unless it exits 0 and
// prints no token.
func (b *bindEnv) ghlogin(dir string, args ...string) run {
	b.t.Helper()
	r := b.token(dir, args...)
	r.checkNoToken(b.t, b.octo, b.hubot)
	return r
}

// token runs ghlogin in dir (for `ghlogin token`, which prints one) and
// fails the test unless it exits 0.
func (b *bindEnv) token(dir string, args ...string) run {
	b.t.Helper()
	r := runCommand(b.t, dir, b.env, "", b.bin, args...)
	if r.code != 0 {
		b.t.Fatalf("ghlogin %v: exit %d\n%s", args, r.code, r.stderr)
	}
	return r
}

// clone clones owner/name into dest, running git in dir, and returns the
// logins whose tokens reached the emulator's git server for that
// repository during the clone, and whether the clone worked.
func (b *bindEnv) clone(dir, url, dest string) (logins []string, ok bool, r run) {
	b.t.Helper()
	before := len(b.srv.GitLog())
	r = b.gitRun(dir, "", "clone", "-q", url, dest)
	for _, a := range b.srv.GitLog()[before:] {
		logins = append(logins, a.Login)
	}
	if strings.Contains(r.stdout+r.stderr, b.octo) || strings.Contains(r.stdout+r.stderr, b.hubot) {
		b.t.Fatal("a token appeared in git's output")
	}
	return logins, r.code == 0, r
}

// only reports whether every login is want (and there is one at least).
func only(logins []string, want string) bool {
	for _, l := range logins {
		if l != want {
			return false
		}
	}
	return len(logins) > 0
}

func (r run) checkNoToken(t *testing.T, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		if tok != "" && strings.Contains(r.stdout+r.stderr, tok) {
			t.Fatal("a token appeared in ghlogin's output")
		}
	}
}

func TestBindOwnerWithGit(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		b := newBindEnv(t, k)
		base := b.srv.URL()
		// "my-org/*", as people write it, binds the owner my-org.
		b.ghlogin("", "bind", "--host", base, "--user", "hubot", "--owner", "my-org/*")

		logins, ok, r := b.clone(b.dir, base+"/my-org/x.git", filepath.Join(b.dir, "x"))
		if !ok || !only(logins, "hubot") {
			t.Fatalf("clone of my-org/x: ok=%v, tokens of %v reached it (want hubot's only)\n%s", ok, logins, r.stderr)
		}
		logins, ok, r = b.clone(b.dir, base+"/octocat/y.git", filepath.Join(b.dir, "y"))
		if !ok || !only(logins, "octocat") {
			t.Fatalf("clone of octocat/y: ok=%v, tokens of %v reached it (want octocat's only)\n%s", ok, logins, r.stderr)
		}
		// A fetch in the clone uses the same account.
		before := len(b.srv.GitLog())
		b.mustGit(filepath.Join(b.dir, "x"), "fetch", "-q", "origin")
		for _, a := range b.srv.GitLog()[before:] {
			if a.Login != "hubot" {
				t.Errorf("fetch in my-org/x used %s's token", a.Login)
			}
		}

		// token and status in the work tree take the owner from origin.
		x := filepath.Join(b.dir, "x")
		if got := strings.TrimSpace(b.token(x, "token", "--host", base).stdout); got != b.hubot {
			t.Error("ghlogin token in the my-org/x work tree is not hubot's")
		}
		if got := strings.TrimSpace(b.token(filepath.Join(b.dir, "y"), "token", "--host", base).stdout); got != b.octo {
			t.Error("ghlogin token in the octocat/y work tree is not octocat's")
		}
		st := b.ghlogin(x, "status", "--host", base, "--offline")
		if !strings.Contains(st.stdout, "here: hubot (owner my-org)") {
			t.Errorf("status in my-org/x:\n%s", st.stdout)
		}

		// username= in the remote URL wins over the binding: bind my-org to
		// octocat (who cannot read it) and name hubot in the URL.
		b.ghlogin("", "bind", "--host", base, "--user", "octocat", "--owner", "my-org")
		named := strings.Replace(base, "http://", "http://hubot@", 1) + "/my-org/x.git"
		logins, ok, r = b.clone(b.dir, named, filepath.Join(b.dir, "x-named"))
		if !ok || !only(logins, "hubot") {
			t.Fatalf("clone of %s: ok=%v, tokens of %v (want hubot's: username= wins)\n%s", named, ok, logins, r.stderr)
		}
		// And without a user name, the (wrong) binding is followed: octocat's
		// token, which the private repository refuses.
		logins, ok, _ = b.clone(b.dir, base+"/my-org/x.git", filepath.Join(b.dir, "x-wrong"))
		if ok || !only(logins, "octocat") {
			t.Errorf("clone with my-org bound to octocat: ok=%v, tokens of %v", ok, logins)
		}
	})
}

func TestBindDirWithGit(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		b := newBindEnv(t, k)
		base := b.srv.URL()
		work := filepath.Join(b.dir, "work")
		if err := os.MkdirAll(filepath.Join(work, "deep"), 0o755); err != nil {
			t.Fatal(err)
		}
		link := filepath.Join(b.dir, "w")
		if err := os.Symlink(work, link); err != nil {
			t.Skipf("symbolic links are not available here: %v", err)
		}
		b.ghlogin("", "bind", "--host", base, "--user", "hubot", "--dir", link)

		// In the bound directory, below it, and through the link: hubot.
		for i, dir := range []string{work, filepath.Join(work, "deep"), link} {
			dest := filepath.Join(dir, "x"+string(rune('a'+i)))
			logins, ok, r := b.clone(dir, base+"/my-org/x.git", dest)
			if !ok || !only(logins, "hubot") {
				t.Fatalf("clone of my-org/x in %s: ok=%v, tokens of %v (want hubot's)\n%s", dir, ok, logins, r.stderr)
			}
		}
		// Outside it: the active account, octocat.
		logins, ok, r := b.clone(b.dir, base+"/octocat/y.git", filepath.Join(b.dir, "y"))
		if !ok || !only(logins, "octocat") {
			t.Fatalf("clone of octocat/y outside: ok=%v, tokens of %v\n%s", ok, logins, r.stderr)
		}
		if logins, ok, _ := b.clone(b.dir, base+"/my-org/x.git", filepath.Join(b.dir, "x")); ok || !only(logins, "octocat") {
			t.Errorf("clone of my-org/x outside the bound directory: ok=%v, tokens of %v (want octocat's, refused)", ok, logins)
		}
		// An owner binding beats the directory: octocat/y in the bound
		// directory with octocat bound as its owner.
		b.ghlogin("", "bind", "--host", base, "--user", "octocat", "--owner", "octocat")
		if logins, ok, r := b.clone(work, base+"/octocat/y.git", filepath.Join(work, "y")); !ok || !only(logins, "octocat") {
			t.Errorf("clone of octocat/y in the bound directory with an owner binding: ok=%v, tokens of %v\n%s", ok, logins, r.stderr)
		}
		st := b.ghlogin(filepath.Join(work, "deep"), "status", "--host", base, "--offline")
		if !strings.Contains(st.stdout, "here: hubot (directory "+mustReal(t, work)+")") {
			t.Errorf("status in the bound directory:\n%s", st.stdout)
		}
	})
}

// Setups made before owner bindings (no useHttpPath) keep working: git
// sends no path, so the directory binding and then the active account
// apply.
func TestBindWithoutUseHTTPPath(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		b := newBindEnv(t, k)
		base := b.srv.URL()
		b.mustGit(b.dir, "config", "--global", "--unset", "credential."+base+".useHttpPath")
		b.ghlogin("", "bind", "--host", base, "--user", "hubot", "--owner", "my-org")
		if logins, ok, r := b.clone(b.dir, base+"/octocat/y.git", filepath.Join(b.dir, "y")); !ok || !only(logins, "octocat") {
			t.Fatalf("clone of octocat/y: ok=%v, tokens of %v\n%s", ok, logins, r.stderr)
		}
		// The owner is unknown to the helper: the active account goes, and
		// the private repository refuses it.
		if logins, ok, _ := b.clone(b.dir, base+"/my-org/x.git", filepath.Join(b.dir, "x")); ok || !only(logins, "octocat") {
			t.Errorf("clone of my-org/x without useHttpPath: ok=%v, tokens of %v", ok, logins)
		}
		work := filepath.Join(b.dir, "work")
		if err := os.Mkdir(work, 0o755); err != nil {
			t.Fatal(err)
		}
		b.ghlogin("", "bind", "--host", base, "--user", "hubot", "--dir", work)
		if logins, ok, r := b.clone(work, base+"/my-org/x.git", filepath.Join(work, "x")); !ok || !only(logins, "hubot") {
			t.Errorf("clone of my-org/x in the bound directory: ok=%v, tokens of %v\n%s", ok, logins, r.stderr)
		}
	})
}

// A binding to an account that was logged out is reported by git's helper
// instead of answering with another account.
func TestBindRemovedAccountWithGit(t *testing.T) {
	forHelpers(t, func(t *testing.T, k helperKind) {
		b := newBindEnv(t, k)
		base := b.srv.URL()
		b.ghlogin("", "bind", "--host", base, "--user", "hubot", "--owner", "my-org")
		b.ghlogin("", "logout", "--host", base, "--user", "hubot")
		logins, ok, r := b.clone(b.dir, base+"/my-org/x.git", filepath.Join(b.dir, "x"))
		if ok || len(logins) != 0 {
			t.Fatalf("clone with the bound account gone: ok=%v, tokens of %v reached the server", ok, logins)
		}
		if !strings.Contains(r.stderr, "owner my-org is bound to hubot, which has no account on "+hostOf(b.srv)) ||
			!strings.Contains(r.stderr, "ghlogin bind --remove --owner my-org") {
			t.Errorf("git's output does not report the binding:\n%s", r.stderr)
		}
	})
}

func mustReal(t *testing.T, p string) string {
	t.Helper()
	r, err := filepath.EvalSymlinks(p)
	if err != nil {
		t.Fatal(err)
	}
	return r
}
