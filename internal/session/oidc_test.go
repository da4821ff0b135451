package session

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

const oidcClient = "ghlogin-test"

// fakeIssuer is an OpenID Connect server: discovery, keys, userinfo, a
// token endpoint for the refresh grant, and RFC 7009 revocation. Tokens are
// grouped in grants; revoking a refresh token ends its grant, as RFC 7009
// §2.1 allows.
type fakeIssuer struct {
	t   *testing.T
	f   *fixture
	url string
	key *rsa.PrivateKey

	mu sync.Mutex
	// grant of each live token (access and refresh), and the person (sub)
	// of each grant.
	grant   map[string]int
	subject map[int]string
	next    int
	revoked []string
}

func newFakeIssuer(t *testing.T, f *fixture) *fakeIssuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &fakeIssuer{t: t, f: f, key: key, grant: map[string]int{}, subject: map[int]string{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]any{
			"issuer": is.url, "authorization_endpoint": is.url + "/auth", "token_endpoint": is.url + "/token",
			"device_authorization_endpoint": is.url + "/device", "userinfo_endpoint": is.url + "/me",
			"revocation_endpoint": is.url + "/revoke", "jwks_uri": is.url + "/jwks",
			// No profile, and no S256: defaults and PKCE follow.
			"scopes_supported": []string{"openid", "email", "offline_access"}, "code_challenge_methods_supported": []string{"plain"},
			"id_token_signing_alg_values_supported": []string{"RS256"},
		})
	})
	mux.HandleFunc("GET /jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		sub, ok := is.live(strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer "))
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeJSON(w, 401, map[string]string{"error": "invalid_token"})
			return
		}
		writeJSON(w, 200, map[string]string{"sub": sub})
	})
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		g, ok := is.grant[r.FormValue("refresh_token")]
		is.mu.Unlock()
		if r.FormValue("grant_type") != "refresh_token" || !ok {
			writeJSON(w, 400, map[string]string{"error": "invalid_grant"})
			return
		}
		writeJSON(w, 200, is.issue(g, "", "openid email offline_access"))
	})
	mux.HandleFunc("POST /revoke", func(w http.ResponseWriter, r *http.Request) {
		is.mu.Lock()
		defer is.mu.Unlock()
		tok := r.FormValue("token")
		is.revoked = append(is.revoked, r.FormValue("token_type_hint"))
		g, ok := is.grant[tok]
		if !ok {
			w.WriteHeader(200)
			return
		}
		if r.FormValue("token_type_hint") == "refresh_token" {
			for k, v := range is.grant {
				if v == g {
					delete(is.grant, k)
				}
			}
		}
		delete(is.grant, tok)
		w.WriteHeader(200)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	is.url = srv.URL
	return is
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// live reports whether token is live, and whose it is.
func (is *fakeIssuer) live(token string) (string, bool) {
	is.mu.Lock()
	defer is.mu.Unlock()
	g, ok := is.grant[token]
	return is.subject[g], ok
}

// login makes a token reply for a new grant (or grant g when g > 0) of
// sub, whose ID token carries claims over the defaults.
func (is *fakeIssuer) login(sub string, g int, claims map[string]any) *oauth.Token {
	is.mu.Lock()
	if g == 0 {
		is.next++
		g = is.next
	}
	is.subject[g] = sub
	is.mu.Unlock()
	reply := is.issue(g, "", "")
	tok := &oauth.Token{AccessToken: reply["access_token"].(string), RefreshToken: reply["refresh_token"].(string),
		TokenType: "Bearer", ExpiresIn: 3600, IDToken: is.idToken(sub, claims), ScopeOmitted: true}
	return tok
}

// issue makes a token endpoint reply for grant g.
func (is *fakeIssuer) issue(g int, _ string, scope string) map[string]any {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.next++
	at, rt := fmt.Sprintf("at-%d", is.next), fmt.Sprintf("rt-%d", is.next)
	is.grant[at], is.grant[rt] = g, g
	reply := map[string]any{"access_token": at, "refresh_token": rt, "token_type": "Bearer", "expires_in": 3600,
		"id_token": is.idTokenLocked(is.subject[g], nil)}
	if scope != "" {
		reply["scope"] = scope
	}
	return reply
}

func (is *fakeIssuer) idToken(sub string, claims map[string]any) string {
	is.mu.Lock()
	defer is.mu.Unlock()
	return is.idTokenLocked(sub, claims)
}

func (is *fakeIssuer) idTokenLocked(sub string, claims map[string]any) string {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithHeader("kid", "k1"))
	if err != nil {
		is.t.Fatal(err)
	}
	now := is.f.clk.Now()
	c := map[string]any{"iss": is.url, "aud": oidcClient, "sub": sub, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix(),
		"preferred_username": sub, "n": is.next}
	for k, v := range claims {
		c[k] = v
	}
	raw, err := jwt.Signed(sig).Claims(c).Serialize()
	if err != nil {
		is.t.Fatal(err)
	}
	return raw
}

// target resolves the issuer's host as login --issuer does, and reads its
// discovery document.
func (is *fakeIssuer) target() *Target {
	is.t.Helper()
	tg, err := is.f.sess.ResolveHost(Request{ClientID: oidcClient, Store: store.BackendFile, Overrides: config.Host{Issuer: is.url}})
	if err != nil {
		is.t.Fatal(err)
	}
	if err := is.f.sess.Discover(context.Background(), tg); err != nil {
		is.t.Fatal(err)
	}
	return tg
}

// An issuer names its host; endpoints, default scopes and PKCE come from
// its discovery document once read, and until then from the cache only.
func TestResolveIssuer(t *testing.T) {
	f := newFixture(t)
	is := newFakeIssuer(t, f)
	host := strings.TrimPrefix(is.url, "http://")
	tg, err := f.sess.ResolveHost(Request{Overrides: config.Host{Issuer: is.url}})
	if err != nil {
		t.Fatal(err)
	}
	if tg.Host.Name != host || tg.Host.Scheme != "http" || tg.Kind() != config.KindOIDC || !tg.Endpoints.NeedsDiscovery() || tg.Endpoints.TokenURL != "" {
		t.Fatalf("before discovery: %+v %+v", tg.Host, tg.Endpoints)
	}
	if !slices.Equal(tg.Scopes, config.OIDCScopes) || !tg.PKCE() {
		t.Errorf("before discovery: scopes %v, PKCE %v", tg.Scopes, tg.PKCE())
	}
	if err := f.sess.Discover(context.Background(), tg); err != nil {
		t.Fatal(err)
	}
	if tg.Endpoints.TokenURL != is.url+"/token" || tg.Endpoints.Source("token_url") != oidcdisc.SourceDiscovery || tg.Endpoints.RevocationURL != is.url+"/revoke" {
		t.Errorf("after discovery: %+v", tg.Endpoints.List)
	}
	if !slices.Equal(tg.Scopes, []string{"openid", "email", "offline_access"}) || tg.PKCE() {
		t.Errorf("after discovery: scopes %v (want those supported), PKCE %v (S256 is not)", tg.Scopes, tg.PKCE())
	}
	// A --token-url flag still wins, and says so.
	tg, err = f.sess.ResolveHost(Request{Host: is.url, Overrides: config.Host{Issuer: is.url, TokenURL: "http://127.0.0.1:1/t"}})
	if err != nil || tg.Endpoints.TokenURL != "http://127.0.0.1:1/t" || tg.Endpoints.Source("token_url") != oidcdisc.SourceFlag {
		t.Fatalf("--token-url: %v %+v", err, tg)
	}
	// The cache now answers without a request.
	if tg.Endpoints.NeedsDiscovery() || tg.Endpoints.UserInfoURL != is.url+"/me" {
		t.Errorf("from the cache: %+v", tg.Endpoints)
	}
	for _, req := range []Request{
		{Host: "ghe.example.com", Overrides: config.Host{Issuer: is.url}},
		{Overrides: config.Host{Issuer: "http://sso.example.com"}},
		{Overrides: config.Host{Issuer: is.url + "?x=1"}},
	} {
		var ie *InputError
		if _, err := f.sess.ResolveHost(req); !errors.As(err, &ie) || ie.Field != "issuer" {
			t.Errorf("%+v: %v, want an *InputError for issuer", req, err)
		}
	}
}

// A login to an OpenID Connect host is identified by its verified ID token
// (nonce included), keeps the ID token, records the scopes requested when
// the reply omits them, and remembers the issuer with the account.
func TestSaveLoginOIDC(t *testing.T) {
	f := newFixture(t)
	is := newFakeIssuer(t, f)
	tg := is.target()
	params, err := f.sess.WebParams(tg)
	if err != nil || params.Get("nonce") == "" {
		t.Fatalf("WebParams: %v %v", params, err)
	}
	ctx := context.Background()

	// A wrong nonce: nothing is stored.
	bad := is.login("alice", 0, map[string]any{"nonce": "another"})
	var ve *identity.VerifyError
	if _, err := f.sess.SaveLogin(ctx, tg, bad); !errors.As(err, &ve) || ve.Reason != identity.ReasonNonce {
		t.Fatalf("wrong nonce: %v", err)
	}
	if f.cfg().Hosts[tg.Host.Name] != nil {
		t.Fatal("a refused login stored something")
	}

	tok := is.login("alice", 0, map[string]any{"nonce": params.Get("nonce"), "preferred_username": "Alice Example", "email": "alice@example.test"})
	l, err := f.sess.SaveLogin(ctx, tg, tok)
	if err != nil {
		t.Fatal(err)
	}
	// "Alice Example" is no login; email is, and the name is shown beside it.
	if l.Login != "alice@example.test" || l.DisplayName != "" || !slices.Equal(l.Scopes, tg.Scopes) {
		t.Errorf("login %+v", l)
	}
	sec, err := f.st.Secret(ctx, store.Account{Host: tg.Host.Name, Login: l.Login})
	if err != nil || sec.IDToken != tok.IDToken || sec.IDTokenExpiresAt.IsZero() || !slices.Equal(sec.RequestedScopes, tg.Scopes) {
		t.Fatalf("secret: %v, ID token kept %v", err, sec != nil && sec.IDToken == tok.IDToken)
	}
	if hc := f.cfg().Hosts[tg.Host.Name]; hc.Issuer != is.url || hc.Protocol != "http" || hc.ClientID != oidcClient || hc.TokenURL != "" {
		t.Errorf("host settings %+v", hc)
	}
}

// A GitHub host never keeps an ID token it cannot verify.
func TestSaveLoginGitHubDropsIDToken(t *testing.T) {
	f := newFixture(t)
	e, srv, host := f.emu(emulator.Config{})
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: store.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.sess.SaveLogin(context.Background(), tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer", Scope: "repo", IDToken: "a.b.c"}); err != nil {
		t.Fatal(err)
	}
	if sec, _ := f.st.Secret(context.Background(), store.Account{Host: host, Login: "octocat"}); sec.IDToken != "" {
		t.Error("an unverified ID token was kept")
	}
}

// token --id-token refreshes a due ID token and hands out the new one.
func TestTokenWithIDToken(t *testing.T) {
	f := newFixture(t)
	is := newFakeIssuer(t, f)
	tg := is.target()
	ctx := context.Background()
	l, err := f.sess.SaveLogin(ctx, tg, is.login("alice", 0, nil))
	if err != nil {
		t.Fatal(err)
	}
	first, err := f.sess.TokenWith(ctx, tg, Query{}, TokenOptions{IDToken: true})
	if err != nil || first.Secret.IDToken == "" || first.Account.Login != l.Login {
		t.Fatalf("%v %v", first, err)
	}
	f.clk.Advance(58 * time.Minute)
	var notices []refresh.Notice
	got, err := f.sess.TokenWith(ctx, tg, Query{}, TokenOptions{IDToken: true, OnRefresh: func(n refresh.Notice) { notices = append(notices, n) }})
	if err != nil || got.Secret.IDToken == first.Secret.IDToken || len(notices) != 1 || !strings.Contains(notices[0].String(), "expires in 120 s, refreshing") {
		t.Fatalf("refresh: %v, notices %v", err, notices)
	}
	// The environment's token is not an ID token.
	f.env["GH_ENTERPRISE_TOKEN"] = "env"
	if tok, err := f.sess.TokenWith(ctx, tg, Query{}, TokenOptions{IDToken: true}); err != nil || tok.Env != "" {
		t.Fatalf("with an enterprise token set: %v %v", tok, err)
	}
}

// refresh: the new login must be the same person (login and sub); the old
// pair is revoked, and a server that ends the new token with the old
// grant is caught.
func TestRescope(t *testing.T) {
	f := newFixture(t)
	is := newFakeIssuer(t, f)
	ctx := context.Background()
	if _, err := f.sess.SaveLogin(ctx, is.target(), is.login("alice", 0, nil)); err != nil {
		t.Fatal(err)
	}
	host := is.target().Host.Name
	oldSec, _ := f.st.Secret(ctx, store.Account{Host: host, Login: "alice"})

	plan := func() (*Rescope, *Target) {
		t.Helper()
		tg := is.target()
		r, err := f.sess.PlanRescope(ctx, tg, "", ScopeChange{Remove: []string{"email"}})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(r.To, []string{"openid", "offline_access"}) || !slices.Equal(tg.Scopes, r.To) {
			t.Fatalf("plan %+v, target scopes %v", r, tg.Scopes)
		}
		return r, tg
	}

	// Same preferred_username, another sub: refused, the new token revoked.
	r, tg := plan()
	other := is.login("mallory", 0, map[string]any{"preferred_username": "alice"})
	var wa *WrongAccountError
	if _, err := f.sess.SaveRescope(ctx, tg, r, other); !errors.As(err, &wa) || wa.Want != "alice" {
		t.Fatalf("another subject: %v", err)
	}
	if _, live := is.live(other.AccessToken); live {
		t.Error("the refused token was not revoked")
	}
	if sec, _ := f.st.Secret(ctx, store.Account{Host: host, Login: "alice"}); sec.Token != oldSec.Token {
		t.Fatal("a refused rescope replaced the token")
	}

	// The same person: the token is replaced, the old pair revoked.
	r, tg = plan()
	res, err := f.sess.SaveRescope(ctx, tg, r, is.login("alice", 0, nil))
	if err != nil || !res.Revocation.Revoked() || !slices.Equal(res.Revocation.Result.Revoked, []string{"refresh_token", "access_token"}) {
		t.Fatalf("rescope: %+v %v", res, err)
	}
	if _, live := is.live(oldSec.Token); live {
		t.Error("the old token still works")
	}
	cur, _ := f.st.Secret(ctx, store.Account{Host: host, Login: "alice"})
	if _, live := is.live(cur.Token); !live || !slices.Equal(cur.RequestedScopes, []string{"openid", "offline_access"}) {
		t.Fatalf("new token live %v, requested %v", live, cur.RequestedScopes)
	}

	// A server that issues the new token under the old grant ends both.
	r, tg = plan()
	is.mu.Lock()
	g := is.grant[cur.Token]
	is.mu.Unlock()
	var et *EndedTogetherError
	if _, err := f.sess.SaveRescope(ctx, tg, r, is.login("alice", g, nil)); !errors.As(err, &et) {
		t.Fatalf("same grant: %v", err)
	}
}

// config list and config get show an OpenID Connect host's discovered
// endpoints whether the host is named or inferred (the only host with
// accounts).
func TestEffectiveSettingsOfAnInferredIssuerHost(t *testing.T) {
	f := newFixture(t)
	is := newFakeIssuer(t, f)
	tg := is.target()
	params, err := f.sess.WebParams(tg)
	if err != nil {
		t.Fatal(err)
	}
	tok := is.login("alice", 0, map[string]any{"nonce": params.Get("nonce"), "email": "alice@example.test"})
	if _, err := f.sess.SaveLogin(context.Background(), tg, tok); err != nil {
		t.Fatal(err)
	}
	for _, host := range []string{"", tg.Host.Name, is.url} {
		name, rows, err := f.sess.EffectiveSettings(host)
		if err != nil || name != tg.Host.Name {
			t.Fatalf("%q: %q %v", host, name, err)
		}
		found := false
		for _, r := range rows {
			if r.Key == "token_url" {
				found = r.Value == is.url+"/token" && r.Source == string(oidcdisc.SourceDiscovery)
			}
		}
		if !found {
			t.Errorf("host %q: token_url not from discovery: %+v", host, rows)
		}
	}
}
