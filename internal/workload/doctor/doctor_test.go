package doctor

import (
	"context"
	"encoding/json"
	"errors"
	"github.com/ghlogin/ghlogin/internal/clock"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/workload/wiftest"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const bearerCanary = "ya29.BEARER-CANARY-must-never-be-printed"

var key = wiftest.NewRSAKey("k1")

func run(t *testing.T, opts Options) (*Report, error) {
	t.Helper()
	if opts.Clock == nil {
		opts.Clock = clock.NewFake(t0)
	}
	if opts.SubjectToken == "" {
		opts.SubjectToken = key.Sign(wiftest.ActionsClaims(t0, wiftest.DefaultAudience))
	}
	return Run(context.Background(), opts)
}

// iamServer fakes the IAM API's providers.get with handler h, after
// checking the bearer and the path.
func iamServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request)) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet || r.URL.Path != "/v1/"+wiftest.Provider || r.Header.Get("Authorization") != "Bearer "+bearerCanary {
			t.Errorf("request %s %s with %q", r.Method, r.URL.Path, r.Header.Get("Authorization"))
		}
		h(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestFetchProvider(t *testing.T) {
	srv := iamServer(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(wiftest.GitHubProvider("assertion.repository_owner == 'octo-org'", key).JSON())
	})
	rep, err := run(t, Options{Provider: "//iam.googleapis.com/" + wiftest.Provider, IAMURL: srv.URL, AccessToken: bearerCanary})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Accepted || rep.SettingsFrom != "the IAM API ("+srv.URL+")" {
		t.Fatalf("report = %+v", rep)
	}
}

func TestFetchProviderFailures(t *testing.T) {
	var reached atomic.Bool
	elsewhere := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { reached.Store(true) }))
	defer elsewhere.Close()
	cases := []struct {
		name   string
		h      func(w http.ResponseWriter, r *http.Request)
		status int
		want   string
	}{
		{"redirect", func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, elsewhere.URL+"/steal", http.StatusFound)
		}, 302, "not followed because the request carries a bearer token"},
		{"401 echoing the bearer", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(401)
			_, _ = w.Write([]byte(`{"error":{"code":401,"status":"UNAUTHENTICATED","message":"bad token ` + bearerCanary + `"}}`))
		}, 401, "UNAUTHENTICATED"},
		{"403", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(403)
			_, _ = w.Write([]byte(`{"error":{"code":403,"status":"PERMISSION_DENIED","message":"Permission 'iam.workloadIdentityPoolProviders.get' denied"}}`))
		}, 403, "PERMISSION_DENIED"},
		{"not JSON", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("<html>")) }, 200, "not the JSON"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := iamServer(t, c.h)
			_, err := run(t, Options{Provider: wiftest.Provider, IAMURL: srv.URL, AccessToken: bearerCanary})
			var fe *FetchError
			if !errors.As(err, &fe) || fe.StatusCode != c.status || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want a *FetchError %d with %q", err, c.status, c.want)
			}
			if strings.Contains(err.Error(), bearerCanary) {
				t.Fatalf("the bearer reached the error: %v", err)
			}
		})
	}
	if reached.Load() {
		t.Error("the redirect was followed")
	}
	// No reply at all.
	_, err := run(t, Options{Provider: wiftest.Provider, IAMURL: "http://127.0.0.1:1", AccessToken: bearerCanary, Timeout: 2 * time.Second})
	var fe *FetchError
	if !errors.As(err, &fe) || fe.StatusCode != 0 || strings.Contains(err.Error(), bearerCanary) {
		t.Fatalf("unreachable: %v", err)
	}
	// 404 is a diagnosis: the provider does not exist.
	srv := iamServer(t, func(w http.ResponseWriter, r *http.Request) { http.NotFound(w, r) })
	rep, err := run(t, Options{Provider: wiftest.Provider, IAMURL: srv.URL, AccessToken: bearerCanary})
	if err != nil || rep.FailedCheck != CheckProviderState || !strings.Contains(rep.Reason, "does not exist") {
		t.Fatalf("404: %v %+v", err, rep)
	}
	b, _ := json.Marshal(rep)
	if strings.Contains(string(b), bearerCanary) || strings.Contains(string(b), rep.Claims["sub"].(string)) == false {
		t.Errorf("report: %s", b)
	}
}

// TestSignatureByDiscovery fetches the issuer's keys by OIDC discovery
// when the provider has no uploaded JWKS.
func TestSignatureByDiscovery(t *testing.T) {
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	defer srv.Close()
	issuer := srv.URL + "/issuer"
	mux.HandleFunc("/issuer/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		_ = json.NewEncoder(w).Encode(map[string]any{"issuer": issuer, "jwks_uri": srv.URL + "/keys", "id_token_signing_alg_values_supported": []string{"RS256"}})
	})
	mux.HandleFunc("/keys", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte(wiftest.JWKS(key))) })
	p := wiftest.GitHubProvider("assertion.repository_owner == 'octo-org'")
	p.OIDC = &wiftest.OIDC{IssuerURI: issuer}
	claims := wiftest.With(wiftest.ActionsClaims(t0, wiftest.DefaultAudience), map[string]any{"iss": issuer})

	rep, err := run(t, Options{ProviderJSON: p.JSON(), SubjectToken: key.Sign(claims)})
	if err != nil || !rep.Accepted || !strings.Contains(rep.Check(CheckSignature).Summary, srv.URL+"/keys") {
		t.Fatalf("%v %+v", err, rep.Check(CheckSignature))
	}
	rep, _ = run(t, Options{ProviderJSON: p.JSON(), SubjectToken: wiftest.NewRSAKey("k1").Sign(claims)})
	if rep.FailedCheck != CheckSignature {
		t.Errorf("another key with the same kid: %+v", rep.Check(CheckSignature))
	}
	p.OIDC.IssuerURI = "http://127.0.0.1:1/nowhere"
	rep, _ = run(t, Options{ProviderJSON: p.JSON(), SubjectToken: key.Sign(claims), Timeout: 2 * time.Second})
	if c := rep.Check(CheckSignature); c.Status != Fail || !strings.Contains(c.Summary, "Error connecting to the given credential's issuer") {
		t.Errorf("unreachable issuer: %+v", c)
	}
	p.OIDC.IssuerURI = "http://issuer.example"
	rep, _ = run(t, Options{ProviderJSON: p.JSON(), SubjectToken: key.Sign(claims)})
	if c := rep.Check(CheckSignature); c.Status != Fail || !strings.Contains(c.Summary, "https") {
		t.Errorf("plain http issuer: %+v", c)
	}
}

func TestProviderNames(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"//iam.googleapis.com/" + wiftest.Provider, ""},
		{wiftest.Provider, ""},
		{"projects/123456789012/locations/global/workloadIdentityPools/github", "names the pool"},
		{"//iam.googleapis.com/projects/my-proj/locations/global/workloadIdentityPools/github/providers/actions", "project ID"},
		{"https://iam.googleapis.com/" + wiftest.Provider, "default audience"},
		{"principalSet://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/*", "principal"},
		{"projects/1/locations/global/workloadIdentityPools/gcp-x/providers/actions", "gcp-"},
	} {
		_, problem := diagnoseProviderName(c.in)
		if (c.want == "") != (problem == "") || !strings.Contains(problem, c.want) {
			t.Errorf("%q: %q, want %q", c.in, problem, c.want)
		}
	}
	// A provider file about another provider.
	other := wiftest.GitHubProvider("", key)
	other.Name = "projects/1/locations/global/workloadIdentityPools/other/providers/actions"
	rep, err := run(t, Options{Provider: wiftest.Provider, ProviderJSON: other.JSON()})
	if err != nil || rep.FailedCheck != CheckProvider || !strings.Contains(strings.Join(rep.Check(CheckProvider).Details, "\n"), "other") {
		t.Errorf("mismatch: %v %+v", err, rep.Check(CheckProvider))
	}
	// An AWS provider.
	aws := &wiftest.ProviderResource{Name: wiftest.Provider, AWS: map[string]any{"accountId": "1"}}
	rep, _ = run(t, Options{ProviderJSON: aws.JSON()})
	if rep.FailedCheck != CheckProviderState || !strings.Contains(rep.Reason, "AWS") {
		t.Errorf("aws: %+v", rep.Check(CheckProviderState))
	}
	if _, err := run(t, Options{ProviderJSON: []byte(`{"oidc":{}}`)}); !errors.Is(err, ErrNoProviderName) {
		t.Errorf("no name: %v", err)
	}
}

// TestLint covers the remarks.
func TestLint(t *testing.T) {
	p := wiftest.GitHubProvider("attribute.team == 'x' || assertion.workflow == 'deploy'", key)
	rep, err := run(t, Options{ProviderJSON: p.JSON()})
	if err != nil {
		t.Fatal(err)
	}
	lint := strings.Join(rep.Check(CheckLint).Details, "\n")
	for _, w := range []string{"attribute.team, which the mapping never sets", "mapped but never tested by the condition: attribute.repository, attribute.repository_owner"} {
		if !strings.Contains(lint, w) {
			t.Errorf("lint lacks %q:\n%s", w, lint)
		}
	}
	// No condition on GitHub's issuer.
	rep, _ = run(t, Options{ProviderJSON: wiftest.GitHubProvider("", key).JSON()})
	if c := rep.Check(CheckLint); c.Status != Warn || !strings.Contains(strings.Join(c.Details, " "), "Google requires a condition") || !rep.Accepted {
		t.Errorf("no condition: %+v", c)
	}
}
