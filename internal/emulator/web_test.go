package emulator

import (
	"crypto/sha256"
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

const verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"

func challengeFor(v string) string {
	sum := sha256.Sum256([]byte(v))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// authorizeURL builds an authorization request.
func authorizeURL(client, redirect, state, challenge string, extra ...string) string {
	q := url.Values{"client_id": {client}, "state": {state}, "scope": {"repo gist"}}
	if redirect != "" {
		q.Set("redirect_uri", redirect)
	}
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	}
	for i := 0; i+1 < len(extra); i += 2 {
		q.Set(extra[i], extra[i+1])
	}
	return "/login/oauth/authorize?" + q.Encode()
}

// location parses a redirect's Location.
func location(t *testing.T, r reply) *url.URL {
	t.Helper()
	if r.status != http.StatusFound {
		t.Fatalf("want 302, got %d %s", r.status, r.body)
	}
	u, err := url.Parse(r.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) exchange(client, secret, code, redirect, verifier string) reply {
	form := url.Values{"client_id": {client}, "client_secret": {secret}, "code": {code}}
	if redirect != "" {
		form.Set("redirect_uri", redirect)
	}
	if verifier != "" {
		form.Set("code_verifier", verifier)
	}
	return e.post("/login/oauth/access_token", form, true)
}

func TestWebFlowAutoApproveWithPKCE(t *testing.T) {
	e := start(t, Config{AutoApproveWeb: true})
	redirect := "http://127.0.0.1:49152/callback"
	u := location(t, e.get(authorizeURL(DefaultClientID, redirect, "st4te", challengeFor(verifier), "login", "hubot")))
	if got := u.Scheme + "://" + u.Host + u.Path; got != redirect {
		t.Fatalf("redirected to %q", got)
	}
	code := u.Query().Get("code")
	if u.Query().Get("state") != "st4te" || len(code) != 20 {
		t.Fatalf("redirect query %q", u.RawQuery)
	}
	r := e.exchange(DefaultClientID, DefaultClientSecret, code, redirect, verifier)
	if !oauthTokenRe.MatchString(r.f["access_token"]) || r.f["scope"] != "gist,repo" {
		t.Fatalf("exchange: %s", r.body)
	}
	if who := e.get("/api/v3/user", "Authorization", "Bearer "+r.f["access_token"]); who.f["login"] != "hubot" {
		t.Fatalf("login hint ignored: %s", who.body)
	}
	// Codes are single-use.
	wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, code, redirect, verifier), 200, "bad_verification_code")
	for _, s := range []string{r.f["access_token"], code, "st4te"} {
		if strings.Contains(e.logs.all(), s) {
			t.Fatalf("log holds a secret:\n%s", e.logs.all())
		}
	}
}

func TestWebFlowExchangeErrors(t *testing.T) {
	e := start(t, Config{AutoApproveWeb: true})
	redirect := "http://127.0.0.1:5000/callback"
	newCode := func(challenge string) string {
		return location(t, e.get(authorizeURL(DefaultClientID, redirect, "s", challenge))).Query().Get("code")
	}
	t.Run("PKCE mismatch", func(t *testing.T) {
		code := newCode(challengeFor(verifier))
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, code, redirect, strings.Repeat("a", 43)), 200, "bad_verification_code")
		// The failed attempt consumed the code.
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, code, redirect, verifier), 200, "bad_verification_code")
	})
	t.Run("PKCE verifier missing", func(t *testing.T) {
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, newCode(challengeFor(verifier)), redirect, ""), 200, "bad_verification_code")
	})
	t.Run("plain verifier equal to the challenge", func(t *testing.T) {
		c := challengeFor(verifier)
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, newCode(c), redirect, c), 200, "bad_verification_code")
	})
	t.Run("wrong secret", func(t *testing.T) {
		wantError(t, e.exchange(DefaultClientID, "wrong", newCode(""), redirect, ""), 200, "incorrect_client_credentials")
	})
	t.Run("missing secret", func(t *testing.T) {
		wantError(t, e.exchange(DefaultClientID, "", newCode(""), redirect, ""), 200, "incorrect_client_credentials")
	})
	t.Run("unknown client", func(t *testing.T) {
		wantError(t, e.exchange("nope", "x", newCode(""), redirect, ""), 200, "incorrect_client_credentials")
	})
	t.Run("another client's code", func(t *testing.T) {
		wantError(t, e.exchange(AppClientID, AppClientSecret, newCode(""), redirect, ""), 200, "bad_verification_code")
	})
	t.Run("redirect_uri mismatch", func(t *testing.T) {
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, newCode(""), "http://127.0.0.1:5001/callback", ""), 200, "redirect_uri_mismatch")
	})
	t.Run("unknown code", func(t *testing.T) {
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, "0123456789abcdef0123", redirect, ""), 200, "bad_verification_code")
	})
	t.Run("expired code", func(t *testing.T) {
		code := newCode("")
		e.clk.Advance(AuthCodeLifetime)
		wantError(t, e.exchange(DefaultClientID, DefaultClientSecret, code, redirect, ""), 200, "bad_verification_code")
	})
	t.Run("no PKCE, redirect_uri omitted", func(t *testing.T) {
		r := e.exchange(DefaultClientID, DefaultClientSecret, newCode(""), "", "")
		if !oauthTokenRe.MatchString(r.f["access_token"]) {
			t.Fatalf("exchange: %s", r.body)
		}
	})
	t.Run("HTTP Basic client authentication", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, e.base+"/login/oauth/access_token",
			strings.NewReader(url.Values{"code": {newCode("")}, "grant_type": {"authorization_code"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept", "application/json")
		req.SetBasicAuth(DefaultClientID, DefaultClientSecret)
		if r := e.do(req); !oauthTokenRe.MatchString(r.f["access_token"]) {
			t.Fatalf("exchange: %s", r.body)
		}
	})
}

func TestAuthorizeRequestErrors(t *testing.T) {
	e := start(t, Config{AutoApproveWeb: true})
	t.Run("unknown client shows a page and does not redirect", func(t *testing.T) {
		r := e.get(authorizeURL("nope", "http://127.0.0.1:5000/callback", "s", ""))
		if r.status != http.StatusNotFound || r.header.Get("Location") != "" || !strings.Contains(r.body, "client_id") {
			t.Fatalf("got %d %q", r.status, r.header.Get("Location"))
		}
	})
	t.Run("bad redirect_uri goes to the registered callback with redirect_uri_mismatch", func(t *testing.T) {
		u := location(t, e.get(authorizeURL(DefaultClientID, "http://evil.example/callback", "s1", "")))
		q := u.Query()
		if u.Host != "127.0.0.1" || u.Path != "/callback" || q.Get("error") != "redirect_uri_mismatch" || q.Get("state") != "s1" ||
			q.Get("error_description") == "" || q.Get("code") != "" {
			t.Fatalf("redirected to %s", u)
		}
	})
	t.Run("plain PKCE is refused", func(t *testing.T) {
		u := location(t, e.get(authorizeURL(DefaultClientID, "http://127.0.0.1:5000/callback", "s2", "",
			"code_challenge", verifier, "code_challenge_method", "plain")))
		if u.Query().Get("error") != "invalid_request" || u.Query().Get("state") != "s2" || u.Query().Get("code") != "" {
			t.Fatalf("redirected to %s", u)
		}
	})
	t.Run("malformed S256 challenge is refused", func(t *testing.T) {
		u := location(t, e.get(authorizeURL(DefaultClientID, "http://127.0.0.1:5000/callback", "s3", "short")))
		if u.Query().Get("error") != "invalid_request" {
			t.Fatalf("redirected to %s", u)
		}
	})
	t.Run("no redirect_uri uses the callback URL", func(t *testing.T) {
		u := location(t, e.get(authorizeURL(DefaultClientID, "", "s4", "")))
		if u.Host != "127.0.0.1" || u.Path != "/callback" || u.Query().Get("code") == "" {
			t.Fatalf("redirected to %s", u)
		}
	})
}

func TestRedirectURIRules(t *testing.T) {
	oauthApp := &Client{ID: "a", CallbackURL: "http://example.com/path"}
	loop := &Client{ID: "b", CallbackURL: "http://127.0.0.1/callback"}
	loop6 := &Client{ID: "c", CallbackURL: "http://[::1]/cb"}
	app := &Client{ID: "d", App: true, CallbackURL: "https://app.example.com/auth/callback"}
	cases := []struct {
		c    *Client
		uri  string
		want bool
	}{
		// GitHub's documented examples.
		{oauthApp, "http://example.com/path", true},
		{oauthApp, "http://example.com/path/subdir/other", true},
		{oauthApp, "http://oauth.example.com/path", true},
		{oauthApp, "http://oauth.example.com/path/subdir/other", true},
		{oauthApp, "http://example.com/bar", false},
		{oauthApp, "http://example.com/", false},
		{oauthApp, "http://example.com:8080/path", false},
		{oauthApp, "http://oauth.example.com:8080/path", false},
		{oauthApp, "http://example.org", false},
		// More hostile ones.
		{oauthApp, "https://example.com/path", false},
		{oauthApp, "http://example.com.evil.io/path", false},
		{oauthApp, "http://evilexample.com/path", false},
		{oauthApp, "http://example.com/pathology", false},
		{oauthApp, "http://example.com/path/../admin", false},
		{oauthApp, "http://example.com/path/%2e%2e/admin", false},
		{oauthApp, "http://user@example.com/path", false},
		{oauthApp, "http://example.com/path#frag", false},
		{oauthApp, "/path", false},
		{oauthApp, "javascript:alert(1)", false},
		{oauthApp, "http://example.com:80/path", true},
		// Loopback callbacks: any port, same address and path rules.
		{loop, "http://127.0.0.1:1234/callback", true},
		{loop, "http://127.0.0.1:65535/callback/sub", true},
		{loop, "http://127.0.0.1/callback", true},
		{loop, "http://localhost:1234/callback", false},
		{loop, "http://127.0.0.2:1234/callback", false},
		{loop, "http://127.0.0.1:1234/other", false},
		{loop, "https://127.0.0.1:1234/callback", false},
		{loop6, "http://[::1]:8080/cb", true},
		{loop6, "http://127.0.0.1:8080/cb", false},
		// GitHub Apps: exact path, no subdomains, no extra parameters.
		{app, "https://app.example.com/auth/callback", true},
		{app, "https://app.example.com/auth/callback/x", false},
		{app, "https://x.app.example.com/auth/callback", false},
		{app, "https://app.example.com/auth/callback?x=1", false},
	}
	for _, c := range cases {
		if _, got := redirectAllowed(c.c, c.uri); got != c.want {
			t.Errorf("callback %s, redirect_uri %s: allowed=%v, want %v", c.c.CallbackURL, c.uri, got, c.want)
		}
	}
}

// authorizeForm fetches the authorization page and returns its hidden fields.
func authorizeForm(t *testing.T, e *env, path string) (csrf, id string) {
	t.Helper()
	r := e.get(path)
	if r.status != 200 || !strings.HasPrefix(r.ctype, "text/html") {
		t.Fatalf("authorize page: %d %s", r.status, r.body)
	}
	csp := r.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self' http://127.0.0.1:") {
		t.Fatalf("CSP %q", csp)
	}
	m, n := csrfRe.FindStringSubmatch(r.body), requestIDRe.FindStringSubmatch(r.body)
	if m == nil || n == nil {
		t.Fatalf("no form fields in %s", r.body)
	}
	return html.UnescapeString(m[1]), n[1]
}

func TestAuthorizePageApproveDenyAndCSRF(t *testing.T) {
	e := start(t, Config{})
	redirect := "http://127.0.0.1:40000/callback"
	path := authorizeURL(DefaultClientID, redirect, "xyz", challengeFor(verifier))

	csrf, id := authorizeForm(t, e, path)
	// A forged post (no valid CSRF token) is refused and the request stays usable.
	r := e.post("/login/oauth/authorize", url.Values{"authenticity_token": {"forged"}, "request_id": {id}, "action": {"approve"}, "login": {"octocat"}}, false)
	if r.status != http.StatusForbidden || r.header.Get("Location") != "" {
		t.Fatalf("forged post: %d %q", r.status, r.header.Get("Location"))
	}
	r = e.post("/login/oauth/authorize", url.Values{"authenticity_token": {csrf}, "request_id": {id}, "action": {"approve"}, "login": {"hubot"}}, false)
	u := location(t, r)
	if u.Query().Get("state") != "xyz" || u.Query().Get("code") == "" {
		t.Fatalf("approve redirected to %s", u)
	}
	tok := e.exchange(DefaultClientID, DefaultClientSecret, u.Query().Get("code"), redirect, verifier)
	if who := e.get("/user", "Authorization", "Bearer "+tok.f["access_token"]); who.f["login"] != "hubot" {
		t.Fatalf("approved as %s", who.body)
	}
	// The same page cannot answer twice.
	r = e.post("/login/oauth/authorize", url.Values{"authenticity_token": {csrf}, "request_id": {id}, "action": {"approve"}, "login": {"hubot"}}, false)
	if r.status != http.StatusBadRequest || r.header.Get("Location") != "" {
		t.Fatalf("replayed page: %d", r.status)
	}

	csrf, id = authorizeForm(t, e, path)
	u = location(t, e.post("/login/oauth/authorize", url.Values{"authenticity_token": {csrf}, "request_id": {id}, "action": {"deny"}}, false))
	q := u.Query()
	if q.Get("error") != "access_denied" || q.Get("state") != "xyz" || q.Get("error_description") == "" || q.Get("code") != "" {
		t.Fatalf("deny redirected to %s", u)
	}

	// An expired CSRF token is refused.
	csrf, id = authorizeForm(t, e, path)
	e.clk.Advance(2 * time.Hour)
	r = e.post("/login/oauth/authorize", url.Values{"authenticity_token": {csrf}, "request_id": {id}, "action": {"approve"}, "login": {"hubot"}}, false)
	if r.status != http.StatusForbidden {
		t.Fatalf("expired CSRF: %d", r.status)
	}
	// And so is an expired request with a fresh token.
	fresh := e.s.csrfToken()
	r = e.post("/login/oauth/authorize", url.Values{"authenticity_token": {fresh}, "request_id": {id}, "action": {"approve"}, "login": {"hubot"}}, false)
	if r.status != http.StatusBadRequest {
		t.Fatalf("expired request: %d", r.status)
	}
}

func TestAuthorizePageEscapes(t *testing.T) {
	e := start(t, Config{Clients: []Client{{ID: "x", Secret: "y", Name: `<script>alert("n")</script>`}}})
	r := e.get(authorizeURL("x", "http://127.0.0.1:1/callback", "s", "", "scope", `<img src=x onerror=alert(1)>`))
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<img src=x") {
		t.Fatalf("unescaped input in page:\n%s", r.body)
	}
	if !strings.Contains(r.body, "&lt;script&gt;") {
		t.Fatalf("app name missing from page")
	}
}
