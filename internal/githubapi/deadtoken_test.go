package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ghlogin/ghlogin/oauth"
)

// The dead-token rule, through GetUser and UserInfo alike.
func TestDeadTokenRule(t *testing.T) {
	const sso = "https://github.com/orgs/octo-org/sso?authorization_request=AZSCKtL4U8yX1H3sCQIVnVgmjmon5fWxks5YrqhJgah0b2tlbl9pZM4EuMz4"
	for _, tc := range []struct {
		name    string
		status  int
		headers []string
		dead    bool
		ssoURL  string // "-" when not an SSO error
		want    string
	}{
		{"401", 401, nil, true, "-", "rejected the token (HTTP 401)"},
		{"401 with a challenge", 401, []string{"WWW-Authenticate", `Bearer realm="example", error="invalid_token", error_description="The access token expired"`},
			true, "-", "(HTTP 401): it was revoked or has expired (The access token expired)"},
		{"403 invalid_token", 403, []string{"WWW-Authenticate", `Bearer realm="userinfo", error="invalid_token", error_description="invalid token provided"`},
			true, "-", "rejected the token (HTTP 403, invalid_token)"},
		{"403 invalid_token among challenges", 403, []string{"WWW-Authenticate", `Basic realm="x", DPoP algs="ES256", Bearer error=invalid_token`}, true, "-", "invalid_token"},
		{"403 insufficient_scope", 403, []string{"WWW-Authenticate", `Bearer error="insufficient_scope", scope="repo"`}, false, "-", "HTTP 403 Forbidden"},
		{"403 SAML", 403, []string{"X-GitHub-SSO", "required; url=" + sso}, false, sso, "requires this token to be authorized for an organisation's SAML single sign-on"},
		{"403 SAML over invalid_token", 403, []string{"X-GitHub-SSO", "required; url=" + sso, "WWW-Authenticate", `Bearer error="invalid_token"`}, false, sso, "single sign-on"},
		{"403 SAML without a URL", 403, []string{"X-GitHub-SSO", "required"}, false, "", "single sign-on"},
		{"403 SAML with an http URL", 403, []string{"X-GitHub-SSO", "required; url=http://github.com/orgs/x/sso"}, false, "", "single sign-on"},
		{"403 SAML with a javascript URL", 403, []string{"X-GitHub-SSO", "required; url=javascript:alert(1)"}, false, "", "single sign-on"},
		{"403 SAML with a bidi URL", 403, []string{"X-GitHub-SSO", "required; url=https://github.com/orgs/\u202ex/sso"}, false, "", "single sign-on"},
		{"403 partial results is not SAML", 403, []string{"X-GitHub-SSO", "partial-results; organizations=21955855,20582480"}, false, "-", "HTTP 403 Forbidden"},
		{"403 other", 403, []string{"X-GitHub-Media-Type", "github.v3"}, false, "-", "HTTP 403 Forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, reply(tc.status, `{"message":"`+canary+`"}`, tc.headers...))
			for name, call := range map[string]func() error{
				"GetUser": func() error {
					_, err := (&Client{}).GetUser(context.Background(), srv.URL+"/user", "", canary)
					return err
				},
				"UserInfo": func() error { _, err := (&Client{}).UserInfo(context.Background(), srv.URL+"/me", canary); return err },
			} {
				err := call()
				if IsUnauthorized(err) != tc.dead {
					t.Errorf("%s: IsUnauthorized(%v) = %v", name, err, !tc.dead)
				}
				var se *SSORequiredError
				if isSSO := errors.As(err, &se); isSSO != (tc.ssoURL != "-") || isSSO && se.URL != tc.ssoURL {
					t.Errorf("%s: SSO error %+v, want URL %q", name, se, tc.ssoURL)
				}
				if IsSSORequired(err) != (tc.ssoURL != "-") {
					t.Errorf("%s: IsSSORequired", name)
				}
				if !tc.dead && tc.ssoURL == "-" {
					var he *oauth.HTTPError
					if !errors.As(err, &he) || he.StatusCode != 403 {
						t.Errorf("%s: a plain 403 is %T %v", name, err, err)
					}
				}
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Errorf("%s: message %v, want %q", name, err, tc.want)
				}
				noCanary(t, err)
			}
		})
	}
	// 2xx and other statuses are never a rejection.
	for _, status := range []int{200, 204, 400, 404, 500} {
		if err := Rejection("h", status, http.Header{"Www-Authenticate": {`Bearer error="invalid_token"`}}); err != nil {
			t.Errorf("Rejection(%d) = %v", status, err)
		}
	}
}

func TestBearerChallenge(t *testing.T) {
	for _, tc := range []struct {
		values []string
		want   map[string]string
	}{
		{nil, nil},
		{[]string{`Basic realm="x"`}, nil},
		{[]string{`Bearer`}, map[string]string{}},
		{[]string{`bearer error=invalid_token`}, map[string]string{"error": "invalid_token"}},
		{[]string{`Bearer realm="a, b", Error="invalid_token", error_description="say \"hi\""`},
			map[string]string{"realm": "a, b", "error": "invalid_token", "error_description": `say "hi"`}},
		{[]string{`Basic realm="x"`, `Bearer error="invalid_token"`}, map[string]string{"error": "invalid_token"}},
		{[]string{`Negotiate, Bearer error="invalid_token"`}, map[string]string{"error": "invalid_token"}},
		{[]string{`Newauth abc==, Bearer error="invalid_token", , scope="openid"`}, map[string]string{"error": "invalid_token", "scope": "openid"}},
		{[]string{`Bearer error="invalid_token", Basic realm="x"`}, map[string]string{"error": "invalid_token"}},
		{[]string{`Bearer error="unterminated`}, map[string]string{"error": "unterminated"}},
		{[]string{`"junk" ,,, Bearer error=x`}, map[string]string{"error": "x"}},
	} {
		h := http.Header{}
		for _, v := range tc.values {
			h.Add("WWW-Authenticate", v)
		}
		if got := BearerChallenge(h); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("BearerChallenge(%q) = %v, want %v", tc.values, got, tc.want)
		}
	}
}

// A display name is never why an approved token is thrown away: the
// OpenID Connect claims stand in for a field that is not a usable login.
func TestGetUserLoginFallback(t *testing.T) {
	for _, tc := range []struct {
		name, body, field, login, from, display string
	}{
		{"usable field", `{"preferred_username":"admin","name":"Admin User"}`, "preferred_username", "admin", "preferred_username", "Admin User"},
		{"name with a space", `{"name":"Admin User","preferred_username":"admin","sub":"42"}`, "name", "admin", "preferred_username", "Admin User"},
		{"then email", `{"name":"Admin User","email":"admin@example.com","sub":"42"}`, "name", "admin@example.com", "email", "Admin User"},
		{"then sub", `{"name":"Admin User","email":"a b@example.com","sub":"42"}`, "name", "42", "sub", "Admin User"},
		{"missing field", `{"sub":"42"}`, "nickname", "42", "sub", ""},
		{"display is sanitised", `{"name":"Evil\u001b[2J\u202eUser","sub":"42"}`, "name", "42", "sub", "EvilUser"},
		{"GitHub", `{"login":"octocat","name":"The Octocat"}`, "", "octocat", "login", "The Octocat"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, reply(200, tc.body))
			u, err := (&Client{}).GetUser(context.Background(), srv.URL+"/me", tc.field, canary)
			if err != nil {
				t.Fatal(err)
			}
			if u.Login != tc.login || u.LoginField != tc.from || u.Name != tc.display {
				t.Errorf("user = %+v, want login %q from %q, name %q", u, tc.login, tc.from, tc.display)
			}
		})
	}
}

func TestUserInfo(t *testing.T) {
	srv := newServer(t, reply(200, `{"sub":"248289761001","preferred_username":"bob","email_verified":true}`))
	claims, err := (&Client{}).UserInfo(context.Background(), srv.URL+"/me", canary)
	if err != nil || claims["sub"] != "248289761001" || claims["preferred_username"] != "bob" || claims["email_verified"] != true {
		t.Fatalf("UserInfo = %v, %v", claims, err)
	}
	for _, body := range []string{`[]`, `null`, `<html>`} {
		srv := newServer(t, reply(200, body))
		if _, err := (&Client{}).UserInfo(context.Background(), srv.URL+"/me", canary); err == nil {
			t.Errorf("UserInfo accepted %s", body)
		}
	}
}

func TestDeleteAppToken(t *testing.T) {
	type seen struct {
		method, path, user, pass, ctype, accept string
		body                                    map[string]string
	}
	var got atomic.Value
	status := http.StatusNoContent
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, _ := r.BasicAuth()
		s := seen{method: r.Method, path: r.URL.Path, user: u, pass: p, ctype: r.Header.Get("Content-Type"), accept: r.Header.Get("Accept")}
		b, _ := io.ReadAll(r.Body)
		_ = json.Unmarshal(b, &s.body)
		got.Store(s)
		w.WriteHeader(status)
	}))
	t.Cleanup(srv.Close)
	creds := oauth.Credentials{ClientID: "Ov23li.abc", ClientSecret: "s3cret"}
	c := &Client{}
	if err := c.DeleteAppToken(context.Background(), srv.URL+"/api/v3/", creds, canary); err != nil {
		t.Fatal(err)
	}
	s := got.Load().(seen)
	if s.method != http.MethodDelete || s.path != "/api/v3/applications/Ov23li.abc/token" || s.user != "Ov23li.abc" || s.pass != "s3cret" ||
		s.body["access_token"] != canary || s.ctype != "application/json" || !strings.Contains(s.accept, "github") {
		t.Errorf("request = %+v", s)
	}
	for _, tc := range []struct {
		status int
		gone   bool
		want   string
	}{
		{401, false, "refused the OAuth app's client ID and secret (HTTP 401)"},
		{404, true, "does not know the token"},
		{422, false, "refused to revoke the token (HTTP 422)"},
	} {
		status = tc.status
		err := c.DeleteAppToken(context.Background(), srv.URL, creds, canary)
		var ae *AppTokenError
		if !errors.As(err, &ae) || ae.Gone() != tc.gone || !strings.Contains(err.Error(), tc.want) || IsUnauthorized(err) {
			t.Errorf("%d: %v", tc.status, err)
		}
		noCanary(t, err)
	}
	status = 503
	if err := c.DeleteAppToken(context.Background(), srv.URL, creds, canary); !oauth.IsTransient(err) {
		t.Errorf("503: %v", err)
	}
	if err := c.DeleteAppToken(context.Background(), srv.URL, oauth.Credentials{ClientID: "x"}, canary); err == nil {
		t.Error("no client secret: no error")
	}
	// The request carries the secret: no redirect is followed.
	var hits atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	t.Cleanup(other.Close)
	redir := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+r.URL.Path, http.StatusTemporaryRedirect)
	}))
	t.Cleanup(redir.Close)
	if err := c.DeleteAppToken(context.Background(), redir.URL, creds, canary); err == nil || hits.Load() != 0 {
		t.Errorf("redirect: %v, %d requests to the target", err, hits.Load())
	}
}
