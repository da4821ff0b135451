package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/oauth"
)

// Each token mode, as GitHub's API answers it and as ghlogin's API client
// reads it: SAML single sign-on, a 403 that says invalid_token, a plain 403.
func TestTokenModes(t *testing.T) {
	e := start(t, Config{})
	ts, err := e.s.IssueToken(DefaultClientID, "octocat", []string{"repo"})
	if err != nil {
		t.Fatal(err)
	}
	api := &githubapi.Client{}
	get := func() error {
		_, err := api.GetUser(context.Background(), e.base+"/api/v3/user", "", ts.AccessToken)
		return err
	}

	if err := e.s.SetTokenMode(ts.AccessToken, TokenSSORequired); err != nil {
		t.Fatal(err)
	}
	r := e.get("/api/v3/user", "Authorization", "Bearer "+ts.AccessToken)
	sso := r.header.Get("X-GitHub-SSO")
	if r.status != http.StatusForbidden || !strings.HasPrefix(sso, "required; url=https://"+strings.TrimPrefix(e.base, "http://")+"/orgs/octo-org/sso?authorization_request=") ||
		!strings.Contains(r.f["message"], "SAML enforcement") {
		t.Fatalf("SSO: %d %q %s", r.status, sso, r.body)
	}
	err = get()
	var se *githubapi.SSORequiredError
	// Each answer names a new authorization request.
	prefix := strings.TrimPrefix(sso, "required; url=")
	prefix = prefix[:strings.Index(prefix, "=")+1]
	if !errors.As(err, &se) || !strings.HasPrefix(se.URL, prefix) || len(se.URL) != len(prefix)+40 || githubapi.IsUnauthorized(err) {
		t.Fatalf("SSO through githubapi: %v", err)
	}

	if err := e.s.SetTokenMode(ts.AccessToken, TokenInvalid403); err != nil {
		t.Fatal(err)
	}
	if err := get(); !githubapi.IsUnauthorized(err) || !strings.Contains(err.Error(), "HTTP 403, invalid_token") {
		t.Fatalf("invalid_token: %v", err)
	}

	if err := e.s.SetTokenMode(ts.AccessToken, TokenForbidden); err != nil {
		t.Fatal(err)
	}
	var he *oauth.HTTPError
	if err := get(); !errors.As(err, &he) || he.StatusCode != 403 || githubapi.IsUnauthorized(err) || githubapi.IsSSORequired(err) {
		t.Fatalf("forbidden: %v", err)
	}

	if err := e.s.SetTokenMode(ts.AccessToken, TokenNormal); err != nil {
		t.Fatal(err)
	}
	if err := get(); err != nil {
		t.Fatalf("normal: %v", err)
	}
	if err := e.s.SetTokenMode("gho_unknown", TokenForbidden); !errors.Is(err, ErrUnknownToken) {
		t.Fatalf("unknown token: %v", err)
	}
	// A revoked token is dead whatever its mode was.
	_ = e.s.SetTokenMode(ts.AccessToken, TokenSSORequired)
	e.s.Revoke(ts.AccessToken)
	if err := get(); !githubapi.IsUnauthorized(err) {
		t.Fatalf("revoked: %v", err)
	}
}

// The admin endpoint sets a mode from another process.
func TestTokenModeAdminEndpoint(t *testing.T) {
	e := start(t, Config{})
	ts, _ := e.s.IssueToken(DefaultClientID, "octocat", nil)
	if err := SetTokenModeURL(nil, e.base, ts.AccessToken, "invalid-token"); err != nil {
		t.Fatal(err)
	}
	r := e.get("/user", "Authorization", "Bearer "+ts.AccessToken)
	if r.status != http.StatusForbidden || !strings.Contains(r.header.Get("WWW-Authenticate"), `error="invalid_token"`) {
		t.Fatalf("after the admin call: %d %v", r.status, r.header)
	}
	for _, tc := range []struct {
		form   url.Values
		status int
	}{
		{url.Values{"token": {ts.AccessToken}, "mode": {"bogus"}}, http.StatusUnprocessableEntity},
		{url.Values{"token": {"gho_nope"}, "mode": {"normal"}}, http.StatusNotFound},
	} {
		if r := e.post(AdminTokenModePath, tc.form, true); r.status != tc.status {
			t.Errorf("%v: %d, want %d", tc.form, r.status, tc.status)
		}
	}
	if r := e.get(AdminTokenModePath); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET: %d", r.status)
	}
	if err := SetTokenModeURL(nil, e.base, "gho_nope", "normal"); err == nil {
		t.Error("SetTokenModeURL of an unknown token: no error")
	}
	if logs := e.logs.all(); strings.Contains(logs, ts.AccessToken) {
		t.Errorf("the token is in the log:\n%s", logs)
	}
}

// A client whose server omits scope from token replies: the reply has no
// scope field, and a client reads the requested scopes as granted (RFC 6749
// §5.1).
func TestOmitScope(t *testing.T) {
	clients := DefaultClients()
	clients[0].OmitScope = true
	e := start(t, Config{Clients: clients, AutoApproveAfter: 1})
	dc := e.deviceCode(DefaultClientID, "repo read:org")
	r := e.poll(DefaultClientID, dc.f["device_code"])
	if _, ok := r.f["scope"]; ok || r.status != 200 || r.f["access_token"] == "" {
		t.Fatalf("reply %d %s: want a token without scope", r.status, r.body)
	}
	// The same through oauth.Client.
	dc = e.deviceCode(DefaultClientID, "repo read:org")
	e.clk.Advance(10 * time.Second)
	tok, err := (&oauth.Client{}).Exchange(context.Background(), e.base+"/login/oauth/access_token", oauth.Credentials{ClientID: DefaultClientID},
		url.Values{"grant_type": {DeviceGrantType}, "device_code": {dc.f["device_code"]}})
	if err != nil {
		t.Fatal(err)
	}
	if !tok.ScopeOmitted || !reflect.DeepEqual(tok.GrantedScopes([]string{"repo", "read:org"}), []string{"repo", "read:org"}) {
		t.Errorf("token %v: ScopeOmitted %v", tok, tok.ScopeOmitted)
	}
	u, err := (&githubapi.Client{}).GetUser(context.Background(), e.base+"/api/v3/user", "", tok.AccessToken)
	if err != nil || !reflect.DeepEqual(u.Scopes, []string{"read:org", "repo"}) {
		t.Errorf("X-OAuth-Scopes: %+v %v", u, err)
	}
	// A GitHub App with OmitScope sends no scope either; others still do.
	apps := DefaultClients()
	apps[1].OmitScope = true
	e = start(t, Config{Clients: apps, AutoApproveAfter: 1})
	if r := e.poll(AppClientID, e.deviceCode(AppClientID, "").f["device_code"]); r.f["refresh_token"] == "" || r.f["scope"] != "" {
		t.Fatalf("app: %s", r.body)
	} else if _, ok := r.f["scope"]; ok {
		t.Fatalf("app reply has scope: %s", r.body)
	}
	if r := e.poll(DefaultClientID, e.deviceCode(DefaultClientID, "gist").f["device_code"]); r.f["scope"] != "gist" {
		t.Fatalf("oauth app: %s", r.body)
	}
}
