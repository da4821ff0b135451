package interop

import (
	"context"
	"encoding/json"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/oauth"
)

// These tests run a token's whole life on an OpenID Connect server named by
// its issuer alone, through the built ghlogin binary: login (device and
// web) with the default scopes, the ID token verified and printed by `token
// --id-token`, a short-lived token refreshed once, `refresh` changing the
// scopes (and refusing another account), and logout revoking the token so
// that the server then rejects it.

// checkIDToken verifies what `ghlogin token --id-token` printed against the
// provider's keys for client (with nonce, when the login sent one), and
// returns its claims.
func checkIDToken(ctx context.Context, t *testing.T, g *ghlogin, doc *oidcdisc.Document, client, nonce string) *identity.Claims {
	t.Helper()
	r := g.mustRun(t, "token", "--id-token", "--host", g.prov.HostArg)
	raw := strings.TrimSpace(r.Stdout)
	if r.Stdout != raw+"\n" || strings.Count(raw, ".") != 2 {
		t.Fatalf("token --id-token printed %q, want a JWT alone on one line", r.Stdout)
	}
	c, err := (&identity.Verifier{Document: doc, ClientID: client}).Verify(ctx, raw, nonce, "")
	if err != nil {
		t.Fatalf("the ID token ghlogin kept does not verify: %v", err)
	}
	if c.Subject != "alice" || c.Issuer != g.prov.Issuer {
		t.Fatalf("ID token claims %+v, want alice from %s", c.All, g.prov.Issuer)
	}
	assertSecretsOnlyInCredentials(t, g, raw)
	return c
}

// statusAccount is one account of `status --json`.
type statusAccount struct {
	Login           string   `json:"login"`
	Scopes          []string `json:"scopes"`
	RequestedScopes []string `json:"requested_scopes"`
	State           string   `json:"state"`
	Error           string   `json:"error"`
}

// statusJSON runs `status --json` for the provider's host.
func statusJSON(t *testing.T, g *ghlogin) (kind string, endpoints map[string]string, accounts []statusAccount) {
	t.Helper()
	r := g.run(t, "status", "--json", "--host", g.prov.HostArg)
	var doc struct {
		Hosts []struct {
			Kind      string `json:"kind"`
			Endpoints []struct {
				Key, URL, Source string
			} `json:"endpoints"`
			Accounts []statusAccount `json:"accounts"`
		} `json:"hosts"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &doc); err != nil || len(doc.Hosts) != 1 {
		t.Fatalf("status --json: exit %d, %v\n%s\n%s", r.Code, err, r.Stdout, r.Stderr)
	}
	h := doc.Hosts[0]
	endpoints = map[string]string{}
	for _, e := range h.Endpoints {
		endpoints[e.Key] = e.URL + " " + e.Source
	}
	return h.Kind, endpoints, h.Accounts
}

// approveFlow approves the code a running login or refresh shows as login
// and waits for its success; it returns the run's stderr.
func approveFlow(ctx context.Context, t *testing.T, p *provider, run *loginRun, login string) string {
	t.Helper()
	ev := run.until("code")
	approveDevice(newBrowser(ctx, t), p, approval{Login: login, VerificationURIComplete: ev.str("verification_uri_complete")})
	if ev = run.until("success", "error"); ev.name() != "success" || ev.str("login") != "alice" {
		run.wait()
		t.Fatalf("final event %v, want success for alice\nstderr:\n%s\nprovider log:\n%s", ev, run.stderr.String(), p.Logs())
	}
	if code := run.wait(); code != 0 {
		t.Fatalf("exit %d after success\nstderr:\n%s", code, run.stderr.String())
	}
	return run.stderr.String()
}

// rejected reports whether the provider's userinfo refuses token.
func rejected(ctx context.Context, t *testing.T, p *provider, token string) bool {
	t.Helper()
	_, err := userinfo(ctx, p, token)
	if err != nil && !regexp.MustCompile(`HTTP (401|403)`).MatchString(err.Error()) {
		t.Fatalf("userinfo: %v", err)
	}
	return err != nil
}

// The device flow, from --issuer alone, with a client whose access tokens
// live two minutes.
func TestIssuerLifecycleDevice(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	doc := discover(t, p, "").Document
	g := newGhlogin(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 4*loginTimeout)
	defer cancel()

	// Login: the issuer is all ghlogin is told; the default scopes are
	// OpenID Connect's.
	run := g.startLogin(t, "--json", "--issuer", p.Issuer, "--client-id", shortLivedClient)
	ev := run.until("code")
	if ev.str("verification_uri") != p.Endpoint("/device") {
		t.Fatalf("code event %v: the device endpoint was not discovered", ev)
	}
	approveDevice(newBrowser(ctx, t), p, approval{Login: "alice", VerificationURIComplete: ev.str("verification_uri_complete")})
	if ev = run.until("success", "error"); ev.name() != "success" || ev.str("login") != "alice" || ev.str("host") != g.hostName() {
		t.Fatalf("final event %v, want success for alice on %s\nstderr:\n%s", ev, g.hostName(), run.stderr.String())
	}
	if code := run.wait(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if got := strings.TrimSpace(g.mustRun(t, "config", "get", "--host", p.HostArg, "issuer").Stdout); got != p.Issuer {
		t.Errorf("the issuer was not remembered: %q", got)
	}
	kind, eps, accts := statusJSON(t, g)
	if kind != "oidc" || eps["token_url"] != p.Endpoint("/token")+" discovery" || eps["revocation_url"] != p.Endpoint("/token/revocation")+" discovery" ||
		eps["issuer"] != p.Issuer+" setting" {
		t.Errorf("status: kind %s, endpoints %v", kind, eps)
	}
	if len(accts) != 1 || accts[0].State != "valid" || !slices.Equal(accts[0].Scopes, oidcScopes) || accts[0].RequestedScopes != nil {
		t.Errorf("status accounts %+v, want alice valid with %v", accts, oidcScopes)
	}
	list := g.mustRun(t, "config", "list", "--host", p.HostArg).Stdout
	for _, line := range []string{"device_code_url=" + p.Endpoint("/device/auth") + " (discovery)", "userinfo_url=" + p.Endpoint("/me") + " (discovery)", "issuer=" + p.Issuer} {
		if !strings.Contains(list, line+"\n") {
			t.Errorf("config list lacks %q:\n%s", line, list)
		}
	}

	// The ID token is kept, verifies, and is printed alone.
	checkIDToken(ctx, t, g, doc, shortLivedClient, "")

	// A two-minute token is not refreshed on every call, only in its last
	// quarter, and then once.
	first := assertStoredToken(ctx, t, g, "alice", "preferred_username")
	if again := assertStoredToken(ctx, t, g, "alice", "preferred_username"); again != first {
		t.Fatal("a fresh two-minute token was refreshed")
	}
	ageStoredToken(t, g, 5*time.Second)
	r := g.mustRun(t, "token", "--host", p.HostArg)
	second := strings.TrimSpace(r.Stdout)
	if second == first || !strings.Contains(r.Stderr, "expires in 5 s, refreshing") {
		t.Fatalf("with 5 s left: same token %v, stderr %q; want one refresh, announced", second == first, r.Stderr)
	}
	r = g.mustRun(t, "token", "--host", p.HostArg)
	if strings.TrimSpace(r.Stdout) != second || r.Stderr != "" {
		t.Fatalf("the refreshed token was refreshed again (stderr %q)", r.Stderr)
	}
	checkIDToken(ctx, t, g, doc, shortLivedClient, "")

	// refresh: approved as another person, it is refused and the token kept.
	run = g.startFlow(t, "refresh", "--json", "--host", p.HostArg, "--remove-scopes", "email")
	ev = run.until("code")
	approveDevice(newBrowser(ctx, t), p, approval{Login: bobAccountID, VerificationURIComplete: ev.str("verification_uri_complete")})
	if ev = run.until("success", "error"); ev.name() != "error" || run.wait() == 0 || !strings.Contains(ev.str("message"), "is for bob, not alice") {
		t.Fatalf("refresh approved as bob: %v\nstderr:\n%s", ev, run.stderr.String())
	}
	if got := assertStoredToken(ctx, t, g, "alice", "preferred_username"); got != second {
		t.Fatal("a refused refresh replaced the token")
	}

	// refresh --remove-scopes, then --add-scopes: a new login for alice with
	// the new scope set; the old token is revoked.
	for _, step := range []struct {
		flag  string
		scope string
		want  []string
	}{
		{"--remove-scopes", "email", []string{"openid", "profile", "offline_access"}},
		{"--add-scopes", "email", oidcScopes},
	} {
		old := assertStoredToken(ctx, t, g, "alice", "preferred_username")
		stderr := approveFlow(ctx, t, p, g.startFlow(t, "refresh", "--json", "--host", p.HostArg, step.flag, step.scope), "alice")
		if !strings.Contains(stderr, "Revoked the refresh token and token on the server.") {
			t.Errorf("refresh %s %s did not report the revocation:\n%s", step.flag, step.scope, stderr)
		}
		now := assertStoredToken(ctx, t, g, "alice", "preferred_username")
		if now == old || !rejected(ctx, t, p, old) {
			t.Errorf("refresh %s: new token %v, old one rejected %v", step.flag, now != old, rejected(ctx, t, p, old))
		}
		_, _, accts = statusJSON(t, g)
		if len(accts) != 1 || !oauth.SameScopes(accts[0].Scopes, step.want) || accts[0].State != "valid" {
			t.Errorf("after refresh %s %s: %+v, want scopes %v", step.flag, step.scope, accts, step.want)
		}
		if got := strings.TrimSpace(g.mustRun(t, "config", "get", "--host", p.HostArg, "client_id").Stdout); got != shortLivedClient {
			t.Errorf("refresh changed the client ID: %q", got)
		}
	}
	checkIDToken(ctx, t, g, doc, shortLivedClient, "")

	// Logout revokes: the server then rejects the token.
	last := assertStoredToken(ctx, t, g, "alice", "preferred_username")
	r = g.mustRun(t, "logout", "--host", p.HostArg)
	if !strings.Contains(r.Stderr, "Revoked the refresh token and token on the server.") || !strings.Contains(r.Stderr, "Logged out of "+g.hostName()+" as alice") {
		t.Errorf("logout said:\n%s", r.Stderr)
	}
	if !rejected(ctx, t, p, last) {
		t.Error("the provider still accepts the token after logout")
	}
	assertNotLoggedIn(t, g)
}

// The web flow, from --issuer alone: PKCE as discovered, a nonce the ID
// token must carry; logout --local leaves the token valid, and says so.
func TestIssuerLifecycleWeb(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	doc := discover(t, p, "").Document
	g := newGhlogin(t, p)
	ctx, cancel := context.WithTimeout(context.Background(), 2*loginTimeout)
	defer cancel()

	run := g.startLogin(t, "--web", "--json", "--no-browser", "--issuer", p.Issuer, "--client-id", publicClient)
	ev := run.until("authorize")
	authorize, err := url.Parse(ev.str("url"))
	if err != nil || !strings.HasPrefix(ev.str("url"), p.Endpoint("/auth?")) {
		t.Fatalf("authorize event %v: want the discovered %s", ev, p.Endpoint("/auth"))
	}
	q := authorize.Query()
	nonce := q.Get("nonce")
	if nonce == "" || q.Get("code_challenge_method") != "S256" || !slices.Equal(strings.Fields(q.Get("scope")), oidcScopes) {
		t.Fatalf("authorization request %v: want a nonce, S256 and the scopes %v", q, oidcScopes)
	}
	if _, last := approveWeb(newBrowser(ctx, t), p, ev.str("url"), "alice", false); last.Status != 200 {
		t.Fatalf("callback page %s", last)
	}
	if ev = run.until("success", "error"); ev.name() != "success" || ev.str("login") != "alice" || run.wait() != 0 {
		t.Fatalf("final event %v\nstderr:\n%s\nprovider log:\n%s", ev, run.stderr.String(), p.Logs())
	}
	c := checkIDToken(ctx, t, g, doc, publicClient, nonce)
	if c.All["nonce"] != nonce {
		t.Errorf("ID token nonce %v, want the one sent", c.All["nonce"])
	}
	token := assertStoredToken(ctx, t, g, "alice", "preferred_username")
	r := g.mustRun(t, "logout", "--local", "--host", p.HostArg)
	if !strings.Contains(r.Stderr, "not revoked (--local)") {
		t.Errorf("logout --local said:\n%s", r.Stderr)
	}
	if rejected(ctx, t, p, token) {
		t.Error("logout --local revoked the token")
	}
	assertNotLoggedIn(t, g)
}
