package emulator

// Workload identity fakes: the GitHub Actions OIDC token endpoint and
// issuer, the Google Compute Engine metadata server's identity endpoint,
// Google's Security Token Service (STS) and the IAM Service Account
// Credentials API. They are strict about what they accept, so a client that
// works against them speaks the documented protocol.
//
// Endpoints (Workload, or Server when Config.Workload is set):
//
//	GET  /_apis/distributedtask/hubs/Actions/plans/{plan}/jobs/{job}/idtoken   Actions ID token
//	GET  /_services/token/.well-known/openid-configuration                   Actions issuer discovery
//	GET  /_services/token/.well-known/jwks                                   Actions issuer keys
//	GET  /accounts.google.com/.well-known/openid-configuration               Google issuer discovery
//	GET  /oauth2/v3/certs                                                    Google issuer keys
//	GET  /computeMetadata/v1/instance/service-accounts/default/identity      metadata server ID token
//	GET  /computeMetadata/v1/instance/service-accounts/default/email         metadata server account
//	GET  /computeMetadata/v1/project/project-id                              metadata server project
//	POST /v1/token                                                           STS token exchange
//	POST /v1/projects/-/serviceAccounts/{email}:generateAccessToken          IAM Credentials
//	POST /v1/projects/-/serviceAccounts/{email}:generateIdToken              IAM Credentials

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
)

// Workload identity defaults.
const (
	// WorkloadRequestToken is the default ACTIONS_ID_TOKEN_REQUEST_TOKEN the
	// Actions token endpoint requires as its bearer.
	WorkloadRequestToken = "emulator-actions-id-token-request-token"
	// DefaultWIFProvider is the default workload identity pool provider.
	DefaultWIFProvider = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
	// DefaultServiceAccount is the default service account, impersonable by
	// every principal of the default pool, and the metadata server's account.
	DefaultServiceAccount = "deployer@emulator-project.iam.gserviceaccount.com"
	// WorkloadProjectID and WorkloadProjectNumber name the emulated Google
	// Cloud project (the metadata server's project).
	WorkloadProjectID     = "emulator-project"
	WorkloadProjectNumber = 123456789012
	// DefaultActionsTokenLifetime is an Actions ID token's lifetime (exp - iat).
	DefaultActionsTokenLifetime = 5 * time.Minute
	// DefaultGoogleTokenLifetime is a Google-signed ID token's lifetime.
	DefaultGoogleTokenLifetime = time.Hour
	// DefaultMaxLifetime is the longest access token generateAccessToken
	// issues unless WorkloadConfig.MaxLifetime says otherwise.
	DefaultMaxLifetime = 3600 * time.Second
	// FederatedTokenLifetime is an STS access token's lifetime (expires_in 3599).
	FederatedTokenLifetime = 3599 * time.Second

	actionsIDTokenPath = "/_apis/distributedtask/hubs/Actions/plans/"
	actionsIssuerPath  = "/_services/token"
	googleIssuerPath   = "/accounts.google.com"
	googleCertsPath    = "/oauth2/v3/certs"
	metadataPrefix     = "/computeMetadata/v1/"
	stsPath            = "/v1/token"
	iamPrefix          = "/v1/projects/"
	requestLogCap      = 10000
)

// WorkloadConfig sets the workload identity fakes up. Zero fields take the
// defaults named on each.
type WorkloadConfig struct {
	// Clock decides every iat, exp and expiry check; nil is the real clock.
	Clock clock.Clock
	// ActionsRequestToken is the bearer the Actions token endpoint requires
	// (default WorkloadRequestToken).
	ActionsRequestToken string
	// ActionsClaims are merged over the default GitHub Actions claims
	// (repository "octo-org/octo-repo", ref "refs/heads/main", ...). When it
	// sets no "sub", sub is derived from the merged claims as GitHub does.
	ActionsClaims map[string]any
	// IDTokenLifetime is every ID token's lifetime; 0 means 5m for Actions
	// tokens and 1h for Google-signed ID tokens.
	IDTokenLifetime time.Duration
	// Providers are the workload identity pool providers STS knows (default:
	// DefaultWIFProvider, trusting this server's Actions issuer, with its
	// default allowed audience and no attribute condition).
	Providers []WIFProvider
	// ServiceAccounts are the accounts IAM Credentials can impersonate; the
	// first is also the metadata server's account (default:
	// DefaultServiceAccount, impersonable by every principal of the default pool).
	ServiceAccounts []FakeServiceAccount
	// MaxLifetime is the longest lifetime generateAccessToken grants
	// (default 3600s; Google allows up to 43200s only under an org policy).
	MaxLifetime time.Duration
	// Logf receives one line per request; nil is silent. Lines never hold a
	// token or a query string. Unused when the fakes are part of a Server,
	// whose Config.Logf receives the lines.
	Logf func(format string, args ...any)
}

// WIFProvider is a workload identity pool provider of the OIDC kind.
type WIFProvider struct {
	// Name is "projects/N/locations/global/workloadIdentityPools/P/providers/X".
	Name string
	// Issuer is the OIDC issuer the provider trusts; "" is this server's
	// Actions issuer. This server's Google issuer is also recognised; any
	// other issuer's keys are fetched by OIDC discovery (loopback or https).
	Issuer string
	// AllowedAudiences lists the audiences a subject token may carry. Empty
	// means Google's default: the provider's full resource name, with
	// ("https://iam.googleapis.com/projects/...") or without
	// ("//iam.googleapis.com/projects/...") the https: prefix.
	AllowedAudiences []string
	// Condition is the attribute condition; nil accepts every token. It
	// receives the token's claims as decoded by encoding/json.
	Condition func(claims map[string]any) bool
	// Disabled makes STS answer invalid_target, as for a deleted provider.
	Disabled bool
}

// FakeServiceAccount is a service account that federated principals may impersonate.
type FakeServiceAccount struct {
	// Email is the account's email address.
	Email string
	// Allowed says whether a principal may impersonate the account (the
	// roles/iam.workloadIdentityUser binding). subject is the principal,
	// "principal://iam.googleapis.com/projects/N/locations/global/workloadIdentityPools/P/subject/SUB";
	// claims are the subject token's. nil allows every principal.
	Allowed func(subject string, claims map[string]any) bool
}

// RecordedRequest is what the fakes remember of a request: never a body or a token.
type RecordedRequest struct {
	// Method is the HTTP method.
	Method string
	// Path is the URL path.
	Path string
	// Query is the raw query string, with the values of parameters whose
	// names suggest a secret (token, secret, key, code, assertion, password)
	// replaced by REDACTED.
	Query string
	// Header holds the selected headers Accept, Content-Type,
	// Metadata-Flavor, User-Agent and X-Forwarded-For, and Authorization
	// reduced to its scheme followed by " REDACTED".
	Header http.Header
	// Status is the reply's status code.
	Status int
}

// Workload serves the workload identity fakes. It is an http.Handler and is
// safe for concurrent use.
type Workload struct {
	cfg       WorkloadConfig
	clk       clock.Clock
	logf      func(string, ...any)
	providers map[string]*WIFProvider
	accounts  []*FakeServiceAccount
	actions   *signingKey
	google    *signingKey
	instance  instanceInfo

	mu        sync.Mutex
	federated map[string]*federatedToken
	requests  []RecordedRequest

	serving
}

// federatedToken is an access token STS issued.
type federatedToken struct {
	principal string
	claims    map[string]any
	expiry    time.Time
}

// NewWorkload returns the fakes as an http.Handler. URLs in replies and
// tokens (issuers, jwks_uri) are derived from each request's Host.
func NewWorkload(cfg WorkloadConfig) *Workload {
	if cfg.ActionsRequestToken == "" {
		cfg.ActionsRequestToken = WorkloadRequestToken
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if len(cfg.Providers) == 0 {
		cfg.Providers = []WIFProvider{{Name: DefaultWIFProvider}}
	}
	if len(cfg.ServiceAccounts) == 0 {
		pool := "principal://iam.googleapis.com/" + poolOf(DefaultWIFProvider) + "/subject/"
		cfg.ServiceAccounts = []FakeServiceAccount{{
			Email:   DefaultServiceAccount,
			Allowed: func(subject string, _ map[string]any) bool { return strings.HasPrefix(subject, pool) },
		}}
	}
	w := &Workload{
		cfg:       cfg,
		clk:       cfg.Clock,
		logf:      cfg.Logf,
		providers: map[string]*WIFProvider{},
		federated: map[string]*federatedToken{},
	}
	if w.clk == nil {
		w.clk = clock.Real{}
	}
	if w.logf == nil {
		w.logf = func(string, ...any) {}
	}
	for _, p := range cfg.Providers {
		p := p
		w.providers[strings.TrimPrefix(p.Name, "//iam.googleapis.com/")] = &p
	}
	for _, a := range cfg.ServiceAccounts {
		a := a
		w.accounts = append(w.accounts, &a)
	}
	now := w.clk.Now()
	w.actions = newSigningKey(true, now)
	w.google = newSigningKey(false, now)
	w.instance = newInstanceInfo(now)
	return w
}

// StartWorkload listens on addr (default "127.0.0.1:0"; loopback addresses
// only) and serves the fakes until ctx ends or Close is called.
func StartWorkload(ctx context.Context, addr string, cfg WorkloadConfig) (*Workload, error) {
	ln, err := listenLoopback(ctx, addr)
	if err != nil {
		return nil, err
	}
	w := NewWorkload(cfg)
	w.serve(ctx, ln, w, time.Minute)
	return w, nil
}

// URL is the base URL ("http://127.0.0.1:PORT") of a started server (by
// StartWorkload, or by Start with Config.Workload), or "" otherwise.
func (w *Workload) URL() string { return w.baseURL }

// Close stops a server started by StartWorkload and waits for it; it is
// safe to call twice, and does nothing for other Workloads.
func (w *Workload) Close() error { return w.serving.close() }

// ActionsEnv returns the variables a GitHub Actions job with
// "permissions: id-token: write" sees, pointing at this started server:
// ACTIONS_ID_TOKEN_REQUEST_URL (ending "?api-version=2.0") and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN. It returns nil for a server not started.
func (w *Workload) ActionsEnv() []string {
	if w.baseURL == "" {
		return nil
	}
	return []string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + w.baseURL + actionsIDTokenPath + workloadPlanID + "/jobs/" + workloadJobID + "/idtoken?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + w.cfg.ActionsRequestToken,
	}
}

// Plan and job IDs used in ActionsEnv's URL (any IDs are accepted).
const (
	workloadPlanID = "5b3c1d4e-0a6f-4c1b-9a57-2d8e6f0b7c31"
	workloadJobID  = "8e1f2a3b-4c5d-4e6f-8a9b-0c1d2e3f4a5b"
)

// MetadataHost is the started server's "host:port", the value for
// GCE_METADATA_HOST; "" for a server not started.
func (w *Workload) MetadataHost() string { return strings.TrimPrefix(w.baseURL, "http://") }

// ActionsIssuer is the issuer of Actions ID tokens ("{base}/_services/token",
// as GitHub Enterprise Server names it); "" for a server not started.
func (w *Workload) ActionsIssuer() string {
	if w.baseURL == "" {
		return ""
	}
	return w.baseURL + actionsIssuerPath
}

// GoogleIssuer is the issuer of Google-signed ID tokens
// ("{base}/accounts.google.com"); "" for a server not started.
func (w *Workload) GoogleIssuer() string {
	if w.baseURL == "" {
		return ""
	}
	return w.baseURL + googleIssuerPath
}

// ErrNotStarted is returned by SignActionsToken for a Workload that has no
// URL of its own (made by NewWorkload, not started).
var ErrNotStarted = errors.New("the workload fakes are not started: use StartWorkload, or Start with Config.Workload")

// SignActionsToken returns an Actions ID token for audience ("" = the
// default, https://github.com/OWNER), with extra merged over the claims,
// issued now by the Workload's clock (advance a fake clock to expire it).
func (w *Workload) SignActionsToken(audience string, extra map[string]any) (string, error) {
	if w.baseURL == "" {
		return "", ErrNotStarted
	}
	claims := w.actionsClaims(w.baseURL, audience)
	for k, v := range extra {
		claims[k] = v
	}
	return w.actions.sign(claims)
}

// Requests returns what the fakes recorded of each request so far, oldest
// first (the most recent 10000).
func (w *Workload) Requests() []RecordedRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]RecordedRequest, len(w.requests))
	for i, r := range w.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// Workload returns the workload identity fakes of a Server made with
// Config.Workload, or nil.
func (s *Server) Workload() *Workload { return s.workload }

// base is the URL prefix used in replies and tokens.
func (w *Workload) base(r *http.Request) string {
	if w.baseURL != "" {
		return w.baseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// ServeHTTP serves the workload identity fakes.
func (w *Workload) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: rw}
	endpoint, ok := w.route(rec, r)
	if !ok {
		rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rec.WriteHeader(http.StatusNotFound)
		_, _ = rec.Write([]byte("Not Found\n"))
		endpoint = "(not found)"
		w.record(r, rec.status)
	}
	line := fmt.Sprintf("%s %s %d", r.Method, endpoint, rec.status)
	if rec.oauth != "" {
		line += " error=" + rec.oauth
	}
	w.logf("%s", line)
}

// route serves r when its path is one of the fakes' and returns the
// endpoint's name (a pattern, never the raw path or query).
func (w *Workload) route(rec *statusRecorder, r *http.Request) (string, bool) {
	p := r.URL.Path
	var name string
	switch {
	case strings.HasPrefix(p, actionsIDTokenPath) && strings.HasSuffix(p, "/idtoken"):
		name = actionsIDTokenPath + "{plan}/jobs/{job}/idtoken"
		w.handleActionsToken(rec, r)
	case p == actionsIssuerPath+"/.well-known/openid-configuration":
		name = p
		w.handleDiscovery(rec, r, true)
	case p == actionsIssuerPath+"/.well-known/jwks":
		name = p
		w.handleJWKS(rec, r, w.actions)
	case p == googleIssuerPath+"/.well-known/openid-configuration":
		name = p
		w.handleDiscovery(rec, r, false)
	case p == googleCertsPath:
		name = p
		w.handleJWKS(rec, r, w.google)
	case strings.HasPrefix(p, metadataPrefix):
		name = w.handleMetadata(rec, r)
	case p == stsPath:
		name = p
		w.handleSTS(rec, r)
	case strings.HasPrefix(p, iamPrefix):
		name = w.handleIAM(rec, r)
	default:
		return "", false
	}
	w.record(r, rec.status)
	return name, true
}

// record remembers a request without its body or any token.
func (w *Workload) record(r *http.Request, status int) {
	h := http.Header{}
	for _, k := range []string{"Accept", "Content-Type", "Metadata-Flavor", "User-Agent", "X-Forwarded-For"} {
		if v, ok := r.Header[k]; ok {
			h[k] = append([]string(nil), v...)
		}
	}
	if a := r.Header.Get("Authorization"); a != "" {
		scheme, _, _ := strings.Cut(strings.TrimSpace(a), " ")
		h.Set("Authorization", scheme+" REDACTED")
	}
	rr := RecordedRequest{Method: r.Method, Path: r.URL.Path, Query: redactQuery(r.URL.RawQuery), Header: h, Status: status}
	w.mu.Lock()
	defer w.mu.Unlock()
	if len(w.requests) >= requestLogCap {
		w.requests = append(w.requests[:0], w.requests[1:]...)
	}
	w.requests = append(w.requests, rr)
}

// redactQuery replaces the values of secret-looking parameters, keeping the order.
func redactQuery(raw string) string {
	if raw == "" {
		return ""
	}
	parts := strings.Split(raw, "&")
	for i, part := range parts {
		k, _, hasValue := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		name = strings.ToLower(name)
		for _, s := range []string{"token", "secret", "key", "code", "assertion", "password"} {
			if strings.Contains(name, s) && hasValue {
				parts[i] = k + "=REDACTED"
				break
			}
		}
	}
	return strings.Join(parts, "&")
}

// poolOf returns "projects/N/locations/L/workloadIdentityPools/P" of a provider name.
func poolOf(provider string) string {
	if i := strings.Index(provider, "/providers/"); i >= 0 {
		return provider[:i]
	}
	return provider
}
