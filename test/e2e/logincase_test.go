package e2e

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// TestLoginCaseOnGitHubHosts: GitHub logins are case-insensitive, so
// --user OCTOCAT, git's username=OctoCat, switch and bind find the account
// stored as octocat, which keeps its spelling.
func TestLoginCaseOnGitHubHosts(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	host := emuHost(srv)
	s := newSandbox(t)
	octo := issueToken(t, srv, "octocat", "repo")
	hubot := issueToken(t, srv, "hubot", "repo")
	s.loginTok(srv.URL(), octo)
	s.loginTok(srv.URL(), hubot) // hubot is active

	for _, user := range []string{"OCTOCAT", "OctoCat", "octocat"} {
		if got := s.mustToken("--host", host, "--user", user); got != octo {
			t.Errorf("token --user %s gives another account's token", user)
		}
	}
	r := s.run("", "exec", "--host", host, "--user", "OCTOCAT", "--", "sh", "-c", `test "$GH_ENTERPRISE_TOKEN" = "`+octo+`"`)
	if r.code != 0 {
		t.Errorf("exec --user OCTOCAT: exit %d\n%s", r.code, r.stderr)
	}
	r = s.run("protocol=http\nhost="+host+"\nusername=OctoCat\n\n", "git-credential", "get")
	if r.code != 0 || !strings.Contains(r.stdout, "password="+octo+"\n") {
		t.Errorf("git-credential get with username=OctoCat: exit %d, stderr %q, answered with octocat's token: %t", r.code, r.stderr, strings.Contains(r.stdout, octo))
	}

	if r := s.run("", "switch", "--host", host, "--user", "OCTOCAT"); r.code != 0 {
		t.Fatalf("switch --user OCTOCAT: exit %d\n%s", r.code, r.stderr)
	}
	if got := s.mustToken("--host", host); got != octo {
		t.Error("switch --user OCTOCAT did not make octocat active")
	}
	if r := s.run("", "bind", "--host", host, "--user", "HUBOT", "--owner", "robots"); r.code != 0 {
		t.Fatalf("bind --user HUBOT: exit %d\n%s", r.code, r.stderr)
	}
	cfg, _ := os.ReadFile(filepath.Join(s.dir, "config", "config.toml"))
	if !strings.Contains(string(cfg), `robots = "hubot"`) || !strings.Contains(string(cfg), `active = "octocat"`) || strings.Contains(string(cfg), "OCTOCAT") || strings.Contains(string(cfg), "HUBOT") {
		t.Errorf("the stored spellings changed:\n%s", cfg)
	}
	r = s.run("", "status", "--json", "--offline", "--host", host)
	logins := map[string]bool{}
	for _, a := range parseAcctStatus(t, r.stdout).find(t, host).Accounts {
		logins[a.Login] = true
	}
	if !logins["octocat"] || !logins["hubot"] || len(logins) != 2 {
		t.Errorf("status lists %v, want octocat and hubot as stored", logins)
	}
	if r := s.run("", "token", "--host", host, "--user", "nobody"); r.code != 4 {
		t.Errorf("token --user nobody: exit %d, want 4", r.code)
	}
}

// TestLoginCaseOnOIDCHosts: an OpenID Connect server's logins (its
// subjects or user names) may be case-sensitive, so they match exactly.
func TestLoginCaseOnOIDCHosts(t *testing.T) {
	s := newSandbox(t)
	const host = "127.0.0.1:9"
	const tok = "oidc-access-token-of-Alice-0123456789"
	dir := filepath.Join(s.dir, "config")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf("[hosts.%q]\nprotocol = \"http\"\nissuer = \"http://%s\"\nclient_id = \"cli\"\nactive = \"Alice\"\n\n[hosts.%q.accounts.Alice]\nstore = \"file\"\n", host, host, host)
	creds, _ := json.Marshal(map[string]map[string]map[string]string{host: {"Alice": {"token": tok}}})
	if err := os.WriteFile(filepath.Join(dir, "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "credentials.json"), creds, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := s.mustToken("--host", "http://"+host, "--user", "Alice"); got != tok {
		t.Errorf("token --user Alice = %q", got)
	}
	if r := s.run("", "token", "--host", "http://"+host, "--user", "alice"); r.code != 4 || strings.Contains(r.stdout, tok) {
		t.Errorf("token --user alice on an OpenID Connect host: exit %d, stdout %q; want exit 4", r.code, r.stdout)
	}
}
