package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// DefaultScopes are requested when neither a flag nor the host's settings name any.
var DefaultScopes = []string{"repo", "read:org", "gist"}

// hostSettings is everything a command needs to know about one host, merged
// from flags, the environment and the config file.
type hostSettings struct {
	host      hosts.Host
	cfg       *config.Host // nil when the host has no settings yet
	endpoints hosts.Endpoints
	creds     oauth.Credentials
	scopes    []string
	backend   string
}

// store opens the token store once.
func (a *app) store() (*store.Store, error) {
	if a.st != nil {
		return a.st, nil
	}
	dir := a.getenv("GHLOGIN_CONFIG_DIR")
	if dir == "" {
		d, err := config.Dir()
		if err != nil {
			return nil, fmt.Errorf("finding the config directory: %w (set GHLOGIN_CONFIG_DIR)", err)
		}
		dir = d
	}
	st, err := store.Open(store.Options{Dir: dir, Keyring: a.env.Keyring})
	if err != nil {
		return nil, err
	}
	a.st = st
	return st, nil
}

// parseHost reads --host, using the host's stored protocol when the flag
// names a bare loopback host that was registered with http://.
func (a *app) parseHost(flag string, cfg *config.File) (hosts.Host, *config.Host, error) {
	h, err := hosts.Parse(flag)
	if err != nil {
		return hosts.Host{}, nil, &usageError{err}
	}
	var hc *config.Host
	if cfg != nil && cfg.Hosts != nil {
		hc = cfg.Hosts[h.Name]
	}
	if hc != nil && hc.Protocol == "http" && !strings.Contains(flag, "://") && hosts.IsLoopback(h.Name) {
		h.Scheme = "http"
	}
	return h, hc, nil
}

// settings merges flags, environment and config for host.
func (a *app) settings(flagHost, flagClientID string, flagScopes []string, flagStore string) (*hostSettings, error) {
	st, err := a.store()
	if err != nil {
		return nil, err
	}
	cfg, err := st.Config()
	if err != nil {
		return nil, err
	}
	h, hc, err := a.parseHost(flagHost, cfg)
	if err != nil {
		return nil, err
	}
	hs := &hostSettings{host: h, cfg: hc, endpoints: hc.Endpoints(h)}
	hs.creds.ClientID = firstNonEmpty(flagClientID, cfgString(hc, func(c *config.Host) string { return c.ClientID }), a.getenv("GHLOGIN_CLIENT_ID"))
	hs.creds.ClientSecret = firstNonEmpty(cfgString(hc, func(c *config.Host) string { return c.ClientSecret }), a.getenv("GHLOGIN_CLIENT_SECRET"))
	if hc != nil {
		style, err := oauth.ParseAuthStyle(hc.ClientAuth)
		if err != nil {
			return nil, fmt.Errorf("host %s: %w (fix it with ghlogin config set --host %s client_auth body)", h.Name, err, h.Name)
		}
		hs.creds.Style = style
	}
	switch {
	case len(flagScopes) > 0:
		hs.scopes = flagScopes
	case hc != nil && len(hc.Scopes) > 0:
		hs.scopes = hc.Scopes
	default:
		hs.scopes = DefaultScopes
	}
	hs.backend = firstNonEmpty(flagStore, a.getenv("GHLOGIN_STORE"), cfgString(hc, func(c *config.Host) string { return c.Store }), store.BackendKeyring)
	if hs.backend != store.BackendKeyring && hs.backend != store.BackendFile {
		return nil, usagef("unknown store %q: use keyring or file", hs.backend)
	}
	return hs, nil
}

// requireClientID explains how to get a client ID when there is none.
func (hs *hostSettings) requireClientID() error {
	if hs.creds.ClientID != "" {
		return nil
	}
	return &usageError{fmt.Errorf("no OAuth client ID for %s: register an OAuth app (or GitHub App) with Device Flow enabled, then run\n"+
		"  ghlogin config set --host %s client_id YOUR_CLIENT_ID\n"+
		"or pass --client-id, or set GHLOGIN_CLIENT_ID. To try ghlogin without one, run: ghlogin demo", hs.host.Name, hs.host.Name)}
}

func cfgString(hc *config.Host, f func(*config.Host) string) string {
	if hc == nil {
		return ""
	}
	return f(hc)
}

func firstNonEmpty(v ...string) string {
	for _, s := range v {
		if strings.TrimSpace(s) != "" {
			return strings.TrimSpace(s)
		}
	}
	return ""
}

// splitScopes reads --scopes "a,b" or "a b".
func splitScopes(v []string) []string {
	var out []string
	for _, s := range v {
		out = append(out, oauth.SplitScopes(s)...)
	}
	return out
}

// envToken returns a token from the environment for host, and the variable
// that held it, as the GitHub CLI reads them.
func (a *app) envToken(host hosts.Host) (token, name string) {
	names := []string{"GH_ENTERPRISE_TOKEN", "GITHUB_ENTERPRISE_TOKEN"}
	if host.IsGitHub() {
		names = []string{"GH_TOKEN", "GITHUB_TOKEN"}
	}
	for _, n := range names {
		if v := strings.TrimSpace(a.getenv(n)); v != "" {
			return v, n
		}
	}
	return "", ""
}

// apiClient returns the client for API calls.
func (a *app) apiClient(timeout time.Duration) *githubapi.Client {
	return &githubapi.Client{HTTPClient: a.env.HTTPClient, Timeout: timeout, UserAgent: "ghlogin/" + Version}
}

// oauthClient returns the client for OAuth endpoints.
func (a *app) oauthClient() *oauth.Client {
	return &oauth.Client{HTTPClient: a.env.HTTPClient, UserAgent: "ghlogin/" + Version}
}

// rememberHost returns the update a login applies to its host's settings in
// the same store transaction as the account: the http protocol of a loopback
// host, the client ID and any endpoint overrides given as flags, so later
// commands (token refresh, the git helper) find what the login relied on.
func rememberHost(hs *hostSettings, overrides *config.Host) func(*config.Host) error {
	return func(hc *config.Host) error {
		if hs.host.Scheme == "http" {
			hc.Protocol = "http"
		}
		if hc.ClientID == "" {
			hc.ClientID = hs.creds.ClientID
		}
		if overrides != nil {
			set := func(dst *string, v string) {
				if v != "" {
					*dst = v
				}
			}
			set(&hc.DeviceCodeURL, overrides.DeviceCodeURL)
			set(&hc.AuthorizeURL, overrides.AuthorizeURL)
			set(&hc.TokenURL, overrides.TokenURL)
			set(&hc.APIURL, overrides.APIURL)
			set(&hc.UserInfoURL, overrides.UserInfoURL)
			set(&hc.LoginField, overrides.LoginField)
			set(&hc.ClientAuth, overrides.ClientAuth)
		}
		return nil
	}
}

// errNoTTY is returned when an interactive answer is needed and there is no terminal.
var errNoTTY = errors.New("no terminal to ask on")

// lookupUser asks the host who the token belongs to.
func (a *app) lookupUser(ctx context.Context, hs *hostSettings, token string) (*githubapi.User, error) {
	u, err := a.apiClient(15*time.Second).GetUser(ctx, hs.endpoints.UserInfoURL, hs.endpoints.LoginField, token)
	if err != nil {
		return nil, fmt.Errorf("checking the new token with %s: %w", hs.host.Name, err)
	}
	return u, nil
}
