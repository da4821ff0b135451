package cli

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/session"
)

// requireTool returns the path of a program a test drives for real. It
// skips the test, saying how to install the program, when it is missing,
// except under CI=true, where every test must run: then it fails.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required when CI=true: %v", name, err)
		}
		t.Skipf("%s is not installed (%v): %s", name, err, install)
	}
	return p
}

// requireGit is requireTool for git.
func requireGit(t *testing.T) { t.Helper(); requireTool(t, "git", "apt install git") }

// workTree makes dir a git work tree whose origin is url, with git's
// global and system configuration out of the way.
func workTree(t *testing.T, dir, url string) {
	t.Helper()
	requireGit(t)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for _, args := range [][]string{{"init", "-q", dir}, {"-C", dir, "remote", "add", "origin", url}} {
		if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

func TestBindCommand(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	h.loginWithToken("hubot")
	host := h.srv.URL
	work, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}

	if r := h.run("", "bind", "--host", host, "--user", "hubot", "--owner", "My-Org"); r.code != 0 ||
		!strings.Contains(r.stderr, "Bound owner my-org on "+h.host+" to hubot") || !strings.Contains(r.stderr, "useHttpPath") {
		t.Fatalf("bind --owner: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", host, "--user", "octocat", "--dir", work); r.code != 0 || !strings.Contains(r.stderr, "Bound directory "+work) {
		t.Fatalf("bind --dir: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", host, "--user", "octocat", "--owner", "my-org"); r.code != 0 || !strings.Contains(r.stderr, "(instead of hubot)") {
		t.Fatalf("rebind: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", host, "--user", "octocat", "--owner", "my-org"); r.code != 0 || !strings.Contains(r.stderr, "already bound") {
		t.Fatalf("bind again: exit %d %q", r.code, r.stderr)
	}

	// --list, as text and JSON.
	r := h.run("", "bind", "--list")
	want := h.host + "\n  owner my-org → octocat\n  dir   " + work + " → octocat\n"
	if r.code != 0 || r.stdout != want {
		t.Fatalf("--list: exit %d\n%s\nwant\n%s", r.code, r.stdout, want)
	}
	r = h.run("", "bind", "--list", "--json")
	var doc struct {
		Bindings []map[string]any `json:"bindings"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != 0 {
		t.Fatalf("--list --json: exit %d %v\n%s", r.code, err, r.stdout)
	}
	if len(doc.Bindings) != 2 || doc.Bindings[0]["kind"] != "owner" || doc.Bindings[0]["pattern"] != "my-org" ||
		doc.Bindings[0]["user"] != "octocat" || doc.Bindings[0]["host"] != h.host || doc.Bindings[0]["missing"] != false {
		t.Errorf("--list --json: %v", doc.Bindings)
	}
	// config list shows them too.
	if r := h.run("", "config", "list", "--host", host); !strings.Contains(r.stdout, "owner_bindings.my-org=octocat\n") ||
		!strings.Contains(r.stdout, "dir_bindings."+work+"=octocat\n") {
		t.Errorf("config list:\n%s", r.stdout)
	}

	// Refusals and their exit statuses.
	for _, tc := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--user", "nobody", "--owner", "x"}, ExitAuth, `no account "nobody"`},
		{[]string{"--user", "hubot", "--owner", "a/b"}, ExitUsage, "without '/'"},
		{[]string{"--user", "hubot", "--owner", "[ab"}, ExitUsage, "not a valid glob"},
		{[]string{"--user", "hubot", "--dir", filepath.Join(work, "missing")}, ExitUsage, "missing"},
		{[]string{"--user", "hubot"}, ExitUsage, "one of --owner or --dir"},
		{[]string{"--owner", "x"}, ExitUsage, "needs --user"},
		{[]string{"--user", "hubot", "--owner", "x", "--dir", work}, ExitUsage, "owner"},
		{[]string{"--list", "--user", "hubot"}, ExitUsage, "list"},
		{[]string{"--remove"}, ExitUsage, "--remove needs"},
		{[]string{"--remove", "--user", "hubot", "--owner", "x"}, ExitUsage, "remove"},
		{[]string{"--json"}, ExitUsage, "--json goes with --list"},
		{[]string{"--remove", "--owner", "never-bound"}, ExitFailure, "owner never-bound is not bound on " + h.host + "; see ghlogin bind --list"},
		{[]string{"extra"}, ExitUsage, "takes no arguments"},
	} {
		args := append([]string{"bind", "--host", host}, tc.args...)
		if r := h.run("", args...); r.code != tc.code || !strings.Contains(r.stderr, tc.msg) {
			t.Errorf("bind %v: exit %d %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.code, tc.msg)
		}
	}

	// Logging out the bound account names the bindings left behind;
	// --list marks them.
	r = h.run("", "logout", "--host", host, "--user", "octocat")
	if r.code != 0 || !strings.Contains(r.stderr, "these bindings still name octocat") ||
		!strings.Contains(r.stderr, "(ghlogin bind --remove --owner my-org --host http://"+h.host+")") {
		t.Errorf("logout: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--list"); !strings.Contains(r.stdout, "owner my-org → octocat (not logged in: log in as octocat or remove the binding)") {
		t.Errorf("--list after logout:\n%s", r.stdout)
	}

	// --remove, by any spelling.
	if r := h.run("", "bind", "--host", host, "--remove", "--owner", "MY-ORG"); r.code != 0 || !strings.Contains(r.stderr, "Removed the binding of owner my-org") {
		t.Errorf("--remove --owner: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", host, "--remove", "--dir", work); r.code != 0 {
		t.Errorf("--remove --dir: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--list"); r.code != 0 || r.stdout != "" || !strings.Contains(r.stderr, "No bindings") {
		t.Errorf("--list with none: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if r := h.run("", "bind", "--list", "--json"); strings.TrimSpace(r.stdout) != "{\n  \"bindings\": []\n}" {
		t.Errorf("--list --json with none: %q", r.stdout)
	}
}

// token, status, switch and exec choose the account through the bindings:
// the owner from the origin remote (or --repo), the directory.
func TestCommandsFollowBindings(t *testing.T) {
	h := newHarness(t, emuDefaults)
	hubot := h.loginWithToken("hubot")
	octo := h.loginWithToken("octocat") // active
	host := h.srv.URL
	repo := filepath.Join(h.wd, "x")
	workTree(t, repo, host+"/my-org/x.git")
	h.wd = filepath.Join(repo) // commands run in the work tree

	if r := h.run("", "bind", "--host", host, "--user", "hubot", "--owner", "my-org"); r.code != 0 {
		t.Fatalf("bind: exit %d %q", r.code, r.stderr)
	}
	token := func(args ...string) string {
		t.Helper()
		r := h.run("", append([]string{"token", "--host", host}, args...)...)
		if r.code != 0 {
			t.Fatalf("token %v: exit %d %q", args, r.code, r.stderr)
		}
		return strings.TrimSpace(r.stdout)
	}
	if got := token(); got != hubot {
		t.Errorf("in a my-org work tree, token is not hubot's")
	}
	if got := token("--repo", "octocat/y"); got != octo {
		t.Errorf("--repo octocat/y: not octocat's token")
	}
	if got := token("--repo", h.host+"/my-org/z"); got != hubot {
		t.Errorf("--repo HOST/my-org/z: not hubot's token")
	}
	if got := token("--user", "octocat"); got != octo {
		t.Errorf("--user octocat: not octocat's token")
	}
	if r := h.run("", "token", "--host", host, "--repo", "ghe.example.com/my-org/z"); r.code != ExitUsage || !strings.Contains(r.stderr, "is on ghe.example.com") {
		t.Errorf("--repo on another host: exit %d %q", r.code, r.stderr)
	}
	// Without --host, a --repo naming the host picks it.
	if r := h.run("", "token", "--repo", h.host+"/my-org/z"); r.code != 0 || strings.TrimSpace(r.stdout) != hubot {
		t.Errorf("--repo HOST/OWNER/NAME without --host: exit %d %q", r.code, r.stderr)
	}

	// status says which account applies here, and why.
	r := h.run("", "status", "--host", host, "--offline")
	if !strings.Contains(r.stdout, "  bindings:\n    owner my-org → hubot\n") || !strings.Contains(r.stdout, "  here: hubot (owner my-org)\n") {
		t.Errorf("status:\n%s", r.stdout)
	}
	r = h.run("", "status", "--offline", "--json", "--repo", "octocat/y")
	var rep session.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Here == nil || rep.Hosts[0].Here.Login != "octocat" || rep.Hosts[0].Here.Reason != session.ReasonActive ||
		rep.Hosts[0].Here.Owner != "octocat" || rep.Hosts[0].Here.Dir != repo {
		t.Errorf("status --json --repo octocat/y: %s", r.stdout)
	}

	// switch changes the default and says that the binding still wins here.
	r = h.run("", "switch", "--host", host, "--user", "octocat")
	if r.code != 0 || !strings.Contains(r.stderr, "note: here, owner my-org is bound to hubot, so hubot is still used in this directory") {
		t.Errorf("switch: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "switch", "--host", host, "--user", "hubot"); r.code != 0 || strings.Contains(r.stderr, "note:") {
		t.Errorf("switch to the bound account: exit %d %q", r.code, r.stderr)
	}
	h.run("", "switch", "--host", host, "--user", "octocat")

	// A directory binding applies outside the work tree.
	outside := filepath.Join(t.TempDir(), "work")
	if err := os.MkdirAll(filepath.Join(outside, "deep"), 0o755); err != nil {
		t.Fatal(err)
	}
	if r := h.run("", "bind", "--host", host, "--user", "hubot", "--dir", outside); r.code != 0 {
		t.Fatalf("bind --dir: exit %d %q", r.code, r.stderr)
	}
	h.wd = filepath.Join(outside, "deep")
	if got := token(); got != hubot {
		t.Error("below a bound directory, token is not hubot's")
	}
	r = h.run("", "status", "--host", host, "--offline")
	if !strings.Contains(r.stdout, "  here: hubot (directory ") {
		t.Errorf("status in a bound directory:\n%s", r.stdout)
	}

	// A binding to an account that is gone is reported: exit 4 and the way out.
	if r := h.run("", "logout", "--host", host, "--user", "hubot"); r.code != 0 {
		t.Fatalf("logout: %q", r.stderr)
	}
	r = h.run("", "token", "--host", host)
	if r.code != ExitAuth || !strings.Contains(r.stderr, "is bound to hubot, which has no account on "+h.host+"; log in as hubot") ||
		!strings.Contains(r.stderr, "ghlogin bind --remove --dir") {
		t.Errorf("token with the bound account gone: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "status", "--host", host, "--offline")
	if r.code != ExitFailure || !strings.Contains(r.stdout, "here: no account (directory ") {
		t.Errorf("status with the bound account gone: exit %d\n%s", r.code, r.stdout)
	}
	r.noToken(t, hubot, octo)
}

// bind --dir takes a directory: a file, or a link to one, is refused
// (exit 2) saying so; a directory that does not exist yet is refused with
// the hint to create it first (a binding keeps the real path, links
// resolved, so it must exist). The path is quoted with its control
// characters escaped, and the file system's error does not repeat it raw.
func TestBindDirMustBeADirectory(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("hubot")
	dir, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "passwd")
	if err := os.WriteFile(file, []byte("x\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link")
	if err := os.Symlink(file, link); err != nil {
		t.Fatal(err)
	}
	weird := filepath.Join(dir, "we\nird\x1b[31m")
	for _, tc := range []struct{ dir, want string }{
		{file, `error: --dir: "` + file + `" is not a directory: --dir takes a directory, and work under it uses the account` + "\n"},
		{link, `error: --dir: "` + link + `" is not a directory`},
		{filepath.Join(dir, "later"), `error: --dir: directory "` + filepath.Join(dir, "later") + `" does not exist: create it first, then bind it`},
		{weird, `error: --dir: directory "` + dir + `/we\nird\x1b[31m" does not exist`},
	} {
		r := h.run("", "bind", "--host", h.srv.URL, "--user", "hubot", "--dir", tc.dir)
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 || strings.ContainsRune(r.stderr, 0x1b) {
			t.Errorf("bind --dir %q: exit %d %q", tc.dir, r.code, r.stderr)
		}
	}
	if r := h.run("", "bind", "--list"); r.stdout != "" {
		t.Errorf("bindings after refusals:\n%s", r.stdout)
	}
	// A directory is bound.
	if r := h.run("", "bind", "--host", h.srv.URL, "--user", "hubot", "--dir", dir); r.code != 0 {
		t.Errorf("bind --dir a directory: exit %d %q", r.code, r.stderr)
	}
}

// bind's mistakes in the command line's shape end with the pointer to
// bind's help, as every command's do.
func TestBindUsageErrorsPointAtHelp(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for _, args := range [][]string{
		{"bind"},
		{"bind", "--user", "octocat"},
		{"bind", "--remove"},
		{"bind", "--json"},
		{"bind", "--owner", "a", "--dir", "/tmp"},
	} {
		r := h.run("", args...)
		if r.code != ExitUsage || !strings.HasPrefix(r.stderr, "error: ") || !strings.HasSuffix(r.stderr, "\nRun 'ghlogin bind --help' for usage.\n") {
			t.Errorf("%v: exit %d %q", args, r.code, r.stderr)
		}
	}
}

// bind --owner reminds that git applies owner bindings only where
// useHttpPath is set, unless it is set (as setup-git leaves it).
func TestBindOwnerUseHTTPPathHint(t *testing.T) {
	requireGit(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := newHarness(t, emuDefaults)
	h.loginWithToken("hubot")
	hint := "git applies owner bindings where credential." + h.srv.URL + ".useHttpPath is set"
	if r := h.run("", "bind", "--host", h.srv.URL, "--user", "hubot", "--owner", "my-org"); r.code != 0 || !strings.Contains(r.stderr, hint) {
		t.Fatalf("bind --owner before setup-git: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "setup-git", "--host", h.srv.URL); r.code != 0 {
		t.Fatalf("setup-git: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", h.srv.URL, "--user", "hubot", "--owner", "other-org"); r.code != 0 || strings.Contains(r.stderr, "useHttpPath") {
		t.Errorf("bind --owner after setup-git: exit %d %q", r.code, r.stderr)
	}
	// Set to false by hand: the hint is back.
	if out, err := exec.Command("git", "config", "--global", "credential."+h.srv.URL+".useHttpPath", "false").CombinedOutput(); err != nil {
		t.Fatalf("git config: %v %s", err, out)
	}
	if r := h.run("", "bind", "--host", h.srv.URL, "--user", "hubot", "--owner", "third-org"); r.code != 0 || !strings.Contains(r.stderr, hint) {
		t.Errorf("bind --owner with useHttpPath false: exit %d %q", r.code, r.stderr)
	}
}
