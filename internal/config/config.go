// Package config reads and writes ghlogin's configuration file (config.toml in
// the config directory). It holds no token: per-host settings (OAuth app,
// scopes, endpoint overrides, store), the index of accounts, which says
// which backend keeps each account's secret, since a keyring cannot be listed,
// and the bindings that choose an account by repository owner or directory.
// The one secret it may hold is an OAuth app's client_secret, set with
// `ghlogin config set ... client_secret -`: the file is written mode 0600,
// and one that holds a client secret is refused when others can read it.
package config

import (
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// FileName is the configuration file's name inside the config directory.
const FileName = "config.toml"

// File is the whole configuration file.
type File struct {
	// KeyringTimeout bounds every keyring call; zero means the default (3 s).
	KeyringTimeout Duration `toml:"keyring_timeout,omitempty,omitzero"`
	// Hosts is keyed by normalized host name (hosts.Parse).
	Hosts map[string]*Host `toml:"hosts,omitempty"`

	// dir is the directory Load read the file from ("" for one made with
	// New or Parse); see Dir.
	dir string
}

// Dir returns the config directory the file was loaded from, or "" for a
// configuration that was not read by Load. Files beside config.toml (the
// discovery cache) are found from here.
func (f *File) Dir() string {
	if f == nil {
		return ""
	}
	return f.dir
}

// Host holds one host's settings and its accounts.
type Host struct {
	// Protocol is "https" (default) or "http" (allowed for loopback hosts only).
	Protocol     string   `toml:"protocol,omitempty"`
	ClientID     string   `toml:"client_id,omitempty"`
	ClientSecret string   `toml:"client_secret,omitempty"`
	Scopes       []string `toml:"scopes,omitempty"`
	// Store is the default backend for new accounts: "keyring", "kernel"
	// or "file".
	Store string `toml:"store,omitempty"`

	// Issuer makes the host an OpenID Connect server: its endpoints come
	// from ISSUER/.well-known/openid-configuration (OpenID Connect
	// Discovery 1.0), under the overrides below.
	Issuer string `toml:"issuer,omitempty"`

	// Endpoint overrides (generic OAuth 2.0 servers); empty means derived
	// from the host name (see hosts.Host.Endpoints), or for a host with an
	// Issuer, read from its discovery document.
	DeviceCodeURL string `toml:"device_code_url,omitempty"`
	AuthorizeURL  string `toml:"authorize_url,omitempty"`
	TokenURL      string `toml:"token_url,omitempty"`
	APIURL        string `toml:"api_url,omitempty"`
	UserInfoURL   string `toml:"userinfo_url,omitempty"`
	// RevocationURL is an RFC 7009 token revocation endpoint.
	RevocationURL string `toml:"revocation_url,omitempty"`
	LoginField    string `toml:"login_field,omitempty"`
	// ClientAuth is "body" (default, GitHub) or "basic".
	ClientAuth string `toml:"client_auth,omitempty"`
	// PKCE turns S256 PKCE off for servers that reject it (default on).
	PKCE *bool `toml:"pkce,omitempty"`
	// CallbackPort fixes the web flow's loopback port; 0 means ephemeral.
	CallbackPort int `toml:"callback_port,omitempty,omitzero"`
	// GitPrompt lets the git credential helper start a device-flow login on
	// /dev/tty when it has no token (default on).
	GitPrompt *bool `toml:"git_prompt,omitempty"`

	// Active is the login of the active account.
	Active string `toml:"active,omitempty"`
	// Accounts is keyed by login.
	Accounts map[string]*Account `toml:"accounts,omitempty"`

	// OwnerBindings map an owner glob (lower case; see NormalizeOwnerGlob)
	// to the login used for that owner's repositories.
	OwnerBindings map[string]string `toml:"owner_bindings,omitempty"`
	// DirBindings map a directory (absolute, symbolic links resolved; see
	// CleanDir) to the login used for work under it.
	DirBindings map[string]string `toml:"dir_bindings,omitempty"`

	// GitPathSet records that ghlogin setup-git set git's
	// credential.<url>.useHttpPath to true for this host, so that
	// setup-git --unset removes only a setting it made: a value the person
	// wrote (false, or a true of their own) stays. git's config cannot say
	// who wrote a value, and a marker key beside it there would be read by
	// every git, so the record is ghlogin's. It is not a setting (config
	// list does not show it).
	GitPathSet bool `toml:"git_use_http_path_set,omitempty"`
}

// Account is the non-secret index entry of a stored account.
type Account struct {
	// Store is the backend that holds the secret: "keyring", "kernel" or
	// "file".
	Store string `toml:"store"`
	// Scopes are the scopes granted.
	Scopes []string `toml:"scopes,omitempty"`
	// RequestedScopes are the scopes the login asked for, kept only when
	// they differ from Scopes.
	RequestedScopes []string `toml:"requested_scopes,omitempty"`
	// DisplayName is the account owner's name when it is not the login
	// (server text, sanitised).
	DisplayName string    `toml:"display_name,omitempty"`
	TokenType   string    `toml:"token_type,omitempty"`
	ExpiresAt   time.Time `toml:"expires_at,omitempty"`
	// RefreshExpiresAt is when the refresh token (if any) expires.
	RefreshExpiresAt time.Time `toml:"refresh_expires_at,omitempty"`
	AddedAt          time.Time `toml:"added_at,omitempty"`
	// Invalid, when set, says why the account's token was removed (the API
	// rejected it, so git's erase removed it): the account stays listed so
	// that status can say so, until the next login replaces it.
	Invalid string `toml:"invalid,omitempty"`
}

// Duration is a time.Duration written as "3s" in TOML.
type Duration time.Duration

// Endpoints returns h's endpoints, settings taking precedence over what the
// host name implies. h may be nil. For a host with an Issuer the host name
// implies nothing: only the settings are returned (the rest comes from the
// discovery document; see package oidcdisc).
func (h *Host) Endpoints(host hosts.Host) hosts.Endpoints {
	if h == nil {
		return host.Endpoints(hosts.Endpoints{})
	}
	if h.Issuer != "" {
		return hosts.Endpoints{
			DeviceCodeURL: h.DeviceCodeURL,
			AuthorizeURL:  h.AuthorizeURL,
			TokenURL:      h.TokenURL,
			APIURL:        strings.TrimRight(h.APIURL, "/"),
			UserInfoURL:   h.UserInfoURL,
			LoginField:    h.LoginField,
		}
	}
	return host.Endpoints(hosts.Endpoints{
		DeviceCodeURL: h.DeviceCodeURL,
		AuthorizeURL:  h.AuthorizeURL,
		TokenURL:      h.TokenURL,
		APIURL:        h.APIURL,
		UserInfoURL:   h.UserInfoURL,
		LoginField:    h.LoginField,
	})
}

// Lookup returns the stored host name (a key of Hosts) as a hosts.Host —
// https, or http when its protocol setting says so — with its settings (nil
// when it has none) and its endpoints. f may be nil.
func (f *File) Lookup(name string) (hosts.Host, *Host, hosts.Endpoints, error) {
	var hc *Host
	if f != nil && f.Hosts != nil {
		hc = f.Hosts[name]
	}
	scheme := "https"
	if hc != nil && hc.Protocol == "http" {
		scheme = "http"
	}
	h, err := hosts.Parse(scheme + "://" + name)
	if err != nil {
		return hosts.Host{}, nil, hosts.Endpoints{}, err
	}
	return h, hc, hc.Endpoints(h), nil
}
