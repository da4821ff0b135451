package session

import (
	"fmt"
	"slices"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
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

// Origin says how a command came to act on a host. It decides, among other
// things, whether an enterprise token from the environment may go there
// (see EnvToken).
type Origin int

const (
	// OriginDefault: nothing named a host; the default rule chose it
	// (DefaultHost).
	OriginDefault Origin = iota
	// OriginFlag: the person named the host (--host).
	OriginFlag
	// OriginGit: git named the host, from a remote's URL (a credential
	// request); nobody chose it on purpose.
	OriginGit
	// OriginConfig: the host comes from the configuration file (an
	// account's host, listed by status, refreshed by the git helper).
	OriginConfig
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
	// Overrides are endpoint settings given as flags (device_code_url,
	// authorize_url, token_url, api_url, userinfo_url, login_field,
	// client_auth); a login remembers them in the host's settings.
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
	// Endpoints are the host's URLs: flags, then settings, then what the
	// host name implies.
	Endpoints hosts.Endpoints
	// Credentials identify the OAuth app: the client ID from --client-id,
	// else the host's client_id, else GHLOGIN_CLIENT_ID; the secret from
	// the host's client_secret, else GHLOGIN_CLIENT_SECRET; the client
	// authentication from --client-auth, else the host's client_auth.
	Credentials oauth.Credentials
	// Scopes are requested by a login: --scopes, else the host's scopes,
	// else config.DefaultScopes.
	Scopes []string
	// Store is the backend a login keeps the token in: --store, else
	// GHLOGIN_STORE, else the host's store, else the keyring.
	Store string
	// Overrides are the endpoint settings given as flags (Request.Overrides).
	Overrides config.Host
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
// GHLOGIN_HOST, else GH_HOST, else the only host in cfg that has accounts,
// else github.com. Every command and the status report go through here, so
// the rule changes in one place. The value may be a URL, as --host may.
func (s *Session) DefaultHost(cfg *config.File) string {
	v, _ := s.defaultHost(cfg)
	return v
}

// defaultHost is DefaultHost and the environment variable that chose it
// ("" when none did).
func (s *Session) defaultHost(cfg *config.File) (value, variable string) {
	for _, k := range []string{EnvGhloginHost, EnvHost} {
		if v := strings.TrimSpace(s.getenv(k)); v != "" {
			return v, k
		}
	}
	var with []string
	if cfg != nil {
		for _, name := range cfg.HostNames() {
			if len(cfg.Hosts[name].Accounts) > 0 {
				with = append(with, name)
			}
		}
	}
	if len(with) == 1 {
		return with[0], ""
	}
	return hosts.GitHub, ""
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
	hostValue := req.Host
	if hostValue == "" {
		hostValue = RepoHost(req.Repo)
	}
	h, origin, err := s.ParseHost(hostValue, cfg)
	if err != nil {
		return nil, err
	}
	t, err := s.target(cfg, h, origin, req.ClientID)
	if err != nil {
		return nil, err
	}
	if err := t.override(req.Overrides); err != nil {
		return nil, err
	}
	switch {
	case len(req.Scopes) > 0:
		t.Scopes = req.Scopes
	case t.Settings != nil && len(t.Settings.Scopes) > 0:
		t.Scopes = t.Settings.Scopes
	default:
		t.Scopes = config.DefaultScopes
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

// target is the part of the resolution every caller needs, the git helper's
// refresh and check included: the host's settings, its endpoints and its
// OAuth client.
func (s *Session) target(cfg *config.File, h hosts.Host, origin Origin, clientID string) (*Target, error) {
	hc := cfg.Host(h.Name)
	t := &Target{Host: h, Origin: origin, Settings: hc, Endpoints: hc.Endpoints(h)}
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
// account's host), with its recorded scheme.
func (s *Session) storedTarget(cfg *config.File, name string) (*Target, error) {
	h, _, err := s.ParseHost(name, cfg)
	if err != nil {
		return nil, err
	}
	return s.target(cfg, h, OriginConfig, "")
}

// override applies endpoint flags: each URL obeys the URL rules
// (config.ValidateURL), and --client-auth must name a known style.
func (t *Target) override(o config.Host) error {
	merged := config.Host{}
	if t.Settings != nil {
		merged = *t.Settings
	}
	for _, p := range []struct {
		key string
		dst *string
		v   string
		url bool
	}{
		{"device_code_url", &merged.DeviceCodeURL, o.DeviceCodeURL, true},
		{"authorize_url", &merged.AuthorizeURL, o.AuthorizeURL, true},
		{"token_url", &merged.TokenURL, o.TokenURL, true},
		{"api_url", &merged.APIURL, o.APIURL, true},
		{"userinfo_url", &merged.UserInfoURL, o.UserInfoURL, true},
		{"login_field", &merged.LoginField, o.LoginField, false},
	} {
		if p.v == "" {
			continue
		}
		if p.url {
			if err := config.ValidateURL(p.v); err != nil {
				return &InputError{Field: p.key, Err: err}
			}
		}
		*p.dst = p.v
	}
	if o.ClientAuth != "" {
		style, err := oauth.ParseAuthStyle(o.ClientAuth)
		if err != nil {
			return &InputError{Field: "client_auth", Err: err}
		}
		t.Credentials.Style = style
		o.ClientAuth = style.String() // a login records it as config set would
	}
	t.Endpoints = merged.Endpoints(t.Host)
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
