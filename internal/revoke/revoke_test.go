package revoke

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// startEmulator runs the GitHub emulator and returns it with its host's
// endpoints.
func startEmulator(t *testing.T) (*emulator.Server, *oidcdisc.Endpoints) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s, err := emulator.Start(ctx, "", emulator.Config{})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); s.Close() })
	h, err := hosts.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	return s, oidcdisc.Resolve(h, nil, nil, nil)
}

func userStatus(t *testing.T, e *oidcdisc.Endpoints, token string) error {
	t.Helper()
	_, err := (&githubapi.Client{}).GetUser(context.Background(), e.UserInfoURL, e.LoginField, token)
	return err
}

func TestGitHubRevocationWithSecret(t *testing.T) {
	for _, app := range []struct{ id, secret string }{
		{emulator.DefaultClientID, emulator.DefaultClientSecret}, // an OAuth app
		{emulator.AppClientID, emulator.AppClientSecret},         // a GitHub App (ghu_ with a ghr_)
	} {
		t.Run(app.id, func(t *testing.T) {
			s, e := startEmulator(t)
			ts, err := s.IssueToken(app.id, "octocat", []string{"repo"})
			if err != nil {
				t.Fatal(err)
			}
			if err := userStatus(t, e, ts.AccessToken); err != nil {
				t.Fatalf("before: %v", err)
			}
			sec := &store.Secret{Token: ts.AccessToken, RefreshToken: ts.RefreshToken}
			req := RequestFor(e, oauth.Credentials{ClientID: app.id, ClientSecret: app.secret}, sec)
			res, err := (&Revoker{}).Revoke(context.Background(), req)
			if err != nil {
				t.Fatal(err)
			}
			if res.Method != MethodGitHub || res.Endpoint != s.URL()+"/api/v3/applications/"+app.id+"/token" || len(res.Revoked) != 1 || res.AlreadyGone {
				t.Errorf("result = %+v", res)
			}
			if err := userStatus(t, e, ts.AccessToken); !githubapi.IsUnauthorized(err) {
				t.Errorf("after revocation /user says %v, want a dead token", err)
			}
			st := s.Stats()
			if st.Requests["DELETE /api/v3/applications/{client_id}/token"] != 1 {
				t.Errorf("requests = %v", st.Requests)
			}
			// Again: GitHub no longer knows it.
			res, err = (&Revoker{}).Revoke(context.Background(), req)
			if err != nil || !res.AlreadyGone {
				t.Errorf("second revocation: %+v %v", res, err)
			}
		})
	}
}

func TestGitHubRevocationWithoutSecret(t *testing.T) {
	s, e := startEmulator(t)
	ts, _ := s.IssueToken(emulator.DefaultClientID, "octocat", []string{"repo"})
	req := RequestFor(e, oauth.Credentials{ClientID: emulator.DefaultClientID}, &store.Secret{Token: ts.AccessToken})
	_, err := (&Revoker{}).Revoke(context.Background(), req)
	var ce *CannotRevokeError
	if !errors.As(err, &ce) || ce.Reason != NoSecret || ce.Page != s.URL()+"/settings/connections/applications/Ov23li.emulator" {
		t.Fatalf("err = %v (%+v)", err, ce)
	}
	if !strings.Contains(err.Error(), "stays valid until it expires or is revoked") {
		t.Errorf("message %q", err)
	}
	if n := s.Stats().Requests; len(n) != 0 {
		t.Errorf("requests were sent: %v", n)
	}
	if err := userStatus(t, e, ts.AccessToken); err != nil {
		t.Errorf("the token no longer works: %v", err)
	}

	// A wrong secret: refused, reported with the page, token still valid.
	req.Credentials.ClientSecret = "wrong"
	_, err = (&Revoker{}).Revoke(context.Background(), req)
	var fe *FailedError
	var ae *githubapi.AppTokenError
	if !errors.As(err, &fe) || !errors.As(err, &ae) || ae.StatusCode != 401 || fe.Page == "" || githubapi.IsUnauthorized(err) {
		t.Fatalf("wrong secret: %v", err)
	}
	if strings.Contains(err.Error(), ts.AccessToken) || strings.Contains(err.Error(), "wrong") {
		t.Errorf("a secret is in %q", err)
	}
}

func TestPage(t *testing.T) {
	gh, _ := hosts.Parse("github.com")
	ghe, _ := hosts.Parse("ghe.example.com")
	for _, tc := range []struct {
		h    hosts.Host
		kind config.Kind
		id   string
		want string
	}{
		{gh, config.KindGitHub, "Ov23liABC", "https://github.com/settings/connections/applications/Ov23liABC"},
		{ghe, config.KindGitHub, "Iv1.x/y", "https://ghe.example.com/settings/connections/applications/Iv1.x%2Fy"},
		{gh, config.KindGitHub, "", "https://github.com/settings/applications"},
		{ghe, config.KindOIDC, "cli", ""},
	} {
		if got := Page(tc.h, tc.kind, tc.id); got != tc.want {
			t.Errorf("Page(%s, %v, %q) = %q, want %q", tc.h.Name, tc.kind, tc.id, got, tc.want)
		}
	}
}

// rfcServer is an RFC 7009 endpoint that records what it gets.
type rfcServer struct {
	*httptest.Server
	mu    sync.Mutex
	forms []url.Values
	basic []string
	fail  map[string]int // token_type_hint → status to answer
}

func newRFCServer(t *testing.T) *rfcServer {
	s := &rfcServer{fail: map[string]int{}}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		u, _, _ := r.BasicAuth()
		s.mu.Lock()
		s.forms = append(s.forms, r.PostForm)
		s.basic = append(s.basic, u)
		status := s.fail[r.PostForm.Get("token_type_hint")]
		s.mu.Unlock()
		if status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			_, _ = w.Write([]byte(`{"error":"unsupported_token_type"}`))
			return
		}
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(s.Close)
	return s
}

func TestRFC7009(t *testing.T) {
	srv := newRFCServer(t)
	h, _ := hosts.Parse(srv.URL)
	req := Request{Host: h, Kind: config.KindOIDC, RevocationURL: srv.URL + "/revoke", Credentials: oauth.Credentials{ClientID: "cli", ClientSecret: "s", Style: oauth.AuthBasic},
		AccessToken: "at-secret", RefreshToken: "rt-secret"}
	res, err := (&Revoker{}).Revoke(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if res.Method != MethodRFC7009 || strings.Join(res.Revoked, ",") != "refresh_token,access_token" {
		t.Errorf("result = %+v", res)
	}
	if len(srv.forms) != 2 || srv.forms[0].Get("token") != "rt-secret" || srv.forms[0].Get("token_type_hint") != "refresh_token" ||
		srv.forms[1].Get("token") != "at-secret" || srv.forms[1].Get("token_type_hint") != "access_token" || srv.basic[0] != "cli" {
		t.Errorf("requests = %v, Basic users %v", srv.forms, srv.basic)
	}

	// The refresh token's revocation fails: the access token is still
	// revoked, and the failure is reported.
	srv.fail["refresh_token"] = 400
	res, err = (&Revoker{}).Revoke(context.Background(), req)
	var fe *FailedError
	var oe *oauth.Error
	if !errors.As(err, &fe) || fe.Token != oauth.HintRefreshToken || !errors.As(err, &oe) || oe.Code != "unsupported_token_type" ||
		strings.Join(res.Revoked, ",") != "access_token" {
		t.Fatalf("partial failure: %+v %v", res, err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("a secret is in %q", err)
	}

	// A public client without a refresh token.
	srv.fail = map[string]int{}
	req.Credentials, req.RefreshToken = oauth.Credentials{ClientID: "pub"}, ""
	if res, err = (&Revoker{}).Revoke(context.Background(), req); err != nil || strings.Join(res.Revoked, ",") != "access_token" {
		t.Fatalf("public client: %+v %v", res, err)
	}
	if f := srv.forms[len(srv.forms)-1]; f.Get("client_id") != "pub" {
		t.Errorf("form %v", f)
	}
}

func TestNoEndpoint(t *testing.T) {
	h, _ := hosts.Parse("sso.example.com")
	for _, kind := range []config.Kind{config.KindOIDC, config.KindOAuth} {
		_, err := (&Revoker{}).Revoke(context.Background(), Request{Host: h, Kind: kind, AccessToken: "x", Credentials: oauth.Credentials{ClientID: "c", ClientSecret: "s"}})
		var ce *CannotRevokeError
		if !errors.As(err, &ce) || ce.Reason != NoEndpoint || ce.Page != "" {
			t.Errorf("%v: %v", kind, err)
		}
	}
	if _, err := (&Revoker{}).Revoke(context.Background(), Request{Host: h}); err == nil {
		t.Error("nothing to revoke: no error")
	}
}
