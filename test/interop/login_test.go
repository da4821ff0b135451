package interop

import (
	"context"
	"encoding/json"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// These tests run the real ghlogin binary against oidc-provider, a server
// ghlogin's authors did not write, configured as a generic OAuth 2.0 host.
// A person's approval is played by driving the provider's own HTML pages.

// checkCodeEvent checks the code event against what the provider sent: its
// verification URIs, and the 5 s interval RFC 8628 prescribes when a server
// (like this one) sends none.
func checkCodeEvent(t *testing.T, p *provider, ev event) string {
	t.Helper()
	code := ev.str("user_code")
	if !userCodeRE.MatchString(code) {
		t.Fatalf("code event %v: user_code %q is not the provider's XXXX-XXXX code", ev, code)
	}
	if got := ev.str("verification_uri"); got != p.Endpoint("/device") {
		t.Errorf("verification_uri = %q, want %q", got, p.Endpoint("/device"))
	}
	if got, want := ev.str("verification_uri_complete"), p.Endpoint("/device?user_code="+code); got != want {
		t.Errorf("verification_uri_complete = %q, want %q (the server sent it)", got, want)
	}
	if got, ok := ev["interval"].(float64); !ok || got != 5 {
		t.Errorf("interval = %v, want 5 (the server sent none)", ev["interval"])
	}
	if _, leaked := ev["device_code"]; leaked {
		t.Errorf("the code event carries the device code: %v", ev)
	}
	return code
}

// assertStoredToken checks that `ghlogin token` prints the token it stored,
// that the provider accepts it for login, and that it leaked nowhere else.
func assertStoredToken(ctx context.Context, t *testing.T, g *ghlogin, login, claim string, elsewhere ...string) string {
	t.Helper()
	r := g.mustRun(t, "token", "--host", g.prov.HostArg)
	token := strings.TrimSpace(r.Stdout)
	if token == "" || strings.ContainsAny(token, " \n") || r.Stdout != token+"\n" {
		t.Fatalf("ghlogin token printed %q, want the token alone on one line", r.Stdout)
	}
	claims, err := userinfo(ctx, g.prov, token)
	if err != nil {
		t.Fatalf("the token ghlogin stored does not work at the provider: %v", err)
	}
	if claims[claim] != login {
		t.Fatalf("the stored token belongs to %v, want %s=%s", claims, claim, login)
	}
	for i, s := range elsewhere {
		if strings.Contains(s, token) {
			t.Errorf("the token appears in ghlogin's output #%d:\n%s", i, s)
		}
	}
	assertSecretsOnlyInCredentials(t, g, token)
	return token
}

// assertSecretsOnlyInCredentials checks that secret is in credentials.json
// (mode 0600) and in no other file of the config directory.
func assertSecretsOnlyInCredentials(t *testing.T, g *ghlogin, secret string) {
	t.Helper()
	found := false
	err := filepath.WalkDir(g.configDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if !strings.Contains(string(b), secret) {
			return nil
		}
		if d.Name() != "credentials.json" {
			t.Errorf("the token is written to %s; only credentials.json may hold it", path)
			return nil
		}
		found = true
		info, err := d.Info()
		if err != nil {
			return err
		}
		if perm := info.Mode().Perm(); perm != 0o600 {
			t.Errorf("%s has mode %v, want 0600", path, perm)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !found {
		t.Errorf("the token is not in %s (store file)", filepath.Join(g.configDir, "credentials.json"))
	}
}

func assertNotLoggedIn(t *testing.T, g *ghlogin) {
	t.Helper()
	r := g.run(t, "token", "--host", g.prov.HostArg)
	if r.Code != 4 || r.Stdout != "" {
		t.Fatalf("ghlogin token with no stored token: exit %d, stdout %q; want exit 4 and nothing on stdout\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
}

func TestLoginDeviceFlowJSON(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	g := newGhlogin(t, p)
	g.configure(t, nil)
	assertNotLoggedIn(t, g)

	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	run := g.startLogin(t, "--json", "--host", p.HostArg, "--client-id", publicClient, "--store", "file", "--scopes", deviceScopes)
	ev := run.until("code")
	checkCodeEvent(t, p, ev)

	steps, _ := approveDevice(newBrowser(ctx, t), p, approval{Login: "alice", VerificationURIComplete: ev.str("verification_uri_complete")})
	if want := []string{"device-autosubmit", "device-confirm", "login", "consent", "success"}; !slices.Equal(steps, want) {
		t.Fatalf("pages = %v, want %v", steps, want)
	}

	ev = run.until("success", "error")
	if ev.name() != "success" || ev.str("host") != g.hostName() || ev.str("login") != "alice" || ev.str("store") != "file" {
		t.Fatalf("final event %v, want success for host %s, login alice, store file", ev, g.hostName())
	}
	if code := run.wait(); code != 0 {
		t.Fatalf("ghlogin login exited %d after success\nstderr:\n%s", code, run.stderr.String())
	}
	assertStoredToken(ctx, t, g, "alice", "preferred_username", run.stdout.String(), run.stderr.String())
}

// The plain mode (what scripts and CI logs see without --json): the code and
// URL on stderr, approval by typing the code on the device page.
func TestLoginDeviceFlowPlain(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	g := newGhlogin(t, p)
	g.configure(t, map[string]string{"client_id": publicClient, "scopes": deviceScopes})

	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	run := g.startLogin(t, "--host", p.HostArg)
	codeLine := run.stderrLine("one-time code")
	code := regexp.MustCompile(`[A-Z]{4}-[A-Z]{4}`).FindString(codeLine)
	if !userCodeRE.MatchString(code) {
		t.Fatalf("no XXXX-XXXX code in %q", codeLine)
	}
	openLine := run.stderrLine("open")
	u := regexp.MustCompile(`https?://\S+`).FindString(openLine)
	if u != p.Endpoint("/device") && u != p.Endpoint("/device?user_code="+code) {
		t.Fatalf("stderr line %q: want the provider's device page", openLine)
	}

	steps, _ := approveDevice(newBrowser(ctx, t), p, approval{Login: "alice", UserCode: code, VerificationURI: p.Endpoint("/device")})
	if want := []string{"device-input", "device-confirm", "login", "consent", "success"}; !slices.Equal(steps, want) {
		t.Fatalf("pages = %v, want %v", steps, want)
	}
	if exit := run.wait(); exit != 0 {
		t.Fatalf("ghlogin login exited %d\nstderr:\n%s\nprovider log:\n%s", exit, run.stderr.String(), p.Logs())
	}
	if !strings.Contains(run.stderr.String(), "alice") {
		t.Errorf("plain login does not say who logged in:\n%s", run.stderr.String())
	}
	assertStoredToken(ctx, t, g, "alice", "preferred_username", run.stdout.String(), run.stderr.String())
}

// Confidential clients: the secret goes where client_auth says, and the
// provider (see server.mjs) accepts it only by the registered method.
// login_field picks the claim that names the account (bob's sub differs
// from his preferred_username).
func TestLoginConfidentialClients(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	for _, tc := range []struct {
		name, client, secret, clientAuth, loginField, want string
	}{
		{"basic", basicClient, basicClientSecret, "basic", "sub", bobAccountID},
		{"body", postClient, postClientSecret, "body", "preferred_username", "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGhlogin(t, p)
			g.configure(t, map[string]string{
				"client_id":     tc.client,
				"client_secret": tc.secret,
				"client_auth":   tc.clientAuth,
				"login_field":   tc.loginField,
				"scopes":        deviceScopes,
			})
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			run := g.startLogin(t, "--json", "--host", p.HostArg)
			ev := run.until("code")
			code := checkCodeEvent(t, p, ev)
			approveDevice(newBrowser(ctx, t), p, approval{Login: bobAccountID, UserCode: code, VerificationURI: ev.str("verification_uri")})
			ev = run.until("success", "error")
			if ev.name() != "success" || ev.str("login") != tc.want {
				t.Fatalf("final event %v, want success with login %s\nprovider log:\n%s", ev, tc.want, p.Logs())
			}
			if exit := run.wait(); exit != 0 {
				t.Fatalf("exit %d", exit)
			}
			for _, out := range []string{run.stdout.String(), run.stderr.String()} {
				if strings.Contains(out, tc.secret) {
					t.Errorf("the client secret appears in ghlogin's output:\n%s", out)
				}
			}
			assertStoredToken(ctx, t, g, tc.want, tc.loginField, run.stdout.String(), run.stderr.String())
		})
	}
}

// The wrong client authentication method is refused by the provider with
// invalid_client; ghlogin says so instead of showing a code.
func TestLoginWrongClientAuth(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	g := newGhlogin(t, p)
	g.configure(t, map[string]string{"client_id": basicClient, "client_secret": basicClientSecret, "client_auth": "body", "scopes": deviceScopes})
	run := g.startLogin(t, "--json", "--host", p.HostArg)
	ev := run.until("error")
	if ev.str("code") != "invalid_client" {
		t.Fatalf("error event %v, want code invalid_client", ev)
	}
	if exit := run.wait(); exit == 0 {
		t.Fatal("ghlogin login exited 0 after invalid_client")
	}
}

func TestLoginDenied(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	for _, abortAt := range []string{abortOnConfirm, abortOnConsent} {
		t.Run(abortAt, func(t *testing.T) {
			t.Parallel()
			g := newGhlogin(t, p)
			g.configure(t, map[string]string{"client_id": publicClient, "scopes": deviceScopes})
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			run := g.startLogin(t, "--json", "--host", p.HostArg)
			ev := run.until("code")
			steps, _ := approveDevice(newBrowser(ctx, t), p, approval{Login: "alice", VerificationURIComplete: ev.str("verification_uri_complete"), AbortAt: abortAt})
			if steps[len(steps)-1] != "aborted" {
				t.Fatalf("pages = %v, want an abort", steps)
			}
			ev = run.until("success", "error")
			if ev.name() != "error" || ev.str("code") != "access_denied" || ev.str("message") == "" {
				t.Fatalf("final event %v, want an error event with code access_denied and a message", ev)
			}
			if exit := run.wait(); exit == 0 || exit == 2 {
				t.Fatalf("ghlogin login exited %d after access_denied, want a failure status", exit)
			}
			assertNotLoggedIn(t, g)
		})
	}
}

func TestLoginUnknownClient(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	t.Run("json", func(t *testing.T) {
		t.Parallel()
		g := newGhlogin(t, p)
		g.configure(t, nil)
		run := g.startLogin(t, "--json", "--host", p.HostArg, "--client-id", "nope", "--store", "file", "--scopes", deviceScopes)
		ev := run.until("error")
		if ev.str("code") != "invalid_client" || !strings.Contains(ev.str("message"), "nope") {
			t.Fatalf("error event %v, want code invalid_client and a message naming the client ID nope", ev)
		}
		if exit := run.wait(); exit == 0 || exit == 2 {
			t.Fatalf("ghlogin login exited %d after invalid_client, want a failure status", exit)
		}
		for _, ev := range run.seen {
			if ev.name() == "code" {
				t.Fatalf("a code was shown for an unknown client: %v", run.seen)
			}
		}
		assertNotLoggedIn(t, g)
	})
	t.Run("plain", func(t *testing.T) {
		t.Parallel()
		g := newGhlogin(t, p)
		g.configure(t, nil)
		run := g.startLogin(t, "--host", p.HostArg, "--client-id", "nope", "--scopes", deviceScopes)
		exit := run.wait()
		stderr := run.stderr.String()
		if exit == 0 || exit == 2 || !strings.Contains(stderr, "nope") {
			t.Fatalf("exit %d, stderr:\n%s\nwant a failure that names the client ID nope", exit, stderr)
		}
	})
}

// Access tokens of this client live 2 minutes. `ghlogin token` refreshes
// one in the last quarter of its lifetime (30 s), not on every call; the test
// moves the stored token's clock there by editing the file store (the
// provider's copy stays valid). The provider rotates refresh tokens and
// revokes the whole grant when an old one is replayed, so two refreshes in a
// row pass only if ghlogin stored the rotated refresh token. Once the grant
// is revoked, `ghlogin token` must say the user has to log in again (exit 4).
func TestTokenRefresh(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	g := newGhlogin(t, p)
	g.configure(t, map[string]string{"client_id": shortLivedClient, "scopes": deviceScopes})
	ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
	defer cancel()
	run := g.startLogin(t, "--json", "--host", p.HostArg)
	ev := run.until("code")
	approveDevice(newBrowser(ctx, t), p, approval{Login: "alice", VerificationURIComplete: ev.str("verification_uri_complete")})
	if ev = run.until("success", "error"); ev.name() != "success" {
		t.Fatalf("final event %v", ev)
	}
	if exit := run.wait(); exit != 0 {
		t.Fatalf("exit %d", exit)
	}

	first := assertStoredToken(ctx, t, g, "alice", "preferred_username")
	if again := assertStoredToken(ctx, t, g, "alice", "preferred_username"); again != first {
		t.Fatal("ghlogin token refreshed a two-minute token in its first seconds: short tokens must not be refreshed on every call")
	}
	ageStoredToken(t, g, 5*time.Second)
	second := assertStoredToken(ctx, t, g, "alice", "preferred_username")
	if second == first {
		t.Fatal("ghlogin token printed the same access token with 5 s of its 120 s left: it did not refresh")
	}
	if again := assertStoredToken(ctx, t, g, "alice", "preferred_username"); again != second {
		t.Fatal("ghlogin token refreshed the fresh token again")
	}
	ageStoredToken(t, g, 5*time.Second)
	if third := assertStoredToken(ctx, t, g, "alice", "preferred_username"); third == second {
		t.Fatal("the second refresh did not happen")
	}

	refresh := storedRefreshToken(t, g)
	status, body, err := postForm(ctx, p.Endpoint("/token/revocation"), url.Values{"token": {refresh}, "token_type_hint": {"refresh_token"}, "client_id": {shortLivedClient}}, "", "")
	if err != nil || status != http.StatusOK {
		t.Fatalf("revoking the refresh token: HTTP %d %v %v", status, body, err)
	}
	ageStoredToken(t, g, 5*time.Second)
	r := g.run(t, "token", "--host", p.HostArg)
	if r.Code != 4 || r.Stdout != "" {
		t.Errorf("ghlogin token after the grant was revoked: exit %d, stdout %q; want exit 4 and nothing on stdout\nstderr:\n%s", r.Code, r.Stdout, r.Stderr)
	}
	if strings.Contains(r.Stderr, refresh) {
		t.Errorf("the refresh token appears in an error message:\n%s", r.Stderr)
	}
	if strings.Contains(r.Stderr, "endpoint settings") {
		t.Errorf("a dead refresh token is blamed on the endpoint settings:\n%s", r.Stderr)
	}
	// The command it suggests must log in to this very server again.
	m := regexp.MustCompile(`ghlogin login --host (\S+)`).FindStringSubmatch(r.Stderr)
	if m == nil {
		t.Fatalf("ghlogin token after revocation does not tell the user how to log in again:\n%s", r.Stderr)
	}
	again := g.startLogin(t, "--json", "--host", strings.TrimRight(m[1], ".;,)"))
	if ev := again.until("code", "error"); ev.name() != "code" || ev.str("verification_uri") != p.Endpoint("/device") {
		t.Fatalf("the suggested ghlogin login --host %s gave %v, want a code from %s", m[1], ev, p.Issuer)
	}
}

// ageStoredToken moves the one stored account's token to the end of its
// 120 s lifetime, left to go, by rewriting its issue and expiry times in the
// file store: what waiting would do, without the wait.
func ageStoredToken(t *testing.T, g *ghlogin, left time.Duration) {
	t.Helper()
	path := filepath.Join(g.configDir, "credentials.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var creds map[string]map[string]map[string]any
	if err := json.Unmarshal(b, &creds); err != nil {
		t.Fatalf("credentials.json: %v", err)
	}
	n := 0
	now := time.Now().UTC()
	for _, accounts := range creds {
		for _, sec := range accounts {
			sec["issued_at"] = now.Add(left - 120*time.Second).Format(time.RFC3339)
			sec["expires_at"] = now.Add(left).Format(time.RFC3339)
			n++
		}
	}
	if n != 1 {
		t.Fatalf("credentials.json holds %d accounts, want 1", n)
	}
	out, err := json.Marshal(creds)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
}

// storedRefreshToken reads the refresh token from the file store, the way an
// administrator revoking it would find it.
func storedRefreshToken(t *testing.T, g *ghlogin) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(g.configDir, "credentials.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("credentials.json: %v", err)
	}
	var found []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && k == "refresh_token" && s != "" {
					found = append(found, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(doc)
	if len(found) != 1 {
		t.Fatalf("credentials.json holds %d refresh tokens, want 1 (offline_access was granted)", len(found))
	}
	return found[0]
}

// The loopback web flow (RFC 8252) with PKCE, which oidc-provider requires
// of public clients; the redirect URI's port is ghlogin's ephemeral one.
func TestLoginWebFlow(t *testing.T) {
	t.Parallel()
	p := startProvider(t)
	for _, tc := range []struct {
		name   string
		cancel bool
	}{{"approved", false}, {"cancelled", true}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			g := newGhlogin(t, p)
			g.configure(t, map[string]string{"client_id": publicClient, "scopes": "openid profile"})
			ctx, cancel := context.WithTimeout(context.Background(), loginTimeout)
			defer cancel()
			run := g.startLogin(t, "--web", "--json", "--no-browser", "--host", p.HostArg)
			ev := run.until("authorize")
			authorize, err := url.Parse(ev.str("url"))
			if err != nil || !strings.HasPrefix(ev.str("url"), p.Endpoint("/auth?")) {
				t.Fatalf("authorize event %v: want a URL on %s", ev, p.Endpoint("/auth"))
			}
			q := authorize.Query()
			redirect, err := url.Parse(q.Get("redirect_uri"))
			if err != nil || redirect.Scheme != "http" || redirect.Hostname() != "127.0.0.1" || redirect.Port() == "" {
				t.Fatalf("redirect_uri %q: want http://127.0.0.1:PORT/…", q.Get("redirect_uri"))
			}
			if q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("state") == "" || q.Get("response_type") != "code" {
				t.Fatalf("authorization request %v: want response_type=code, state and an S256 code_challenge", q)
			}

			steps, last := approveWeb(newBrowser(ctx, t), p, ev.str("url"), "alice", tc.cancel)
			if last.URL.Host != redirect.Host {
				t.Fatalf("the browser ended on %s, not ghlogin's callback", last)
			}
			ev = run.until("success", "error")
			exit := run.wait()
			if tc.cancel {
				if want := []string{"login", "consent", "cancelled", "callback"}; !slices.Equal(steps, want) {
					t.Fatalf("pages = %v, want %v", steps, want)
				}
				if ev.name() != "error" || ev.str("code") != "access_denied" || exit == 0 || exit == 2 {
					t.Fatalf("final event %v, exit %d: want access_denied and a failure status", ev, exit)
				}
				assertNotLoggedIn(t, g)
				return
			}
			if want := []string{"login", "consent", "callback"}; !slices.Equal(steps, want) {
				t.Fatalf("pages = %v, want %v", steps, want)
			}
			if ev.name() != "success" || ev.str("login") != "alice" || exit != 0 {
				t.Fatalf("final event %v, exit %d: want success for alice\nstderr:\n%s\nprovider log:\n%s", ev, exit, run.stderr.String(), p.Logs())
			}
			assertStoredToken(ctx, t, g, "alice", "preferred_username", run.stdout.String(), run.stderr.String())
		})
	}
}
