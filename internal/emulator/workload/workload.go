// Package workload fakes the services of workload identity: the GitHub
// Actions OIDC token endpoint and issuer, the Google Compute Engine metadata
// server's identity endpoint, Google's Security Token Service (STS) and the
// IAM Service Account Credentials API. They are strict about what they
// accept, so a client that works against them speaks the documented
// protocol. They run on their own listener (Start), as an http.Handler
// (New), or on the GitHub emulator's listener (emulator.Config.Workload).
//
// Endpoints:
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
//	GET  /v1/projects/{n}/locations/global/workloadIdentityPools/{p}/providers/{x}   IAM API providers.get
package workload

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
	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/workload/wifcel"
)

// Workload identity defaults.
const (
	// DefaultActionsRequestToken is the ACTIONS_ID_TOKEN_REQUEST_TOKEN the
	// Actions token endpoint requires as its bearer unless
	// Config.ActionsRequestToken says otherwise.
	DefaultActionsRequestToken = "emulator-actions-id-token-request-token"
	// DefaultAdminToken is the bearer the IAM API fake's providers.get
	// requires unless Config.AdminToken says otherwise.
	DefaultAdminToken = "emulator-iam-admin-token"
	// DefaultProvider is the default workload identity pool provider.
	DefaultProvider = "projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
	// DefaultServiceAccount is the default service account, impersonable by
	// every principal of the default pool, and the metadata server's account.
	DefaultServiceAccount = "deployer@emulator-project.iam.gserviceaccount.com"
	// ProjectID and ProjectNumber name the emulated Google Cloud project
	// (the metadata server's project).
	ProjectID     = "emulator-project"
	ProjectNumber = 123456789012
	// DefaultActionsTokenLifetime is an Actions ID token's lifetime (exp - iat).
	DefaultActionsTokenLifetime = 5 * time.Minute
	// DefaultGoogleTokenLifetime is a Google-signed ID token's lifetime.
	DefaultGoogleTokenLifetime = time.Hour
	// DefaultMaxLifetime is the longest access token generateAccessToken
	// issues unless Config.MaxLifetime says otherwise.
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

// Config sets the workload identity fakes up. Zero fields take the
// defaults named on each.
type Config struct {
	// Clock decides every iat, exp and expiry check; nil is the real clock.
	Clock clock.Clock
	// ActionsRequestToken is the bearer the Actions token endpoint requires
	// (default DefaultActionsRequestToken).
	ActionsRequestToken string
	// ActionsClaims are merged over the default GitHub Actions claims
	// (repository "octo-org/octo-repo", ref "refs/heads/main", ...). When it
	// sets no "sub", sub is derived from the merged claims as GitHub does.
	ActionsClaims map[string]any
	// IDTokenLifetime is every ID token's lifetime; 0 means 5m for Actions
	// tokens and 1h for Google-signed ID tokens.
	IDTokenLifetime time.Duration
	// Providers are the workload identity pool providers STS knows (default:
	// DefaultProvider, trusting this server's Actions issuer, with its
	// default allowed audience and no attribute condition).
	Providers []Provider
	// ServiceAccounts are the accounts IAM Credentials can impersonate; the
	// first is also the metadata server's account (default:
	// DefaultServiceAccount, impersonable by every principal of the default pool).
	ServiceAccounts []ServiceAccount
	// MaxLifetime is the longest lifetime generateAccessToken grants
	// (default 3600s; Google allows up to 43200s only under an org policy).
	MaxLifetime time.Duration
	// Logf receives one line per request; nil is silent. Lines never hold a
	// token or a query string. Unused when the fakes are part of the GitHub
	// emulator, whose Config.Logf receives the lines.
	Logf func(format string, args ...any)
	// AdminToken is the bearer the IAM API's providers.get requires
	// (default DefaultAdminToken); GOOGLE_OAUTH_ACCESS_TOKEN for ghlogin oidc doctor.
	AdminToken string
	// BaseURL is the URL clients reach the fakes at when another server
	// serves them on its own listener (the GitHub emulator's Start sets
	// it); "" means Start's listener, or else each request's Host.
	BaseURL string
}

// Provider is a workload identity pool provider of the OIDC kind.
type Provider struct {
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
	// AttributeMapping maps the token's claims to google.subject,
	// google.groups and attribute.NAME with CEL expressions, as the
	// provider's attributeMapping does; empty means google.subject=assertion.sub.
	AttributeMapping map[string]string
	// AttributeCondition is the provider's attributeCondition (CEL); ""
	// accepts every token. Mapping and condition are judged by package
	// wifcel, as ghlogin oidc doctor judges them. A mapping or condition
	// that does not compile makes STS answer invalid_target, naming the
	// problem (Google refuses to create such a provider).
	AttributeCondition string
	// Disabled makes STS answer invalid_target, as for a deleted provider.
	Disabled bool
}

// provider is a Provider with its compiled mapping and condition.
type provider struct {
	Provider
	policy *wifcel.Policy
	err    error // why the mapping or condition does not compile
}

// ServiceAccount is a service account that federated principals may impersonate.
type ServiceAccount struct {
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

// Server serves the workload identity fakes. It is an http.Handler and is
// safe for concurrent use.
type Server struct {
	cfg       Config
	clk       clock.Clock
	logf      func(string, ...any)
	providers map[string]*provider
	accounts  []*ServiceAccount
	actions   *signingKey
	google    *signingKey
	instance  instanceInfo

	mu        sync.Mutex
	federated map[string]*federatedToken
	requests  []RecordedRequest

	serving emuhttp.Serving
}

// federatedToken is an access token STS issued.
type federatedToken struct {
	principal string
	claims    map[string]any
	expiry    time.Time
}

// New returns the fakes as an http.Handler. URLs in replies and tokens
// (issuers, jwks_uri) are Config.BaseURL, or else derived from each
// request's Host.
func New(cfg Config) *Server {
	if cfg.ActionsRequestToken == "" {
		cfg.ActionsRequestToken = DefaultActionsRequestToken
	}
	if cfg.AdminToken == "" {
		cfg.AdminToken = DefaultAdminToken
	}
	if cfg.MaxLifetime <= 0 {
		cfg.MaxLifetime = DefaultMaxLifetime
	}
	if len(cfg.Providers) == 0 {
		cfg.Providers = []Provider{{Name: DefaultProvider}}
	}
	if len(cfg.ServiceAccounts) == 0 {
		pool := "principal://iam.googleapis.com/" + poolOf(DefaultProvider) + "/subject/"
		cfg.ServiceAccounts = []ServiceAccount{{
			Email:   DefaultServiceAccount,
			Allowed: func(subject string, _ map[string]any) bool { return strings.HasPrefix(subject, pool) },
		}}
	}
	w := &Server{
		cfg:       cfg,
		clk:       cfg.Clock,
		logf:      cfg.Logf,
		providers: map[string]*provider{},
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
		pol, err := wifcel.Compile(p.AttributeMapping, p.AttributeCondition)
		w.providers[strings.TrimPrefix(p.Name, "//iam.googleapis.com/")] = &provider{Provider: p, policy: pol, err: err}
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

// Start listens on addr (default "127.0.0.1:0"; loopback addresses
// only) and serves the fakes until ctx ends or Close is called.
func Start(ctx context.Context, addr string, cfg Config) (*Server, error) {
	ln, err := emuhttp.ListenLoopback(ctx, addr)
	if err != nil {
		return nil, err
	}
	cfg.BaseURL = ""
	w := New(cfg)
	w.serving.Serve(ctx, ln, w, time.Minute)
	return w, nil
}

// URL is the base URL ("http://127.0.0.1:PORT") of a started server (by
// Start, or by the GitHub emulator's Start with Config.Workload), or ""
// otherwise.
func (w *Server) URL() string {
	if w.cfg.BaseURL != "" {
		return w.cfg.BaseURL
	}
	return w.serving.BaseURL()
}

// Close stops a server started by Start and waits for it; it is safe to
// call twice, and does nothing for other Servers.
func (w *Server) Close() error { return w.serving.Close() }

// ActionsEnv returns the variables a GitHub Actions job with
// "permissions: id-token: write" sees, pointing at this started server:
// ACTIONS_ID_TOKEN_REQUEST_URL (ending "?api-version=2.0") and
// ACTIONS_ID_TOKEN_REQUEST_TOKEN. It returns nil for a server not started.
func (w *Server) ActionsEnv() []string {
	if w.URL() == "" {
		return nil
	}
	return []string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + w.URL() + actionsIDTokenPath + workloadPlanID + "/jobs/" + workloadJobID + "/idtoken?api-version=2.0",
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
func (w *Server) MetadataHost() string { return strings.TrimPrefix(w.URL(), "http://") }

// ActionsIssuer is the issuer of Actions ID tokens ("{base}/_services/token",
// as GitHub Enterprise Server names it); "" for a server not started.
func (w *Server) ActionsIssuer() string {
	if w.URL() == "" {
		return ""
	}
	return w.URL() + actionsIssuerPath
}

// GoogleIssuer is the issuer of Google-signed ID tokens
// ("{base}/accounts.google.com"); "" for a server not started.
func (w *Server) GoogleIssuer() string {
	if w.URL() == "" {
		return ""
	}
	return w.URL() + googleIssuerPath
}

// ErrNotStarted is returned by SignActionsToken for a Server that has no
// URL of its own (made by New, not started).
var ErrNotStarted = errors.New("the workload fakes are not started: use Start, or the GitHub emulator's Start with Config.Workload")

// ErrNotLoopback is returned by Start for an address that is not loopback.
var ErrNotLoopback = emuhttp.ErrNotLoopback

// SignActionsToken returns an Actions ID token for audience ("" = the
// default, https://github.com/OWNER), with extra merged over the claims,
// issued now by the Server's clock (advance a fake clock to expire it).
func (w *Server) SignActionsToken(audience string, extra map[string]any) (string, error) {
	if w.URL() == "" {
		return "", ErrNotStarted
	}
	claims := w.actionsClaims(w.URL(), audience)
	for k, v := range extra {
		claims[k] = v
	}
	return w.actions.sign(claims)
}

// Requests returns what the fakes recorded of each request so far, oldest
// first (the most recent 10000).
func (w *Server) Requests() []RecordedRequest {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]RecordedRequest, len(w.requests))
	for i, r := range w.requests {
		r.Header = r.Header.Clone()
		out[i] = r
	}
	return out
}

// base is the URL prefix used in replies and tokens.
func (w *Server) base(r *http.Request) string { return emuhttp.Base(w.URL(), r) }

// ServeHTTP serves the workload identity fakes.
func (w *Server) ServeHTTP(rw http.ResponseWriter, r *http.Request) {
	rec := emuhttp.Record(rw)
	endpoint, ok := w.route(rec, r)
	if !ok {
		rec.Header().Set("Content-Type", "text/plain; charset=utf-8")
		rec.WriteHeader(http.StatusNotFound)
		_, _ = rec.Write([]byte("Not Found\n"))
		endpoint = "(not found)"
		w.record(r, rec.Status)
	}
	line := fmt.Sprintf("%s %s %d", r.Method, endpoint, rec.Status)
	if rec.ErrorCode != "" {
		line += " error=" + rec.ErrorCode
	}
	w.logf("%s", line)
}

// Route serves r when its path is one of the fakes' and returns the
// endpoint's name (a pattern, never the raw path or query) and true; it
// writes nothing and returns false for any other path. The GitHub emulator
// uses it to serve the fakes beside its own endpoints.
func (w *Server) Route(rw http.ResponseWriter, r *http.Request) (string, bool) {
	return w.route(emuhttp.Record(rw), r)
}

// route is Route with the recorder that collects the log line's error code.
func (w *Server) route(rec *emuhttp.Recorder, r *http.Request) (string, bool) {
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
	w.record(r, rec.Status)
	return name, true
}

// record remembers a request without its body or any token.
func (w *Server) record(r *http.Request, status int) {
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
