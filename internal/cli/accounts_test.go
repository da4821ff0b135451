package cli

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/store"
)

func TestStatus(t *testing.T) {
	h := newHarness(t, emuDefaults)
	if r := h.run("", "status"); r.code != ExitAuth || !strings.Contains(r.stderr, "error: not logged in to any host; run: ghlogin login") {
		t.Fatalf("no accounts: exit %d, %q", r.code, r.stderr)
	}
	if r := h.run("", "status", "--json"); r.code != ExitAuth || strings.TrimSpace(r.stdout) != `{
  "hosts": []
}` {
		t.Fatalf("no accounts, --json: exit %d, %q", r.code, r.stdout)
	}
	octo := h.loginWithToken("octocat")
	hubot := h.loginWithToken("hubot")

	r := h.run("", "status")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	file := "file (plaintext at rest in " + filepath.Join(h.dir, store.CredentialsFile) + ")"
	want := h.host + "\n" +
		"  ✓ hubot (active)\n      store: " + file + "\n      scopes: gist, repo\n      token: valid\n" +
		"  ✓ octocat\n      store: " + file + "\n      scopes: gist, repo\n      token: valid\n" +
		"  here: hubot (active account)\n"
	if r.stdout != want {
		t.Errorf("status:\n%s\nwant:\n%s", r.stdout, want)
	}
	r.noToken(t, octo, hubot)

	// JSON, with the environment token named (never its value).
	h.vars["GH_TOKEN"] = "gho_envcanary"
	r = h.run("", "status", "--json", "--offline")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r.noToken(t, octo, hubot, "gho_envcanary")
	var doc session.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Hosts) != 2 || doc.Hosts[0].Host != h.host || doc.Hosts[1].Host != "github.com" ||
		doc.Hosts[1].EnvToken == nil || *doc.Hosts[1].EnvToken != "GH_TOKEN" || len(doc.Hosts[1].Accounts) != 0 {
		t.Fatalf("%+v", doc.Hosts)
	}
	for _, a := range doc.Hosts[0].Accounts {
		if a.State != session.StateUnchecked {
			t.Errorf("--offline checked %s: %s", a.Login, a.State)
		}
	}
	for _, key := range []string{`"login"`, `"active"`, `"store"`, `"scopes"`, `"expires_at": null`, `"state"`, `"env_token": null`, `"env_token": "GH_TOKEN"`} {
		if !strings.Contains(r.stdout, key) {
			t.Errorf("status --json lacks %s:\n%s", key, r.stdout)
		}
	}
	delete(h.vars, "GH_TOKEN")

	// A revoked token is invalid: exit 4 (a new login is needed), and the
	// fix is named.
	h.emu.Revoke(octo)
	r = h.run("", "status", "--host", h.srv.URL)
	if r.code != ExitAuth || !strings.Contains(r.stdout, "✗ octocat") || !strings.Contains(r.stdout, h.host+" rejected the token (HTTP 401): it was revoked or has expired; it was removed from the store; run: ghlogin login --host http://"+h.host) {
		t.Errorf("revoked: exit %d\n%s", r.code, r.stdout)
	}
	// Dead everywhere: token no longer hands it out, and says why (exit 4).
	if r := h.run("", "token", "--host", h.srv.URL, "--user", "octocat"); r.code != ExitAuth || r.stdout != "" || !strings.Contains(r.stderr, "was removed because "+h.host+" rejected the token (HTTP 401)") {
		t.Errorf("token after status found it dead: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// Only the named host; a host with nothing is "not logged in".
	if r := h.run("", "status", "--host", "ghe.example.com"); r.code != ExitAuth || !strings.Contains(r.stderr, "error: not logged in to ghe.example.com; run: ghlogin login --host ghe.example.com") {
		t.Errorf("other host: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "status", "--host", "http://example.com"); r.code != ExitUsage {
		t.Errorf("bad --host: exit %d", r.code)
	}
}

// Expiry and refresh as status reports them: an expired token with a
// refresh token is "expired" (refreshed when used), without one "invalid";
// an API that does not answer is "unreachable".
func TestStatusStates(t *testing.T) {
	h := newHarness(t, emuDefaults)
	st := h.store()
	ctx := context.Background()
	app := h.token(emulator.AppClientID, "octocat")
	save := func(host, login string, sec *store.Secret) {
		if err := st.Save(ctx, host, login, "file", sec); err != nil {
			t.Fatal(err)
		}
	}
	save(h.host, "octocat", &store.Secret{Token: app.AccessToken, ExpiresAt: app.ExpiresAt, RefreshToken: app.RefreshToken, RefreshTokenExpiresAt: app.RefreshExpiresAt})
	save(h.host, "hubot", &store.Secret{Token: "ghu_old", ExpiresAt: epoch.Add(time.Minute)})
	save("127.0.0.1:1", "nobody", &store.Secret{Token: "gho_x"})
	st.UpdateConfig(func(f *config.File) error {
		f.Hosts[h.host].Protocol = "http"
		f.Hosts["127.0.0.1:1"].Protocol = "http"
		return nil
	})
	h.clk.Advance(9 * time.Hour)
	r := h.run("", "status", "--json")
	var doc session.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
		t.Fatalf("%v: %q", err, r.stdout)
	}
	states := map[string]string{}
	for _, hs := range doc.Hosts {
		for _, a := range hs.Accounts {
			states[a.Login] = a.State
		}
	}
	if states["octocat"] != session.StateExpired || states["hubot"] != session.StateInvalid || states["nobody"] != session.StateUnreachable {
		t.Fatalf("states %v", states)
	}
	if r.code != ExitAuth {
		t.Errorf("exit %d with an invalid token", r.code)
	}
}

func TestToken(t *testing.T) {
	h := newHarness(t, emuDefaults)
	if r := h.run("", "token"); r.code != ExitAuth || r.stdout != "" || !strings.Contains(r.stderr, "not logged in to github.com") {
		t.Fatalf("no account: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	octo := h.loginWithToken("octocat")
	hubot := h.loginWithToken("hubot")
	tlsURL := h.startTLS()
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
		code int
	}{
		{"active", nil, []string{"--host", h.srv.URL}, hubot, 0},
		{"bare loopback name, stored protocol", nil, []string{"--host", h.host}, hubot, 0},
		{"named", nil, []string{"--host", h.srv.URL, "--user", "octocat"}, octo, 0},
		{"unknown user", nil, []string{"--host", h.srv.URL, "--user", "nobody"}, "", ExitAuth},
		{"GH_TOKEN for github.com", map[string]string{"GH_TOKEN": "gho_env"}, []string{"--hostname", "github.com"}, "gho_env", 0},
		{"default host: the only one with accounts", map[string]string{"GH_TOKEN": "gho_env"}, nil, hubot, 0},
		{"default host: GH_HOST", map[string]string{"GH_HOST": "github.com", "GH_TOKEN": "gho_env"}, nil, "gho_env", 0},
		{"default host: GHLOGIN_HOST before GH_HOST", map[string]string{"GHLOGIN_HOST": h.srv.URL, "GH_HOST": "github.com"}, []string{"-u", "octocat"}, octo, 0},
		{"default host: GH_HOST names no account", map[string]string{"GH_HOST": "ghe.example.com"}, nil, "", ExitAuth},
		{"default host: a bad GHLOGIN_HOST", map[string]string{"GHLOGIN_HOST": "http://example.com"}, nil, "", ExitUsage},
		{"GH_TOKEN not for others", map[string]string{"GH_TOKEN": "gho_env"}, []string{"--host", h.srv.URL}, hubot, 0},
		{"enterprise token for the named https host", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, []string{"--host", tlsURL}, "gho_ent", 0},
		{"enterprise token never for a plain-http host", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, []string{"--host", h.srv.URL}, hubot, 0},
		{"--user wins over the environment", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, []string{"--host", h.srv.URL, "--user", "octocat"}, octo, 0},
		{"enterprise token not for github.com", map[string]string{"GH_ENTERPRISE_TOKEN": "gho_ent"}, []string{"--host", "github.com"}, "", ExitAuth},
		{"bad store", map[string]string{"GHLOGIN_STORE": "vault"}, nil, "", ExitUsage},
	} {
		for k, v := range tc.env {
			h.vars[k] = v
		}
		r := h.run("", append([]string{"token"}, tc.args...)...)
		for k := range tc.env {
			delete(h.vars, k)
		}
		want := ""
		if tc.want != "" {
			want = tc.want + "\n"
		}
		if r.code != tc.code || r.stdout != want {
			t.Errorf("%s: exit %d, stdout %q, stderr %q", tc.name, r.code, r.stdout, r.stderr)
		}
	}
}

// saveAppAccount stores an expiring GitHub App token pair for login in
// backend, with the App's client ID for the host and its secret in the
// environment, so that refreshes reach the emulator; it returns the pair.
func (h *harness) saveAppAccount(login, backend string) emulator.TokenSet {
	h.t.Helper()
	st := h.store()
	ts := h.token(emulator.AppClientID, login)
	if err := st.Save(context.Background(), h.host, login, backend, &store.Secret{
		Token: ts.AccessToken, ExpiresAt: ts.ExpiresAt, RefreshToken: ts.RefreshToken, RefreshTokenExpiresAt: ts.RefreshExpiresAt,
	}); err != nil {
		h.t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		hc := f.Hosts[h.host]
		hc.Protocol, hc.ClientID = "http", emulator.AppClientID
		return nil
	}); err != nil {
		h.t.Fatal(err)
	}
	h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.AppClientSecret
	return ts
}

// An expiring GitHub App token is refreshed when due, once; the new pair
// is stored.
func TestTokenRefresh(t *testing.T) {
	h := newHarness(t, emuDefaults)
	st := h.store()
	ts := h.saveAppAccount("octocat", "keyring")
	if r := h.run("", "token", "--host", h.host); r.code != 0 || r.stdout != ts.AccessToken+"\n" {
		t.Fatalf("fresh: exit %d %q", r.code, r.stderr)
	}
	h.clk.Advance(ts.ExpiresAt.Sub(h.clk.Now()) - time.Minute)
	r := h.run("", "token", "--host", h.host)
	if r.code != 0 || r.stdout == ts.AccessToken+"\n" || !strings.HasPrefix(r.stdout, "ghu_") {
		t.Fatalf("due: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if n := h.emu.Stats().Refreshes; n != 1 {
		t.Fatalf("%d refreshes", n)
	}
	sec, _ := st.Secret(context.Background(), store.Account{Host: h.host, Login: "octocat"})
	if sec.Token+"\n" != r.stdout || sec.RefreshToken == ts.RefreshToken {
		t.Fatal("the new pair was not stored")
	}
	// The refresh token expired too: only a login helps (exit 4).
	h.clk.Advance(200 * 24 * time.Hour)
	if r := h.run("", "token", "--host", h.host); r.code != ExitAuth || !strings.Contains(r.stderr, "ghlogin login --host") {
		t.Fatalf("expired: exit %d %q", r.code, r.stderr)
	}
}

func TestLogoutAndSwitch(t *testing.T) {
	h := newHarness(t, emulator.Config{Users: []string{"octocat", "hubot", "monalisa"}})
	h.loginWithToken("octocat")
	h.loginWithToken("hubot")
	r := h.run("", "switch", "--host", h.srv.URL)
	if r.code != 0 || r.stderr != "Switched the active account for "+h.host+" from hubot to octocat\n" {
		t.Fatalf("switch: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "switch", "--host", h.srv.URL, "--user", "hubot"); r.code != 0 || !strings.Contains(r.stderr, "from octocat to hubot") {
		t.Fatalf("switch --user: exit %d %q", r.code, r.stderr)
	}
	// Switching to the active account changes nothing, and says so.
	if r := h.run("", "switch", "-u", "hubot"); r.code != 0 || r.stderr != "hubot is already the active account for "+h.host+"; nothing changed\n" {
		t.Fatalf("switch to the active account: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "switch", "--host", h.srv.URL, "--user", "nobody"); r.code != ExitAuth {
		t.Fatalf("switch to nobody: exit %d", r.code)
	}
	// Logging out of an inactive account leaves the active one, and does
	// not call it "now" active.
	h.loginWithToken("monalisa")
	h.run("", "switch", "-u", "hubot")
	if r := h.run("", "logout", "-u", "monalisa", "--local"); r.code != 0 || r.stderr != "The token was not revoked (--local): it stays valid on the server until it expires or is revoked.\nLogged out of "+h.host+" as monalisa\n" {
		t.Fatalf("logout of an inactive account: exit %d %q", r.code, r.stderr)
	}
	// The enterprise token never applies to a plain-http host: no note.
	h.vars["GH_ENTERPRISE_TOKEN"] = "gho_ent"
	r = h.run("", "logout", "--host", h.srv.URL, "--local")
	want := "The token was not revoked (--local): it stays valid on the server until it expires or is revoked.\nLogged out of " + h.host + " as hubot\nThe active account for " + h.host + " is now octocat\n"
	if r.code != 0 || r.stderr != want {
		t.Fatalf("logout: exit %d %q", r.code, r.stderr)
	}
	// Over https it does, and logout says so.
	tlsURL := h.startTLS()
	tlsHost := strings.TrimPrefix(tlsURL, "https://")
	tok := h.token(emulator.DefaultClientID, "hubot", "repo").AccessToken
	if r := h.run(tok+"\n", "login", "--with-token", "--host", tlsURL, "--store", "file"); r.code != 0 {
		t.Fatalf("login over https: exit %d %q", r.code, r.stderr)
	}
	r = h.run("", "logout", "--host", tlsURL)
	want = "The token for " + tlsHost + " was not revoked (revoking it needs the OAuth app's client secret); it stays valid until it expires or is revoked: revoke it at " + tlsURL + "/settings/applications\n" +
		"Logged out of " + tlsHost + " as hubot\nnote: GH_ENTERPRISE_TOKEN is still set and is still used for " + tlsHost + "\n"
	if r.code != 0 || r.stderr != want {
		t.Fatalf("logout over https: exit %d %q", r.code, r.stderr)
	}
	// One account left: switch says there is nothing to switch to.
	if r := h.run("", "switch"); r.code != 0 || !strings.Contains(r.stderr, "octocat is the only account for "+h.host+", and it is active; log in to another with: ghlogin login --host http://"+h.host) {
		t.Fatalf("switch with one account: exit %d %q", r.code, r.stderr)
	}
	delete(h.vars, "GH_ENTERPRISE_TOKEN")
	if r := h.run("", "logout", "--host", h.srv.URL, "--user", "octocat"); r.code != 0 || strings.Contains(r.stderr, "Active account") {
		t.Fatalf("last logout: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "logout", "--host", h.srv.URL); r.code != ExitAuth {
		t.Fatalf("nothing left: exit %d", r.code)
	}
	if accts, _ := h.store().Accounts(""); len(accts) != 0 {
		t.Fatalf("accounts left: %v", accts)
	}
}

func TestConfigCommands(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for _, tc := range []struct {
		args []string
		code int
		out  string
	}{
		{[]string{"config", "get", "client_id"}, 0, "\n"},
		{[]string{"config", "set", "client_id", "Iv1.mine"}, 0, ""},
		{[]string{"config", "get", "client_id"}, 0, "Iv1.mine\n"},
		{[]string{"config", "get", "--host", "github.com", "client_id"}, 0, "Iv1.mine\n"},
		{[]string{"config", "set", "--host", h.srv.URL, "client_id", emulator.DefaultClientID}, 0, ""},
		{[]string{"config", "get", "--host", h.host, "protocol"}, 0, "http\n"},
		{[]string{"config", "get", "nonsense"}, ExitUsage, ""},
		{[]string{"config", "set", "client_auth", "digest"}, ExitUsage, ""},
		{[]string{"config", "set", "--host", "http://example.com", "client_id", "x"}, ExitUsage, ""},
	} {
		r := h.run("", tc.args...)
		if r.code != tc.code || (tc.code == 0 && r.stdout != tc.out) {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", tc.args, r.code, r.stdout, r.stderr)
		}
	}
	r := h.run("", "config", "list", "--host", h.srv.URL)
	for _, want := range []string{"protocol=http\n", "client_id=" + emulator.DefaultClientID + "\n", "device_code_url=" + h.srv.URL + "/login/device/code (default)\n"} {
		if r.code != 0 || !strings.Contains(r.stdout, want) {
			t.Errorf("config list lacks %q:\n%s", want, r.stdout)
		}
	}
	// The configured client ID is used by a login.
	h2 := h.run("", "login", "--host", h.host, "--json", "--store", "file")
	if ev := jsonLines(t, h2.stdout); len(ev) == 0 || ev[0]["event"] != "code" {
		t.Errorf("login with the configured client ID: %v %q", ev, h2.stderr)
	}
}

// A client secret is never a command-line value: "-" reads it from
// standard input (hidden on a terminal; test/hostile types one into tmux).
func TestConfigClientSecretFromStdin(t *testing.T) {
	h := newHarness(t, emuDefaults)
	const secret = "CLIENTSECRETCANARY0123456789"
	r := h.run("", "config", "set", "--host", "ghe.example.com", "client_secret", secret)
	if r.code != ExitUsage || !strings.Contains(r.stderr, "run: ghlogin config set --host ghe.example.com client_secret - and type it, or pipe it in") ||
		strings.Contains(r.stderr, secret) {
		t.Fatalf("a value on the command line: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := h.run("", "config", "get", "--host", "ghe.example.com", "client_secret"); r.stdout != "\n" {
		t.Fatalf("the refused secret was stored: %q", r.stdout)
	}
	if r := h.run(secret+"\n", "config", "set", "--host", "ghe.example.com", "client_secret", "-"); r.code != 0 || r.stdout+r.stderr != "" {
		t.Fatalf("client_secret -: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	// config get shows it as config list does: masked, so it says only
	// that it is set. The config file holds it.
	if r := h.run("", "config", "get", "--host", "ghe.example.com", "client_secret"); r.code != 0 || r.stdout != config.Mask+"\n" {
		t.Fatalf("config get = exit %d %q", r.code, r.stdout)
	}
	if r := h.run("", "config", "list", "--host", "ghe.example.com"); !strings.Contains(r.stdout, "client_secret="+config.Mask+"\n") || strings.Contains(r.stdout, secret) {
		t.Fatalf("config list:\n%s", r.stdout)
	}
	if b, err := os.ReadFile(filepath.Join(h.dir, "config.toml")); err != nil || !strings.Contains(string(b), secret) {
		t.Fatalf("config.toml lacks the secret: %v", err)
	}
	if r := h.run("", "config", "set", "--host", "ghe.example.com", "client_secret", "-"); r.code != ExitUsage || !strings.Contains(r.stderr, "no client_secret on standard input") {
		t.Fatalf("empty stdin: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "config", "set", "--host", "ghe.example.com", "client_secret", ""); r.code != 0 {
		t.Fatalf("unset: exit %d %q", r.code, r.stderr)
	}
	if r := h.run("", "config", "get", "--host", "ghe.example.com", "client_secret"); r.stdout != "\n" {
		t.Fatalf("config get after unset = %q", r.stdout)
	}
}

// A credentials.json open to other users is said once, and the tokens in it
// are not called invalid: they were not read.
func TestStatusInsecureFileSaidOnce(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	h.loginWithToken("hubot")
	if err := os.Chmod(filepath.Join(h.dir, "credentials.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The file's trust is a local fact: --offline says it as status does.
	for _, extra := range [][]string{nil, {"--offline"}} {
		r := h.run("", append([]string{"status"}, extra...)...)
		if r.code != ExitFailure {
			t.Errorf("status %v: exit %d", extra, r.code)
		}
		if n := strings.Count(r.stdout, "chmod 600"); n != 1 {
			t.Errorf("status %v: the chmod advice appears %d times:\n%s", extra, n, r.stdout)
		}
		if strings.Contains(r.stdout, "invalid") || strings.Count(r.stdout, "token: unreadable: not read: the file store is open to other users (see above)") != 2 {
			t.Errorf("status %v:\n%s", extra, r.stdout)
		}
		r = h.run("", append([]string{"status", "--json"}, extra...)...)
		var doc session.StatusReport
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil {
			t.Fatal(err)
		}
		if r.code != ExitFailure || len(doc.Problems) != 1 || !strings.Contains(doc.Problems[0], "chmod 600") {
			t.Errorf("status --json %v: exit %d, problems %q", extra, r.code, doc.Problems)
		}
		for _, a := range doc.Hosts[0].Accounts {
			if a.State != session.StateUnreadable {
				t.Errorf("%v %s: %s", extra, a.Login, a.State)
			}
		}
	}
}

// A damaged credentials.json is said by status --offline too, as status
// says it, without asking the server.
func TestStatusOfflineDamagedFile(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	if err := os.WriteFile(filepath.Join(h.dir, "credentials.json"), []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "status", "--offline")
	if r.code != ExitFailure || !strings.Contains(r.stdout, "is not a valid credentials file") ||
		!strings.Contains(r.stdout, "token: unreadable: not read: the file store is damaged (see above)") {
		t.Errorf("exit %d:\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// status --host X, with nothing there, suggests logging in to X, in the
// error: shape of every error exit.
func TestStatusSuggestsTheHost(t *testing.T) {
	h := newHarness(t, emuDefaults)
	r := h.run("", "status", "--hostname", "ghe.example.com")
	if r.code != ExitAuth || r.stderr != "error: not logged in to ghe.example.com; run: ghlogin login --host ghe.example.com\n" {
		t.Errorf("exit %d %q", r.code, r.stderr)
	}
}

// config get and config list agree: both show the value in force, and list
// says where it comes from (default, the environment, the config file).
func TestConfigEffectiveValues(t *testing.T) {
	h := newHarness(t, emuDefaults)
	get := func(key string, extra ...string) string {
		t.Helper()
		r := h.run("", append([]string{"config", "get", key}, extra...)...)
		if r.code != 0 {
			t.Fatalf("config get %s: exit %d %q", key, r.code, r.stderr)
		}
		return strings.TrimSuffix(r.stdout, "\n")
	}
	if got := get("scopes"); got != "repo,read:org,gist" {
		t.Errorf("config get scopes = %q, want the default", got)
	}
	h.vars["GHLOGIN_STORE"] = "file"
	h.vars["GHLOGIN_CLIENT_ID"] = "Iv1.fromenv"
	r := h.run("", "config", "list")
	for _, want := range []string{
		"scopes=repo,read:org,gist (default)\n",
		"store=file (from GHLOGIN_STORE)\n",
		"client_id=Iv1.fromenv (from GHLOGIN_CLIENT_ID)\n",
		"client_secret= (not set)\n",
		"keyring_timeout=3s (default)\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config list lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := get("store"); got != "file" {
		t.Errorf("config get store = %q", got)
	}
	// The environment's store wins over the file's; its client ID does not.
	h.run("", "config", "set", "store", "keyring")
	h.run("", "config", "set", "client_id", "Iv1.fromfile")
	r = h.run("", "config", "list")
	for _, want := range []string{"store=file (from GHLOGIN_STORE, over the config file's keyring)\n", "client_id=Iv1.fromfile\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("config list lacks %q:\n%s", want, r.stdout)
		}
	}
	// Every key: get prints what list shows.
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		kv, _, _ := strings.Cut(line, " (")
		key, value, _ := strings.Cut(kv, "=")
		if value == config.Mask {
			continue
		}
		if got := get(key); got != value {
			t.Errorf("config get %s = %q, config list says %q", key, got, value)
		}
	}
	// client_auth takes the values --client-auth takes, stored canonically.
	if r := h.run("", "config", "set", "client_auth", "post"); r.code != 0 {
		t.Fatalf("client_auth post: exit %d %q", r.code, r.stderr)
	}
	if got := get("client_auth"); got != "body" {
		t.Errorf("client_auth = %q", got)
	}
	if r := h.run("", "config", "set", "client_auth", "digest"); r.code != ExitUsage {
		t.Errorf("client_auth digest: exit %d", r.code)
	}
}

// A login kept in the kernel keyring: status says it is in memory and for
// how long; after a restart (the backend forgot it) token exits 4 with the
// sentence, and status shows it gone.
func TestKernelStoreStatusAndGone(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.kernel = storefake.New(store.BackendKernel, nil)
	tok := h.token(emulator.DefaultClientID, "octocat", "repo").AccessToken
	if r := h.run(tok+"\n", "login", "--with-token", "--host", h.srv.URL, "--store", "kernel"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	r := h.run("", "status")
	if r.code != 0 || !strings.Contains(r.stdout, "store: kernel (in memory only; kept until the machine restarts") {
		t.Fatalf("exit %d\n%s", r.code, r.stdout)
	}
	r = h.run("", "status", "--json")
	if !strings.Contains(r.stdout, `"plaintext_at_rest": false`) || !strings.Contains(r.stdout, `"kept_until": "until the machine restarts`) {
		t.Errorf("status --json:\n%s", r.stdout)
	}
	if r := h.run("", "token", "--host", h.srv.URL); r.code != 0 || strings.TrimSpace(r.stdout) != tok {
		t.Fatalf("token: exit %d\n%s", r.code, r.stderr)
	}
	h.kernel.Forget()
	r = h.run("", "token", "--host", h.srv.URL)
	if r.code != ExitAuth || !strings.Contains(r.stderr, "was kept in memory and is gone (the machine restarted or it expired); log in again: ghlogin login --host http://"+h.host) {
		t.Fatalf("token after a restart: exit %d\n%s", r.code, r.stderr)
	}
	// status exits 4 (a new login is needed), online and offline: whether
	// the key is there is a local fact, not an API check.
	for _, args := range [][]string{{"status"}, {"status", "--offline"}} {
		r = h.run("", args...)
		if r.code != ExitAuth || !strings.Contains(r.stdout, "✗ octocat") || !strings.Contains(r.stdout, "kept in memory and is gone (the machine restarted or it expired); log in again: ghlogin login --host http://"+h.host) {
			t.Fatalf("%v after a restart: exit %d\n%s", args, r.code, r.stdout)
		}
		r = h.run("", append(args, "--json")...)
		var doc session.StatusReport
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != ExitAuth || len(doc.Hosts) != 1 {
			t.Fatalf("%v --json: exit %d %v\n%s", args, r.code, err, r.stdout)
		}
		if ac := doc.Hosts[0].Accounts[0]; ac.State != session.StateInvalid || !strings.Contains(ac.Error, "kept in memory and is gone") {
			t.Fatalf("%v --json: %+v", args, ac)
		}
	}

	// Something else wrong as well (a file store open to others): exit 1,
	// since a new login alone would not fix it.
	tok2 := h.token(emulator.DefaultClientID, "hubot", "repo").AccessToken
	if r := h.run(tok2+"\n", "login", "--with-token", "--host", h.srv.URL, "--store", "file"); r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if err := os.Chmod(filepath.Join(h.dir, "credentials.json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r = h.run("", "status"); r.code != ExitFailure || !strings.Contains(r.stdout, "kept in memory and is gone") {
		t.Fatalf("status, gone and a store open to others: exit %d\n%s", r.code, r.stdout)
	}
}

// An enterprise token in the environment is never sent to a plain-http
// host; token and status say so instead of a bare "not logged in".
func TestIgnoredEnterpriseTokenIsNamed(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.vars["GH_ENTERPRISE_TOKEN"] = "ghp_canary_enterprise"
	want := "(GH_ENTERPRISE_TOKEN is set, but it is never sent to a host reached over plain http)"
	for _, args := range [][]string{{"token", "--host", h.srv.URL}, {"status", "--host", h.srv.URL, "--offline"}} {
		r := h.run("", args...)
		if r.code != ExitAuth || !strings.Contains(r.stderr, want) || strings.Contains(r.stdout+r.stderr, "ghp_canary_enterprise") {
			t.Errorf("%v: exit %d %q %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// With accounts on two hosts and none named, the default host is
// github.com (SPEC's rule); "not logged in to github.com" names the hosts
// that have accounts.
func TestNotLoggedInNamesTheHostsWithAccounts(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	h.saveAccount("ghe.example.com", "hubot", "ghp_other")
	r := h.run("", "token")
	want := "(accounts exist on " + "http://" + h.host + " and ghe.example.com: name one with --host)"
	if r.code != ExitAuth || !strings.Contains(r.stderr, "not logged in to github.com") || !strings.Contains(r.stderr, want) {
		t.Errorf("exit %d %q, want %q", r.code, r.stderr, want)
	}
	// A named host is not second-guessed.
	if r := h.run("", "token", "--host", "github.com"); strings.Contains(r.stderr, "accounts exist") {
		t.Errorf("--host github.com: %q", r.stderr)
	}
}

// A token the API refuses, on an account with a refresh token: status
// refreshes it at once (so nothing hands out the refused one), and takes
// the account's secret out only when the refresh token is refused too.
func TestStatusRefreshesARefusedTokenWithARefreshToken(t *testing.T) {
	h := newHarness(t, emuDefaults)
	ts := h.saveAppAccount("octocat", "file")

	// The access token is refused (403 invalid_token); its refresh token works.
	if err := h.emu.SetTokenMode(ts.AccessToken, emulator.TokenInvalid403); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "status", "--host", h.srv.URL)
	if r.code != 0 || !strings.Contains(r.stdout, "token: valid") || h.emu.Stats().Refreshes != 1 {
		t.Fatalf("status: exit %d, %d refreshes\n%s%s", r.code, h.emu.Stats().Refreshes, r.stdout, r.stderr)
	}
	sec := h.stored("octocat")
	if sec.Token == ts.AccessToken || sec.RefreshToken == ts.RefreshToken {
		t.Fatal("the refused pair is still stored")
	}
	if r := h.run("", "token", "--host", h.srv.URL); r.code != 0 || r.stdout != sec.Token+"\n" {
		t.Fatalf("token after the refresh: exit %d %q", r.code, r.stderr)
	}

	// Now the whole grant is revoked: the refresh is refused too, and the
	// account's secret is taken out.
	h.emu.Revoke(sec.Token)
	r = h.run("", "status", "--host", h.srv.URL)
	if r.code != ExitAuth || !strings.Contains(r.stdout, "removed from the store") {
		t.Fatalf("status after revocation: exit %d\n%s", r.code, r.stdout)
	}
	if r := h.run("", "token", "--host", h.srv.URL); r.code != ExitAuth || r.stdout != "" {
		t.Fatalf("token after revocation: exit %d %q", r.code, r.stdout)
	}
}
