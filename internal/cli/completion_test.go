package cli

import (
	"strings"
	"testing"
)

// complete runs cobra's hidden completion command as a shell's script does.
func (h *harness) complete(args ...string) []string {
	h.t.Helper()
	r := h.run("", append([]string{"__complete"}, args...)...)
	if r.code != 0 {
		h.t.Fatalf("__complete %v: exit %d %q", args, r.code, r.stderr)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		if strings.HasPrefix(line, ":") || line == "" {
			continue // the directive
		}
		value, _, _ := strings.Cut(line, "\t")
		out = append(out, value)
	}
	return out
}

// --host, --hostname and --user complete from the configuration: hosts
// (an http one as its URL) and the logins of the host named so far.
func TestCompletionOfHostsAndLogins(t *testing.T) {
	h := newHarness(t, emuDefaults)
	if got := h.complete("token", "--host", ""); len(got) != 0 {
		t.Errorf("no configuration: %q", got)
	}
	h.loginWithToken("octocat")
	h.loginWithToken("hubot")
	h.run("", "config", "set", "--host", "ghe.example.com", "client_id", "Iv1.x")
	wantHosts := []string{"http://" + h.host, "ghe.example.com"} // in the order of the names
	for _, args := range [][]string{
		{"token", "--host", ""},
		{"switch", "--hostname", ""},
		{"logout", "--host", ""},
		{"status", "--host", ""},
		{"setup-git", "--host", ""},
		{"login", "--host", ""},
		{"config", "get", "--host", ""},
	} {
		if got := h.complete(args...); strings.Join(got, " ") != strings.Join(wantHosts, " ") {
			t.Errorf("%v: %q, want %q", args, got, wantHosts)
		}
	}
	for _, args := range [][]string{
		{"token", "--host", h.srv.URL, "--user", ""},
		{"switch", "--hostname", h.host, "-u", ""},
		{"logout", "-u", ""}, // the default host: the only one with accounts
	} {
		if got := h.complete(args...); strings.Join(got, " ") != "hubot octocat" {
			t.Errorf("%v: %q", args, got)
		}
	}
	if got := h.complete("token", "--host", "ghe.example.com", "--user", ""); len(got) != 0 {
		t.Errorf("a host without accounts: %q", got)
	}
	// Descriptions say whose the host is, and which login is active.
	r := h.run("", "__complete", "token", "--user", "")
	if !strings.Contains(r.stdout, "hubot\t"+h.host+" (active)") {
		t.Errorf("descriptions: %q", r.stdout)
	}
}

// The completion scripts exist for the four shells, as in the GitHub CLI.
func TestCompletionScripts(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for shell, want := range map[string]string{
		"bash":       "__start_ghlogin",
		"zsh":        "#compdef ghlogin",
		"fish":       "complete -c ghlogin",
		"powershell": "Register-ArgumentCompleter",
	} {
		r := h.run("", "completion", shell)
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion %s: exit %d, %d bytes", shell, r.code, len(r.stdout))
		}
	}
	if r := h.run("", "completion", "tcsh"); r.code != ExitUsage || !strings.Contains(r.stderr, "bash, zsh, fish or powershell") {
		t.Errorf("completion tcsh: exit %d %q", r.code, r.stderr)
	}
	// With no shell: one sentence naming the shells, and an example
	// without the help's padding or comments.
	if r := h.run("", "completion"); r.code != ExitUsage || !strings.HasPrefix(r.stderr,
		"error: ghlogin completion needs a shell: bash, zsh, fish or powershell; for example: ghlogin completion bash > ~/.local/share/bash-completion/completions/ghlogin\n") {
		t.Errorf("completion: exit %d %q", r.code, r.stderr)
	}
	if got := h.complete("completion", ""); strings.Join(got, " ") != "bash zsh fish powershell" {
		t.Errorf("completion's own arguments: %q", got)
	}
}

// The help says where each shell's script goes for good.
func TestCompletionHelpSaysWhereScriptsGo(t *testing.T) {
	h := newHarness(t, emuDefaults)
	r := h.run("", "completion", "bash", "--help")
	for _, want := range []string{
		"~/.local/share/bash-completion/completions/ghlogin",
		"_ghlogin in a directory listed in $fpath",
		"~/.config/fish/completions/ghlogin.fish",
		"your profile ($PROFILE)",
	} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("completion --help lacks %q: exit %d\n%s", want, r.code, r.stdout)
		}
	}
}

// Flags and arguments that take one of a fixed set complete it: --store,
// --client-auth, --source, each command's --format, setting keys and their
// values, git-credential's actions, and the owners already bound.
func TestCompletionOfFixedValues(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	h.run("", "bind", "--user", "octocat", "--owner", "my-org")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"login", "--store", ""}, "keyring kernel file"},
		{[]string{"login", "--client-auth", ""}, "body basic"},
		{[]string{"oidc", "doctor", "--source", ""}, "auto github-actions gce"},
		{[]string{"oidc", "token", "--source", ""}, "auto github-actions gce"},
		{[]string{"oidc", "token", "--format", ""}, "standard full"},
		{[]string{"oidc", "cred-config", "--format", ""}, "text json"},
		{[]string{"config", "set", "store", ""}, "keyring kernel file"},
		{[]string{"config", "set", "protocol", ""}, "https http"},
		{[]string{"config", "set", "pkce", ""}, "true false"},
		{[]string{"config", "set", "client_id", ""}, ""},
		{[]string{"git-credential", ""}, "get store erase"},
		{[]string{"bind", "--remove", "--owner", ""}, "my-org"},
	} {
		if got := strings.Join(h.complete(c.args...), " "); got != c.want {
			t.Errorf("%v: %q, want %q", c.args, got, c.want)
		}
	}
	// Only the owners bound on the host at hand: with accounts on two
	// hosts, the default host is github.com, which has none bound.
	h.saveAccount("ghe.example.com", "hubot", "ghp_other")
	h.run("", "bind", "--host", "ghe.example.com", "--user", "hubot", "--owner", "ghe-org")
	if got := strings.Join(h.complete("bind", "--remove", "--owner", ""), " "); got != "" {
		t.Errorf("default host github.com: %q", got)
	}
	if got := strings.Join(h.complete("bind", "--host", "ghe.example.com", "--remove", "--owner", ""), " "); got != "ghe-org" {
		t.Errorf("--host ghe.example.com: %q", got)
	}
	if got := strings.Join(h.complete("bind", "--host", h.srv.URL, "--remove", "--owner", ""), " "); got != "my-org" {
		t.Errorf("--host %s: %q", h.srv.URL, got)
	}
	keys := h.complete("config", "get", "")
	if len(keys) < 10 || keys[0] != "protocol" || !strings.Contains(strings.Join(keys, " "), "client_auth") {
		t.Errorf("config get keys: %q", keys)
	}
}
