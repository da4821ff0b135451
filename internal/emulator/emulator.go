// Package emulator is a GitHub OAuth server for tests, demos and offline work.
// It follows GitHub's public documentation of the device flow, the web
// application flow (with PKCE), expiring GitHub App user tokens with refresh
// token rotation, GET /user, and git over smart HTTP, so that ghlogin and its
// tests run with no network.
//
// Replies to the OAuth endpoints are form-encoded unless the client sends
// Accept: application/json. The token endpoint answers every OAuth error
// with HTTP 200 and an error field (with error_description and error_uri),
// as GitHub does; the device code endpoint answers its errors
// (incorrect_client_credentials, device_flow_disabled) with HTTP 400, as
// github.com does there.
//
// Server is an http.Handler (New) or a listening server on loopback (Start).
// It never prints; Config.Logf receives one line per request, never a token,
// code, state or query string.
//
// Endpoints (also under the /api/v3 prefix where GitHub Enterprise Server has them):
//
//	POST   /login/device/code                device authorization request
//	GET    /login/device                     page where a person enters the user code
//	POST   /login/device                     approve or deny from that page
//	GET    /login/oauth/authorize            web flow authorization page
//	POST   /login/oauth/authorize            approve or deny from that page
//	POST   /login/oauth/access_token         device_code, authorization_code and refresh_token grants
//	GET    /user, /api/v3/user               the authenticated user
//	DELETE /applications/{client_id}/token   revoke a token (Basic client auth)
//	POST   /_emulator/token-mode             make /user refuse a token as GitHub may (SetTokenMode)
//	GET    /{owner}/{repo}[.git]/info/refs   git smart HTTP, when Config.GitRepos is set
//
// With Config.Workload set, the same listener also serves the workload
// identity fakes (package workload): the GitHub Actions OIDC token endpoint and
// issuer, the metadata server's identity endpoint, STS and IAM Credentials.
package emulator

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// Built-in clients. Their IDs are short and printable so that the demo and
// the `ghlogin emulator` command can show them.
const (
	// DefaultClientID is an OAuth app with the device flow enabled; it
	// issues non-expiring gho_ tokens.
	DefaultClientID = "Ov23li.emulator"
	// DefaultClientSecret is DefaultClientID's secret (needed by the web flow).
	DefaultClientSecret = "emulator-oauth-app-secret"
	// AppClientID is a GitHub App with the device flow enabled; it issues
	// expiring ghu_ tokens with ghr_ refresh tokens.
	AppClientID = "Iv1.emulator"
	// AppClientSecret is AppClientID's secret.
	AppClientSecret = "emulator-github-app-secret"
	// DisabledClientID is an OAuth app whose device flow is disabled.
	DisabledClientID = "Ov23li.no-device-flow"
	// DisabledClientSecret is DisabledClientID's secret.
	DisabledClientSecret = "emulator-no-device-flow-secret"
	// DefaultCallbackURL is the built-in clients' registered callback: a
	// loopback URL, so a redirect_uri on any port with a path under
	// /callback is accepted (RFC 8252).
	DefaultCallbackURL = "http://127.0.0.1/callback"
)

// Defaults, as GitHub documents them.
const (
	DefaultInterval        = 5 * time.Second        // device flow polling interval
	DefaultExpiresIn       = 900 * time.Second      // device code lifetime
	DefaultTokenLifetime   = 8 * time.Hour          // GitHub App user access token (expires_in 28800)
	DefaultRefreshLifetime = 15897600 * time.Second // GitHub App refresh token (about six months)
	AuthCodeLifetime       = 10 * time.Minute       // web flow authorization codes
	SlowDownStep           = 5 * time.Second        // added to the interval by slow_down
	DeviceGrantType        = "urn:ietf:params:oauth:grant-type:device_code"
	csrfLifetime           = time.Hour // HTML form tokens
	pendingCap             = 10000     // authorize-page requests kept at most
)

// Config sets the emulator up. Zero fields take the defaults named on each.
type Config struct {
	// Interval is the device flow's polling interval (default 5s). Replies
	// carry whole seconds, rounded up.
	Interval time.Duration
	// ExpiresIn is a device code's lifetime (default 900s).
	ExpiresIn time.Duration
	// AutoApproveAfter > 0 approves a device code as the first user when it
	// receives its N-th timely poll, which is answered with the token (for
	// unattended runs). Polls answered with slow_down do not count. 0 never
	// auto-approves.
	AutoApproveAfter int
	// SlowDownPolls lists poll numbers (1-based, per device code) answered
	// with slow_down even when on time, as GitHub does when it throttles a
	// client for reasons of its own; the interval grows by 5 s as usual.
	SlowDownPolls []int
	// AutoApproveWeb makes GET /login/oauth/authorize redirect with a code at
	// once, as the user named by the login parameter or else the first user.
	AutoApproveWeb bool
	// Users are the logins a person can approve as (default octocat, hubot).
	Users []string
	// Clients are the registered apps (default DefaultClients()).
	Clients []Client
	// Clock decides every expiry and interval; nil is the real clock.
	Clock clock.Clock
	// GitRepos is a directory of bare repositories, laid out as
	// OWNER/NAME.git, served over git smart HTTP; "" disables git.
	GitRepos string
	// PrivateRepos makes every repository private, as GitHub's private
	// repositories are: served only to a token of its owner (a user) or of
	// a member of the owning organisation (Orgs), ignoring case; any other
	// valid token gets 404 Repository not found, as on GitHub.
	PrivateRepos bool
	// Orgs maps an organisation to its members' logins.
	Orgs map[string][]string
	// Logf receives a line per request; nil is silent. Lines never hold a
	// token, code, state or query string.
	Logf func(format string, args ...any)
	// Workload, when set, also serves the workload identity fakes (GitHub
	// Actions OIDC tokens, the metadata server, STS and IAM Credentials; see
	// package workload) on the same listener. A nil Workload.Clock takes Clock.
	Workload *workload.Config
}

// Client is a registered OAuth app or GitHub App.
type Client struct {
	// ID is the client_id.
	ID string
	// Secret is the client_secret (required by the web flow's code exchange).
	Secret string
	// Name is shown on the authorization pages (default: the ID).
	Name string
	// DeviceFlowDisabled makes the device flow answer device_flow_disabled.
	DeviceFlowDisabled bool
	// App makes the client a GitHub App with expiring user tokens: ghu_
	// access tokens with a ghr_ refresh token, rotated on refresh. Scopes
	// do not apply to GitHub Apps.
	App bool
	// CallbackURL is the registered callback URL (default DefaultCallbackURL).
	CallbackURL string
	// TokenLifetime is an App's access token lifetime (default 8h).
	TokenLifetime time.Duration
	// RefreshLifetime is an App's refresh token lifetime (default DefaultRefreshLifetime).
	RefreshLifetime time.Duration
	// OmitScope leaves the scope field out of token replies, as RFC 6749
	// §5.1 allows when the scopes granted are those requested (many OpenID
	// Connect servers do); X-OAuth-Scopes on /user still lists them.
	OmitScope bool
}

// DefaultClients returns the built-in clients: an OAuth app
// (DefaultClientID), a GitHub App (AppClientID) and an OAuth app with the
// device flow disabled (DisabledClientID).
func DefaultClients() []Client {
	return []Client{
		{ID: DefaultClientID, Secret: DefaultClientSecret, Name: "ghlogin emulator (OAuth app)"},
		{ID: AppClientID, Secret: AppClientSecret, Name: "ghlogin emulator (GitHub App)", App: true},
		{ID: DisabledClientID, Secret: DisabledClientSecret, Name: "ghlogin emulator (device flow disabled)", DeviceFlowDisabled: true},
	}
}

// DefaultUsers returns the logins used when Config.Users is empty.
func DefaultUsers() []string { return []string{"octocat", "hubot"} }

// Errors returned by Approve, Deny, IssueToken and InitRepo. Match them with errors.Is.
var (
	ErrUnknownUserCode = errors.New("no device code has this user code")
	ErrCodeExpired     = errors.New("the device code has expired")
	ErrCodeDecided     = errors.New("the device code was already approved or denied")
	ErrUnknownUser     = errors.New("no such user in the emulator")
	ErrUnknownClient   = errors.New("no such client in the emulator")
	ErrNotLoopback     = emuhttp.ErrNotLoopback
)

// Server is the emulator. It is safe for concurrent use.
type Server struct {
	cfg     Config
	clk     clock.Clock
	clients map[string]*Client
	order   []string // client IDs in configuration order
	users   []string
	csrfKey []byte
	logf    func(string, ...any)

	mu      sync.Mutex
	devices map[string]*deviceCode // by device_code
	byUser  map[string]*deviceCode // by user code without the dash
	codes   map[string]*authCode   // web flow codes
	pending map[string]*authRequest
	tokens  map[string]*accessToken
	refresh map[string]*refreshToken
	modes   map[string]TokenMode // by access token; see SetTokenMode
	stats   Stats
	pollLog map[string]*PollRecord // by user code
	gitLog  []GitAccess

	workload *workload.Server // nil unless Config.Workload is set

	serving emuhttp.Serving
}

// New returns an emulator that serves through its ServeHTTP method. Its
// verification URI and links are derived from each request's Host.
func New(cfg Config) *Server {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = DefaultExpiresIn
	}
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	if len(cfg.Clients) == 0 {
		cfg.Clients = DefaultClients()
	}
	s := &Server{
		cfg:     cfg,
		clk:     cfg.Clock,
		clients: map[string]*Client{},
		users:   append([]string(nil), cfg.Users...),
		csrfKey: make([]byte, 32),
		logf:    cfg.Logf,
		devices: map[string]*deviceCode{},
		byUser:  map[string]*deviceCode{},
		codes:   map[string]*authCode{},
		pending: map[string]*authRequest{},
		tokens:  map[string]*accessToken{},
		refresh: map[string]*refreshToken{},
		modes:   map[string]TokenMode{},
		stats:   newStats(),
		pollLog: map[string]*PollRecord{},
	}
	if s.clk == nil {
		s.clk = clock.Real{}
	}
	if s.logf == nil {
		s.logf = func(string, ...any) {}
	}
	if _, err := rand.Read(s.csrfKey); err != nil {
		panic("emulator: no randomness: " + err.Error())
	}
	if cfg.Workload != nil {
		wc := *cfg.Workload
		if wc.Clock == nil {
			wc.Clock = s.clk
		}
		wc.Logf = nil // the Server logs each request
		s.workload = workload.New(wc)
	}
	for _, c := range cfg.Clients {
		c := c
		if c.Name == "" {
			c.Name = c.ID
		}
		if c.CallbackURL == "" {
			c.CallbackURL = DefaultCallbackURL
		}
		if c.TokenLifetime <= 0 {
			c.TokenLifetime = DefaultTokenLifetime
		}
		if c.RefreshLifetime <= 0 {
			c.RefreshLifetime = DefaultRefreshLifetime
		}
		if _, dup := s.clients[c.ID]; !dup {
			s.order = append(s.order, c.ID)
		}
		s.clients[c.ID] = &c
	}
	return s
}

// Start listens on addr (default "127.0.0.1:0"; loopback addresses only) and
// serves until ctx ends or Close is called.
func Start(ctx context.Context, addr string, cfg Config) (*Server, error) {
	ln, err := emuhttp.ListenLoopback(ctx, addr)
	if err != nil {
		return nil, err
	}
	if cfg.Workload != nil {
		// The fakes answer on this listener: their issuers and URLs are its.
		wc := *cfg.Workload
		wc.BaseURL = "http://" + ln.Addr().String()
		cfg.Workload = &wc
	}
	s := New(cfg)
	s.serving.Serve(ctx, ln, s, 5*time.Minute)
	return s, nil
}

// URL is the base URL ("http://127.0.0.1:PORT") of a started server, or ""
// for one made with New.
func (s *Server) URL() string { return s.serving.BaseURL() }

// Workload returns the workload identity fakes of a Server made with
// Config.Workload, or nil.
func (s *Server) Workload() *workload.Server { return s.workload }

// Close stops a started server and waits for it; it is safe to call twice.
func (s *Server) Close() error { return s.serving.Close() }

// Clients returns the registered clients, in configuration order, with defaults applied.
func (s *Server) Clients() []Client {
	out := make([]Client, 0, len(s.order))
	for _, id := range s.order {
		out = append(out, *s.clients[id])
	}
	return out
}

// Users returns the logins a person can approve as.
func (s *Server) Users() []string { return append([]string(nil), s.users...) }

func (s *Server) knownUser(login string) bool {
	for _, u := range s.users {
		if u == login {
			return true
		}
	}
	return false
}

// base is the URL prefix used in replies: the started server's URL, or one
// derived from the request.
func (s *Server) base(r *http.Request) string { return emuhttp.Base(s.serving.BaseURL(), r) }

// ServeHTTP routes a request to the emulated endpoint.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &emuhttp.Recorder{ResponseWriter: w}
	endpoint := s.route(rec, r)
	s.mu.Lock()
	s.stats.Requests[r.Method+" "+endpoint]++
	s.mu.Unlock()
	line := fmt.Sprintf("%s %s %d", r.Method, endpoint, rec.Status)
	if rec.ErrorCode != "" {
		line += " error=" + rec.ErrorCode
	}
	s.logf("%s", line)
}

// route serves r and returns the endpoint's name for stats and logs (a
// pattern, never the raw path, which could carry a client's secrets).
func (s *Server) route(w *emuhttp.Recorder, r *http.Request) string {
	p := r.URL.Path
	api := strings.TrimPrefix(p, "/api/v3")
	switch {
	case p == "/login/device/code":
		s.handleDeviceCode(w, r)
		return p
	case p == "/login/device":
		s.handleDevicePage(w, r)
		return p
	case p == "/login/oauth/authorize":
		s.handleAuthorize(w, r)
		return p
	case p == "/login/oauth/access_token":
		s.handleToken(w, r)
		return p
	case api == "/user":
		s.handleUser(w, r)
		return p
	case strings.HasPrefix(api, "/applications/") && strings.HasSuffix(api, "/token"):
		s.handleRevoke(w, r, strings.TrimSuffix(strings.TrimPrefix(api, "/applications/"), "/token"))
		if strings.HasPrefix(p, "/api/v3") {
			return "/api/v3/applications/{client_id}/token"
		}
		return "/applications/{client_id}/token"
	case p == AdminTokenModePath:
		s.handleTokenMode(w, r)
		return p
	case p == "/":
		s.handleIndex(w, r)
		return p
	}
	if s.workload != nil {
		if name, ok := s.workload.Route(w, r); ok {
			return name
		}
	}
	if name, ok := s.gitRoute(w, r); ok {
		return name
	}
	apiError(w, http.StatusNotFound, "Not Found")
	return "(not found)"
}
