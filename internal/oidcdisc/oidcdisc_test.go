package oidcdisc

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

var t0 = time.Date(2026, 4, 1, 12, 0, 0, 0, time.UTC)

// docFor is a complete discovery document for issuer, endpoints under base.
func docFor(issuer string) map[string]any {
	base := strings.TrimSuffix(issuer, "/")
	return map[string]any{
		"issuer":                                issuer,
		"authorization_endpoint":                base + "/auth",
		"token_endpoint":                        base + "/token",
		"userinfo_endpoint":                     base + "/me",
		"jwks_uri":                              base + "/jwks",
		"device_authorization_endpoint":         base + "/device/auth",
		"revocation_endpoint":                   base + "/token/revocation",
		"scopes_supported":                      []string{"openid", "offline_access", "profile", "email"},
		"code_challenge_methods_supported":      []string{"S256"},
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
	}
}

func encode(t *testing.T, m map[string]any) []byte {
	t.Helper()
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestParse(t *testing.T) {
	const iss = "https://sso.example.com/dex"
	d, err := Parse(iss, encode(t, docFor(iss)))
	if err != nil {
		t.Fatal(err)
	}
	if d.TokenEndpoint != iss+"/token" || d.DeviceAuthorizationEndpoint != iss+"/device/auth" || d.RevocationEndpoint != iss+"/token/revocation" ||
		d.JWKSURI != iss+"/jwks" || d.UserinfoEndpoint != iss+"/me" || d.AuthorizationEndpoint != iss+"/auth" ||
		!reflect.DeepEqual(d.ScopesSupported, []string{"openid", "offline_access", "profile", "email"}) || !d.SupportsPKCE() {
		t.Errorf("document = %+v", d)
	}

	with := func(k string, v any) []byte {
		m := docFor(iss)
		if v == nil {
			delete(m, k)
		} else {
			m[k] = v
		}
		return encode(t, m)
	}
	for _, tc := range []struct {
		name    string
		raw     []byte
		problem Problem
		field   string
		msg     string
	}{
		{"issuer differs", with("issuer", "https://sso.example.com/other"), IssuerMismatch, "issuer", `names the issuer "https://sso.example.com/other"`},
		{"trailing slash differs", with("issuer", iss+"/"), IssuerMismatch, "issuer", "match its discovery document exactly"},
		{"issuer case differs", with("issuer", "https://SSO.example.com/dex"), IssuerMismatch, "issuer", ""},
		{"no issuer", with("issuer", nil), MissingField, "issuer", "has no issuer"},
		{"no token endpoint", with("token_endpoint", nil), MissingField, "token_endpoint", "has no token_endpoint"},
		{"empty authorization endpoint", with("authorization_endpoint", ""), MissingField, "authorization_endpoint", ""},
		{"no jwks_uri", with("jwks_uri", nil), MissingField, "jwks_uri", ""},
		{"http off loopback", with("token_endpoint", "http://sso.example.com/token"), BadURL, "token_endpoint", "loopback"},
		{"relative endpoint", with("device_authorization_endpoint", "/device"), BadURL, "device_authorization_endpoint", "absolute URL"},
		{"user info in URL", with("revocation_endpoint", "https://u:p@sso.example.com/r"), BadURL, "revocation_endpoint", "user name"},
		{"not JSON", []byte("<html>hello</html>"), BadJSON, "", "not valid JSON"},
		{"JSON array", []byte(`["a"]`), BadJSON, "", ""},
		{"wrong type", with("scopes_supported", "openid profile"), BadJSON, "scopes_supported", "wrong type"},
		{"text after the object", append(encode(t, docFor(iss)), []byte(` {"x":1}`)...), BadJSON, "", "text after"},
		{"huge", []byte(`{"issuer":"` + strings.Repeat("a", MaxDocumentBytes) + `"}`), TooLarge, "", "larger than 256 KiB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(iss, tc.raw)
			var de *DocumentError
			if !errors.As(err, &de) || de.Problem != tc.problem || de.Field != tc.field || !strings.Contains(err.Error(), tc.msg) {
				t.Fatalf("Parse = %v (%+v), want problem %d field %q saying %q", err, de, tc.problem, tc.field, tc.msg)
			}
			if tc.problem == BadURL {
				var ue *safe.URLError
				if !errors.As(err, &ue) {
					t.Errorf("a bad URL does not unwrap to *safe.URLError: %v", err)
				}
			}
			if strings.Contains(err.Error(), "u:p@") {
				t.Errorf("the message repeats a password: %v", err)
			}
		})
	}

	// Scopes that are not scope-tokens are dropped; no PKCE method named
	// means PKCE may be used; a list without S256 means it may not.
	m := docFor(iss)
	m["scopes_supported"] = []string{"openid", "bad scope", "evil\u001b[2J", "email"}
	m["code_challenge_methods_supported"] = []string{"plain"}
	d, err = Parse(iss, encode(t, m))
	if err != nil || !reflect.DeepEqual(d.ScopesSupported, []string{"openid", "email"}) || d.SupportsPKCE() {
		t.Errorf("Parse = %v, %+v", err, d)
	}
	delete(m, "code_challenge_methods_supported")
	if d, _ = Parse(iss, encode(t, m)); !d.SupportsPKCE() {
		t.Error("no code_challenge_methods_supported: SupportsPKCE false")
	}
}

func TestURLAndIssuerHost(t *testing.T) {
	for in, want := range map[string]string{
		"https://sso.example.com":        "https://sso.example.com/.well-known/openid-configuration",
		"https://sso.example.com/":       "https://sso.example.com/.well-known/openid-configuration",
		"https://sso.example.com/dex":    "https://sso.example.com/dex/.well-known/openid-configuration",
		"https://sso.example.com/dex/":   "https://sso.example.com/dex/.well-known/openid-configuration",
		"http://127.0.0.1:8080/realms/a": "http://127.0.0.1:8080/realms/a/.well-known/openid-configuration",
	} {
		if got := URL(in); got != want {
			t.Errorf("URL(%q) = %q, want %q", in, got, want)
		}
	}
	h, err := IssuerHost("https://SSO.example.com:443/dex")
	if err != nil || h.Name != "sso.example.com" || h.Scheme != "https" {
		t.Errorf("IssuerHost = %+v, %v", h, err)
	}
	h, err = IssuerHost("http://127.0.0.1:8080")
	if err != nil || h.Name != "127.0.0.1:8080" || h.Scheme != "http" {
		t.Errorf("IssuerHost = %+v, %v", h, err)
	}
	var ue *config.URLError
	if _, err := IssuerHost("http://sso.example.com"); !errors.As(err, &ue) {
		t.Errorf("http off loopback: %v", err)
	}
}

// server is a discovery endpoint whose answer each test sets.
type server struct {
	*httptest.Server
	mu       sync.Mutex
	requests []*http.Request
	handle   func(w http.ResponseWriter, r *http.Request)
}

func newServer(t *testing.T) *server {
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, r.Clone(context.Background()))
		h := s.handle
		s.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) set(h func(w http.ResponseWriter, r *http.Request)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.handle = h
}

func (s *server) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.requests)
}

func (s *server) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests[len(s.requests)-1]
}

// serveDoc answers with the document of issuer and the given headers.
func serveDoc(t *testing.T, issuer string, headers ...string) func(http.ResponseWriter, *http.Request) {
	body := encode(t, docFor(issuer))
	return func(w http.ResponseWriter, r *http.Request) {
		for i := 0; i+1 < len(headers); i += 2 {
			w.Header().Set(headers[i], headers[i+1])
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(body)
	}
}

func TestDiscoverIssuerWithPath(t *testing.T) {
	s := newServer(t)
	iss := s.URL + "/dex"
	s.set(serveDoc(t, iss))
	res, err := (&Fetcher{}).Discover(context.Background(), iss)
	if err != nil {
		t.Fatal(err)
	}
	if res.Document.TokenEndpoint != iss+"/token" || res.FromCache || res.Stale {
		t.Errorf("result = %+v", res)
	}
	if r := s.last(); r.URL.Path != "/dex/.well-known/openid-configuration" || r.Method != http.MethodGet || r.Header.Get("Accept") != "application/json" {
		t.Errorf("request %s %s %v", r.Method, r.URL.Path, r.Header)
	}
	// The document of another issuer on the same server is refused.
	s.set(serveDoc(t, s.URL+"/other"))
	_, err = (&Fetcher{}).Discover(context.Background(), s.URL+"/other-name")
	var de *DocumentError
	if !errors.As(err, &de) || de.Problem != IssuerMismatch || de.Discovered != s.URL+"/other" {
		t.Errorf("err = %v", err)
	}
}

func TestDiscoverRefusesBeforeAsking(t *testing.T) {
	for _, iss := range []string{"http://sso.example.com", "https://sso.example.com/?a=b", "ftp://x", "sso.example.com"} {
		_, err := (&Fetcher{}).Discover(context.Background(), iss)
		var ue *config.URLError
		var ie *config.IssuerError
		if !errors.As(err, &ue) && !errors.As(err, &ie) {
			t.Errorf("Discover(%q) = %v", iss, err)
		}
	}
}

func TestDiscoverHTTPErrors(t *testing.T) {
	s := newServer(t)
	s.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "nope", http.StatusNotFound) })
	_, err := (&Fetcher{}).Discover(context.Background(), s.URL)
	var fe *FetchError
	var he *oauth.HTTPError
	if !errors.As(err, &fe) || !errors.As(err, &he) || he.StatusCode != 404 || fe.Transient() || !strings.Contains(err.Error(), s.URL+WellKnownPath) {
		t.Errorf("404: %v", err)
	}
	// A huge reply is cut at the limit and refused.
	s.set(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"issuer":"` + strings.Repeat("a", 2*MaxDocumentBytes) + `"}`))
	})
	_, err = (&Fetcher{}).Discover(context.Background(), s.URL)
	var de *DocumentError
	if !errors.As(err, &de) || de.Problem != TooLarge {
		t.Errorf("huge: %v", err)
	}
	// Unreachable.
	_, err = (&Fetcher{Timeout: 2 * time.Second}).Discover(context.Background(), "http://127.0.0.1:1")
	var ne *oauth.NetworkError
	if !errors.As(err, &fe) || !errors.As(err, &ne) || !fe.Transient() {
		t.Errorf("unreachable: %v", err)
	}
}

func TestDiscoverRedirects(t *testing.T) {
	s := newServer(t)
	other := newServer(t)
	other.set(serveDoc(t, s.URL))
	// Same origin: followed.
	s.set(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == WellKnownPath {
			http.Redirect(w, r, "/static"+WellKnownPath, http.StatusFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(encode(t, docFor(s.URL)))
	})
	if _, err := (&Fetcher{}).Discover(context.Background(), s.URL); err != nil {
		t.Errorf("same-origin redirect: %v", err)
	}
	// Another port: refused.
	s.set(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+WellKnownPath, http.StatusFound)
	})
	_, err := (&Fetcher{HTTPClient: &http.Client{}}).Discover(context.Background(), s.URL)
	if !safehttp.IsRedirectRefused(err) || other.count() != 0 {
		t.Errorf("cross-origin redirect: %v (%d requests there)", err, other.count())
	}
}

func TestCacheFreshnessAndRevalidation(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	f := &Fetcher{Dir: dir, Clock: clk}
	ctx := context.Background()
	doc := encode(t, docFor(s.URL))
	var notModified bool
	s.set(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		w.Header().Set("ETag", `"v1"`)
		if notModified && r.Header.Get("If-None-Match") == `"v1"` {
			w.WriteHeader(http.StatusNotModified)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(doc)
	})

	res, err := f.Discover(ctx, s.URL)
	if err != nil || res.FromCache || !res.FreshUntil.Equal(t0.Add(time.Hour)) {
		t.Fatalf("first: %v %+v", err, res)
	}
	path := CachePath(dir, s.URL)
	if filepath.Base(path) != strings.ReplaceAll(strings.TrimPrefix(s.URL, "http://"), ":", "_")+".json" {
		t.Errorf("cache file %s", path)
	}
	if st, err := os.Stat(path); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("cache file: %v %v", st, err)
	}

	// Fresh: no request.
	clk.Advance(59 * time.Minute)
	res, err = f.Discover(ctx, s.URL)
	if err != nil || !res.FromCache || s.count() != 1 {
		t.Fatalf("fresh: %v %+v, %d requests", err, res, s.count())
	}
	// Another process reads the same cache.
	if res, err := (&Fetcher{Dir: dir, Clock: clk}).Discover(ctx, s.URL); err != nil || !res.FromCache {
		t.Fatalf("second fetcher: %v %+v", err, res)
	}

	// Stale: revalidated with the ETag; 304 keeps the document, fresh again.
	clk.Advance(2 * time.Minute)
	notModified = true
	res, err = f.Discover(ctx, s.URL)
	if err != nil || !res.Revalidated || res.FromCache || s.count() != 2 || s.last().Header.Get("If-None-Match") != `"v1"` {
		t.Fatalf("revalidation: %v %+v, %d requests", err, res, s.count())
	}
	if !res.FreshUntil.Equal(clk.Now().Add(time.Hour)) || res.Document.TokenEndpoint != s.URL+"/token" {
		t.Errorf("after 304: %+v", res)
	}
	if res, _ = f.Discover(ctx, s.URL); !res.FromCache || s.count() != 2 {
		t.Errorf("after 304 the document is not fresh again")
	}

	// Stale and the server is down: the cached copy, marked stale.
	clk.Advance(2 * time.Hour)
	s.set(func(w http.ResponseWriter, r *http.Request) { http.Error(w, "down", http.StatusServiceUnavailable) })
	res, err = f.Discover(ctx, s.URL)
	if err != nil || !res.Stale || res.StaleErr == nil || res.Document == nil {
		t.Fatalf("stale-if-error: %v %+v", err, res)
	}
	// A 404 is not the server being down: an error.
	s.set(func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	if _, err := f.Discover(ctx, s.URL); err == nil {
		t.Error("404 with a stale cache: no error")
	}
	// A new document that is not valid does not replace the cached one.
	s.set(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(encode(t, docFor("https://evil.example.com")))
	})
	var de *DocumentError
	if _, err := f.Discover(ctx, s.URL); !errors.As(err, &de) || de.Problem != IssuerMismatch {
		t.Errorf("invalid new document: %v", err)
	}
	if res, err := f.Cached(s.URL); err != nil || res.Document.Issuer != s.URL || !res.Stale {
		t.Errorf("Cached after a refused document: %v %+v", err, res)
	}
}

func TestCacheNoStoreAndOtherIssuers(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	clk := clock.NewFake(t0)
	f := &Fetcher{Dir: dir, Clock: clk}
	s.set(serveDoc(t, s.URL, "Cache-Control", "max-age=600"))
	if _, err := f.Discover(context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	// no-store: used once, and the cached copy is dropped.
	s.set(serveDoc(t, s.URL, "Cache-Control", "no-cache, no-store"))
	clk.Advance(time.Hour)
	if _, err := f.Discover(context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(CachePath(dir, s.URL)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("no-store document cached: %v", err)
	}
	var nd *NotDiscoveredError
	if _, err := f.Cached(s.URL); !errors.As(err, &nd) {
		t.Errorf("Cached = %v", err)
	}
	// Another issuer of the same host does not use this host's cache.
	s.set(serveDoc(t, s.URL, "Cache-Control", "max-age=600"))
	if _, err := f.Discover(context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Cached(s.URL + "/realm"); !errors.As(err, &nd) {
		t.Errorf("Cached(other issuer) = %v", err)
	}
	// A cache file that no longer validates is ignored, then replaced.
	if err := os.WriteFile(CachePath(dir, s.URL), []byte(`{"issuer":"`+s.URL+`","document":{"issuer":"`+s.URL+`"}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := f.Cached(s.URL); !errors.As(err, &nd) {
		t.Errorf("Cached(invalid cache) = %v", err)
	}
	n := s.count()
	if res, err := f.Discover(context.Background(), s.URL); err != nil || res.FromCache || s.count() != n+1 {
		t.Errorf("Discover over an invalid cache: %v %+v", err, res)
	}
}

func TestFreshness(t *testing.T) {
	now := t0
	date := now.Format(http.TimeFormat)
	for _, tc := range []struct {
		name    string
		headers []string
		want    time.Duration // 0: stale at once
		noStore bool
	}{
		{"none", nil, 0, false},
		{"max-age", []string{"Cache-Control", "max-age=300"}, 5 * time.Minute, false},
		{"max-age quoted", []string{"Cache-Control", `public, max-age="60"`}, time.Minute, false},
		{"max-age bad", []string{"Cache-Control", "max-age=soon"}, 0, false},
		{"max-age wins over Expires", []string{"Cache-Control", "max-age=60", "Expires", now.Add(time.Hour).Format(http.TimeFormat)}, time.Minute, false},
		{"max-age less Age", []string{"Cache-Control", "max-age=300", "Age", "100"}, 200 * time.Second, false},
		{"capped", []string{"Cache-Control", "max-age=99999999"}, MaxFreshness, false},
		{"no-cache", []string{"Cache-Control", "no-cache, max-age=300"}, 0, false},
		{"no-store", []string{"Cache-Control", "max-age=300, no-store"}, 0, true},
		{"Expires", []string{"Date", date, "Expires", now.Add(90 * time.Second).Format(http.TimeFormat)}, 90 * time.Second, false},
		{"Expires bad", []string{"Expires", "0"}, 0, false},
		{"Expires past", []string{"Date", date, "Expires", now.Add(-time.Hour).Format(http.TimeFormat)}, 0, false},
		{"Last-Modified heuristic", []string{"Date", date, "Last-Modified", now.Add(-10 * time.Hour).Format(http.TimeFormat)}, time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for i := 0; i+1 < len(tc.headers); i += 2 {
				h.Add(tc.headers[i], tc.headers[i+1])
			}
			got := freshness(h, now)
			var want time.Time
			if tc.want > 0 {
				want = now.Add(tc.want)
			}
			if !got.until.Equal(want) || got.noStore != tc.noStore {
				t.Errorf("freshness = %+v, want until %v noStore %v", got, want, tc.noStore)
			}
		})
	}
}

func TestResolveSources(t *testing.T) {
	h, _ := IssuerHost("https://ghe.example.com")

	// A GitHub host: defaults, a setting, a flag.
	e := Resolve(h, &config.Host{TokenURL: "https://ghe.example.com/custom/token"}, &config.Host{APIURL: "https://api.ghe.example.com/"}, nil)
	if e.Kind != config.KindOAuth {
		// A token_url set by hand makes it a generic OAuth server.
		t.Errorf("kind %v", e.Kind)
	}
	e = Resolve(h, nil, &config.Host{APIURL: "https://api.ghe.example.com/"}, nil)
	want := []Endpoint{
		{"device_code_url", "https://ghe.example.com/login/device/code", SourceDefault},
		{"authorize_url", "https://ghe.example.com/login/oauth/authorize", SourceDefault},
		{"token_url", "https://ghe.example.com/login/oauth/access_token", SourceDefault},
		{"api_url", "https://api.ghe.example.com/", SourceFlag},
		{"userinfo_url", "https://api.ghe.example.com/user", SourceDefault},
		{"revocation_url", "", ""},
	}
	if !reflect.DeepEqual(e.List, want) || e.Kind != config.KindGitHub || e.APIURL != "https://api.ghe.example.com" || e.LoginField != "login" {
		t.Errorf("GitHub host:\n%+v\nwant\n%+v", e, want)
	}

	// An OpenID Connect host: discovery, under a setting and a flag.
	const iss = "https://sso.example.com/dex"
	sh, _ := IssuerHost(iss)
	doc, err := Parse(iss, encode(t, docFor(iss)))
	if err != nil {
		t.Fatal(err)
	}
	settings := &config.Host{Issuer: iss, UserInfoURL: "https://sso.example.com/custom/me"}
	e = Resolve(sh, settings, &config.Host{TokenURL: "https://sso.example.com/flag/token"}, doc)
	want = []Endpoint{
		{"issuer", iss, SourceSetting},
		{"device_code_url", iss + "/device/auth", SourceDiscovery},
		{"authorize_url", iss + "/auth", SourceDiscovery},
		{"token_url", "https://sso.example.com/flag/token", SourceFlag},
		{"api_url", "", ""},
		{"userinfo_url", "https://sso.example.com/custom/me", SourceSetting},
		{"revocation_url", iss + "/token/revocation", SourceDiscovery},
		{"jwks_uri", iss + "/jwks", SourceDiscovery},
	}
	if !reflect.DeepEqual(e.List, want) || e.Kind != config.KindOIDC || e.LoginField != "" || e.JWKSURL != iss+"/jwks" ||
		e.RevocationURL != iss+"/token/revocation" || e.Document != doc || e.NeedsDiscovery() || e.Source("token_url") != SourceFlag {
		t.Errorf("OIDC host:\n%+v\nwant\n%+v", e.List, want)
	}
	// Without its document: nothing but what is set, and it says so.
	e = Resolve(sh, settings, nil, nil)
	if !e.NeedsDiscovery() || e.TokenURL != "" || e.DeviceCodeURL != "" || e.UserInfoURL != settings.UserInfoURL {
		t.Errorf("OIDC host without its document: %+v", e)
	}
	// A document of another issuer is not used.
	if e = Resolve(sh, &config.Host{Issuer: "https://sso.example.com/other"}, nil, doc); !e.NeedsDiscovery() {
		t.Error("another issuer's document was used")
	}
	// --issuer makes a host OpenID Connect.
	if e = Resolve(sh, nil, &config.Host{Issuer: iss}, doc); e.Kind != config.KindOIDC || e.Source("issuer") != SourceFlag || e.TokenURL != iss+"/token" {
		t.Errorf("--issuer: %+v", e)
	}
}

func TestResolveHostAndLookup(t *testing.T) {
	s := newServer(t)
	s.set(serveDoc(t, s.URL, "Cache-Control", "max-age=60"))
	dir := t.TempDir()
	h, _ := IssuerHost(s.URL)
	cfg := config.New()
	if err := cfg.Set(s.URL, "issuer", s.URL); err != nil {
		t.Fatal(err)
	}
	if err := cfg.Save(dir); err != nil {
		t.Fatal(err)
	}
	file, err := config.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	// Before any discovery, Lookup knows it lacks the document.
	e, err := Lookup(file, h.Name)
	if err != nil || !e.NeedsDiscovery() || e.Host != h {
		t.Fatalf("Lookup before discovery: %v %+v", err, e)
	}
	e, res, err := (&Fetcher{Dir: dir}).ResolveHost(context.Background(), h, file.Host(h.Name), nil)
	if err != nil || res == nil || e.TokenURL != s.URL+"/token" || e.Source("token_url") != SourceDiscovery {
		t.Fatalf("ResolveHost: %v %+v", err, e)
	}
	// Lookup reads the cache, with no request, even once it is stale.
	s.Close()
	e, err = Lookup(file, h.Name)
	if err != nil || e.NeedsDiscovery() || e.DeviceCodeURL != s.URL+"/device/auth" || e.RevocationURL != s.URL+"/token/revocation" {
		t.Fatalf("Lookup from the cache: %v %+v", err, e)
	}
	// A GitHub host makes no request at all.
	gh, _ := IssuerHost("https://github.com")
	e, res, err = (&Fetcher{}).ResolveHost(context.Background(), gh, nil, nil)
	if err != nil || res != nil || e.APIURL != "https://api.github.com" || e.UserInfoURL != "https://api.github.com/user" {
		t.Errorf("github.com: %v %+v", err, e)
	}
}

// TestCacheTrust: a cache file another user could have written (the token
// endpoint in it changed to theirs) is not used: it is fetched again and
// replaced; a cache directory another user could write is refused with
// the fix, by Discover, Cached and Lookup alike.
func TestCacheTrust(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	f := &Fetcher{Dir: dir, Clock: clock.NewFake(t0)}
	s.set(serveDoc(t, s.URL, "Cache-Control", "max-age=600"))
	if _, err := f.Discover(context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	path := CachePath(dir, s.URL)
	// Another user's token endpoint, on loopback so that it passes the URL
	// rules: only the file's mode tells it apart.
	data, _ := os.ReadFile(path)
	forged := strings.ReplaceAll(string(data), s.URL+"/token", "http://127.0.0.1:1/collect")
	if err := os.WriteFile(path, []byte(forged), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		t.Fatal(err)
	}
	var nd *NotDiscoveredError
	var ue *config.UntrustedError
	if _, err := f.Cached(s.URL); !errors.As(err, &nd) || !errors.As(err, &ue) || ue.Fix != "chmod go-w "+path {
		t.Errorf("Cached(a world-writable cache file) = %v", err)
	}
	n := s.count()
	res, err := f.Discover(context.Background(), s.URL)
	if err != nil || res.FromCache || s.count() != n+1 || res.Document.TokenEndpoint != s.URL+"/token" {
		t.Fatalf("Discover over a world-writable cache file: %v %+v", err, res)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("the cache file was not replaced: %v %v", fi.Mode(), err)
	}
	if res, err := f.Cached(s.URL); err != nil || res.Document.TokenEndpoint != s.URL+"/token" {
		t.Errorf("Cached after the refetch: %v %+v", err, res)
	}

	// A cache directory others can write: refused, nothing fetched.
	cache := filepath.Join(dir, CacheDir)
	if err := os.Chmod(cache, 0o777); err != nil {
		t.Fatal(err)
	}
	n = s.count()
	for name, call := range map[string]func() error{
		"Discover": func() error { _, err := f.Discover(context.Background(), s.URL); return err },
		"Cached":   func() error { _, err := f.Cached(s.URL); return err },
		"Lookup": func() error {
			file := config.New()
			file.Hosts[strings.TrimPrefix(s.URL, "http://")] = &config.Host{Protocol: "http", Issuer: s.URL}
			cfgDir := dir
			if err := file.Save(cfgDir); err != nil {
				return err
			}
			loaded, err := config.Load(cfgDir)
			if err != nil {
				return err
			}
			_, err = Lookup(loaded, strings.TrimPrefix(s.URL, "http://"))
			return err
		},
	} {
		err := call()
		if !errors.As(err, &ue) || !ue.Inside || ue.Path != cache || !strings.HasSuffix(err.Error(), "run: chmod go-w "+cache) {
			t.Errorf("%s with a world-writable cache directory: %v", name, err)
		}
	}
	if s.count() != n {
		t.Errorf("the server was asked %d times through an untrusted cache directory", s.count()-n)
	}
}

// TestCacheRevalidatedOnRead: a cached document is validated again when
// read, as one the server sends: an endpoint that breaks the URL rules or
// a document of another issuer is not used, and is fetched again.
func TestCacheRevalidatedOnRead(t *testing.T) {
	s := newServer(t)
	dir := t.TempDir()
	f := &Fetcher{Dir: dir, Clock: clock.NewFake(t0)}
	s.set(serveDoc(t, s.URL, "Cache-Control", "max-age=600"))
	if _, err := f.Discover(context.Background(), s.URL); err != nil {
		t.Fatal(err)
	}
	path := CachePath(dir, s.URL)
	good, _ := os.ReadFile(path)
	for name, edit := range map[string]func(string) string{
		"plain-http token endpoint": func(c string) string {
			return strings.ReplaceAll(c, s.URL+"/token", "http://collector.example/token")
		},
		"another issuer in the document": func(c string) string {
			return strings.Replace(c, `"issuer": "`+s.URL+`"`, `"issuer": "`+s.URL+`/other"`, 1)
		},
	} {
		var entry map[string]json.RawMessage
		if err := json.Unmarshal(good, &entry); err != nil {
			t.Fatal(err)
		}
		entry["document"] = json.RawMessage(edit(string(entry["document"])))
		b, _ := json.Marshal(entry)
		if string(b) == string(good) {
			t.Fatalf("%s: the edit changed nothing", name)
		}
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		var nd *NotDiscoveredError
		var de *DocumentError
		if _, err := f.Cached(s.URL); !errors.As(err, &nd) || !errors.As(err, &de) {
			t.Errorf("%s: Cached = %v", name, err)
		}
		n := s.count()
		if res, err := f.Discover(context.Background(), s.URL); err != nil || res.FromCache || s.count() != n+1 || res.Document.TokenEndpoint != s.URL+"/token" {
			t.Errorf("%s: Discover = %v %+v", name, err, res)
		}
	}
}
