package cli

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// These tests run the end of a token's life against the emulator: logout
// revoking it (with and without the client secret), the SAML single sign-on
// answer, a dead token answered with 403 invalid_token, scopes a server
// leaves out of its reply, and refresh changing an account's scopes.

// valid asks the emulator's API whether token works.
func (h *harness) valid(token string) bool {
	h.t.Helper()
	_, err := (&githubapi.Client{}).GetUser(context.Background(), h.srv.URL+"/api/v3/user", "", token)
	if err != nil && !githubapi.IsUnauthorized(err) {
		h.t.Fatalf("GET /user: %v", err)
	}
	return err == nil
}

// setHost changes settings of the emulator's host in the config file.
func (h *harness) setHost(fn func(*config.Host)) {
	h.t.Helper()
	err := h.store().UpdateConfig(func(c *config.File) error {
		hc, err := c.EnsureHost(h.host)
		if err != nil {
			return err
		}
		fn(hc)
		return nil
	})
	if err != nil {
		h.t.Fatal(err)
	}
}

// stored returns the stored secret of the host's account login.
func (h *harness) stored(login string) *store.Secret {
	h.t.Helper()
	sec, err := h.store().Secret(context.Background(), store.Account{Host: h.host, Login: login})
	if err != nil {
		h.t.Fatalf("secret of %s: %v", login, err)
	}
	return sec
}

// Logout revokes the token through DELETE /applications/{client_id}/token
// when the client secret is configured; without it, it says the token stays
// valid and names the page to revoke it; a refused revocation is reported
// and the account still goes; --local revokes nothing.
func TestLogoutRevocation(t *testing.T) {
	page := func(h *harness) string {
		return h.srv.URL + "/settings/connections/applications/" + emulator.DefaultClientID
	}
	for _, tc := range []struct {
		name   string
		secret string
		local  bool
		// revoked: the emulator no longer accepts the token.
		revoked bool
		want    func(h *harness) string
	}{
		{"with the secret", emulator.DefaultClientSecret, false, true, func(*harness) string { return "Revoked the token on the server.\n" }},
		{"without the secret", "", false, false, func(h *harness) string {
			return "The token for " + h.host + " was not revoked (revoking it needs the OAuth app's client secret); it stays valid until it expires or is revoked: revoke it at " + page(h) + "\n"
		}},
		{"a wrong secret", "not-the-secret", false, false, func(h *harness) string {
			return "warning: revoking the token at " + h.srv.URL + "/api/v3/applications/" + emulator.DefaultClientID + "/token failed: "
		}},
		{"--local", emulator.DefaultClientSecret, true, false, func(*harness) string {
			return "The token was not revoked (--local): it stays valid on the server until it expires or is revoked.\n"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, emuDefaults)
			tok := h.loginWithToken("octocat")
			h.setHost(func(hc *config.Host) { hc.ClientID, hc.ClientSecret = emulator.DefaultClientID, tc.secret })
			args := []string{"logout", "--host", h.srv.URL}
			if tc.local {
				args = append(args, "--local")
			}
			r := h.run("", args...)
			if r.code != 0 || !strings.HasPrefix(r.stderr, tc.want(h)) || !strings.Contains(r.stderr, "Logged out of "+h.host+" as octocat\n") {
				t.Fatalf("exit %d\n%s\nwant it to start with %q", r.code, r.stderr, tc.want(h))
			}
			if tc.name == "a wrong secret" && !strings.Contains(r.stderr, "refused the OAuth app's client ID and secret (HTTP 401) (check the host's client_id and client_secret settings); revoke it at "+page(h)) {
				t.Errorf("a refused revocation does not name the settings and the page:\n%s", r.stderr)
			}
			r.noToken(t, tok, tc.secret)
			if got := h.valid(tok); got == tc.revoked {
				t.Errorf("token still valid: %v", got)
			}
			if _, err := h.store().Resolve(h.host, "octocat"); err == nil {
				t.Error("the account is still stored")
			}
		})
	}
}

// GitHub's SAML answer (403 with X-GitHub-SSO) is not a dead token: status
// says to authorize the token and git's erase keeps it. A 403 with
// error="invalid_token" is a dead token everywhere: status says what the
// server answered, and git's erase removes the token.
func TestForbiddenAnswers(t *testing.T) {
	h := newHarness(t, emuDefaults)
	tok := h.loginWithToken("octocat")

	if err := h.emu.SetTokenMode(tok, emulator.TokenSSORequired); err != nil {
		t.Fatal(err)
	}
	r := h.run("", "status", "--host", h.srv.URL)
	if r.code != 0 || !strings.Contains(r.stdout, "! octocat") ||
		!strings.Contains(r.stdout, "token: sso_required: ") ||
		!strings.Contains(r.stdout, "; authorize this token for the organisation's single sign-on: open https://") {
		t.Fatalf("status with SAML SSO: exit %d\n%s", r.code, r.stdout)
	}
	erase := "protocol=http\nhost=" + h.host + "\nusername=octocat\npassword=" + tok + "\n\n"
	if r := h.run(erase, "git-credential", "erase"); r.code != 0 {
		t.Fatalf("erase: exit %d %s", r.code, r.stderr)
	}
	if sec := h.stored("octocat"); sec.Token != tok {
		t.Fatal("git's erase removed a token that only needs SSO authorization")
	}

	// A plain 403 is an answer, not a dead token and not a network
	// failure: "refused", and the token is kept.
	if err := h.emu.SetTokenMode(tok, emulator.TokenForbidden); err != nil {
		t.Fatal(err)
	}
	r = h.run("", "status", "--host", h.srv.URL)
	if !strings.Contains(r.stdout, "token: refused: ") || strings.Contains(r.stdout, "unreachable") {
		t.Fatalf("status with a plain 403: exit %d\n%s", r.code, r.stdout)
	}
	if sec := h.stored("octocat"); sec.Token != tok {
		t.Fatal("status removed a token the server refused without saying it is dead")
	}

	if err := h.emu.SetTokenMode(tok, emulator.TokenInvalid403); err != nil {
		t.Fatal(err)
	}
	r = h.run("", "status", "--host", h.srv.URL, "--json")
	var doc session.StatusReport
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || r.code != ExitAuth {
		t.Fatalf("status --json: exit %d %v\n%s", r.code, err, r.stdout)
	}
	ac := doc.Hosts[0].Accounts[0]
	if ac.State != session.StateInvalid || !strings.Contains(ac.Error, "rejected the token (HTTP 403, invalid_token)") || strings.Contains(ac.Error, "HTTP 401") {
		t.Fatalf("status with 403 invalid_token: %+v", ac)
	}
	if r := h.run(erase, "git-credential", "erase"); r.code != 0 {
		t.Fatalf("erase: exit %d %s", r.code, r.stderr)
	}
	if r := h.run("", "token", "--host", h.srv.URL); r.code != ExitAuth || r.stdout != "" || !strings.Contains(r.stderr, "HTTP 403, invalid_token") {
		t.Fatalf("token after erase of a dead token: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// A server that leaves scope out of its token reply granted the scopes
// requested (RFC 6749 §5.1): they are recorded, not "none".
func TestScopesOmittedFromReply(t *testing.T) {
	clients := emulator.DefaultClients()
	clients[0].OmitScope = true
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1, Clients: clients})
	r := h.run("", "login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file", "--scopes", "repo,gist")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	if sec := h.stored("octocat"); !oauth.SameScopes(sec.Scopes, []string{"repo", "gist"}) || !oauth.SameScopes(sec.RequestedScopes, []string{"repo", "gist"}) {
		t.Fatalf("stored scopes %v, requested %v", sec.Scopes, sec.RequestedScopes)
	}
	if r := h.run("", "status", "--host", h.srv.URL, "--offline"); !strings.Contains(r.stdout, "scopes: gist, repo\n") {
		t.Fatalf("status:\n%s", r.stdout)
	}
}

// refresh logs in again for the account with the new scope set, replaces
// its token (keeping the account's settings and store), and revokes the old
// one; a login approved as someone else is refused and the old token kept.
func TestRefreshScopes(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	r := h.run("", "login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file", "--scopes", "repo")
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	h.setHost(func(hc *config.Host) { hc.ClientSecret = emulator.DefaultClientSecret })
	old := h.stored("octocat").Token

	r = h.run("", "refresh", "--host", h.srv.URL, "--add-scopes", "workflow,gist")
	if r.code != 0 {
		t.Fatalf("refresh: exit %d\n%s", r.code, r.stderr)
	}
	if !strings.Contains(r.stderr, "with the scopes repo, workflow, gist (now repo)") || !strings.Contains(r.stderr, "Revoked the token on the server.") {
		t.Errorf("refresh said:\n%s", r.stderr)
	}
	sec := h.stored("octocat")
	if sec.Token == old || !oauth.SameScopes(sec.Scopes, []string{"repo", "workflow", "gist"}) || h.valid(old) || !h.valid(sec.Token) {
		t.Fatalf("after refresh: new token %v, scopes %v, old valid %v", sec.Token != old, sec.Scopes, h.valid(old))
	}
	r.noToken(t, old, sec.Token)
	cfg, _ := h.store().Config()
	if hc := cfg.Hosts[h.host]; hc.Accounts["octocat"].Store != "file" || hc.ClientID != emulator.DefaultClientID || hc.Scopes != nil {
		t.Errorf("settings after refresh: %+v", hc)
	}

	r = h.run("", "refresh", "--host", h.srv.URL, "--remove-scopes", "workflow")
	if r.code != 0 || !oauth.SameScopes(h.stored("octocat").Scopes, []string{"repo", "gist"}) {
		t.Fatalf("refresh --remove-scopes: exit %d %v\n%s", r.code, h.stored("octocat").Scopes, r.stderr)
	}
	if strings.Contains(r.stderr, "drops") {
		t.Errorf("refresh --remove-scopes warned about --scopes:\n%s", r.stderr)
	}

	// hubot's refresh is approved by octocat (the emulator approves as the
	// first user): refused, hubot keeps his token.
	hubot := h.loginWithToken("hubot")
	r = h.run("", "refresh", "--host", h.srv.URL, "--user", "hubot", "--scopes", "repo")
	if r.code != ExitFailure || !strings.Contains(r.stderr, "is for octocat, not hubot: the token for hubot was kept") {
		t.Fatalf("refresh approved as someone else: exit %d\n%s", r.code, r.stderr)
	}
	if sec := h.stored("hubot"); sec.Token != hubot || !h.valid(hubot) {
		t.Fatal("a refused refresh changed hubot's token")
	}
	// Usage errors: scopes flags exclude each other.
	if r := h.run("", "refresh", "--scopes", "a", "--add-scopes", "b"); r.code != ExitUsage {
		t.Errorf("--scopes with --add-scopes: exit %d", r.code)
	}
}

// token --id-token on an account without an ID token (a GitHub host) says
// where ID tokens come from; the environment's token is not one.
func TestTokenIDTokenOnGitHubHost(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.loginWithToken("octocat")
	h.vars["GH_TOKEN"] = "gho_env"
	r := h.run("", "token", "--id-token", "--host", h.srv.URL)
	if r.code != ExitFailure || r.stdout != "" || !strings.Contains(r.stderr, "has no ID token; ID tokens come from OpenID Connect servers") {
		t.Fatalf("exit %d %q %q", r.code, r.stdout, r.stderr)
	}
}

// gh's -s and -r work on refresh (-s adds, as gh auth refresh -s does), and
// --scopes, which sets the whole new set, says before the login which
// scopes it drops and adds and how to keep them.
func TestRefreshShortFlagsAndScopesWarning(t *testing.T) {
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	r := h.run("", "login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file", "--scopes", "repo,gist")
	if r.code != 0 {
		t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
	}
	r = h.run("", "refresh", "--host", h.srv.URL, "-s", "delete_repo")
	if r.code != 0 || !oauth.SameScopes(h.stored("octocat").Scopes, []string{"repo", "gist", "delete_repo"}) {
		t.Fatalf("refresh -s: exit %d %v\n%s", r.code, h.stored("octocat").Scopes, r.stderr)
	}
	if strings.Contains(r.stderr, "drops") {
		t.Errorf("refresh -s warned about dropping scopes:\n%s", r.stderr)
	}
	r = h.run("", "refresh", "--host", h.srv.URL, "-r", "gist")
	if r.code != 0 || !oauth.SameScopes(h.stored("octocat").Scopes, []string{"repo", "delete_repo"}) {
		t.Fatalf("refresh -r: exit %d %v\n%s", r.code, h.stored("octocat").Scopes, r.stderr)
	}

	r = h.run("", "refresh", "--host", h.srv.URL, "--scopes", "repo,workflow")
	if r.code != 0 || !oauth.SameScopes(h.stored("octocat").Scopes, []string{"repo", "workflow"}) {
		t.Fatalf("refresh --scopes: exit %d %v\n%s", r.code, h.stored("octocat").Scopes, r.stderr)
	}
	note := "note: --scopes sets the whole new set of scopes: it drops delete_repo and adds workflow; to keep the scopes the account has, use --add-scopes (-s) instead\n"
	i, j := strings.Index(r.stderr, note), strings.Index(r.stderr, "Logging in again")
	if i < 0 || j < 0 || i > j {
		t.Errorf("refresh --scopes did not say first what it drops:\n%s", r.stderr)
	}
	// A --scopes that keeps every scope says nothing of dropping.
	r = h.run("", "refresh", "--host", h.srv.URL, "--scopes", "repo,workflow,gist")
	if r.code != 0 || strings.Contains(r.stderr, "drops") {
		t.Errorf("refresh --scopes adding only: exit %d\n%s", r.code, r.stderr)
	}
	// With --json the note still goes to stderr; stdout holds only events.
	r = h.run("", "refresh", "--host", h.srv.URL, "--scopes", "repo", "--json")
	if r.code != 0 || !strings.Contains(r.stderr, "it drops gist, workflow;") || strings.Contains(r.stdout, "drops") {
		t.Errorf("refresh --scopes --json: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
}
