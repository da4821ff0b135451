package federation

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

const (
	subjectCanary = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJjYW5hcnktc3ViamVjdCJ9.c3ViamVjdC1jYW5hcnktc2ln"
	stsCanary     = "ya29.sts-canary-federated-token-7f3a"
	saCanary      = "ya29.sa-canary-access-token-91bc"
	saEmail       = "deployer@emulator-project.iam.gserviceaccount.com"
)

var fixedNow = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func testProvider(t *testing.T) Provider {
	t.Helper()
	p, err := ParseProvider("//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions")
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// recorded is one request as the fake server saw it.
type recorded struct {
	Method, Path, RawQuery string
	Header                 http.Header
	Body                   []byte
}

type fake struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

// newFake starts a loopback server that records each request and answers
// with h.
func newFake(t *testing.T, h http.HandlerFunc) *fake {
	t.Helper()
	f := &fake{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Header.Clone(), b})
		f.mu.Unlock()
		h(w, r)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fake) requests() []recorded {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]recorded(nil), f.reqs...)
}

func (f *fake) config() *Config {
	return &Config{STSURL: f.srv.URL + "/v1/token", IAMCredentialsURL: f.srv.URL, Clock: clock.NewFake(fixedNow)}
}

func reply(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

func jsonReply(status int, v any) http.HandlerFunc {
	b, _ := json.Marshal(v)
	return reply(status, "application/json; charset=utf-8", string(b))
}

// noCanary fails if any secret shows in err's message or in %v/%+v/%#v of v.
func noCanary(t *testing.T, what string, vals ...any) {
	t.Helper()
	for _, v := range vals {
		for _, f := range []string{"%v", "%+v", "%#v", "%s"} {
			s := fmt.Sprintf(f, v)
			for _, c := range []string{subjectCanary, stsCanary, saCanary, "c3ViamVjdC1jYW5hcnktc2ln"} {
				if strings.Contains(s, c) {
					t.Errorf("%s: %s output leaks a token: %s", what, f, s)
				}
			}
		}
	}
}

func TestParseProvider(t *testing.T) {
	want := Provider{Project: "123456789012", Location: "global", Pool: "github", ID: "actions"}
	for _, in := range []string{
		"//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions",
		"projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions",
		"  projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions\n",
	} {
		p, err := ParseProvider(in)
		if err != nil || p != want {
			t.Fatalf("ParseProvider(%q) = %+v, %v", in, p, err)
		}
	}
	p := want
	if got, w := p.Audience(), "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"; got != w {
		t.Errorf("Audience = %q", got)
	}
	if got, w := p.DefaultTokenAudience(), "https://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"; got != w {
		t.Errorf("DefaultTokenAudience = %q", got)
	}
	if got, w := p.PrincipalSet(), "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/*"; got != w {
		t.Errorf("PrincipalSet = %q", got)
	}
	bad := map[string]string{
		"": "no provider given",
		"//sts.googleapis.com/projects/1/locations/global/workloadIdentityPools/github/providers/actions":  "must start with //iam.googleapis.com/",
		"https://iam.googleapis.com/projects/1/locations/global/workloadIdentityPools/pool/providers/prov": "not a provider resource name",
		"projects/1/locations/global/workloadIdentityPools/github":                                         "expected segments",
		"projects/1/locations/global/workloadIdentityPools/github/providers/actions/extra":                 "expected segments",
		"projects/1/locations/global/pools/github/providers/actions":                                       "expected segments",
		"projects/my-project/locations/global/workloadIdentityPools/github/providers/actions":              "project number",
		"projects/1/locations/Global/workloadIdentityPools/github/providers/actions":                       "location",
		"projects/1/locations/global/workloadIdentityPools/gh/providers/actions":                           "pool ID \"gh\"",
		"projects/1/locations/global/workloadIdentityPools/gcp-pool/providers/actions":                     "pool ID",
		"projects/1/locations/global/workloadIdentityPools/github/providers/Actions":                       "provider ID",
		"projects/1/locations/global/workloadIdentityPools/github/providers/a?b=c":                         "provider ID",
		"projects/1/locations/global/workloadIdentityPools/github/providers/":                              "provider ID",
	}
	for in, msg := range bad {
		_, err := ParseProvider(in)
		var ue *UsageError
		if !errors.As(err, &ue) {
			t.Errorf("ParseProvider(%q) = %v, want *UsageError", in, err)
			continue
		}
		if !strings.Contains(err.Error(), msg) || !strings.Contains(err.Error(), ProviderShape) {
			t.Errorf("ParseProvider(%q) error %q, want it to say %q and show the shape", in, err, msg)
		}
	}
}

func TestValidateServiceAccountAndLifetime(t *testing.T) {
	for _, ok := range []string{saEmail, "123456789012-compute@developer.gserviceaccount.com", "my-app@appspot.gserviceaccount.com", "112233445566778899001"} {
		if err := ValidateServiceAccount(ok); err != nil {
			t.Errorf("ValidateServiceAccount(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "deployer", "Deployer@p.iam.gserviceaccount.com", "a@b", "a b@p.iam.gserviceaccount.com", "a@p.iam.gserviceaccount.com/../x", "a@@b.com", "a@b.com:generateIdToken", "a@-b.com"} {
		err := ValidateServiceAccount(bad)
		var ue *UsageError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "iam.gserviceaccount.com") {
			t.Errorf("ValidateServiceAccount(%q) = %v", bad, err)
		}
	}
	for _, ok := range []time.Duration{time.Second, time.Hour, 12 * time.Hour} {
		if err := ValidateLifetime(ok); err != nil {
			t.Errorf("ValidateLifetime(%s) = %v", ok, err)
		}
	}
	for d, msg := range map[time.Duration]string{0: "between 1s and 43200s", -time.Second: "between", 12*time.Hour + time.Second: "between", 1500 * time.Millisecond: "whole number of seconds"} {
		if err := ValidateLifetime(d); err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("ValidateLifetime(%s) = %v, want %q", d, err, msg)
		}
	}
}

func TestCheckEndpoint(t *testing.T) {
	for _, ok := range []string{"https://sts.googleapis.com/v1/token", "http://127.0.0.1:8080/v1/token", "http://[::1]:1/x", "http://localhost:9/"} {
		if err := CheckEndpoint("STS URL", ok); err != nil {
			t.Errorf("CheckEndpoint(%q) = %v", ok, err)
		}
	}
	for in, msg := range map[string]string{
		"http://sts.example.com/v1/token": "http is allowed only on a loopback",
		"sts.googleapis.com/v1/token":     "absolute https URL",
		"ftp://127.0.0.1/x":               "absolute https URL",
		"https://u:p@sts.googleapis.com/": "user name or password",
		"https://sts.googleapis.com/#x":   "fragment",
		"":                                "absolute https URL",
	} {
		err := CheckEndpoint("STS URL", in)
		if err == nil || !strings.Contains(err.Error(), msg) {
			t.Errorf("CheckEndpoint(%q) = %v, want %q", in, err, msg)
		}
		if strings.Contains(fmt.Sprint(err), ":p@") {
			t.Errorf("CheckEndpoint(%q) shows the password: %v", in, err)
		}
	}
}

func TestExchangeRequestShape(t *testing.T) {
	f := newFake(t, jsonReply(200, map[string]any{
		"access_token": stsCanary, "issued_token_type": TokenTypeAccessToken, "token_type": "Bearer", "expires_in": 3599,
	}))
	c := f.config()
	p := testProvider(t)
	tok, err := c.Exchange(context.Background(), ExchangeRequest{Provider: p, SubjectToken: subjectCanary})
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != stsCanary || tok.TokenType != "Bearer" || tok.IssuedTokenType != TokenTypeAccessToken || !tok.Expiry.Equal(fixedNow.Add(3599*time.Second)) {
		t.Errorf("token = %+v (expiry %s)", tok, tok.Expiry)
	}
	noCanary(t, "Token", tok, *tok)

	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Path != "/v1/token" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/x-www-form-urlencoded" {
		t.Errorf("Content-Type %q", ct)
	}
	if a := r.Header.Get("Authorization"); a != "" {
		t.Errorf("STS must get no client authentication, got Authorization %q", a)
	}
	form, err := url.ParseQuery(string(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	want := url.Values{
		"grant_type":           {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"audience":             {"//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"},
		"scope":                {"https://www.googleapis.com/auth/cloud-platform"},
		"requested_token_type": {"urn:ietf:params:oauth:token-type:access_token"},
		"subject_token":        {subjectCanary},
		"subject_token_type":   {"urn:ietf:params:oauth:token-type:jwt"},
	}
	if fmt.Sprint(form) != fmt.Sprint(want) {
		t.Errorf("form\n got %v\nwant %v", form, want)
	}

	// Explicit scopes are space-separated; an id_token subject type is kept.
	if _, err := c.Exchange(context.Background(), ExchangeRequest{Provider: p, SubjectToken: subjectCanary, SubjectTokenType: TokenTypeIDToken,
		Scopes: []string{"https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/userinfo.email"}}); err != nil {
		t.Fatal(err)
	}
	form, _ = url.ParseQuery(string(f.requests()[1].Body))
	if got := form.Get("scope"); got != "https://www.googleapis.com/auth/cloud-platform https://www.googleapis.com/auth/userinfo.email" {
		t.Errorf("scope = %q", got)
	}
	if got := form.Get("subject_token_type"); got != TokenTypeIDToken {
		t.Errorf("subject_token_type = %q", got)
	}
}

func TestExchangeErrors(t *testing.T) {
	type tc struct {
		name      string
		h         http.HandlerFunc
		code      string
		status    int
		transient bool
		says      []string
	}
	stsErr := func(code, desc string) http.HandlerFunc {
		return jsonReply(400, map[string]string{"error": code, "error_description": desc})
	}
	cases := []tc{
		{"invalid_grant", stsErr("invalid_grant", "The audience in ID Token [https://github.com/octo-org] does not match the expected audience."), "invalid_grant", 400, false,
			[]string{"the provider rejected the token", "allowed audiences / attribute condition", "or it expired", "does not match the expected audience"}},
		{"invalid_grant echoing the token", stsErr("invalid_grant", "Invalid token "+subjectCanary+" is stale"), "invalid_grant", 400, false,
			[]string{"Invalid token [redacted] is stale"}},
		{"unauthorized_client", stsErr("unauthorized_client", "The given credential is rejected by the attribute condition."), "unauthorized_client", 400, false,
			[]string{"attribute condition rejected the token", "rejected by the attribute condition"}},
		{"invalid_target", stsErr("invalid_target", "The target service indicated by the \"audience\" parameters is invalid."), "invalid_target", 400, false,
			[]string{"the pool or provider doesn't exist or is disabled: check --provider", "audience"}},
		{"invalid_request", stsErr("invalid_request", "Invalid value for \"subject_token_type\"."), "invalid_request", 400, false,
			[]string{"malformed", "subject_token_type"}},
		{"invalid_scope", stsErr("invalid_scope", "Invalid scope."), "invalid_scope", 400, false, []string{"check --scope"}},
		{"unsupported_grant_type", stsErr("unsupported_grant_type", "Unsupported grant type."), "unsupported_grant_type", 400, false, []string{"check the STS URL"}},
		{"503", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "30")
			reply(503, "text/html", "<html>unavailable</html>")(w, r)
		}, "", 503, true, []string{"HTTP 503", "try again later", "retry after 30s"}},
		{"500 json", jsonReply(500, map[string]any{"error": map[string]any{"code": 500, "message": "internal"}}), "", 500, true, []string{"HTTP 500", "try again later"}},
		{"429", reply(429, "text/plain", ""), "", 429, true, []string{"rate-limiting", "try again later"}},
		{"400 html", reply(400, "text/html", "<html><body>Bad Request</body></html>"), "", 400, false, []string{"HTTP 400", "check the STS URL"}},
		{"200 not json", reply(200, "text/html", "<html>hello</html>"), "", 200, false, []string{"HTML page", "check the STS URL"}},
		{"200 no token", jsonReply(200, map[string]any{"token_type": "Bearer", "expires_in": 3599}), "", 200, false, []string{"no usable access_token"}},
		{"200 token with spaces", jsonReply(200, map[string]any{"access_token": "a b", "token_type": "Bearer"}), "", 200, false, []string{"no usable access_token"}},
		{"200 wrong token_type", jsonReply(200, map[string]any{"access_token": stsCanary, "token_type": "MAC"}), "", 200, false, []string{`token_type "MAC"`}},
		{"200 wrong issued type", jsonReply(200, map[string]any{"access_token": stsCanary, "token_type": "Bearer", "issued_token_type": TokenTypeJWT}), "", 200, false, []string{"not an access token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.h)
			tok, err := f.config().Exchange(context.Background(), ExchangeRequest{Provider: testProvider(t), SubjectToken: subjectCanary})
			if tok != nil {
				t.Fatalf("got a token with error %v", err)
			}
			var se *STSError
			if !errors.As(err, &se) {
				t.Fatalf("error %T %v, want *STSError", err, err)
			}
			if se.Code != c.code || se.StatusCode != c.status || se.Transient() != c.transient {
				t.Errorf("STSError{Code:%q Status:%d Transient:%t}, want %q %d %t", se.Code, se.StatusCode, se.Transient(), c.code, c.status, c.transient)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "STS token exchange failed") {
				t.Errorf("message %q", msg)
			}
			for _, s := range c.says {
				if !strings.Contains(msg, s) {
					t.Errorf("message %q does not say %q", msg, s)
				}
			}
			noCanary(t, "STSError", err, se)
			if u := errors.Unwrap(err); u != nil {
				noCanary(t, "wrapped error", u)
			}
			if c.transient != oauth.IsTransient(err) {
				t.Errorf("oauth.IsTransient = %t", oauth.IsTransient(err))
			}
		})
	}
}

func TestExchangeNetworkTimeoutCancel(t *testing.T) {
	p := testProvider(t)
	// Nothing listens: a network error naming the endpoint.
	f := newFake(t, reply(200, "", ""))
	c := f.config()
	f.srv.Close()
	_, err := c.Exchange(context.Background(), ExchangeRequest{Provider: p, SubjectToken: subjectCanary})
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), "/v1/token") {
		t.Fatalf("err = %v, want *oauth.NetworkError", err)
	}
	noCanary(t, "network error", err)

	// A server that never answers: the per-request timeout fires.
	block := make(chan struct{})
	defer close(block)
	slow := newFake(t, func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-block:
		}
	})
	c = slow.config()
	c.Timeout = 50 * time.Millisecond
	_, err = c.Exchange(context.Background(), ExchangeRequest{Provider: p, SubjectToken: subjectCanary})
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Fatalf("err = %v, want a timeout", err)
	}
	// The caller cancelling is not a network error.
	ctx, cancel := context.WithCancel(context.Background())
	c.Timeout = 0
	go func() {
		for len(slow.requests()) < 2 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err = c.Exchange(ctx, ExchangeRequest{Provider: p, SubjectToken: subjectCanary})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func TestBadInputsSendNothing(t *testing.T) {
	f := newFake(t, reply(500, "", ""))
	c := f.config()
	ctx := context.Background()
	p := testProvider(t)
	fed := &Token{AccessToken: stsCanary, TokenType: "Bearer"}
	checks := []struct {
		name string
		err  error
		msg  string
	}{}
	add := func(name string, err error, msg string) {
		checks = append(checks, struct {
			name string
			err  error
			msg  string
		}{name, err, msg})
	}
	_, err := c.Exchange(ctx, ExchangeRequest{Provider: p})
	add("empty subject", err, "subject token")
	_, err = c.Exchange(ctx, ExchangeRequest{Provider: p, SubjectToken: "a\nb"})
	add("multi-line subject", err, "single-line")
	_, err = c.Exchange(ctx, ExchangeRequest{SubjectToken: subjectCanary})
	add("zero provider", err, "project number")
	_, err = (&Config{STSURL: "http://sts.example.com/v1/token"}).Exchange(ctx, ExchangeRequest{Provider: p, SubjectToken: subjectCanary})
	add("http STS", err, "loopback")
	_, err = c.GenerateAccessToken(ctx, nil, saEmail, nil, 0)
	add("nil federated", err, "exchange the workload's token at STS first")
	_, err = c.GenerateAccessToken(ctx, fed, "not-an-email", nil, 0)
	add("bad SA", err, "service account")
	_, err = c.GenerateAccessToken(ctx, fed, saEmail, nil, 13*time.Hour)
	add("long lifetime", err, "43200s")
	_, err = (&Config{IAMCredentialsURL: "http://iam.example.com"}).GenerateAccessToken(ctx, fed, saEmail, nil, 0)
	add("http IAM", err, "loopback")
	_, err = c.GenerateIDToken(ctx, fed, saEmail, " ", true)
	add("empty audience", err, "audience")
	_, err = c.GenerateIDToken(ctx, &Token{}, saEmail, "aud", true)
	add("empty federated", err, "STS first")
	for _, ch := range checks {
		var ue *UsageError
		if !errors.As(ch.err, &ue) || !strings.Contains(ch.err.Error(), ch.msg) {
			t.Errorf("%s: %v, want *UsageError saying %q", ch.name, ch.err, ch.msg)
		}
		noCanary(t, ch.name, ch.err)
	}
	if n := len(f.requests()); n != 0 {
		t.Errorf("%d requests sent for bad input", n)
	}
}

func TestGenerateAccessTokenShape(t *testing.T) {
	f := newFake(t, jsonReply(200, map[string]string{"accessToken": saCanary, "expireTime": "2026-03-01T13:00:00.123456Z"}))
	c := f.config()
	c.IAMCredentialsURL += "/" // a trailing slash is fine
	fed := &Token{AccessToken: stsCanary, TokenType: "Bearer"}
	tok, err := c.GenerateAccessToken(context.Background(), fed, saEmail, []string{"https://www.googleapis.com/auth/cloud-platform", "https://www.googleapis.com/auth/devstorage.read_only"}, 2*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if tok.AccessToken != saCanary || tok.TokenType != "Bearer" || !tok.Expiry.Equal(time.Date(2026, 3, 1, 13, 0, 0, 123456000, time.UTC)) {
		t.Errorf("token %+v expiry %s", tok, tok.Expiry)
	}
	noCanary(t, "SA token", tok, *tok)
	r := f.requests()[0]
	if r.Method != "POST" || r.Path != "/v1/projects/-/serviceAccounts/deployer@emulator-project.iam.gserviceaccount.com:generateAccessToken" || r.RawQuery != "" {
		t.Errorf("request %s %s?%s", r.Method, r.Path, r.RawQuery)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer "+stsCanary {
		t.Errorf("Authorization %q", got)
	}
	if got := r.Header.Get("Content-Type"); got != "application/json" {
		t.Errorf("Content-Type %q", got)
	}
	if got, want := string(r.Body), `{"scope":["https://www.googleapis.com/auth/cloud-platform","https://www.googleapis.com/auth/devstorage.read_only"],"lifetime":"7200s"}`; got != want {
		t.Errorf("body\n got %s\nwant %s", got, want)
	}
	// Defaults: cloud-platform scope, 3600s.
	if _, err := c.GenerateAccessToken(context.Background(), fed, saEmail, nil, 0); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.requests()[1].Body), `{"scope":["https://www.googleapis.com/auth/cloud-platform"],"lifetime":"3600s"}`; got != want {
		t.Errorf("default body %s", got)
	}
	if got := c.ImpersonationURL(saEmail); got != f.srv.URL+"/v1/projects/-/serviceAccounts/"+saEmail+":generateAccessToken" {
		t.Errorf("ImpersonationURL = %q", got)
	}
	if got := (&Config{}).ImpersonationURL(saEmail); got != "https://iamcredentials.googleapis.com/v1/projects/-/serviceAccounts/"+saEmail+":generateAccessToken" {
		t.Errorf("default ImpersonationURL = %q", got)
	}
}

func fakeJWT(claims map[string]any) string {
	enc := func(v any) string {
		b, _ := json.Marshal(v)
		return base64.RawURLEncoding.EncodeToString(b)
	}
	return enc(map[string]string{"alg": "RS256", "typ": "JWT"}) + "." + enc(claims) + ".c2lnbmF0dXJl"
}

func TestGenerateIDTokenShape(t *testing.T) {
	exp := fixedNow.Add(time.Hour).Unix()
	idt := fakeJWT(map[string]any{"aud": "https://example.com", "exp": exp, "email": saEmail})
	f := newFake(t, jsonReply(200, map[string]string{"token": idt}))
	c := f.config()
	fed := &Token{AccessToken: stsCanary, TokenType: "Bearer"}
	tok, err := c.GenerateIDToken(context.Background(), fed, saEmail, "https://example.com", true)
	if err != nil {
		t.Fatal(err)
	}
	if tok.Token != idt || tok.Expiry.Unix() != exp {
		t.Errorf("ID token expiry %s", tok.Expiry)
	}
	if s := fmt.Sprintf("%v %+v %#v", tok, *tok, tok); strings.Contains(s, idt[:20]) {
		t.Errorf("IDToken formatting leaks the token: %s", s)
	}
	r := f.requests()[0]
	if r.Method != "POST" || r.Path != "/v1/projects/-/serviceAccounts/deployer@emulator-project.iam.gserviceaccount.com:generateIdToken" {
		t.Errorf("request %s %s", r.Method, r.Path)
	}
	if r.Header.Get("Authorization") != "Bearer "+stsCanary || r.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", r.Header)
	}
	if got, want := string(r.Body), `{"audience":"https://example.com","includeEmail":true}`; got != want {
		t.Errorf("body %s", got)
	}
	if _, err := c.GenerateIDToken(context.Background(), fed, saEmail, "aud2", false); err != nil {
		t.Fatal(err)
	}
	if got, want := string(f.requests()[1].Body), `{"audience":"aud2","includeEmail":false}`; got != want {
		t.Errorf("body %s", got)
	}
}

func googleErr(code int, status, message string) http.HandlerFunc {
	return jsonReply(code, map[string]any{"error": map[string]any{
		"code": code, "message": message, "status": status,
		"details": []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM_PERMISSION_DENIED", "domain": "iam.googleapis.com"}},
	}})
}

func TestIAMErrors(t *testing.T) {
	p := testProvider(t)
	type tc struct {
		name      string
		idToken   bool
		lifetime  time.Duration
		h         http.HandlerFunc
		status    int
		gstatus   string
		transient bool
		says      []string
	}
	cases := []tc{
		{"403", false, 0, googleErr(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."), 403, "PERMISSION_DENIED", false,
			[]string{"IAM Credentials generateAccessToken for " + saEmail + " failed: HTTP 403 PERMISSION_DENIED", "iam.serviceAccounts.getAccessToken", "roles/iam.workloadIdentityUser", "Service Account Token Creator", "principalSet://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/*", "check that the service account email is right"}},
		{"403 id token", true, 0, googleErr(403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist)."), 403, "PERMISSION_DENIED", false,
			[]string{"generateIdToken", "getOpenIdToken", "roles/iam.workloadIdentityUser"}},
		{"401", false, 0, googleErr(401, "UNAUTHENTICATED", "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential."), 401, "UNAUTHENTICATED", false,
			[]string{"federated token was refused", "run the exchange again"}},
		{"401 echoing the token", false, 0, googleErr(401, "UNAUTHENTICATED", "token "+stsCanary+" is invalid"), 401, "UNAUTHENTICATED", false,
			[]string{"token [redacted] is invalid"}},
		{"400 long lifetime", false, 2 * time.Hour, googleErr(400, "INVALID_ARGUMENT", "Requested lifetime 7200s exceeds maximum allowed lifetime of 3600s."), 400, "INVALID_ARGUMENT", false,
			[]string{"constraints/iam.allowServiceAccountCredentialLifetimeExtension", "7200s"}},
		{"400 other", false, 0, googleErr(400, "INVALID_ARGUMENT", "Scope required."), 400, "INVALID_ARGUMENT", false,
			[]string{"Scope required", "check the scopes"}},
		{"404", false, 0, googleErr(404, "NOT_FOUND", "Not found; Gaia id not found for email nobody@p.iam.gserviceaccount.com"), 404, "NOT_FOUND", false,
			[]string{"does not exist: check --service-account"}},
		{"429", false, 0, googleErr(429, "RESOURCE_EXHAUSTED", "Quota exceeded."), 429, "RESOURCE_EXHAUSTED", true, []string{"try again later"}},
		{"503", false, 0, googleErr(503, "UNAVAILABLE", "The service is currently unavailable."), 503, "UNAVAILABLE", true, []string{"temporary problem"}},
		{"502 html", false, 0, reply(502, "text/html", "<html>Bad Gateway</html>"), 502, "", true, []string{"HTTP 502 Bad Gateway", "not a Google API error", "temporary problem"}},
		{"403 html", false, 0, reply(403, "text/html", "<html>Forbidden</html>"), 403, "", false, []string{"not a Google API error"}},
		{"200 not json", false, 0, reply(200, "text/html", "<html></html>"), 200, "", false, []string{"not the expected JSON", "check the IAM Credentials URL"}},
		{"200 no token", false, 0, jsonReply(200, map[string]string{"expireTime": "2026-03-01T13:00:00Z"}), 200, "", false, []string{"no usable accessToken"}},
		{"200 bad expireTime", false, 0, jsonReply(200, map[string]string{"accessToken": saCanary, "expireTime": "tomorrow"}), 200, "", false, []string{"expireTime is not an RFC 3339 time"}},
		{"200 id token not jwt", true, 0, jsonReply(200, map[string]string{"token": "not-a-jwt"}), 200, "", false, []string{"not a JWT"}},
		{"200 id token no token", true, 0, jsonReply(200, map[string]string{}), 200, "", false, []string{"no usable token"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			f := newFake(t, c.h)
			fed := &Token{AccessToken: stsCanary, TokenType: "Bearer", provider: p}
			var err error
			var got any
			if c.idToken {
				got, err = f.config().GenerateIDToken(context.Background(), fed, saEmail, "https://example.com", true)
			} else {
				got, err = f.config().GenerateAccessToken(context.Background(), fed, saEmail, nil, c.lifetime)
			}
			var ae *APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error %T %v (value %v), want *APIError", err, err, got)
			}
			if ae.StatusCode != c.status || ae.Status != c.gstatus || ae.Transient() != c.transient || ae.ServiceAccount != saEmail {
				t.Errorf("APIError %+v", ae)
			}
			for _, s := range c.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q does not say %q", err, s)
				}
			}
			noCanary(t, "APIError", err, ae)
		})
	}
	// The ErrorInfo reason is kept.
	f := newFake(t, googleErr(403, "PERMISSION_DENIED", "denied"))
	_, err := f.config().GenerateAccessToken(context.Background(), &Token{AccessToken: stsCanary}, saEmail, nil, 0)
	var ae *APIError
	if !errors.As(err, &ae) || ae.Reason != "IAM_PERMISSION_DENIED" {
		t.Errorf("reason: %+v", ae)
	}
	// Without a provider the 403 hint still names the role.
	if !strings.Contains(err.Error(), "roles/iam.workloadIdentityUser (or Service Account Token Creator, roles/iam.serviceAccountTokenCreator) on "+saEmail+" to the workload identity pool's principals") {
		t.Errorf("message %q", err)
	}
}

func TestIAMNetworkError(t *testing.T) {
	f := newFake(t, reply(200, "", ""))
	c := f.config()
	f.srv.Close()
	_, err := c.GenerateAccessToken(context.Background(), &Token{AccessToken: stsCanary}, saEmail, nil, 0)
	var ne *oauth.NetworkError
	if !errors.As(err, &ne) || !strings.Contains(err.Error(), ":generateAccessToken") || !oauth.IsTransient(err) {
		t.Fatalf("err = %v", err)
	}
	noCanary(t, "network error", err)
}

// STS and IAM Credentials requests carry a token: they follow no redirect,
// whatever client the caller gives, and the other server receives nothing.
func TestRedirectsRefused(t *testing.T) {
	other := newFake(t, reply(200, "application/json", `{}`))
	for _, status := range []int{301, 302, 307, 308} {
		f := newFake(t, func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, other.srv.URL+r.URL.Path, status)
		})
		c := f.config()
		c.HTTPClient = &http.Client{} // Go's defaults would follow
		_, err := c.Exchange(context.Background(), ExchangeRequest{Provider: testProvider(t), SubjectToken: subjectCanary})
		if !safehttp.IsRedirectRefused(err) || !strings.Contains(err.Error(), f.srv.URL+"/v1/token") || strings.Contains(err.Error(), subjectCanary) {
			t.Errorf("%d: STS err = %v, want a refused redirect naming the endpoint", status, err)
		}
		fed := &Token{AccessToken: stsCanary, TokenType: "Bearer"}
		_, err = c.GenerateAccessToken(context.Background(), fed, saEmail, nil, 0)
		if !safehttp.IsRedirectRefused(err) || strings.Contains(err.Error(), stsCanary) {
			t.Errorf("%d: IAM err = %v, want a refused redirect", status, err)
		}
		_, err = c.GenerateIDToken(context.Background(), fed, saEmail, "aud", true)
		if !safehttp.IsRedirectRefused(err) {
			t.Errorf("%d: IAM ID token err = %v, want a refused redirect", status, err)
		}
	}
	if n := len(other.requests()); n != 0 {
		t.Errorf("the redirect target received %d requests", n)
	}
}
