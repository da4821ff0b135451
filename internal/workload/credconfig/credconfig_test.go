package credconfig

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/ghlogin/ghlogin/internal/workload/federation"
)

const (
	providerName = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
	saEmail      = "deployer@emulator-project.iam.gserviceaccount.com"
	reqCanary    = "actions-request-token-canary-5d1e"
)

func provider(t *testing.T) federation.Provider {
	t.Helper()
	p, err := federation.ParseProvider(providerName)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func marshal(t *testing.T, c *Config) string {
	t.Helper()
	b, err := c.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestGoldenFileSource(t *testing.T) {
	c, err := Build(Options{Provider: provider(t), ServiceAccount: saEmail, TokenLifetime: time.Hour, File: "/var/run/secrets/oidc/token"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "universe_domain": "googleapis.com",
  "type": "external_account",
  "audience": "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions",
  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
  "token_url": "https://sts.googleapis.com/v1/token",
  "service_account_impersonation_url": "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/deployer@emulator-project.iam.gserviceaccount.com:generateAccessToken",
  "service_account_impersonation": {
    "token_lifetime_seconds": 3600
  },
  "credential_source": {
    "file": "/var/run/secrets/oidc/token"
  }
}
`
	if got := marshal(t, c); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestGoldenURLSourceNoServiceAccount(t *testing.T) {
	c, err := Build(Options{Provider: provider(t), URL: "https://token.example.com/oidc?a=1&b=2",
		Headers: map[string]string{"Metadata": "true", "X-Api-Key": "k"}, Format: "json", Field: "access_token"})
	if err != nil {
		t.Fatal(err)
	}
	want := `{
  "universe_domain": "googleapis.com",
  "type": "external_account",
  "audience": "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions",
  "subject_token_type": "urn:ietf:params:oauth:token-type:jwt",
  "token_url": "https://sts.googleapis.com/v1/token",
  "credential_source": {
    "url": "https://token.example.com/oidc?a=1&b=2",
    "headers": {
      "Metadata": "true",
      "X-Api-Key": "k"
    },
    "format": {
      "type": "json",
      "subject_token_field_name": "access_token"
    }
  }
}
`
	if got := marshal(t, c); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	// A service account without a lifetime writes only the URL; endpoints
	// can be overridden.
	c, err = Build(Options{Provider: provider(t), ServiceAccount: saEmail, File: "/t", Format: "text",
		STSURL: "http://127.0.0.1:9/v1/token", IAMCredentialsURL: "http://127.0.0.1:9/"})
	if err != nil {
		t.Fatal(err)
	}
	if c.ServiceAccountImpersonation != nil || c.CredentialSource.Format != nil || c.TokenURL != "http://127.0.0.1:9/v1/token" ||
		c.ServiceAccountImpersonationURL != "http://127.0.0.1:9/v1/projects/-/serviceAccounts/"+saEmail+":generateAccessToken" {
		t.Errorf("config %+v", *c)
	}
	if strings.Contains(marshal(t, c), "service_account_impersonation\"") {
		t.Errorf("lifetime object written without a lifetime")
	}
}

func TestBuildErrors(t *testing.T) {
	p := provider(t)
	cases := map[string]struct {
		o   Options
		msg string
	}{
		"no provider":        {Options{File: "/t"}, "project number"},
		"no source":          {Options{Provider: p}, "--credential-file PATH or --credential-url URL"},
		"both sources":       {Options{Provider: p, File: "/t", URL: "https://x/"}, "not both"},
		"headers with file":  {Options{Provider: p, File: "/t", Headers: map[string]string{"A": "b"}}, "only to a credential URL"},
		"file with newline":  {Options{Provider: p, File: "/t\n"}, "control characters"},
		"http url":           {Options{Provider: p, URL: "http://token.example.com/"}, "must use https"},
		"relative url":       {Options{Provider: p, URL: "/token"}, "absolute https URL"},
		"url with password":  {Options{Provider: p, URL: "https://u:pw@x/"}, "user name or password"},
		"bad header name":    {Options{Provider: p, URL: "https://x/", Headers: map[string]string{"Bad Name": "v"}}, "not a valid HTTP header name"},
		"header value CRLF":  {Options{Provider: p, URL: "https://x/", Headers: map[string]string{"A": "v\r\nB: c"}}, "control characters"},
		"json without field": {Options{Provider: p, File: "/t", Format: "json"}, "needs the name of the field"},
		"field without json": {Options{Provider: p, File: "/t", Field: "value"}, "needs --format json"},
		"unknown format":     {Options{Provider: p, File: "/t", Format: "yaml"}, `use "text" or "json"`},
		"lifetime no SA":     {Options{Provider: p, File: "/t", TokenLifetime: time.Hour}, "add --service-account"},
		"audience":           {Options{Provider: p, File: "/t", Audience: "x"}, "applies only to --github-actions"},
		"bad lifetime":       {Options{Provider: p, File: "/t", ServiceAccount: saEmail, TokenLifetime: 13 * time.Hour}, "43200s"},
		"bad SA":             {Options{Provider: p, File: "/t", ServiceAccount: "nobody"}, "service account"},
		"http STS":           {Options{Provider: p, File: "/t", STSURL: "http://sts.example.com/v1/token"}, "loopback"},
		"http IAM":           {Options{Provider: p, File: "/t", ServiceAccount: saEmail, IAMCredentialsURL: "http://iam.example.com"}, "loopback"},
	}
	for name, c := range cases {
		cfg, err := Build(c.o)
		if err == nil || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: Build = %v, %v; want error saying %q", name, cfg, err, c.msg)
		}
		var ce *Error
		var ue *federation.UsageError
		if !errors.As(err, &ce) && !errors.As(err, &ue) {
			t.Errorf("%s: error %T is not typed", name, err)
		}
	}
	// Link-local metadata servers may use http (Azure IMDS, for one).
	if _, err := Build(Options{Provider: p, URL: "http://169.254.169.254/metadata/identity/oauth2/token?api-version=2018-02-01", Headers: map[string]string{"Metadata": "True"}, Format: "json", Field: "access_token"}); err != nil {
		t.Errorf("link-local http: %v", err)
	}
}

func env(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestGitHubActions(t *testing.T) {
	p := provider(t)
	aud := url.QueryEscape(p.DefaultTokenAudience())
	if aud != "https%3A%2F%2Fiam.googleapis.com%2Fprojects%2F123456789012%2Flocations%2Fglobal%2FworkloadIdentityPools%2Fgithub%2Fproviders%2Factions" {
		t.Fatalf("escaped audience %s", aud)
	}
	cases := map[string]string{
		"https://pipelinesghubeus2.actions.githubusercontent.com/abc/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken?api-version=2.0": "https://pipelinesghubeus2.actions.githubusercontent.com/abc/00000000-0000-0000-0000-000000000000/_apis/distributedtask/hubs/Actions/plans/p1/jobs/j1/idtoken?api-version=2.0&audience=" + aud,
		"https://token.example.com/idtoken":                              "https://token.example.com/idtoken?audience=" + aud,
		"https://token.example.com/idtoken?z=1&api-version=2.0&x=a%2Fb":  "https://token.example.com/idtoken?z=1&api-version=2.0&x=a%2Fb&audience=" + aud,
		"https://token.example.com/idtoken?audience=old&api-version=2.0": "https://token.example.com/idtoken?api-version=2.0&audience=" + aud,
		"http://127.0.0.1:8080/_apis/idtoken?api-version=2.0":            "http://127.0.0.1:8080/_apis/idtoken?api-version=2.0&audience=" + aud,
	}
	for in, want := range cases {
		c, err := GitHubActions(Options{Provider: p, ServiceAccount: saEmail}, env(map[string]string{EnvRequestURL: in, EnvRequestToken: reqCanary}))
		if err != nil {
			t.Fatalf("%s: %v", in, err)
		}
		cs := c.CredentialSource
		if cs.URL != want {
			t.Errorf("URL\n got %s\nwant %s", cs.URL, want)
		}
		if len(cs.Headers) != 1 || cs.Headers["Authorization"] != "Bearer "+reqCanary {
			t.Errorf("headers %v", cs.Headers)
		}
		if cs.Format == nil || *cs.Format != (Format{Type: "json", SubjectTokenFieldName: "value"}) || cs.File != "" {
			t.Errorf("source %+v", cs)
		}
		if s := fmt.Sprintf("%v %+v %#v %s", c, c, c, *c); strings.Contains(s, reqCanary) {
			t.Errorf("formatting leaks the request token: %s", s)
		}
	}
	// A custom audience (a provider with its own allowed audiences).
	c, err := GitHubActions(Options{Provider: p, Audience: "https://gcp.example.com/wif?x=1"}, env(map[string]string{EnvRequestURL: "https://t.example.com/idtoken?api-version=2.0", EnvRequestToken: reqCanary}))
	if err != nil || c.CredentialSource.URL != "https://t.example.com/idtoken?api-version=2.0&audience=https%3A%2F%2Fgcp.example.com%2Fwif%3Fx%3D1" {
		t.Errorf("custom audience: %v %v", c, err)
	}
	for name, c := range map[string]struct {
		env map[string]string
		o   Options
		msg string
	}{
		"no vars":          {map[string]string{}, Options{Provider: p}, "permissions: id-token: write"},
		"no token":         {map[string]string{EnvRequestURL: "https://x/"}, Options{Provider: p}, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
		"http url":         {map[string]string{EnvRequestURL: "http://x.example.com/", EnvRequestToken: reqCanary}, Options{Provider: p}, "refusing to send the request token to ACTIONS_ID_TOKEN_REQUEST_URL over http"},
		"other source":     {map[string]string{EnvRequestURL: "https://x/", EnvRequestToken: reqCanary}, Options{Provider: p, File: "/t"}, "drop --credential-file"},
		"bad provider":     {map[string]string{EnvRequestURL: "https://x/", EnvRequestToken: reqCanary}, Options{}, "project number"},
		"token newline":    {map[string]string{EnvRequestURL: "https://x/", EnvRequestToken: "a\nb"}, Options{Provider: p}, "single-line"},
		"audience newline": {map[string]string{EnvRequestURL: "https://x/", EnvRequestToken: reqCanary}, Options{Provider: p, Audience: "a\nb"}, "single line"},
	} {
		_, err := GitHubActions(c.o, env(c.env))
		if err == nil || !strings.Contains(err.Error(), c.msg) || strings.Contains(err.Error(), reqCanary) {
			t.Errorf("%s: %v, want %q", name, err, c.msg)
		}
	}
}

func TestWriteFile(t *testing.T) {
	c, err := Build(Options{Provider: provider(t), File: "/t"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "cred.json")
	if err := os.WriteFile(path, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	got, _ := os.ReadFile(path)
	if string(got) != marshal(t, c) {
		t.Errorf("content %s", got)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("temporary files left: %v", entries)
	}

	// A symlink is refused and its target left alone.
	target := filepath.Join(dir, "target")
	os.WriteFile(target, []byte("keep"), 0o644)
	link := filepath.Join(dir, "link.json")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	err = c.WriteFile(link)
	var ce *Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "symbolic link") {
		t.Errorf("symlink: %v", err)
	}
	if b, _ := os.ReadFile(target); string(b) != "keep" {
		t.Errorf("symlink target changed: %q", b)
	}
	if err := c.WriteFile(dir); err == nil || !strings.Contains(err.Error(), "is a directory") {
		t.Errorf("directory: %v", err)
	}
	if err := c.WriteFile(filepath.Join(dir, "missing", "cred.json")); err == nil || !strings.Contains(err.Error(), "does the directory") {
		t.Errorf("missing dir: %v", err)
	}
	if err := c.WriteFile(""); err == nil || !strings.Contains(err.Error(), "--output") {
		t.Errorf("empty path: %v", err)
	}
}

// wif is a loopback stand-in for the Actions token endpoint, STS and IAM
// Credentials, checking each request the way the real services would.
type wif struct {
	t          *testing.T
	srv        *httptest.Server
	subject    string
	mu         sync.Mutex
	calls      []string
	stsForm    url.Values
	iamBody    map[string]any
	stsToken   string
	saToken    string
	wantAudEnc string
}

func newWIF(t *testing.T, p federation.Provider) *wif {
	w := &wif{t: t, subject: "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyZXBvOm9jdG8tb3JnL29jdG8tcmVwbyJ9.c2ln",
		stsToken: "ya29.federated-token", saToken: "ya29.service-account-token", wantAudEnc: p.DefaultTokenAudience()}
	mux := http.NewServeMux()
	fail := func(rw http.ResponseWriter, status int, format string, args ...any) {
		t.Errorf(format, args...)
		http.Error(rw, "bad request", status)
	}
	mux.HandleFunc("GET /_apis/idtoken", func(rw http.ResponseWriter, r *http.Request) {
		w.record("actions")
		q := r.URL.Query()
		if r.Header.Get("Authorization") != "Bearer "+reqCanary || q.Get("api-version") != "2.0" || q.Get("audience") != w.wantAudEnc {
			fail(rw, 401, "actions request: auth %q query %q", r.Header.Get("Authorization"), r.URL.RawQuery)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]string{"value": w.subject})
	})
	mux.HandleFunc("POST /v1/token", func(rw http.ResponseWriter, r *http.Request) {
		w.record("sts")
		if err := r.ParseForm(); err != nil {
			fail(rw, 400, "sts form: %v", err)
			return
		}
		w.mu.Lock()
		w.stsForm = r.PostForm
		w.mu.Unlock()
		f := r.PostForm
		if f.Get("grant_type") != federation.GrantTypeTokenExchange || f.Get("audience") != p.Audience() ||
			f.Get("subject_token") != w.subject || f.Get("subject_token_type") != federation.TokenTypeJWT ||
			f.Get("requested_token_type") != federation.TokenTypeAccessToken {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(400)
			io.WriteString(rw, `{"error":"invalid_grant","error_description":"unexpected request"}`)
			t.Errorf("sts form %v", f)
			return
		}
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]any{"access_token": w.stsToken, "issued_token_type": federation.TokenTypeAccessToken, "token_type": "Bearer", "expires_in": 3599})
	})
	mux.HandleFunc("POST /v1/projects/-/serviceAccounts/{rest}", func(rw http.ResponseWriter, r *http.Request) {
		w.record("iam")
		if r.PathValue("rest") != saEmail+":generateAccessToken" || r.Header.Get("Authorization") != "Bearer "+w.stsToken || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
			rw.Header().Set("Content-Type", "application/json")
			rw.WriteHeader(403)
			io.WriteString(rw, `{"error":{"code":403,"message":"Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist).","status":"PERMISSION_DENIED"}}`)
			t.Errorf("iam request %s auth %q", r.URL.Path, r.Header.Get("Authorization"))
			return
		}
		var body map[string]any
		json.NewDecoder(r.Body).Decode(&body)
		w.mu.Lock()
		w.iamBody = body
		w.mu.Unlock()
		rw.Header().Set("Content-Type", "application/json")
		json.NewEncoder(rw).Encode(map[string]string{"accessToken": w.saToken, "expireTime": time.Now().Add(time.Hour).UTC().Format(time.RFC3339)})
	})
	w.srv = httptest.NewServer(mux)
	t.Cleanup(w.srv.Close)
	return w
}

func (w *wif) record(s string) {
	w.mu.Lock()
	w.calls = append(w.calls, s)
	w.mu.Unlock()
}

// loadToken reads the written file with golang.org/x/oauth2/google, as a
// Google client library would, and asks it for a token.
func loadToken(t *testing.T, path string) *oauth2.Token {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ctx = context.WithValue(ctx, oauth2.HTTPClient, &http.Client{Timeout: 10 * time.Second})
	creds, err := google.CredentialsFromJSONWithType(ctx, data, google.ExternalAccount, "https://www.googleapis.com/auth/cloud-platform")
	if err != nil {
		t.Fatalf("google.CredentialsFromJSONWithType: %v", err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		t.Fatalf("Token: %v", err)
	}
	return tok
}

func TestGoogleLibraryLoadsGitHubActionsConfig(t *testing.T) {
	p := provider(t)
	w := newWIF(t, p)
	c, err := GitHubActions(Options{Provider: p, ServiceAccount: saEmail, TokenLifetime: 30 * time.Minute,
		STSURL: w.srv.URL + "/v1/token", IAMCredentialsURL: w.srv.URL},
		env(map[string]string{EnvRequestURL: w.srv.URL + "/_apis/idtoken?api-version=2.0", EnvRequestToken: reqCanary}))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "gha-creds.json")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	tok := loadToken(t, path)
	if tok.AccessToken != w.saToken {
		t.Errorf("access token %q, want the service account's", tok.AccessToken)
	}
	if got := strings.Join(w.calls, ","); got != "actions,sts,iam" {
		t.Errorf("calls %s", got)
	}
	if w.stsForm.Get("scope") != "https://www.googleapis.com/auth/cloud-platform" {
		t.Errorf("sts scope %q", w.stsForm.Get("scope"))
	}
	if w.iamBody["lifetime"] != "1800s" || fmt.Sprint(w.iamBody["scope"]) != "[https://www.googleapis.com/auth/cloud-platform]" {
		t.Errorf("iam body %v", w.iamBody)
	}
}

func TestGoogleLibraryLoadsFileConfig(t *testing.T) {
	p := provider(t)
	w := newWIF(t, p)
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "oidc-token")
	if err := os.WriteFile(tokenFile, []byte(w.subject+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Build(Options{Provider: p, File: tokenFile, STSURL: w.srv.URL + "/v1/token"})
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cred.json")
	if err := c.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	tok := loadToken(t, path)
	if tok.AccessToken != w.stsToken {
		t.Errorf("access token %q, want the federated one", tok.AccessToken)
	}
	if got := strings.Join(w.calls, ","); got != "sts" {
		t.Errorf("calls %s", got)
	}
}
