package workload

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/compute/metadata"
	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"
	"golang.org/x/oauth2/google"

	"github.com/ghlogin/ghlogin/internal/clock"
)

const (
	defaultTokenAud = "https://iam.googleapis.com/" + DefaultProvider
	stsAudience     = "//iam.googleapis.com/" + DefaultProvider
)

// wenv is a started Server with a fake clock and a log sink.
type wenv struct {
	t    *testing.T
	w    *Server
	base string // "" = w.URL()
	clk  *clock.Fake
	logs *logSink
	hc   *http.Client
}

func startServer(t *testing.T, cfg Config) *wenv {
	t.Helper()
	fake := clock.NewFake(t0)
	if cfg.Clock == nil {
		cfg.Clock = fake
	}
	logs := &logSink{}
	cfg.Logf = logs.logf
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Start(ctx, "", cfg)
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		w.Close()
	})
	return &wenv{t: t, w: w, clk: fake, logs: logs, hc: &http.Client{Timeout: 10 * time.Second}}
}

// wreply is a reply read in full.
type wreply struct {
	status int
	header http.Header
	body   string
}

func (r wreply) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(r.body), &m); err != nil {
		t.Fatalf("reply is not JSON (%v): %s", err, r.body)
	}
	return m
}

// do sends a request; headers are name/value pairs.
func (e *wenv) do(method, rawURL, ctype, body string, headers ...string) wreply {
	e.t.Helper()
	if strings.HasPrefix(rawURL, "/") {
		base := e.base
		if base == "" {
			base = e.w.URL()
		}
		rawURL = base + rawURL
	}
	req, err := http.NewRequest(method, rawURL, strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, rawURL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return wreply{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

// actionsURL returns ACTIONS_ID_TOKEN_REQUEST_URL (with audience appended when set).
func (e *wenv) actionsURL(audience string) string {
	e.t.Helper()
	for _, kv := range e.w.ActionsEnv() {
		if v, ok := strings.CutPrefix(kv, "ACTIONS_ID_TOKEN_REQUEST_URL="); ok {
			if audience != "" {
				v += "&audience=" + url.QueryEscape(audience)
			}
			return v
		}
	}
	e.t.Fatal("ActionsEnv has no ACTIONS_ID_TOKEN_REQUEST_URL")
	return ""
}

func (e *wenv) actionsToken(audience string) string {
	e.t.Helper()
	r := e.do("GET", e.actionsURL(audience), "", "", "Authorization", "Bearer "+DefaultActionsRequestToken, "Accept", "application/json")
	if r.status != 200 {
		e.t.Fatalf("Actions token: HTTP %d %s", r.status, r.body)
	}
	v, _ := r.json(e.t)["value"].(string)
	return v
}

// sts posts a form to /v1/token.
func (e *wenv) sts(fields url.Values) wreply {
	e.t.Helper()
	return e.do("POST", "/v1/token", "application/x-www-form-urlencoded", fields.Encode())
}

func stsForm(subject string) url.Values {
	return url.Values{
		"grant_type":           {TokenExchangeGrantType},
		"audience":             {stsAudience},
		"scope":                {CloudPlatformScope},
		"requested_token_type": {AccessTokenType},
		"subject_token_type":   {JWTTokenType},
		"subject_token":        {subject},
	}
}

// federate returns an STS access token for a fresh Actions token.
func (e *wenv) federate() string {
	e.t.Helper()
	r := e.sts(stsForm(e.actionsToken(defaultTokenAud)))
	if r.status != 200 {
		e.t.Fatalf("STS: HTTP %d %s", r.status, r.body)
	}
	tok, _ := r.json(e.t)["access_token"].(string)
	return tok
}

func (e *wenv) iam(email, method, bearerTok, body string) wreply {
	e.t.Helper()
	var h []string
	if bearerTok != "" {
		h = []string{"Authorization", "Bearer " + bearerTok}
	}
	return e.do("POST", "/v1/projects/-/serviceAccounts/"+url.PathEscape(email)+":"+method, "application/json", body, h...)
}

// verifyOIDC verifies tok with go-oidc by discovery on issuer.
func verifyOIDC(t *testing.T, issuer, audience, tok string, now time.Time) map[string]any {
	t.Helper()
	ctx := oidc.ClientContext(context.Background(), &http.Client{Timeout: 10 * time.Second})
	p, err := oidc.NewProvider(ctx, issuer)
	if err != nil {
		t.Fatalf("discovery on %s: %v", issuer, err)
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: audience, Now: func() time.Time { return now }}).Verify(ctx, tok)
	if err != nil {
		t.Fatalf("go-oidc Verify: %v", err)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		t.Fatal(err)
	}
	return claims
}

func headerOf(t *testing.T, tok string) jose.Header {
	t.Helper()
	parsed, err := jwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatalf("not a JWS: %v", err)
	}
	return parsed.Headers[0]
}

func wantStatus(t *testing.T, r wreply, status int, contains ...string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("HTTP %d, want %d: %s", r.status, status, r.body)
	}
	text := r.body
	var v any
	if json.Unmarshal([]byte(r.body), &v) == nil {
		text += "\n" + strings.Join(jsonStrings(v), "\n")
	}
	for _, c := range contains {
		if !strings.Contains(text, c) {
			t.Errorf("reply lacks %q: %s", c, r.body)
		}
	}
}

// jsonStrings returns every string in a decoded JSON value.
func jsonStrings(v any) []string {
	switch v := v.(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, x := range v {
			out = append(out, jsonStrings(x)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, x := range v {
			out = append(out, jsonStrings(x)...)
		}
		return out
	}
	return nil
}

func TestWorkloadActionsToken(t *testing.T) {
	e := startServer(t, Config{})
	env := e.w.ActionsEnv()
	if len(env) != 2 || !strings.HasSuffix(env[0], "/idtoken?api-version=2.0") || env[1] != "ACTIONS_ID_TOKEN_REQUEST_TOKEN="+DefaultActionsRequestToken {
		t.Fatalf("ActionsEnv = %q", env)
	}
	r := e.do("GET", e.actionsURL("https://example.com/my aud"), "", "", "Authorization", "Bearer "+DefaultActionsRequestToken, "Accept", "application/json")
	wantStatus(t, r, 200)
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type %q", ct)
	}
	tok := r.json(t)["value"].(string)
	h := headerOf(t, tok)
	if h.Algorithm != "RS256" || h.ExtraHeaders["typ"] != "JWT" || h.KeyID == "" || h.ExtraHeaders["x5t"] == nil {
		t.Errorf("header = %+v", h)
	}
	claims := verifyOIDC(t, e.w.ActionsIssuer(), "https://example.com/my aud", tok, t0)
	want := map[string]any{
		"sub": "repo:octo-org/octo-repo:ref:refs/heads/main", "aud": "https://example.com/my aud",
		"iss": e.w.ActionsIssuer(), "repository": "octo-org/octo-repo", "repository_owner": "octo-org",
		"ref": "refs/heads/main", "ref_type": "branch", "event_name": "push", "runner_environment": "github-hosted",
		"iat": float64(t0.Unix()), "exp": float64(t0.Add(5 * time.Minute).Unix()), "nbf": float64(t0.Add(-10 * time.Minute).Unix()),
	}
	for k, v := range want {
		if claims[k] != v {
			t.Errorf("claim %s = %v, want %v", k, claims[k], v)
		}
	}
	for _, k := range []string{"jti", "sha", "repository_owner_id", "run_id", "run_number", "run_attempt", "repository_visibility", "repository_id", "actor", "actor_id", "workflow", "workflow_ref", "workflow_sha", "job_workflow_ref", "job_workflow_sha", "head_ref", "base_ref", "ref_protected"} {
		if _, ok := claims[k]; !ok {
			t.Errorf("claim %s missing", k)
		}
	}
	// Default audience: the repository owner's URL.
	claims = verifyOIDC(t, e.w.ActionsIssuer(), "https://github.com/octo-org", e.actionsToken(""), t0)
	if claims["aud"] != "https://github.com/octo-org" {
		t.Errorf("default aud = %v", claims["aud"])
	}
	// The recorded request keeps the exact query, and no token.
	reqs := e.w.Requests()
	first := reqs[0]
	if first.Method != "GET" || first.Query != "api-version=2.0&audience=https%3A%2F%2Fexample.com%2Fmy+aud" ||
		first.Header.Get("Authorization") != "Bearer REDACTED" || first.Header.Get("Accept") != "application/json" || first.Status != 200 {
		t.Errorf("recorded %+v", first)
	}
}

func TestWorkloadActionsClaims(t *testing.T) {
	e := startServer(t, Config{
		ActionsClaims:       map[string]any{"environment": "prod", "repository": "acme/app", "repository_owner": "acme"},
		ActionsRequestToken: "custom-request-token",
		IDTokenLifetime:     time.Minute,
	})
	r := e.do("GET", e.actionsURL("x"), "", "", "Authorization", "Bearer custom-request-token")
	wantStatus(t, r, 200)
	claims, err := unverifiedClaims(r.json(t)["value"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if claims["sub"] != "repo:acme/app:environment:prod" || claims["environment"] != "prod" || claims["exp"] != float64(t0.Add(time.Minute).Unix()) {
		t.Errorf("claims = %v", claims)
	}
	tok, err := e.w.SignActionsToken("", map[string]any{"event_name": "pull_request", "sub": "custom"})
	if err != nil {
		t.Fatal(err)
	}
	claims, _ = unverifiedClaims(tok)
	if claims["sub"] != "custom" || claims["aud"] != "https://github.com/acme" {
		t.Errorf("SignActionsToken claims = %v", claims)
	}
	if got := actionsSubject(map[string]any{"repository": "o/r", "event_name": "pull_request"}); got != "repo:o/r:pull_request" {
		t.Errorf("pull request sub = %q", got)
	}
}

func TestWorkloadActionsErrors(t *testing.T) {
	e := startServer(t, Config{})
	good := e.actionsURL("aud")
	noVersion := strings.Replace(good, "api-version=2.0&", "", 1)
	auth := []string{"Authorization", "Bearer " + DefaultActionsRequestToken}
	cases := []struct {
		name, method, url string
		headers           []string
		status            int
		want              string
	}{
		{"no authorization", "GET", good, nil, 401, "not authorized"},
		{"wrong bearer", "GET", good, []string{"Authorization", "Bearer nope"}, 401, "ACTIONS_ID_TOKEN_REQUEST_TOKEN"},
		{"basic auth", "GET", good, []string{"Authorization", "Basic " + DefaultActionsRequestToken}, 401, "UnauthorizedRequestException"},
		{"no api-version", "GET", noVersion, auth, 400, "No api-version"},
		{"other api-version", "GET", strings.Replace(good, "2.0", "7.1", 1), auth, 400, "out of range"},
		{"POST", "POST", good, auth, 405, "does not support http method 'POST'"},
		{"bad job", "GET", e.w.URL() + actionsIDTokenPath + "p/jobs/../idtoken?api-version=2.0", auth, 404, "does not exist"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.url, "", "", c.headers...)
			wantStatus(t, r, c.status, c.want)
			if _, ok := r.json(t)["message"]; !ok {
				t.Errorf("no message field: %s", r.body)
			}
		})
	}
}

func TestWorkloadDiscoveryAndJWKS(t *testing.T) {
	e := startServer(t, Config{})
	iss := e.w.ActionsIssuer()
	if iss != e.w.URL()+"/_services/token" || e.w.GoogleIssuer() != e.w.URL()+"/accounts.google.com" {
		t.Fatalf("issuers %q %q", iss, e.w.GoogleIssuer())
	}
	d := e.do("GET", iss+"/.well-known/openid-configuration", "", "")
	wantStatus(t, d, 200)
	doc := d.json(t)
	if doc["issuer"] != iss || doc["jwks_uri"] != iss+"/.well-known/jwks" ||
		fmt.Sprint(doc["response_types_supported"]) != "[id_token]" ||
		fmt.Sprint(doc["id_token_signing_alg_values_supported"]) != "[RS256]" ||
		fmt.Sprint(doc["scopes_supported"]) != "[openid]" || doc["subject_types_supported"] == nil ||
		!strings.Contains(fmt.Sprint(doc["claims_supported"]), "repository_owner") {
		t.Errorf("Actions discovery = %v", doc)
	}
	var set jose.JSONWebKeySet
	k := e.do("GET", iss+"/.well-known/jwks", "", "")
	if err := json.Unmarshal([]byte(k.body), &set); err != nil || len(set.Keys) != 1 {
		t.Fatalf("Actions JWKS: %v %s", err, k.body)
	}
	key := set.Keys[0]
	if key.Algorithm != "RS256" || key.Use != "sig" || len(key.Certificates) != 1 || len(key.CertificateThumbprintSHA1) != 20 || !key.IsPublic() {
		t.Errorf("Actions key = %+v", key)
	}
	if !strings.Contains(k.body, `"x5t"`) || !strings.Contains(k.body, `"x5c"`) || strings.Contains(k.body, `"d"`) {
		t.Errorf("Actions JWKS body: %s", k.body)
	}
	g := e.do("GET", e.w.GoogleIssuer()+"/.well-known/openid-configuration", "", "")
	wantStatus(t, g, 200)
	if gd := g.json(t); gd["issuer"] != e.w.GoogleIssuer() || gd["jwks_uri"] != e.w.URL()+"/oauth2/v3/certs" {
		t.Errorf("Google discovery = %v", gd)
	}
	c := e.do("GET", "/oauth2/v3/certs", "", "")
	if err := json.Unmarshal([]byte(c.body), &set); err != nil || len(set.Keys) != 1 || set.Keys[0].KeyID == key.KeyID {
		t.Fatalf("Google JWKS: %v %s", err, c.body)
	}
	for _, p := range []string{"/oauth2/v3/certs", "/_services/token/.well-known/jwks", "/accounts.google.com/.well-known/openid-configuration"} {
		r := e.do("POST", p, "application/json", "{}")
		wantStatus(t, r, 405)
		if r.header.Get("Allow") != "GET" {
			t.Errorf("%s: Allow %q", p, r.header.Get("Allow"))
		}
	}
	wantStatus(t, e.do("GET", "/nothing/here", "", ""), 404)
}

func TestWorkloadMetadataIdentity(t *testing.T) {
	e := startServer(t, Config{})
	flavor := []string{"Metadata-Flavor", "Google"}
	base := "/computeMetadata/v1/instance/service-accounts/default/identity?audience="
	r := e.do("GET", base+url.QueryEscape("https://svc.example"), "", "", flavor...)
	wantStatus(t, r, 200)
	if r.header.Get("Content-Type") != "application/text" || r.header.Get("Metadata-Flavor") != "Google" {
		t.Errorf("headers %v", r.header)
	}
	claims := verifyOIDC(t, e.w.GoogleIssuer(), "https://svc.example", r.body, t0)
	sub, _ := claims["sub"].(string)
	if len(sub) != 21 || strings.Trim(sub, "0123456789") != "" || claims["azp"] != sub ||
		claims["email"] != DefaultServiceAccount || claims["email_verified"] != true ||
		claims["exp"] != float64(t0.Add(time.Hour).Unix()) || claims["google"] != nil {
		t.Errorf("standard claims = %v", claims)
	}
	r = e.do("GET", base+"a&format=full", "", "", flavor...)
	claims = verifyOIDC(t, e.w.GoogleIssuer(), "a", r.body, t0)
	ce, _ := claims["google"].(map[string]any)["compute_engine"].(map[string]any)
	if ce["project_id"] != ProjectID || ce["project_number"] != float64(ProjectNumber) || ce["zone"] != "us-central1-a" ||
		ce["instance_name"] != "emulator-vm" || ce["instance_id"] == nil || ce["instance_creation_timestamp"] == nil || ce["license_id"] != nil {
		t.Errorf("full claims = %v", claims)
	}
	r = e.do("GET", base+"a&format=full&licenses=TRUE", "", "", flavor...)
	claims = verifyOIDC(t, e.w.GoogleIssuer(), "a", r.body, t0)
	ce, _ = claims["google"].(map[string]any)["compute_engine"].(map[string]any)
	if fmt.Sprint(ce["license_id"]) != "[5926592092274602096]" {
		t.Errorf("licenses claims = %v", ce)
	}
	if got := e.do("GET", "/computeMetadata/v1/instance/service-accounts/default/email", "", "", flavor...); got.body != DefaultServiceAccount {
		t.Errorf("email = %q", got.body)
	}
	if got := e.do("GET", "/computeMetadata/v1/project/project-id", "", "", flavor...); got.body != ProjectID || got.header.Get("Metadata-Flavor") != "Google" {
		t.Errorf("project-id = %q", got.body)
	}
	if got := e.do("GET", "/computeMetadata/v1/instance/service-accounts/"+DefaultServiceAccount+"/email", "", "", flavor...); got.body != DefaultServiceAccount {
		t.Errorf("email by name = %q", got.body)
	}
	for path, want := range map[string]string{
		"project/numeric-project-id": "123456789012",
		"instance/id":                "4462897381716371209",
		"instance/name":              "emulator-vm",
		"instance/zone":              "projects/123456789012/zones/us-central1-a",
	} {
		if got := e.do("GET", "/computeMetadata/v1/"+path, "", "", flavor...); got.status != 200 || got.body != want {
			t.Errorf("%s = %d %q, want %q", path, got.status, got.body, want)
		}
	}
}

// TestWorkloadMetadataLibrary reads the identity through Google's own client
// library, pointed at the fake by GCE_METADATA_HOST as on a real VM.
func TestWorkloadMetadataLibrary(t *testing.T) {
	e := startServer(t, Config{})
	t.Setenv("GCE_METADATA_HOST", e.w.MetadataHost())
	c := metadata.NewClient(&http.Client{Timeout: 10 * time.Second})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	tok, err := c.GetWithContext(ctx, "instance/service-accounts/default/identity?audience=lib-aud&format=full")
	if err != nil {
		t.Fatalf("metadata library: %v", err)
	}
	verifyOIDC(t, e.w.GoogleIssuer(), "lib-aud", tok, t0)
	if id, err := c.ProjectIDWithContext(ctx); err != nil || id != ProjectID {
		t.Errorf("ProjectID = %q, %v", id, err)
	}
	if email, err := c.EmailWithContext(ctx, ""); err != nil || email != DefaultServiceAccount {
		t.Errorf("Email = %q, %v", email, err)
	}
	_, err = c.GetWithContext(ctx, "instance/attributes/missing")
	var nd metadata.NotDefinedError
	if !errors.As(err, &nd) {
		t.Errorf("missing key: %v, want NotDefinedError", err)
	}
	_, err = c.GetWithContext(ctx, "instance/service-accounts/default/identity")
	var me *metadata.Error
	if !errors.As(err, &me) || me.Code != 400 || !strings.Contains(me.Message, "non-empty audience parameter required") {
		t.Errorf("no audience: %v", err)
	}
}

func TestWorkloadMetadataErrors(t *testing.T) {
	e := startServer(t, Config{})
	id := "/computeMetadata/v1/instance/service-accounts/default/identity"
	flavor := []string{"Metadata-Flavor", "Google"}
	cases := []struct {
		name, method, path string
		headers            []string
		status             int
		want               string
	}{
		{"no flavor", "GET", id + "?audience=a", nil, 403, "Missing required header: Metadata-Flavor"},
		{"wrong flavor", "GET", id + "?audience=a", []string{"Metadata-Flavor", "google"}, 403, "Missing required header: Metadata-Flavor"},
		{"forwarded", "GET", id + "?audience=a", append([]string{"X-Forwarded-For", "10.0.0.1"}, flavor...), 403, "X-Forwarded-For"},
		{"no audience", "GET", id, flavor, 400, "non-empty audience parameter required"},
		{"empty audience", "GET", id + "?audience=", flavor, 400, "non-empty audience parameter required"},
		{"bad format", "GET", id + "?audience=a&format=short", flavor, 400, "invalid format"},
		{"bad licenses", "GET", id + "?audience=a&format=full&licenses=yes", flavor, 400, "invalid licenses"},
		{"POST", "POST", id + "?audience=a", flavor, 405, "Method Not Allowed"},
		{"unknown key", "GET", "/computeMetadata/v1/instance/attributes/foo", flavor, 404, "Not Found"},
		{"unknown account", "GET", "/computeMetadata/v1/instance/service-accounts/other@x.iam.gserviceaccount.com/email", flavor, 404, "Not Found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.do(c.method, c.path, "", "", c.headers...)
			wantStatus(t, r, c.status, c.want)
			if r.header.Get("Metadata-Flavor") != "Google" {
				t.Errorf("reply lacks Metadata-Flavor: %v", r.header)
			}
		})
	}
}

func TestWorkloadSTS(t *testing.T) {
	e := startServer(t, Config{})
	r := e.sts(stsForm(e.actionsToken(defaultTokenAud)))
	wantStatus(t, r, 200)
	m := r.json(t)
	if tok, _ := m["access_token"].(string); !strings.HasPrefix(tok, "ya29.d.") || m["issued_token_type"] != AccessTokenType ||
		m["token_type"] != "Bearer" || m["expires_in"] != float64(3599) || len(m) != 4 {
		t.Errorf("STS reply = %v", m)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}
	// Without https: as an audience, an id_token type, no scope.
	f := stsForm(e.actionsToken(stsAudience))
	f.Set("subject_token_type", IDTokenType)
	f.Del("scope")
	wantStatus(t, e.sts(f), 200, `"access_token"`)
	// An aud list with one allowed audience.
	listAud, _ := e.w.SignActionsToken("", map[string]any{"aud": []string{"other", defaultTokenAud}})
	wantStatus(t, e.sts(stsForm(listAud)), 200, `"access_token"`)
	// JSON, with the proto's camelCase names.
	body, _ := json.Marshal(map[string]string{
		"grantType": TokenExchangeGrantType, "audience": stsAudience, "scope": CloudPlatformScope,
		"requestedTokenType": AccessTokenType, "subjectTokenType": JWTTokenType, "subjectToken": e.actionsToken(defaultTokenAud),
	})
	wantStatus(t, e.do("POST", "/v1/token", "application/json", string(body)), 200, `"access_token"`)
}

func TestWorkloadSTSErrors(t *testing.T) {
	other := Provider{Name: "projects/123456789012/locations/global/workloadIdentityPools/github/providers/strict",
		AllowedAudiences:   []string{"sts-aud"},
		AttributeCondition: "assertion.repository_owner == 'someone-else'"}
	e := startServer(t, Config{Providers: []Provider{
		{Name: DefaultProvider},
		other,
		{Name: "projects/123456789012/locations/global/workloadIdentityPools/github/providers/off", Disabled: true},
	}})
	good := e.actionsToken(defaultTokenAud)
	wrongIss, _ := e.w.SignActionsToken(defaultTokenAud, map[string]any{"iss": "https://token.actions.githubusercontent.com"})
	longLived, _ := e.w.SignActionsToken(defaultTokenAud, map[string]any{"exp": t0.Add(25 * time.Hour).Unix()})
	future, _ := e.w.SignActionsToken(defaultTokenAud, map[string]any{"iat": t0.Add(time.Hour).Unix(), "exp": t0.Add(2 * time.Hour).Unix()})
	noSub, _ := e.w.SignActionsToken(defaultTokenAud, map[string]any{"sub": ""})
	textIat, _ := e.w.SignActionsToken(defaultTokenAud, map[string]any{"iat": "yesterday"})
	manyAuds, _ := e.w.SignActionsToken("", map[string]any{"aud": []string{"a", "b"}})

	// A token signed by another key under the real kid, and one with an unknown kid.
	other2, _ := rsa.GenerateKey(rand.Reader, 2048)
	forge := func(kid string) string {
		s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: jose.JSONWebKey{Key: other2, KeyID: kid}}, (&jose.SignerOptions{}).WithType("JWT"))
		if err != nil {
			t.Fatal(err)
		}
		tok, err := jwt.Signed(s).Claims(e.w.actionsClaims(e.w.URL(), defaultTokenAud)).Serialize()
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	forged, unknownKid := forge(e.w.actions.public.KeyID), forge("nope")
	parts := strings.Split(good, ".")
	tampered := parts[0] + "." + parts[1] + "." + strings.Map(func(r rune) rune {
		if r == 'A' {
			return 'B'
		}
		return r
	}, parts[2])
	if tampered == good {
		tampered = parts[0] + "." + parts[1] + "." + parts[2][:len(parts[2])-2] + "AA"
	}

	with := func(mod func(url.Values)) url.Values {
		f := stsForm(good)
		mod(f)
		return f
	}
	cases := []struct {
		name string
		form url.Values
		code string
		want string
	}{
		{"no grant_type", with(func(f url.Values) { f.Del("grant_type") }), "invalid_request", `"grant_type"`},
		{"wrong grant_type", with(func(f url.Values) { f.Set("grant_type", "client_credentials") }), "unsupported_grant_type", "client_credentials"},
		{"requested_token_type", with(func(f url.Values) { f.Set("requested_token_type", IDTokenType) }), "invalid_request", `"requested_token_type"`},
		{"subject_token_type", with(func(f url.Values) { f.Set("subject_token_type", "urn:ietf:params:oauth:token-type:saml2") }), "invalid_request", `"subject_token_type"`},
		{"no subject_token", with(func(f url.Values) { f.Del("subject_token") }), "invalid_request", `"subject_token"`},
		{"no audience", with(func(f url.Values) { f.Del("audience") }), "invalid_request", `"audience"`},
		{"malformed audience", with(func(f url.Values) { f.Set("audience", "projects/1/providers/x") }), "invalid_request", "full resource name of the Identity Provider"},
		{"unknown provider", with(func(f url.Values) { f.Set("audience", strings.Replace(stsAudience, "actions", "nope", 1)) }), "invalid_target", stsInvalidTarget},
		{"disabled provider", with(func(f url.Values) { f.Set("audience", strings.Replace(stsAudience, "actions", "off", 1)) }), "invalid_target", "disabled or deleted"},
		{"bad scope", with(func(f url.Values) { f.Set("scope", "cloud-platform") }), "invalid_scope", "cloud-platform"},
		{"bad options", with(func(f url.Values) { f.Set("options", "[1]") }), "invalid_request", `"options"`},
		{"not a JWT", with(func(f url.Values) { f.Set("subject_token", "garbage") }), "invalid_grant", "Unable to parse the ID Token"},
		{"issuer mismatch", with(func(f url.Values) { f.Set("subject_token", wrongIss) }), "invalid_grant", "The issuer in ID Token https://token.actions.githubusercontent.com does not match the expected ISSUER " + e.w.ActionsIssuer()},
		{"forged signature", with(func(f url.Values) { f.Set("subject_token", forged) }), "invalid_grant", "Invalid ID Token signature"},
		{"tampered signature", with(func(f url.Values) { f.Set("subject_token", tampered) }), "invalid_grant", "Invalid ID Token signature"},
		{"unknown kid", with(func(f url.Values) { f.Set("subject_token", unknownKid) }), "invalid_grant", "Invalid ID Token signature"},
		{"lifetime over 24h", with(func(f url.Values) { f.Set("subject_token", longLived) }), "invalid_grant", "24 hours"},
		{"issued in the future", with(func(f url.Values) { f.Set("subject_token", future) }), "invalid_grant", "in the future"},
		{"iat not a number", with(func(f url.Values) { f.Set("subject_token", textIat) }), "invalid_grant", "numeric iat and exp"},
		{"audience list", with(func(f url.Values) { f.Set("subject_token", manyAuds) }), "invalid_grant", "The audience in ID Token [a, b] does not match"},
		{"no sub", with(func(f url.Values) { f.Set("subject_token", noSub) }), "invalid_grant", "sub claim"},
		{"wrong audience", with(func(f url.Values) { f.Set("subject_token", e.actionsToken("")) }), "invalid_grant",
			"The audience in ID Token [https://github.com/octo-org] does not match the expected audience " + defaultTokenAud + ", " + stsAudience + "."},
		{"audience not allowed by provider", with(func(f url.Values) { f.Set("audience", "//iam.googleapis.com/"+other.Name) }), "invalid_grant",
			"The audience in ID Token [" + defaultTokenAud + "] does not match the expected audience sts-aud."},
		{"condition", with(func(f url.Values) {
			f.Set("audience", "//iam.googleapis.com/"+other.Name)
			f.Set("subject_token", e.actionsToken("sts-aud"))
		}), "unauthorized_client", stsCondition},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.sts(c.form)
			wantStatus(t, r, 400, c.want)
			m := r.json(t)
			if m["error"] != c.code || len(m) != 2 || m["error_description"] == "" {
				t.Errorf("reply = %v, want error %s", m, c.code)
			}
			if st := c.form.Get("subject_token"); st != "" && st != "garbage" && strings.Contains(r.body, st) {
				t.Errorf("the reply echoes the subject token")
			}
		})
	}
	t.Run("expired", func(t *testing.T) {
		tok := e.actionsToken(defaultTokenAud)
		e.clk.Advance(5*time.Minute + time.Second)
		r := e.sts(stsForm(tok))
		wantStatus(t, r, 400, fmt.Sprintf("ID Token issued at %d is stale to sign-in.", t0.Unix()), "invalid_grant")
	})
	t.Run("content type", func(t *testing.T) {
		wantStatus(t, e.do("POST", "/v1/token", "text/plain", stsForm(good).Encode()), 400, "invalid_request")
	})
	t.Run("malformed JSON", func(t *testing.T) {
		wantStatus(t, e.do("POST", "/v1/token", "application/json", "{"), 400, "invalid_request")
	})
	t.Run("GET", func(t *testing.T) {
		r := e.do("GET", "/v1/token", "", "")
		wantStatus(t, r, 405)
		if r.header.Get("Allow") != "POST" {
			t.Errorf("Allow %q", r.header.Get("Allow"))
		}
	})
}

// TestWorkloadSTSOtherIssuers trusts the server's own Google issuer (a
// metadata-server ID token as the subject token) and another server's
// Actions issuer, whose keys STS finds by OIDC discovery.
func TestWorkloadSTSOtherIssuers(t *testing.T) {
	remote := startServer(t, Config{})
	const gceProvider = "projects/1/locations/global/workloadIdentityPools/gce/providers/google"
	const ghProvider = "projects/1/locations/global/workloadIdentityPools/remote/providers/gh"
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	w := New(Config{
		Clock: clock.NewFake(t0),
		Providers: []Provider{
			{Name: gceProvider, Issuer: base + "/accounts.google.com", AllowedAudiences: []string{"gce-aud"}},
			{Name: "//iam.googleapis.com/" + ghProvider, Issuer: remote.w.ActionsIssuer()},
		},
		ServiceAccounts: []ServiceAccount{{Email: "vm@p.iam.gserviceaccount.com"}},
	})
	srv.Config.Handler = w
	srv.Start()
	defer srv.Close()
	e := &wenv{t: t, w: w, base: base, hc: srv.Client()}

	idTok := e.do("GET", "/computeMetadata/v1/instance/service-accounts/default/identity?audience=gce-aud", "", "", "Metadata-Flavor", "Google").body
	f := stsForm(idTok)
	f.Set("audience", "//iam.googleapis.com/"+gceProvider)
	wantStatus(t, e.sts(f), 200, `"access_token"`)

	f = stsForm(remote.w.mustSign(t, "https://iam.googleapis.com/"+ghProvider))
	f.Set("audience", "//iam.googleapis.com/"+ghProvider)
	fed := e.sts(f)
	wantStatus(t, fed, 200, `"access_token"`)
	// Nil Allowed lets every federated principal impersonate the account.
	wantStatus(t, e.iam("vm@p.iam.gserviceaccount.com", "generateIdToken", fed.json(t)["access_token"].(string), `{"audience":"x","includeEmail":true}`), 200, `"token"`)
	// A token of the remote's Google issuer is refused by that provider.
	f.Set("subject_token", e.do("GET", remote.w.URL()+"/computeMetadata/v1/instance/service-accounts/default/identity?audience=a", "", "", "Metadata-Flavor", "Google").body)
	wantStatus(t, e.sts(f), 400, "does not match the expected ISSUER "+remote.w.ActionsIssuer())

	// An issuer whose discovery fails, and one that is not https.
	bad := startServer(t, Config{Providers: []Provider{{Name: DefaultProvider, Issuer: "http://127.0.0.1:1/nothing"}}})
	tok, _ := bad.w.SignActionsToken(defaultTokenAud, map[string]any{"iss": "http://127.0.0.1:1/nothing"})
	wantStatus(t, bad.sts(stsForm(tok)), 400, "OIDC discovery", "invalid_grant")
	bad2 := startServer(t, Config{Providers: []Provider{{Name: DefaultProvider, Issuer: "http://198.51.100.1/x"}}})
	tok, _ = bad2.w.SignActionsToken(defaultTokenAud, map[string]any{"iss": "http://198.51.100.1/x"})
	wantStatus(t, bad2.sts(stsForm(tok)), 400, "not https")
}

// TestWorkloadConcurrent exchanges tokens from many goroutines at once.
func TestWorkloadConcurrent(t *testing.T) {
	e := startServer(t, Config{})
	subject := e.actionsToken(defaultTokenAud)
	errs := make(chan error, 16)
	for range 16 {
		go func() {
			resp, err := e.hc.PostForm(e.w.URL()+"/v1/token", stsForm(subject))
			if err != nil {
				errs <- err
				return
			}
			var m map[string]any
			err = json.NewDecoder(resp.Body).Decode(&m)
			resp.Body.Close()
			tok, _ := m["access_token"].(string)
			if err != nil || tok == "" {
				errs <- fmt.Errorf("STS: %v %v", err, m)
				return
			}
			req, _ := http.NewRequest("POST", e.w.URL()+"/v1/projects/-/serviceAccounts/"+DefaultServiceAccount+":generateAccessToken", strings.NewReader(`{"scope":["s"]}`))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err = e.hc.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode != 200 {
					err = fmt.Errorf("IAM: HTTP %d", resp.StatusCode)
				}
			}
			errs <- err
		}()
	}
	for range 16 {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
	if n := len(e.w.Requests()); n != 33 {
		t.Errorf("recorded %d requests, want 33", n)
	}
}

func (w *Server) mustSign(t *testing.T, aud string) string {
	t.Helper()
	tok, err := w.SignActionsToken(aud, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestWorkloadIAM(t *testing.T) {
	e := startServer(t, Config{})
	fed := e.federate()
	r := e.iam(DefaultServiceAccount, "generateAccessToken", fed, `{"scope":["`+CloudPlatformScope+`"],"lifetime":"3600s"}`)
	wantStatus(t, r, 200)
	m := r.json(t)
	if tok, _ := m["accessToken"].(string); !strings.HasPrefix(tok, "ya29.c.") || m["expireTime"] != t0.Add(time.Hour).Format(time.RFC3339) || len(m) != 2 {
		t.Errorf("generateAccessToken = %v", m)
	}
	if !strings.HasSuffix(m["expireTime"].(string), "Z") {
		t.Errorf("expireTime not in UTC: %v", m["expireTime"])
	}
	r = e.iam(DefaultServiceAccount, "generateAccessToken", fed, `{"scope":["`+CloudPlatformScope+`"],"lifetime":"600.5s"}`)
	if m := r.json(t); m["expireTime"] != "2025-01-01T12:10:00Z" {
		t.Errorf("600.5s: %v", m)
	}
	r = e.iam(DefaultServiceAccount, "generateAccessToken", fed, `{"scope":["`+CloudPlatformScope+`"]}`)
	if m := r.json(t); m["expireTime"] != "2025-01-01T13:00:00Z" {
		t.Errorf("default lifetime: %v", m)
	}
	// By unique ID, as Google also accepts.
	wantStatus(t, e.iam(uniqueID(DefaultServiceAccount), "generateAccessToken", fed, `{"scope":["`+CloudPlatformScope+`"]}`), 200)

	r = e.iam(DefaultServiceAccount, "generateIdToken", fed, `{"audience":"https://run.example","includeEmail":true}`)
	wantStatus(t, r, 200)
	idTok := r.json(t)["token"].(string)
	claims := verifyOIDC(t, e.w.GoogleIssuer(), "https://run.example", idTok, t0)
	if claims["email"] != DefaultServiceAccount || claims["sub"] != uniqueID(DefaultServiceAccount) || claims["azp"] != claims["sub"] {
		t.Errorf("ID token claims = %v", claims)
	}
	r = e.iam(DefaultServiceAccount, "generateIdToken", fed, `{"audience":"a"}`)
	if claims, _ := unverifiedClaims(r.json(t)["token"].(string)); claims["email"] != nil {
		t.Errorf("includeEmail false still has email: %v", claims)
	}
	// MaxLifetime raises the limit (the org policy's extension).
	long := startServer(t, Config{MaxLifetime: 12 * time.Hour})
	wantStatus(t, long.iam(DefaultServiceAccount, "generateAccessToken", long.federate(), `{"scope":["s"],"lifetime":"43200s"}`), 200, "2025-01-02T00:00:00Z")
}

func TestWorkloadIAMErrors(t *testing.T) {
	pool2 := "projects/123456789012/locations/global/workloadIdentityPools/other/providers/gh"
	e := startServer(t, Config{
		Providers: []Provider{{Name: DefaultProvider}, {Name: pool2}},
		ServiceAccounts: []ServiceAccount{
			{Email: DefaultServiceAccount, Allowed: func(sub string, c map[string]any) bool {
				return strings.HasPrefix(sub, "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/repo:octo-org/") && c["ref"] == "refs/heads/main"
			}},
		},
	})
	fed := e.federate()
	f := stsForm(e.actionsToken("https://iam.googleapis.com/" + pool2))
	f.Set("audience", "//iam.googleapis.com/"+pool2)
	r := e.sts(f)
	wantStatus(t, r, 200)
	otherPool := r.json(t)["access_token"].(string)
	scope := `{"scope":["` + CloudPlatformScope + `"]}`

	denied := "Permission 'iam.serviceAccounts.getAccessToken' denied on resource (or it may not exist)."
	cases := []struct {
		name, email, method, bearer, ctype, body string
		status                                   int
		gstatus, want                            string
	}{
		{"no bearer", DefaultServiceAccount, "generateAccessToken", "", "application/json", scope, 401, "UNAUTHENTICATED", "missing required authentication credential"},
		{"unknown bearer", DefaultServiceAccount, "generateAccessToken", "ya29.nope", "application/json", scope, 401, "UNAUTHENTICATED", "invalid authentication credentials"},
		{"Actions token as bearer", DefaultServiceAccount, "generateAccessToken", e.actionsToken(defaultTokenAud), "application/json", scope, 401, "UNAUTHENTICATED", "invalid authentication"},
		{"form body", DefaultServiceAccount, "generateAccessToken", fed, "application/x-www-form-urlencoded", "scope=x", 400, "INVALID_ARGUMENT", "application/json"},
		{"bad JSON", DefaultServiceAccount, "generateAccessToken", fed, "application/json", "{", 400, "INVALID_ARGUMENT", "Invalid JSON payload"},
		{"unknown field", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"lifetim":"1s"}`, 400, "INVALID_ARGUMENT", `Unknown name "lifetim"`},
		{"wrong type", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":"s"}`, 400, "INVALID_ARGUMENT", "wrong type"},
		{"audience on access token", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"audience":"a"}`, 400, "INVALID_ARGUMENT", "generateAccessToken takes"},
		{"scope on ID token", DefaultServiceAccount, "generateIdToken", fed, "application/json", `{"audience":"a","scope":["s"]}`, 400, "INVALID_ARGUMENT", "generateIdToken takes"},
		{"unknown account", "nobody@emulator-project.iam.gserviceaccount.com", "generateAccessToken", fed, "application/json", scope, 403, "PERMISSION_DENIED", denied},
		{"other pool", DefaultServiceAccount, "generateAccessToken", otherPool, "application/json", scope, 403, "PERMISSION_DENIED", denied},
		{"other pool ID token", DefaultServiceAccount, "generateIdToken", otherPool, "application/json", `{"audience":"a"}`, 403, "PERMISSION_DENIED", "Permission 'iam.serviceAccounts.getOpenIdToken' denied on resource (or it may not exist)."},
		{"no scope", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{}`, 400, "INVALID_ARGUMENT", "Scope required"},
		{"empty scope", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":[""]}`, 400, "INVALID_ARGUMENT", "Scope must not be empty"},
		{"lifetime format", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"lifetime":"1h"}`, 400, "INVALID_ARGUMENT", "duration must end with 's'"},
		{"lifetime zero", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"lifetime":"0s"}`, 400, "INVALID_ARGUMENT", "positive"},
		{"lifetime too long", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"lifetime":"7200s"}`, 400, "INVALID_ARGUMENT", "constraints/iam.allowServiceAccountCredentialLifetimeExtension"},
		{"delegates", DefaultServiceAccount, "generateAccessToken", fed, "application/json", `{"scope":["s"],"delegates":["projects/-/serviceAccounts/x@y"]}`, 400, "INVALID_ARGUMENT", "delegat"},
		{"no audience", DefaultServiceAccount, "generateIdToken", fed, "application/json", `{"includeEmail":true}`, 400, "INVALID_ARGUMENT", "Audience required"},
		{"unknown method", DefaultServiceAccount, "signJwt", fed, "application/json", `{}`, 404, "NOT_FOUND", "not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			h := []string{}
			if c.bearer != "" {
				h = append(h, "Authorization", "Bearer "+c.bearer)
			}
			r := e.do("POST", "/v1/projects/-/serviceAccounts/"+url.PathEscape(c.email)+":"+c.method, c.ctype, c.body, h...)
			wantStatus(t, r, c.status, c.want)
			var ge struct {
				Error struct {
					Code    int    `json:"code"`
					Message string `json:"message"`
					Status  string `json:"status"`
					Details []map[string]any
				} `json:"error"`
			}
			if err := json.Unmarshal([]byte(r.body), &ge); err != nil || ge.Error.Code != c.status || ge.Error.Status != c.gstatus || ge.Error.Message == "" {
				t.Errorf("Google error = %+v (%v) from %s", ge, err, r.body)
			}
			if c.status == 403 && (len(ge.Error.Details) != 1 || ge.Error.Details[0]["reason"] != "IAM_PERMISSION_DENIED") {
				t.Errorf("403 details = %v", ge.Error.Details)
			}
			if c.status == 401 && !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("401 WWW-Authenticate %q", r.header.Get("WWW-Authenticate"))
			}
			if c.bearer != "" && strings.Contains(r.body, c.bearer) {
				t.Error("the reply echoes the bearer")
			}
		})
	}
	t.Run("project instead of -", func(t *testing.T) {
		r := e.do("POST", "/v1/projects/emulator-project/serviceAccounts/"+DefaultServiceAccount+":generateAccessToken", "application/json", scope, "Authorization", "Bearer "+fed)
		wantStatus(t, r, 400, "INVALID_ARGUMENT", "- wildcard")
	})
	t.Run("GET", func(t *testing.T) {
		r := e.do("GET", "/v1/projects/-/serviceAccounts/"+DefaultServiceAccount+":generateAccessToken", "", "", "Authorization", "Bearer "+fed)
		wantStatus(t, r, 405)
	})
	t.Run("expired federated token", func(t *testing.T) {
		e.clk.Advance(FederatedTokenLifetime)
		r := e.iam(DefaultServiceAccount, "generateAccessToken", fed, scope)
		wantStatus(t, r, 401, "UNAUTHENTICATED")
	})
}

// TestWorkloadSecretsStayOut runs every route and checks that no token
// reaches Logf, Requests or an error reply.
func TestWorkloadSecretsStayOut(t *testing.T) {
	e := startServer(t, Config{})
	secrets := []string{DefaultActionsRequestToken}
	aTok := e.actionsToken(defaultTokenAud)
	secrets = append(secrets, aTok)
	fed := e.sts(stsForm(aTok)).json(t)["access_token"].(string)
	secrets = append(secrets, fed)
	sa := e.iam(DefaultServiceAccount, "generateAccessToken", fed, `{"scope":["s"]}`).json(t)["accessToken"].(string)
	secrets = append(secrets, sa)
	id := e.iam(DefaultServiceAccount, "generateIdToken", fed, `{"audience":"a"}`).json(t)["token"].(string)
	secrets = append(secrets, id)
	md := e.do("GET", "/computeMetadata/v1/instance/service-accounts/default/identity?audience=a", "", "", "Metadata-Flavor", "Google").body
	secrets = append(secrets, md)
	// Failures, including a token put in the query string.
	e.do("GET", e.actionsURL("a")+"&access_token="+aTok, "", "", "Authorization", "Bearer "+aTok)
	e.sts(stsForm(aTok + "x"))
	e.iam(DefaultServiceAccount, "generateAccessToken", sa, `{"scope":["s"]}`)

	logs := e.logs.all()
	recorded := fmt.Sprintf("%+v", e.w.Requests())
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a flow produced no token")
		}
		if strings.Contains(logs, s) {
			t.Fatalf("a token reached Logf:\n%s", logs)
		}
		if strings.Contains(recorded, s) {
			t.Fatalf("a token reached Requests: %s", recorded)
		}
	}
	for _, want := range []string{
		"GET /_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken 200",
		"POST /v1/token 200", "POST /v1/token 400 error=invalid_grant",
		"POST /v1/projects/-/serviceAccounts/{account}:generateAccessToken 200",
		"POST /v1/projects/-/serviceAccounts/{account}:generateAccessToken 401 error=UNAUTHENTICATED",
		"GET /computeMetadata/v1/instance/service-accounts/{account}/identity 200",
	} {
		if !strings.Contains(logs, want) {
			t.Errorf("logs lack %q:\n%s", want, logs)
		}
	}
	if !strings.Contains(recorded, "access_token=REDACTED") {
		t.Errorf("the query's token was not redacted: %s", recorded)
	}
}

// TestWorkloadHandler uses New as a plain handler: URLs come from Host.
func TestWorkloadHandler(t *testing.T) {
	w := New(Config{})
	srv := httptest.NewServer(w)
	defer srv.Close()
	if w.URL() != "" || w.ActionsEnv() != nil || w.ActionsIssuer() != "" || w.Close() != nil {
		t.Error("a Workload not started reports a URL")
	}
	if _, err := w.SignActionsToken("", nil); !errors.Is(err, ErrNotStarted) {
		t.Errorf("SignActionsToken = %v, want ErrNotStarted", err)
	}
	e := &wenv{t: t, w: w, hc: srv.Client()}
	r := e.do("GET", srv.URL+actionsIDTokenPath+"p1/jobs/j1/idtoken?api-version=2.0&audience=x", "", "", "Authorization", "Bearer "+DefaultActionsRequestToken)
	wantStatus(t, r, 200)
	verifyOIDC(t, srv.URL+"/_services/token", "x", r.json(t)["value"].(string), time.Now())
}

func TestStartAddresses(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:0"} {
		if _, err := Start(context.Background(), addr, Config{}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Start(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	if _, err := Start(context.Background(), "nope", Config{}); err == nil || !strings.Contains(err.Error(), "HOST:PORT") {
		t.Errorf("bad address: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	w, err := Start(ctx, "localhost:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(w.URL(), "http://127.0.0.1:") {
		t.Errorf("URL %q", w.URL())
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := http.Get(w.URL() + "/oauth2/v3/certs")
		if err != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the server still answers after its context ended")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := w.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestWorkloadGoogleExternalAccount loads an external_account credential
// configuration with golang.org/x/oauth2/google, which reads the Actions
// token by URL, exchanges it at STS and impersonates the service account.
func TestWorkloadGoogleExternalAccount(t *testing.T) {
	e := startServer(t, Config{Clock: clock.Real{}})
	conf := map[string]any{
		"universe_domain":                   "googleapis.com",
		"type":                              "external_account",
		"audience":                          stsAudience,
		"subject_token_type":                JWTTokenType,
		"token_url":                         e.w.URL() + "/v1/token",
		"service_account_impersonation_url": e.w.URL() + "/v1/projects/-/serviceAccounts/" + DefaultServiceAccount + ":generateAccessToken",
		"service_account_impersonation":     map[string]any{"token_lifetime_seconds": 1800},
		"credential_source": map[string]any{
			"url":     e.actionsURL(defaultTokenAud),
			"headers": map[string]string{"Authorization": "Bearer " + DefaultActionsRequestToken},
			"format":  map[string]string{"type": "json", "subject_token_field_name": "value"},
		},
	}
	b, _ := json.Marshal(conf)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	creds, err := google.CredentialsFromJSONWithType(ctx, b, google.ExternalAccount, CloudPlatformScope)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := creds.TokenSource.Token()
	if err != nil {
		t.Fatalf("token from the fakes: %v", err)
	}
	if !strings.HasPrefix(tok.AccessToken, "ya29.c.") || time.Until(tok.Expiry) < 29*time.Minute || time.Until(tok.Expiry) > 31*time.Minute {
		t.Errorf("token expiry %v", tok.Expiry)
	}
	var paths []string
	for _, r := range e.w.Requests() {
		paths = append(paths, r.Method+" "+r.Path+" "+fmt.Sprint(r.Status))
	}
	want := []string{
		"GET /_apis/distributedtask/hubs/Actions/plans/" + workloadPlanID + "/jobs/" + workloadJobID + "/idtoken 200",
		"POST /v1/token 200",
		"POST /v1/projects/-/serviceAccounts/" + DefaultServiceAccount + ":generateAccessToken 200",
	}
	if strings.Join(paths, "\n") != strings.Join(want, "\n") {
		t.Errorf("requests:\n%s\nwant:\n%s", strings.Join(paths, "\n"), strings.Join(want, "\n"))
	}
}

// TestWorkloadMappingAndCondition: STS judges tokens with the provider's
// CEL mapping and condition; the mapped google.subject is the principal.
func TestWorkloadMappingAndCondition(t *testing.T) {
	const mapped = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/mapped"
	const broken = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/broken"
	var seen string
	e := startServer(t, Config{
		Providers: []Provider{
			{Name: mapped, AttributeMapping: map[string]string{"google.subject": "'gh:' + assertion.repository"}, AttributeCondition: "assertion.ref.extract('refs/heads/{b}') == 'main'"},
			{Name: broken, AttributeCondition: "assertion.ref =="},
		},
		ServiceAccounts: []ServiceAccount{{Email: DefaultServiceAccount, Allowed: func(subject string, _ map[string]any) bool { seen = subject; return true }}},
	})
	f := stsForm(e.w.mustSign(t, "https://iam.googleapis.com/"+mapped))
	f.Set("audience", "//iam.googleapis.com/"+mapped)
	r := e.sts(f)
	wantStatus(t, r, 200, `"access_token"`)
	wantStatus(t, e.iam(DefaultServiceAccount, "generateAccessToken", r.json(t)["access_token"].(string), `{"scope":["s"]}`), 200)
	if seen != "principal://iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/subject/gh:octo-org/octo-repo" {
		t.Errorf("principal %q", seen)
	}
	tok, _ := e.w.SignActionsToken("https://iam.googleapis.com/"+mapped, map[string]any{"ref": "refs/heads/dev"})
	f.Set("subject_token", tok)
	wantStatus(t, e.sts(f), 400, "unauthorized_client", stsCondition)

	f = stsForm(e.w.mustSign(t, "https://iam.googleapis.com/"+broken))
	f.Set("audience", "//iam.googleapis.com/"+broken)
	wantStatus(t, e.sts(f), 400, "invalid_target", "attribute mapping or condition is invalid")
}

// TestWorkloadProviderGet serves the IAM API's providers.get.
func TestWorkloadProviderGet(t *testing.T) {
	e := startServer(t, Config{AdminToken: "admin-canary", Providers: []Provider{
		{Name: DefaultProvider, AttributeCondition: "assertion.repository_owner == 'octo-org'", AllowedAudiences: []string{"a"}},
		{Name: "projects/1/locations/global/workloadIdentityPools/github/providers/off", Disabled: true},
	}})
	path := "/v1/" + DefaultProvider
	wantStatus(t, e.do("GET", path, "", ""), 401, "UNAUTHENTICATED")
	wantStatus(t, e.do("GET", path, "", "", "Authorization", "Bearer wrong"), 401)
	wantStatus(t, e.do("POST", path, "", "", "Authorization", "Bearer admin-canary"), 405)
	wantStatus(t, e.do("GET", "/v1/projects/1/locations/global/workloadIdentityPools/github/providers/none", "", "", "Authorization", "Bearer admin-canary"), 404, "NOT_FOUND")
	r := e.do("GET", path, "", "", "Authorization", "Bearer admin-canary")
	wantStatus(t, r, 200)
	m := r.json(t)
	oidc, _ := m["oidc"].(map[string]any)
	if m["name"] != DefaultProvider || m["state"] != "ACTIVE" || m["attributeCondition"] != "assertion.repository_owner == 'octo-org'" ||
		oidc["issuerUri"] != e.w.ActionsIssuer() || fmt.Sprint(oidc["allowedAudiences"]) != "[a]" || m["disabled"] != nil {
		t.Errorf("provider = %v", m)
	}
	if am, _ := m["attributeMapping"].(map[string]any); am["google.subject"] != "assertion.sub" {
		t.Errorf("attributeMapping = %v", m["attributeMapping"])
	}
	r = e.do("GET", "/v1/projects/1/locations/global/workloadIdentityPools/github/providers/off", "", "", "Authorization", "Bearer admin-canary")
	if r.json(t)["disabled"] != true {
		t.Errorf("disabled provider = %s", r.body)
	}
	if rec := fmt.Sprintf("%+v", e.w.Requests()); strings.Contains(rec, "admin-canary") || strings.Contains(e.logs.all(), "admin-canary") {
		t.Errorf("the admin bearer was recorded")
	}
	if !strings.Contains(e.logs.all(), "GET /v1/projects/{project}/locations/{location}/workloadIdentityPools/{pool}/providers/{provider} 200") {
		t.Errorf("logs:\n%s", e.logs.all())
	}
}
