package cli

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
)

func TestGitCredential(t *testing.T) {
	h := newHarness(t, emuDefaults)
	octo := h.loginWithToken("octocat")
	hubot := h.loginWithToken("hubot")
	req := "protocol=http\nhost=" + h.host + "\n"
	tlsURL := h.startTLS()
	tlsHost := strings.TrimPrefix(tlsURL, "https://")
	if r := h.run(octo+"\n", "login", "--with-token", "--host", tlsURL, "--store", "file"); r.code != 0 {
		t.Fatalf("login over https: exit %d %q", r.code, r.stderr)
	}
	for _, tc := range []struct {
		name, in string
		env      map[string]string
		out      string
	}{
		{"active account", req + "\n", nil, "username=hubot\npassword=" + hubot + "\n"},
		{"named account", req + "username=octocat\n\n", nil, "username=octocat\npassword=" + octo + "\n"},
		{"a plain-http host never gets the enterprise token", req + "\n", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, "username=hubot\npassword=" + hubot + "\n"},
		{"a known https host gets the enterprise token", "protocol=https\nhost=" + tlsHost + "\n\n", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, "username=x-access-token\npassword=gho_ent\n"},
		{"a host ghlogin does not know gets nothing", "protocol=https\nhost=unknown.example.com\n\n", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, ""},
		{"github.com gets GH_TOKEN", "protocol=https\nhost=github.com\n\n", map[string]string{"GH_TOKEN": "gho_env"}, "username=x-access-token\npassword=gho_env\n"},
		{"http to a host not recorded as http", "protocol=http\nhost=127.0.0.1:9\n\n", nil, ""},
		{"no host: never a wildcard", "protocol=https\n\n", map[string]string{"GH_TOKEN": "gho_env"}, ""},
	} {
		for k, v := range tc.env {
			h.vars[k] = v
		}
		r := h.run(tc.in, "git-credential", "get")
		for k := range tc.env {
			delete(h.vars, k)
		}
		if r.code != 0 || r.stdout != tc.out {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, r.code, r.stdout, r.stderr)
		}
	}
	// store does nothing; unknown actions are ignored.
	for _, action := range []string{"store", "frobnicate"} {
		if r := h.run(req+"username=hubot\npassword=other\n\n", "git-credential", action); r.code != 0 || r.stdout != "" {
			t.Errorf("%s: exit %d %q", action, r.code, r.stdout)
		}
	}
	// erase keeps a token the API accepts, and removes one it rejects.
	if r := h.run(req+"username=hubot\npassword="+hubot+"\n\n", "git-credential", "erase"); r.code != 0 {
		t.Fatalf("erase: exit %d", r.code)
	}
	if r := h.run(req+"\n", "git-credential", "get"); !strings.Contains(r.stdout, hubot) {
		t.Fatal("a working token was erased")
	}
	h.emu.Revoke(hubot)
	r := h.run(req+"username=hubot\npassword="+hubot+"\n\n", "git-credential", "erase")
	if r.code != 0 || !strings.Contains(r.stderr, "ghlogin login --host http://"+h.host) {
		t.Fatalf("erase revoked: exit %d %q", r.code, r.stderr)
	}
	r = h.run(req+"\n", "git-credential", "get")
	if r.stdout != "" || !strings.Contains(r.stderr, "removed") {
		t.Fatalf("get after erase: %q %q", r.stdout, r.stderr)
	}
	r.noToken(t, hubot)
	// The fast path holds only git-credential.
	if r := h.run("", "git-credential", "get", "extra"); r.code != ExitUsage {
		t.Errorf("extra argument: exit %d", r.code)
	}
}

// setup-git writes git's global configuration with the real git, in a
// temporary HOME.
func TestSetupGit(t *testing.T) {
	requireGit(t)
	home := t.TempDir()
	gitConfig := filepath.Join(home, ".gitconfig")
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", gitConfig)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := newHarness(t, emuDefaults)
	key := "credential." + h.srv.URL + ".helper"
	helpers := func() []string {
		out, _ := exec.Command("git", "config", "--global", "--get-all", key).Output()
		return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
	}

	r := h.run("", "setup-git", "--host", h.srv.URL)
	if r.code != 0 || !strings.Contains(r.stderr, "git now asks ghlogin for "+h.host) ||
		!strings.Contains(r.stderr, "You are not logged in to "+h.host+" yet: run ghlogin login --host http://"+h.host) {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	if got := helpers(); len(got) != 2 || got[0] != "" || !strings.HasSuffix(got[1], " git-credential") {
		t.Fatalf("helpers %q", got)
	}
	pathKey := "credential." + h.srv.URL + ".useHttpPath"
	if !strings.Contains(r.stderr, "owner bindings apply ("+pathKey+" = true)") {
		t.Errorf("setup-git does not say it set useHttpPath: %q", r.stderr)
	}
	if out, _ := exec.Command("git", "config", "--global", "--get", pathKey).Output(); string(out) != "true\n" {
		t.Errorf("%s = %q", pathKey, out)
	}
	if r := h.run("", "setup-git", "--host", h.srv.URL); r.code != 0 || !strings.Contains(r.stderr, "already uses ghlogin") {
		t.Fatalf("again: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "setup-git", "--host", h.srv.URL, "--unset"); r.code != 0 || !strings.Contains(r.stderr, "Removed ghlogin from "+key) ||
		!strings.Contains(r.stderr, "Removed "+pathKey) {
		t.Fatalf("--unset: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "setup-git", "--host", h.srv.URL, "--unset"); r.code != 0 || !strings.Contains(r.stderr, "nothing to remove") {
		t.Fatalf("--unset again: exit %d %q", r.code, r.stderr)
	}
	// Logged in: no reminder. The default host is the only one with
	// accounts, then GH_HOST names another.
	h.loginWithToken("octocat")
	if r := h.run("", "setup-git", "--host", h.host); r.code != 0 || strings.Contains(r.stderr, "not logged in") {
		t.Fatalf("logged in: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "setup-git"); r.code != 0 || !strings.Contains(r.stderr, "git already uses ghlogin for "+h.host) {
		t.Fatalf("default host: exit %d %q", r.code, r.stderr)
	}
	h.vars["GH_HOST"] = "github.com"
	defer delete(h.vars, "GH_HOST")
	if r := h.run("", "setup-git"); r.code != 0 || !strings.Contains(r.stderr, "credential.https://github.com.helper") ||
		!strings.Contains(r.stderr, "run ghlogin login --host github.com") {
		t.Fatalf("GH_HOST: exit %d %q", r.code, r.stderr)
	}
}

// setup-git --host http://127.0.0.1:PORT on a fresh configuration records
// that the host speaks plain http, as a login there would: git asks for
// it with protocol=http, and the helper answers only for a host recorded
// so. A machine that borrows its login (ghlogin ssh, ghlogin agent) never
// logs in, so setup-git alone must be enough there.
func TestSetupGitRecordsPlainHTTP(t *testing.T) {
	requireGit(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := newHarness(t, emuDefaults)
	r := h.run("", "setup-git", "--host", h.srv.URL)
	if r.code != 0 || !strings.Contains(r.stderr, "Recorded that "+h.host+" speaks plain http") {
		t.Fatalf("setup-git: exit %d %q", r.code, r.stderr)
	}
	if got := strings.TrimSpace(h.run("", "config", "get", "--host", h.host, "protocol").stdout); got != "http" {
		t.Fatalf("protocol after setup-git = %q, want http", got)
	}
	// An account stored by other means (as an agent lends one) is found
	// for git's protocol=http request.
	tok := h.token(emulator.DefaultClientID, "octocat", "repo").AccessToken
	h.saveAccount(h.host, "octocat", tok)
	if r := h.run("protocol=http\nhost="+h.host+"\n\n", "git-credential", "get"); r.stdout != "username=octocat\npassword="+tok+"\n" {
		t.Errorf("git-credential get after setup-git: %q %q", r.stdout, r.stderr)
	}
	// Again: nothing more to record. An https host records nothing, and
	// a protocol already set is kept.
	if r := h.run("", "setup-git", "--host", h.srv.URL); r.code != 0 || strings.Contains(r.stderr, "Recorded") {
		t.Errorf("again: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "setup-git", "--host", "ghe.example.com"); r.code != 0 || strings.Contains(r.stderr, "Recorded") {
		t.Errorf("https host: exit %d %q", r.code, r.stderr)
	}
	if got := strings.TrimSpace(h.run("", "config", "get", "--host", "ghe.example.com", "protocol").stdout); got == "http" {
		t.Errorf("an https host was recorded as http")
	}
	h2 := newHarness(t, emuDefaults)
	h2.setHost(func(c *config.Host) { c.Protocol = "https" })
	if r := h2.run("", "setup-git", "--host", h2.srv.URL); r.code != 0 || strings.Contains(r.stderr, "Recorded") {
		t.Errorf("protocol already set: exit %d %q", r.code, r.stderr)
	}
}

// A credential.<url>.useHttpPath the person wrote is theirs: setup-git
// leaves a false alone and says once what that means and how to change it;
// --unset keeps it. A useHttpPath that setup-git set is recorded in
// ghlogin's config, and --unset removes only that one; a true the person
// wrote (or an older setup-git did, without the record) is left and named.
func TestSetupGitKeepsThePersonsUseHTTPPath(t *testing.T) {
	requireGit(t)
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, ".gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	h := newHarness(t, emuDefaults)
	pathKey := "credential." + h.srv.URL + ".useHttpPath"
	git := func(args ...string) string {
		out, _ := exec.Command("git", append([]string{"config", "--global"}, args...)...).Output()
		return string(out)
	}
	recorded := func() bool {
		cfg, err := h.store().Config()
		if err != nil {
			t.Fatal(err)
		}
		hc := cfg.Host(h.host)
		return hc != nil && hc.GitPathSet
	}

	git(pathKey, "false")
	r := h.run("", "setup-git", "--host", h.srv.URL)
	note := "note: left " + pathKey + " = false as you set it, so git sends ghlogin no repository path for " + h.host +
		" and owner bindings do not apply there (directory bindings and the active account do); to use them: git config --global " + pathKey + " true\n"
	if r.code != 0 || strings.Count(r.stderr, note) != 1 || strings.Contains(r.stderr, "owner bindings apply") {
		t.Fatalf("setup-git over false: exit %d %q", r.code, r.stderr)
	}
	if got := git("--get-all", pathKey); got != "false\n" || recorded() {
		t.Fatalf("after setup-git: %s = %q, recorded %v", pathKey, got, recorded())
	}
	r = h.run("", "setup-git", "--host", h.srv.URL, "--unset")
	if r.code != 0 || strings.Contains(r.stderr, "Removed "+pathKey) {
		t.Fatalf("--unset: exit %d %q", r.code, r.stderr)
	}
	if got := git("--get-all", pathKey); got != "false\n" {
		t.Fatalf("after --unset: %s = %q, want the person's false", pathKey, got)
	}

	// Not set: setup-git sets it and records that; --unset removes it and
	// the record.
	git("--unset-all", pathKey)
	if r := h.run("", "setup-git", "--host", h.srv.URL); r.code != 0 || !strings.Contains(r.stderr, "owner bindings apply") || strings.Contains(r.stderr, "note:") {
		t.Fatalf("setup-git: exit %d %q", r.code, r.stderr)
	}
	if git("--get-all", pathKey) != "true\n" || !recorded() {
		t.Fatalf("after setup-git: %q, recorded %v", git("--get-all", pathKey), recorded())
	}
	if r := h.run("", "config", "list", "--host", h.host); strings.Contains(r.stdout+r.stderr, "git_use_http_path") {
		t.Errorf("config list shows the record:\n%s", r.stdout)
	}
	if r := h.run("", "setup-git", "--host", h.srv.URL, "--unset"); r.code != 0 || !strings.Contains(r.stderr, "Removed "+pathKey) {
		t.Fatalf("--unset: exit %d %q", r.code, r.stderr)
	}
	if git("--get-all", pathKey) != "" || recorded() {
		t.Fatalf("after --unset: %q, recorded %v", git("--get-all", pathKey), recorded())
	}

	// A true the person wrote is kept by setup-git and by --unset, which
	// says how to remove it.
	git(pathKey, "true")
	if r := h.run("", "setup-git", "--host", h.srv.URL); r.code != 0 || recorded() {
		t.Fatalf("setup-git over the person's true: exit %d %q, recorded %v", r.code, r.stderr, recorded())
	}
	r = h.run("", "setup-git", "--host", h.srv.URL, "--unset")
	if r.code != 0 || !strings.Contains(r.stderr, "Left "+pathKey+" = true as it is: ghlogin setup-git did not set it (remove it with: git config --global --unset-all "+pathKey+")") {
		t.Fatalf("--unset over the person's true: exit %d %q", r.code, r.stderr)
	}
	if git("--get-all", pathKey) != "true\n" {
		t.Fatalf("after --unset: %q", git("--get-all", pathKey))
	}
}
