//go:build unix

package cli

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
)

// requireSh returns the shell the exec tests run as their command.
func requireSh(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("sh")
	if err != nil {
		t.Fatalf("no sh on PATH: %v", err)
	}
	return p
}

// envDump is a command that writes the token variables it sees to file.
func envDump(file string) []string {
	return []string{"sh", "-c", `printf 'GH_TOKEN=%s\nGITHUB_TOKEN=%s\nGH_HOST=%s\nGH_ENTERPRISE_TOKEN=%s\nGITHUB_ENTERPRISE_TOKEN=%s\n' "$GH_TOKEN" "$GITHUB_TOKEN" "$GH_HOST" "$GH_ENTERPRISE_TOKEN" "$GITHUB_ENTERPRISE_TOKEN" > "$1"`, "sh", file}
}

func readFile(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestExec(t *testing.T) {
	requireSh(t)
	h := newHarness(t, emuDefaults)
	hubot := h.loginWithToken("hubot")
	octo := h.loginWithToken("octocat") // active
	host := h.srv.URL
	out := filepath.Join(t.TempDir(), "env.txt")
	// GH_TOKEN is for github.com, not this host: it is replaced.
	h.vars["GH_TOKEN"] = "gho_stale"

	// The emulator is not github.com: GH_HOST and the enterprise
	// variables are set too.
	r := h.run("", append([]string{"exec", "--host", host, "--"}, envDump(out)...)...)
	if r.code != 0 {
		t.Fatalf("exec: exit %d %q", r.code, r.stderr)
	}
	want := "GH_TOKEN=" + octo + "\nGITHUB_TOKEN=" + octo + "\nGH_HOST=" + h.host + "\nGH_ENTERPRISE_TOKEN=" + octo + "\nGITHUB_ENTERPRISE_TOKEN=" + octo + "\n"
	if got := readFile(t, out); got != want {
		t.Errorf("the command saw:\n%s\nwant:\n%s", got, want)
	}
	r.noToken(t, octo, hubot)
	if r.stdout != "" || r.stderr != "" {
		t.Errorf("exec printed something of its own: %q %q", r.stdout, r.stderr)
	}

	// Enterprise tokens in the environment never go to a plain-http host:
	// exec replaces them with the account's.
	h.vars["GITHUB_ENTERPRISE_TOKEN"] = "gho_stale_ent"
	h.vars["GH_ENTERPRISE_TOKEN"] = "gho_stale_ent"
	r = h.run("", append([]string{"exec", "--host", host, "--"}, envDump(out)...)...)
	if got := readFile(t, out); r.code != 0 || got != want {
		t.Errorf("with stale enterprise variables: exit %d %q, the command saw:\n%s", r.code, r.stderr, got)
	}
	delete(h.vars, "GITHUB_ENTERPRISE_TOKEN")
	delete(h.vars, "GH_ENTERPRISE_TOKEN")

	// --user, and an owner binding through --repo.
	if r := h.run("", append([]string{"exec", "--host", host, "--user", "hubot", "--"}, envDump(out)...)...); r.code != 0 || !strings.HasPrefix(readFile(t, out), "GH_TOKEN="+hubot+"\n") {
		t.Errorf("--user hubot: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "bind", "--host", host, "--user", "hubot", "--owner", "my-org"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	if r := h.run("", append([]string{"exec", "--host", host, "--repo", "my-org/x", "--"}, envDump(out)...)...); r.code != 0 || !strings.HasPrefix(readFile(t, out), "GH_TOKEN="+hubot+"\n") {
		t.Errorf("--repo my-org/x: exit %d %q", r.code, r.stderr)
	}

	// Exit statuses pass through; flags after the command are the command's.
	for _, tc := range []struct {
		args []string
		code int
	}{
		{[]string{"sh", "-c", "exit 0"}, 0},
		{[]string{"sh", "-c", "exit 1"}, 1},
		{[]string{"sh", "-c", "exit 42"}, 42},
		{[]string{"sh", "-c", `[ "$0" = --user ] && [ "$1" = x ] && exit 7`, "--user", "x"}, 7},
		{[]string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
		{[]string{"sh", "-c", "kill -KILL $$"}, 128 + 9},
		{[]string{"ghlogin-no-such-command-anywhere"}, ExitNotFound},
	} {
		args := append([]string{"exec", "--host", host}, tc.args...)
		if r := h.run("", args...); r.code != tc.code {
			t.Errorf("exec %v: exit %d, want %d (%q)", tc.args, r.code, tc.code, r.stderr)
		}
	}
	if r := h.run("", "exec", "--host", host, "ghlogin-no-such-command-anywhere"); r.stderr != "error: ghlogin-no-such-command-anywhere: command not found\n" {
		t.Errorf("not found: %q", r.stderr)
	}
	if r := h.run("", "exec", "--host", host); r.code != ExitUsage || !strings.Contains(r.stderr, "exec needs a command") {
		t.Errorf("no command: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "exec", "--host", host, "--user", "nobody", "--", "true"); r.code != ExitAuth {
		t.Errorf("unknown --user: exit %d %q", r.code, r.stderr)
	}
}

// On github.com, exec sets GH_TOKEN and GITHUB_TOKEN and drops a GH_HOST
// naming another host; the enterprise variables are left as they were. A
// GH_TOKEN already set wins over the stored accounts (as for ghlogin token
// and git) unless --user names one, and exec says so when a binding would
// have chosen another.
func TestExecGitHubCom(t *testing.T) {
	requireSh(t)
	h := newHarness(t, emuDefaults)
	st := h.store()
	for _, login := range []string{"hubot", "octocat"} {
		if err := st.Save(context.Background(), "github.com", login, store.BackendFile, &store.Secret{Token: "gho_dotcom_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	h.vars["GH_HOST"] = "ghe.example.com"
	h.vars["GH_ENTERPRISE_TOKEN"] = "gho_for_ghe"
	out := filepath.Join(t.TempDir(), "env.txt")
	r := h.run("", append([]string{"exec", "--host", "github.com", "--"}, envDump(out)...)...)
	if r.code != 0 {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	want := "GH_TOKEN=gho_dotcom_octocat\nGITHUB_TOKEN=gho_dotcom_octocat\nGH_HOST=\nGH_ENTERPRISE_TOKEN=gho_for_ghe\nGITHUB_ENTERPRISE_TOKEN=\n"
	if got := readFile(t, out); got != want {
		t.Errorf("the command saw:\n%s\nwant:\n%s", got, want)
	}

	h.vars["GITHUB_TOKEN"] = "gho_from_env"
	// GH_HOST names the default host (ghe.example.com here): github.com is named.
	if r := h.run("", "bind", "--host", "github.com", "--user", "hubot", "--owner", "my-org"); r.code != 0 {
		t.Fatal(r.stderr)
	}
	r = h.run("", append([]string{"exec", "--host", "github.com", "--repo", "my-org/x", "--"}, envDump(out)...)...)
	if r.code != 0 || !strings.HasPrefix(readFile(t, out), "GH_TOKEN=gho_from_env\nGITHUB_TOKEN=gho_from_env\n") ||
		!strings.Contains(r.stderr, "GITHUB_TOKEN is set, so its token is used, not hubot's (owner my-org is bound to hubot); pass --user hubot") {
		t.Errorf("with GITHUB_TOKEN set: exit %d %q\n%s", r.code, r.stderr, readFile(t, out))
	}
	r.noToken(t, "gho_from_env", "gho_dotcom_hubot")
	r = h.run("", append([]string{"exec", "--hostname", "github.com", "-u", "hubot", "--"}, envDump(out)...)...)
	if r.code != 0 || !strings.HasPrefix(readFile(t, out), "GH_TOKEN=gho_dotcom_hubot\nGITHUB_TOKEN=gho_dotcom_hubot\n") || r.stderr != "" {
		t.Errorf("--user hubot with GITHUB_TOKEN set: exit %d %q\n%s", r.code, r.stderr, readFile(t, out))
	}
}

// exec refreshes a token that is due before handing it over.
func TestExecRefreshesDueToken(t *testing.T) {
	requireSh(t)
	h := newHarness(t, emuDefaults)
	app := h.token(emulator.AppClientID, "octocat")
	st := h.store()
	if err := st.Save(context.Background(), h.host, "octocat", store.BackendFile, &store.Secret{Token: app.AccessToken, ExpiresAt: app.ExpiresAt,
		RefreshToken: app.RefreshToken, RefreshTokenExpiresAt: app.RefreshExpiresAt}); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts[h.host].Protocol = "http"
		f.Hosts[h.host].ClientID = emulator.AppClientID
		f.Hosts[h.host].ClientSecret = emulator.AppClientSecret
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h.clk.Advance(app.ExpiresAt.Sub(h.clk.Now()) - time.Minute)
	out := filepath.Join(t.TempDir(), "env.txt")
	r := h.run("", append([]string{"exec", "--host", h.srv.URL, "--"}, envDump(out)...)...)
	if r.code != 0 {
		t.Fatalf("exit %d %q", r.code, r.stderr)
	}
	got := readFile(t, out)
	if h.emu.Stats().Refreshes != 1 || strings.Contains(got, app.AccessToken) || !strings.HasPrefix(got, "GH_TOKEN=ghu_") {
		t.Errorf("refreshes %d; the command saw %q", h.emu.Stats().Refreshes, got)
	}
	r.noToken(t, app.AccessToken, app.RefreshToken)
}
