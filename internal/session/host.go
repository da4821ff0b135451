package session

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// Environment variables the host resolution reads.
const (
	EnvClientID     = "GHLOGIN_CLIENT_ID"
	EnvClientSecret = "GHLOGIN_CLIENT_SECRET"
	EnvStore        = "GHLOGIN_STORE"
	// EnvGhloginHost, then the GitHub CLI's EnvHost (GH_HOST), name the
	// host a command acts on when none is given (DefaultHost).
	EnvGhloginHost = "GHLOGIN_HOST"
)

// Origin says how a command came to act on a host (pick.Origin).
type Origin = pick.Origin

// The origins of a host (see pick.Origin).
const (
	OriginDefault = pick.OriginDefault
	OriginFlag    = pick.OriginFlag
	OriginGit     = pick.OriginGit
	OriginConfig  = pick.OriginConfig
)

// Request is what a command was told about the host it acts on; empty
// fields mean "not given".
type Request struct {
	// Host is the --host value: a bare name (https implied) or a URL;
	// "" means the host Repo names, else the default host.
	Host string
	// Repo is --repo (OWNER/NAME, HOST/OWNER/NAME or a URL); it names the
	// host when Host is "".
	Repo string
	// ClientID is --client-id.
	ClientID string
	// Scopes are --scopes.
	Scopes []string
	// Store is --store: the backend a login keeps the token in.
	Store string
	// Overrides are endpoint settings given as flags (issuer,
	// device_code_url, authorize_url, token_url, api_url, userinfo_url,
	// revocation_url, login_field, client_auth); a login remembers them in
	// the host's settings. An issuer names the host when Host is "" (its
	// host[:port], oidcdisc.IssuerHost), and must be on Host otherwise.
	Overrides config.Host
}

// Target is a host as a command acts on it: its name, its settings and
// what follows from them, merged from flags, the environment and the
// configuration file. It holds no secret besides Credentials.ClientSecret.
type Target struct {
	// Host is the host's name (as git names it) and scheme.
	Host hosts.Host
	// Origin says how the command came to this host.
	Origin Origin
	// Settings are the host's entry in the configuration file; nil when it
	// has none (a host ghlogin does not know).
	Settings *config.Host
	// Endpoints are the host's URLs, each with where it came from: flags,
	// then settings, then the issuer's discovery document (an OpenID
	// Connect host), then what a GitHub host's name implies
	// (oidcdisc.Resolve). ResolveHost reads the discovery document from the
	// cache only; Discover reads it from the server when it is not fresh.
	Endpoints *oidcdisc.Endpoints
	// Discovery is how Discover read the discovery document (nil until it
	// has).
	Discovery *oidcdisc.Result
	// Credentials identify the OAuth app: the client ID from --client-id,
	// else the host's client_id, else GHLOGIN_CLIENT_ID; the secret from
	// the host's client_secret, else GHLOGIN_CLIENT_SECRET; the client
	// authentication from --client-auth, else the host's client_auth.
	Credentials oauth.Credentials
	// Scopes are requested by a login: --scopes, else the host's scopes,
	// else the defaults for the kind of server
	// (config.DefaultScopesFor: GitHub's, or on an OpenID Connect host
	// openid profile email offline_access as far as the discovery document
	// lists them).
	Scopes []string
	// Store is the backend a login keeps the token in: --store, else
	// GHLOGIN_STORE, else the host's store, else the keyring.
	Store string
	// Overrides are the endpoint settings given as flags (Request.Overrides).
	Overrides config.Host

	// defaultScopes: Scopes are the kind's defaults, chosen again when
	// Discover learns which scopes the server supports.
	defaultScopes bool
	// nonce is the OpenID Connect nonce a web login sent (WebParams), which
	// the ID token must carry.
	nonce string
	// storeChosen is set when the person chose Store because the one in
	// force was unavailable (CheckStore): a login remembers it for the
	// host (Remember).
	storeChosen bool
}

// Kind is the kind of server the host is (GitHub, OpenID Connect, another
// OAuth 2.0 server), after flags.
func (t *Target) Kind() config.Kind { return t.Endpoints.Kind }

// PKCE reports whether a web login to t uses PKCE with S256 (RFC 7636): yes
// unless the host's pkce setting turns it off or its discovery document
// lists code_challenge_methods_supported without S256.
func (t *Target) PKCE() bool {
	if t.Settings != nil && t.Settings.PKCE != nil && !*t.Settings.PKCE {
		return false
	}
	if d := t.Endpoints.Document; d != nil && !d.SupportsPKCE() {
		return false
	}
	return true
}

// Known reports whether the configuration file has an entry for the host.
func (t *Target) Known() bool { return t.Settings != nil }

// InputError is a value given to a command (a flag or an argument) that
// cannot be used: a malformed host, an unknown store, an endpoint URL that
// breaks the URL rules. Commands exit 2.
type InputError struct {
	// Field names the value: "host", "store", "client_auth", an endpoint
	// setting's key (the flags' names with underscores), or the environment
	// variable it came from (GHLOGIN_HOST, GH_HOST, GHLOGIN_STORE).
	Field string
	Err   error
}

// Error returns the reason.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the reason.
func (e *InputError) Unwrap() error { return e.Err }

// NoClientIDError means a login has no OAuth client ID for Host: neither a
// flag, nor the host's settings, nor the environment name one.
type NoClientIDError struct{ Host string }

// Error names the host.
func (e *NoClientIDError) Error() string { return "no OAuth client ID for " + e.Host }

// SettingError is a value in the configuration file that cannot be used.
type SettingError struct {
	Host string
	// Key is the setting, e.g. "client_auth".
	Key string
	Err error
}

// Error names the host and the reason.
func (e *SettingError) Error() string {
	return fmt.Sprintf("host %s: %v", e.Host, e.Err)
}

// Unwrap returns the reason.
func (e *SettingError) Unwrap() error { return e.Err }

// DefaultHost is the host a command acts on when none is named:
// GHLOGIN_HOST, else GH_HOST, else the only host that has accounts, else
// github.com. The hosts that have accounts are those in cfg with accounts
// and, where a forwarded agent is found (Agent), those it lends: on a
// remote that only has the lent login, that login's host is the default,
// as status shows it. Every command and the status report go through
// here, so the rule changes in one place. The value may be a URL, as
// --host may.
//
// Only a command that names no host asks the agent (once per Session,
// agentList): git's helper always has the host from git, and pays nothing
// for it.
func (s *Session) DefaultHost(cfg *config.File) string {
	v, _ := s.defaultHost(cfg)
	return v
}

// envHost is the host GHLOGIN_HOST, else GH_HOST, names, and which of them
// named it; "" when neither does.
func (s *Session) envHost() (value, variable string) {
	for _, k := range []string{EnvGhloginHost, EnvHost} {
		if v := strings.TrimSpace(s.getenv(k)); v != "" {
			return v, k
		}
	}
	return "", ""
}

// defaultHost is DefaultHost and the environment variable that chose it
// ("" when none did).
func (s *Session) defaultHost(cfg *config.File) (value, variable string) {
	if v, k := s.envHost(); v != "" {
		return v, k
	}
	with := map[string]bool{}
	if cfg != nil {
		for _, name := range cfg.HostNames() {
			if len(cfg.Hosts[name].Accounts) > 0 {
				with[name] = true
			}
		}
	}
	if len(with) < 2 {
		// With two hosts already, what the agent lends changes nothing.
		for _, name := range s.lentHosts() {
			with[name] = true
		}
	}
	if len(with) == 1 {
		for name := range with {
			return name, ""
		}
	}
	return hosts.GitHub, ""
}

// lentHosts are the hosts a forwarded agent lends accounts of (none when
// there is no agent, or it cannot be asked: then the command's own request
// to it says why).
func (s *Session) lentHosts() []string {
	c, ok := s.Agent()
	if !ok {
		return nil
	}
	l, err := s.agentList(context.Background(), c)
	if err != nil {
		return nil
	}
	var out []string
	for _, h := range l.Hosts {
		if name := hosts.Normalize(h.Host, "https"); name != "" && len(h.Accounts) > 0 {
			out = append(out, name)
		}
	}
	return out
}

// agentList asks the agent c which hosts and accounts it lends, once per
// Session and socket: the default host and the status report both read it.
func (s *Session) agentList(ctx context.Context, c *agent.Client) (*agent.Listing, error) {
	key := c.Path + "\x00" + c.Fallback
	s.mu.Lock()
	if r, ok := s.lists[key]; ok {
		s.mu.Unlock()
		return r.l, r.err
	}
	s.mu.Unlock()
	l, err := c.List(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lists == nil {
		s.lists = map[string]agentListing{}
	}
	s.lists[key] = agentListing{l, err}
	return l, err
}

// stalledAgent returns the *agent.TimeoutError this session's agent gave to
// a list request, if it gave one; nil otherwise (no agent, not asked yet,
// or it answered).
func (s *Session) stalledAgent() error {
	c, ok := s.Agent()
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var te *agent.TimeoutError
	if r, ok := s.lists[c.Path+"\x00"+c.Fallback]; ok && errors.As(r.err, &te) {
		return r.err
	}
	return nil
}

// agentListing is an agent's answer to a list request (agentList).
type agentListing struct {
	l   *agent.Listing
	err error
}

// ParseHost reads a --host value: a bare name (https implied) or a URL
// (http only on a loopback address; see hosts.Parse). A bare loopback name
// takes the scheme the configuration records for it, so a host first logged
// in to as http://127.0.0.1:8787 is still http when named 127.0.0.1:8787.
// "" means the default host (DefaultHost). A value that is not a host is an
// *InputError whose Field is "host", or the variable that named the default
// host.
func (s *Session) ParseHost(value string, cfg *config.File) (hosts.Host, Origin, error) {
	origin, field := OriginFlag, "host"
	if strings.TrimSpace(value) == "" {
		origin = OriginDefault
		var variable string
		value, variable = s.defaultHost(cfg)
		if variable != "" {
			field = variable
		}
	}
	h, err := hosts.Parse(value)
	if err != nil {
		return hosts.Host{}, origin, &InputError{Field: field, Err: err}
	}
	if hc := cfg.Host(h.Name); hc != nil && hc.Protocol == "http" && !strings.Contains(value, "://") && hosts.IsLoopback(h.Name) {
		h.Scheme = "http"
	}
	return h, origin, nil
}

// HostArg returns the --host value that names the host called name on a
// command line (hosts.Arg): its URL when it speaks plain http, and its name
// otherwise. The scheme is the one given names it with (the command line's
// --host value, "" when none), else the one the default host is named with
// (GHLOGIN_HOST, GH_HOST), else the one the configuration records for it.
// Every next step that names a host (run: ghlogin login --host …) uses it.
func (s *Session) HostArg(name, given string) string {
	var cfg *config.File
	if _, c, err := s.Config(); err == nil {
		cfg = c
	}
	// The default host's own value (GHLOGIN_HOST, GH_HOST) is what may
	// carry a scheme: a host the configuration or an agent chose is named
	// by its name, so the agent is not asked here.
	env, _ := s.envHost()
	values := []string{env, name}
	if strings.TrimSpace(given) != "" {
		values = []string{given, env, name}
	}
	for _, v := range values {
		if strings.TrimSpace(v) == "" {
			continue
		}
		if h, _, err := s.ParseHost(v, cfg); err == nil && h.Name == name {
			return h.Arg()
		}
	}
	return name
}

// ResolveHost resolves req against the configuration file (read once) and
// the environment. See Target for each field's precedence. Errors: an
// *InputError for a value given in req, a *SettingError for a setting in
// the file.
func (s *Session) ResolveHost(req Request) (*Target, error) {
	_, cfg, err := s.Config()
	if err != nil {
		return nil, err
	}
	return s.ResolveHostIn(cfg, req)
}

// ResolveHostIn is ResolveHost on a configuration already read.
func (s *Session) ResolveHostIn(cfg *config.File, req Request) (*Target, error) {
	st, err := s.Store()
	if err != nil {
		return nil, err
	}
	h, origin, err := s.parseRequestHost(req, cfg)
	if err != nil {
		return nil, err
	}
	t, err := s.target(cfg, h, origin, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := s.override(t, req.Overrides); err != nil {
		return nil, err
	}
	switch {
	case len(req.Scopes) > 0:
		t.Scopes = req.Scopes
	case t.Settings != nil && len(t.Settings.Scopes) > 0:
		t.Scopes = t.Settings.Scopes
	default:
		t.defaultScopes = true
		t.Scopes = t.kindScopes()
	}
	storeField := "store"
	switch {
	case strings.TrimSpace(req.Store) != "":
	case strings.TrimSpace(s.getenv(EnvStore)) != "":
		storeField = EnvStore
	}
	t.Store = firstNonEmpty(req.Store, s.getenv(EnvStore), settingOf(t.Settings, func(c *config.Host) string { return c.Store }), store.BackendKeyring)
	if known := st.Backends(); !slices.Contains(known, t.Store) {
		err := fmt.Errorf("unknown store %q: use %s", t.Store, orList(known))
		if storeField == "store" && strings.TrimSpace(req.Store) == "" {
			return nil, &SettingError{Host: t.Host.Name, Key: "store", Err: err}
		}
		return nil, &InputError{Field: storeField, Err: err}
	}
	return t, nil
}

// parseRequestHost is ParseHost for req.Host (or the host req.Repo names),
// or for the host of req.Overrides.Issuer when neither names one: an issuer
// names its host (oidcdisc.IssuerHost), and one on another host than --host
// is an *InputError.
func (s *Session) parseRequestHost(req Request, cfg *config.File) (hosts.Host, Origin, error) {
	hostValue := req.Host
	if hostValue == "" {
		hostValue = RepoHost(req.Repo)
	}
	iss := req.Overrides.Issuer
	if iss == "" {
		return s.ParseHost(hostValue, cfg)
	}
	ih, err := oidcdisc.IssuerHost(iss)
	if err != nil {
		return hosts.Host{}, OriginFlag, &InputError{Field: "issuer", Err: err}
	}
	if strings.TrimSpace(hostValue) == "" {
		return ih, OriginFlag, nil
	}
	h, origin, err := s.ParseHost(hostValue, cfg)
	if err != nil {
		return h, origin, err
	}
	if h.Name != ih.Name {
		return h, origin, &InputError{Field: "issuer", Err: fmt.Errorf("the issuer %s is on %s, not on %s: drop --host (the issuer names its host) or name the issuer's host", iss, ih.Name, h.Name)}
	}
	// The issuer's scheme is the host's: a loopback issuer on http makes
	// the host http.
	h.Scheme = ih.Scheme
	return h, origin, nil
}

// kindScopes are the default scopes for t's kind of server, those the
// discovery document supports when it has been read.
func (t *Target) kindScopes() []string {
	var supported []string
	if d := t.Endpoints.Document; d != nil {
		supported = d.ScopesSupported
	}
	return config.DefaultScopesFor(t.Endpoints.Kind, supported)
}

// Discover reads the discovery document of t's OpenID Connect issuer (the
// issuer flag or setting), from the cache while it is fresh, else from the
// server (oidcdisc.Fetcher.ResolveHost), and takes t's endpoints and its
// default scopes from it. It does nothing for other hosts. A login calls
// it before the flow starts; commands that only use a stored token go by
// the cache (ResolveHost) and call it only when the cache has nothing.
// Errors are the fetcher's: *oidcdisc.FetchError, *oidcdisc.DocumentError.
func (s *Session) Discover(ctx context.Context, t *Target) error {
	if t.Endpoints.Kind != config.KindOIDC {
		return nil
	}
	f, err := s.fetcher()
	if err != nil {
		return err
	}
	eps, res, err := f.ResolveHost(ctx, t.Host, t.Settings, &t.Overrides)
	if err != nil {
		return err
	}
	t.Endpoints, t.Discovery = eps, res
	if t.defaultScopes {
		t.Scopes = t.kindScopes()
	}
	return nil
}

// discoverIfNeeded is Discover when t is an OpenID Connect host whose
// discovery document the cache does not hold.
func (s *Session) discoverIfNeeded(ctx context.Context, t *Target) error {
	if !t.Endpoints.NeedsDiscovery() {
		return nil
	}
	return s.Discover(ctx, t)
}

// fetcher reads discovery documents with the session's HTTP client and
// clock, caching them in the config directory.
func (s *Session) fetcher() (*oidcdisc.Fetcher, error) {
	st, err := s.Store()
	if err != nil {
		return nil, err
	}
	return &oidcdisc.Fetcher{HTTPClient: s.HTTPClient, UserAgent: s.UserAgent, Clock: s.clock(), Dir: st.Dir()}, nil
}

// resolveEndpoints resolves h's endpoints from settings and flags (either
// may be nil) and, for an OpenID Connect host, its cached discovery
// document however old (no request is made).
func (s *Session) resolveEndpoints(h hosts.Host, settings, flags *config.Host) *oidcdisc.Endpoints {
	var doc *oidcdisc.Document
	if m := oidcdisc.Merge(settings, flags); m.Kind() == config.KindOIDC {
		if f, err := s.fetcher(); err == nil {
			if res, err := f.Cached(m.Issuer); err == nil {
				doc = res.Document
			}
		}
	}
	return oidcdisc.Resolve(h, settings, flags, doc)
}

// target is the part of the resolution every caller needs, the git helper's
// refresh and check included: the host's settings, its endpoints and its
// OAuth client.
func (s *Session) target(cfg *config.File, h hosts.Host, origin Origin, clientID string) (*Target, error) {
	hc := cfg.Host(h.Name)
	t := &Target{Host: h, Origin: origin, Settings: hc, Endpoints: s.resolveEndpoints(h, hc, nil)}
	t.Credentials.ClientID = firstNonEmpty(clientID, settingOf(hc, func(c *config.Host) string { return c.ClientID }), s.getenv(EnvClientID))
	t.Credentials.ClientSecret = firstNonEmpty(settingOf(hc, func(c *config.Host) string { return c.ClientSecret }), s.getenv(EnvClientSecret))
	if hc != nil {
		style, err := oauth.ParseAuthStyle(hc.ClientAuth)
		if err != nil {
			return nil, &SettingError{Host: h.Name, Key: "client_auth", Err: err}
		}
		t.Credentials.Style = style
	}
	return t, nil
}

// storedTarget resolves a host named by its configuration key (an
// account's host), with its recorded scheme; an OpenID Connect host's
// endpoints come from the discovery cache (as oidcdisc.Lookup gives them),
// with no request.
func (s *Session) storedTarget(cfg *config.File, name string) (*Target, error) {
	h, _, err := s.ParseHost(name, cfg)
	if err != nil {
		return nil, err
	}
	return s.target(cfg, h, OriginConfig, "")
}

// override applies endpoint flags: each URL obeys the URL rules
// (config.ValidateURL; an issuer config.CheckIssuer), and --client-auth must
// name a known style.
func (s *Session) override(t *Target, o config.Host) error {
	if o.Issuer != "" {
		if _, err := config.CheckIssuer(o.Issuer); err != nil {
			return &InputError{Field: "issuer", Err: err}
		}
	}
	for _, p := range []struct{ key, v string }{
		{"device_code_url", o.DeviceCodeURL},
		{"authorize_url", o.AuthorizeURL},
		{"token_url", o.TokenURL},
		{"api_url", o.APIURL},
		{"userinfo_url", o.UserInfoURL},
		{"revocation_url", o.RevocationURL},
	} {
		if p.v == "" {
			continue
		}
		if err := config.ValidateEndpoint(p.key, p.v); err != nil {
			return &InputError{Field: p.key, Err: err}
		}
	}
	if o.ClientAuth != "" {
		style, err := oauth.ParseAuthStyle(o.ClientAuth)
		if err != nil {
			return &InputError{Field: "client_auth", Err: err}
		}
		t.Credentials.Style = style
		o.ClientAuth = style.String() // a login records it as config set would
	}
	t.Endpoints = s.resolveEndpoints(t.Host, t.Settings, &o)
	t.Overrides = o
	return nil
}

// NoClientSecretError means a web-flow login to a GitHub host has no client
// secret: GitHub's token endpoint requires the OAuth app's secret for the
// authorization code grant, so the login would fail only after the browser
// round trip.
type NoClientSecretError struct {
	Host string
	// Scheme is the host's scheme ("http" for a loopback server).
	Scheme string
}

// Error names the host.
func (e *NoClientSecretError) Error() string { return "no OAuth client secret for " + e.Host }

// RequireClientSecret returns a *NoClientSecretError when t is a GitHub
// host (its token endpoint is the one the host name implies, not a generic
// server's) and has no client secret. Generic servers may take public
// clients with PKCE (RFC 7636), so they are not refused here.
func (t *Target) RequireClientSecret() error {
	if t.Credentials.ClientSecret != "" || t.Endpoints.TokenURL != t.Host.Endpoints(hosts.Endpoints{}).TokenURL {
		return nil
	}
	return &NoClientSecretError{Host: t.Host.Name, Scheme: t.Host.Scheme}
}

// RequireClientID returns a *NoClientIDError when t has no client ID.
func (t *Target) RequireClientID() error {
	if t.Credentials.ClientID != "" {
		return nil
	}
	return &NoClientIDError{Host: t.Host.Name}
}

// orList writes "a", "a or b", "a, b or c".
func orList(v []string) string {
	if len(v) < 2 {
		return strings.Join(v, "")
	}
	return strings.Join(v[:len(v)-1], ", ") + " or " + v[len(v)-1]
}

func settingOf(hc *config.Host, f func(*config.Host) string) string {
	if hc == nil {
		return ""
	}
	return f(hc)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if t := strings.TrimSpace(s); t != "" {
			return t
		}
	}
	return ""
}
