package config

import (
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// Key describes one setting that `ghlogin config get|set|list` handles.
type Key struct {
	Name string
	// Global keys apply to every host; the others are per host.
	Global bool
	// Secret values are masked by List.
	Secret bool
	// Help says what the setting does and which values it takes.
	Help string
}

// DefaultScopes are the scopes requested when a host sets none.
var DefaultScopes = []string{"repo", "read:org", "gist"}

// MaxKeyringTimeout is the largest keyring_timeout accepted.
const MaxKeyringTimeout = 5 * time.Minute

var keys = []Key{
	{Name: "protocol", Help: "https (default), or http for a loopback host only"},
	{Name: "client_id", Help: "the OAuth app's (or GitHub App's) client ID"},
	{Name: "client_secret", Secret: true, Help: "the OAuth app's client secret (web flow only)"},
	{Name: "scopes", Help: "scopes to request, comma separated (default repo,read:org,gist)"},
	{Name: "store", Help: "where new tokens are kept: keyring (default) or file"},
	{Name: "device_code_url", Help: "device authorization endpoint (RFC 8628)"},
	{Name: "authorize_url", Help: "authorization endpoint for the web flow"},
	{Name: "token_url", Help: "token endpoint"},
	{Name: "api_url", Help: "REST API root (GitHub: https://api.github.com or https://HOST/api/v3)"},
	{Name: "userinfo_url", Help: "URL that returns the signed-in user as JSON (default api_url + /user)"},
	{Name: "login_field", Help: "JSON field of the userinfo reply holding the login (default login)"},
	{Name: "client_auth", Help: "how the client authenticates at the token endpoint: body (default) or basic"},
	{Name: "pkce", Help: "use PKCE (S256) in the web flow: true (default) or false"},
	{Name: "callback_port", Help: "fixed loopback port for the web flow's redirect, 1-65535 (default: any free port)"},
	{Name: "git_prompt", Help: "let the git credential helper start a login when it has no token: true (default) or false"},
	{Name: "keyring_timeout", Global: true, Help: "longest wait for the OS keyring, e.g. 3s (default 3s)"},
}

// Keys lists every setting, per-host keys first, then global ones.
func Keys() []Key { return append([]Key(nil), keys...) }

// KeyNames returns the settings' names in Keys order.
func KeyNames() []string {
	names := make([]string, len(keys))
	for i, k := range keys {
		names[i] = k.Name
	}
	return names
}

// HostKeys returns the names of the per-host settings, in Keys order.
func HostKeys() []string {
	var names []string
	for _, k := range keys {
		if !k.Global {
			names = append(names, k.Name)
		}
	}
	return names
}

// GlobalKeys returns the names of the global settings, in Keys order.
func GlobalKeys() []string {
	var names []string
	for _, k := range keys {
		if k.Global {
			names = append(names, k.Name)
		}
	}
	return names
}

// LookupKey finds a setting by name; an unknown name gives *UnknownKeyError.
func LookupKey(name string) (Key, error) {
	for _, k := range keys {
		if k.Name == name {
			return k, nil
		}
	}
	return Key{}, &UnknownKeyError{Key: name, Valid: KeyNames()}
}

// UnknownKeyError is a setting name ghlogin does not know.
type UnknownKeyError struct {
	Key   string
	Valid []string
}

// Error says what went wrong and what to do.
func (e *UnknownKeyError) Error() string {
	return fmt.Sprintf("unknown setting %q; valid settings: %s", e.Key, strings.Join(e.Valid, ", "))
}

// InvalidValueError is a value a setting does not accept. For secret
// settings the value is not kept, so it never reaches a message.
type InvalidValueError struct {
	Key    string
	Value  string
	Reason string
}

// Error says what went wrong and what to do.
func (e *InvalidValueError) Error() string {
	if e.Value == "" {
		return fmt.Sprintf("invalid value for %s: %s", e.Key, e.Reason)
	}
	return fmt.Sprintf("invalid value %q for %s: %s", e.Value, e.Key, e.Reason)
}

// Setting is one row of List.
type Setting struct {
	// Host is "" for global settings.
	Host string `json:"host,omitempty"`
	Key  string `json:"key"`
	// Value is the stored value ("" when unset); secret values are masked.
	Value string `json:"value"`
	// IsSet reports whether the file sets the key.
	IsSet bool `json:"set"`
	// Default is what applies when the key is unset ("" when nothing does).
	Default string `json:"default,omitempty"`
}

// Mask is what List shows instead of a secret value.
const Mask = "********"

// Get returns the value the file sets for key ("" when unset). Per-host keys
// read host's settings (host "" means github.com); global keys ignore host.
// The value of a secret key is returned in clear: the caller decides whether
// to show it.
func (f *File) Get(host, key string) (string, error) {
	k, err := LookupKey(key)
	if err != nil {
		return "", err
	}
	if k.Global {
		return f.getGlobal(k.Name), nil
	}
	hk, err := hostKey(host)
	if err != nil {
		return "", err
	}
	return hostValue(f.Hosts[hk], k.Name), nil
}

func (f *File) getGlobal(key string) string {
	switch key {
	case "keyring_timeout":
		if f.KeyringTimeout > 0 {
			return f.KeyringTimeout.String()
		}
	}
	return ""
}

func hostKey(host string) (string, error) {
	h, err := hosts.Parse(host)
	if err != nil {
		return "", err
	}
	return h.Name, nil
}

func boolString(b *bool) string {
	if b == nil {
		return ""
	}
	return strconv.FormatBool(*b)
}

func hostValue(h *Host, key string) string {
	if h == nil {
		return ""
	}
	switch key {
	case "protocol":
		return h.Protocol
	case "client_id":
		return h.ClientID
	case "client_secret":
		return h.ClientSecret
	case "scopes":
		return strings.Join(h.Scopes, ",")
	case "store":
		return h.Store
	case "device_code_url":
		return h.DeviceCodeURL
	case "authorize_url":
		return h.AuthorizeURL
	case "token_url":
		return h.TokenURL
	case "api_url":
		return h.APIURL
	case "userinfo_url":
		return h.UserInfoURL
	case "login_field":
		return h.LoginField
	case "client_auth":
		return h.ClientAuth
	case "pkce":
		return boolString(h.PKCE)
	case "callback_port":
		if h.CallbackPort != 0 {
			return strconv.Itoa(h.CallbackPort)
		}
	case "git_prompt":
		return boolString(h.GitPrompt)
	}
	return ""
}

// Set validates value and stores it under key; an empty value removes the
// setting. Per-host keys change host's settings (host "" means github.com;
// the entry is created when missing); global keys ignore host. Errors are
// *UnknownKeyError, *InvalidValueError or *hosts.Error.
func (f *File) Set(host, key, value string) error {
	k, err := LookupKey(key)
	if err != nil {
		return err
	}
	value = strings.TrimSpace(value)
	if k.Global {
		return f.setGlobal(k.Name, value)
	}
	hp, err := hosts.Parse(host)
	if err != nil {
		return err
	}
	if f.Hosts == nil {
		f.Hosts = map[string]*Host{}
	}
	h := f.Hosts[hp.Name]
	if h == nil {
		h = &Host{}
	}
	if err := setHostValue(h, hp, k, value); err != nil {
		return err
	}
	if isZeroHost(h) {
		delete(f.Hosts, hp.Name)
	} else {
		f.Hosts[hp.Name] = h
	}
	return nil
}

// Unset removes key's setting (the same as Set with an empty value).
func (f *File) Unset(host, key string) error { return f.Set(host, key, "") }

func (f *File) setGlobal(key, value string) error {
	switch key {
	case "keyring_timeout":
		if value == "" {
			f.KeyringTimeout = 0
			return nil
		}
		d, err := time.ParseDuration(value)
		if err != nil {
			return &InvalidValueError{Key: key, Value: value, Reason: `write a duration such as "3s" or "500ms"`}
		}
		if d <= 0 || d > MaxKeyringTimeout {
			return &InvalidValueError{Key: key, Value: value, Reason: "give a duration above 0 and at most " + MaxKeyringTimeout.String()}
		}
		f.KeyringTimeout = Duration(d)
	}
	return nil
}

func setHostValue(h *Host, hp hosts.Host, k Key, value string) error {
	bad := func(reason string) error {
		v := value
		if k.Secret {
			v = ""
		}
		return &InvalidValueError{Key: k.Name, Value: v, Reason: reason}
	}
	switch k.Name {
	case "protocol":
		switch strings.ToLower(value) {
		case "":
			h.Protocol = ""
		case "https":
			h.Protocol = "https"
		case "http":
			if !hosts.IsLoopback(hp.Name) {
				return bad("http is allowed only for loopback hosts (127.0.0.1, ::1, localhost); use https")
			}
			h.Protocol = "http"
		default:
			return bad("use https (or http for a loopback host)")
		}
	case "client_id", "client_secret":
		if value != "" {
			if len(value) > 512 {
				return bad("it is longer than 512 characters")
			}
			for _, r := range value {
				if r <= ' ' || r >= 0x7f {
					return bad("it may hold only printable ASCII characters without spaces")
				}
			}
		}
		if k.Name == "client_id" {
			h.ClientID = value
		} else {
			h.ClientSecret = value
		}
	case "scopes":
		scopes, err := ParseScopes(value)
		if err != nil {
			return bad(err.Error())
		}
		h.Scopes = scopes
	case "store":
		switch strings.ToLower(value) {
		case "", "keyring", "file":
			h.Store = strings.ToLower(value)
		default:
			return bad("use keyring or file")
		}
	case "device_code_url", "authorize_url", "token_url", "api_url", "userinfo_url":
		if value != "" {
			if err := ValidateURL(value); err != nil {
				return bad(err.Error())
			}
		}
		switch k.Name {
		case "device_code_url":
			h.DeviceCodeURL = value
		case "authorize_url":
			h.AuthorizeURL = value
		case "token_url":
			h.TokenURL = value
		case "api_url":
			h.APIURL = strings.TrimRight(value, "/")
		case "userinfo_url":
			h.UserInfoURL = value
		}
	case "login_field":
		for _, r := range value {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r)) {
				return bad("use a JSON field name such as login, preferred_username or sub")
			}
		}
		h.LoginField = value
	case "client_auth":
		switch strings.ToLower(value) {
		case "", "body", "basic":
			h.ClientAuth = strings.ToLower(value)
		default:
			return bad("use body (client_id in the request body, as GitHub wants) or basic (HTTP Basic authentication)")
		}
	case "pkce", "git_prompt":
		var p *bool
		if value != "" {
			b, ok := ParseBool(value)
			if !ok {
				return bad("use true or false")
			}
			p = &b
		}
		if k.Name == "pkce" {
			h.PKCE = p
		} else {
			h.GitPrompt = p
		}
	case "callback_port":
		if value == "" {
			h.CallbackPort = 0
			return nil
		}
		n, err := strconv.Atoi(value)
		if err != nil || n < 1 || n > 65535 {
			return bad("use a port number from 1 to 65535 (or unset it for any free port)")
		}
		h.CallbackPort = n
	}
	return nil
}

// ParseBool reads true/false, yes/no, on/off and 1/0 (any case).
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "true", "yes", "on", "1":
		return true, true
	case "false", "no", "off", "0":
		return false, true
	}
	return false, false
}

// ParseScopes splits a scope list written with commas and/or spaces and
// checks each scope's characters (RFC 6749 section 3.3). Duplicates are dropped.
func ParseScopes(s string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	var out []string
	seen := map[string]bool{}
	for _, f := range fields {
		for _, r := range f {
			if !(r == 0x21 || r >= 0x23 && r <= 0x5b || r >= 0x5d && r <= 0x7e) {
				return nil, fmt.Errorf("scope %q holds a character scopes may not contain", f)
			}
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// ValidateURL accepts an absolute https URL, or an http URL whose host is a
// loopback address; it refuses user info and fragments.
func ValidateURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || !u.IsAbs() || u.Host == "" || u.Opaque != "" {
		return fmt.Errorf("give an absolute URL such as https://auth.example.com/oauth/token")
	}
	if u.User != nil {
		return fmt.Errorf("remove the user name and password from the URL")
	}
	if u.Fragment != "" {
		return fmt.Errorf("remove the #fragment from the URL")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
	case "http":
		if !hosts.IsLoopback(u.Host) {
			return fmt.Errorf("http:// is allowed only for loopback addresses (127.0.0.1, ::1, localhost); use https://")
		}
	default:
		return fmt.Errorf("use an https:// URL (or http:// on a loopback address)")
	}
	return nil
}

// List returns settings for display. With a host, it returns the global
// settings and every per-host key of that host, set or not, with defaults.
// With host "", it returns the global settings and the keys each configured
// host sets. Secret values are masked. A host name that is not valid gives
// the global settings only.
func (f *File) List(host string) []Setting {
	var out []Setting
	for _, k := range keys {
		if k.Global {
			v := f.getGlobal(k.Name)
			out = append(out, Setting{Key: k.Name, Value: v, IsSet: v != "", Default: globalDefault(k.Name)})
		}
	}
	if host == "" {
		for _, name := range f.HostNames() {
			hp, err := hosts.Parse(name)
			if err != nil {
				continue
			}
			for _, k := range keys {
				if k.Global {
					continue
				}
				if v := hostValue(f.Hosts[name], k.Name); v != "" {
					out = append(out, hostSetting(f.Hosts[name], hp, k))
				}
			}
		}
		return out
	}
	hp, err := hosts.Parse(host)
	if err != nil {
		return out
	}
	h := f.Hosts[hp.Name]
	for _, k := range keys {
		if !k.Global {
			out = append(out, hostSetting(h, hp, k))
		}
	}
	return out
}

func hostSetting(h *Host, hp hosts.Host, k Key) Setting {
	v := hostValue(h, k.Name)
	s := Setting{Host: hp.Name, Key: k.Name, Value: v, IsSet: v != "", Default: hostDefault(h, hp, k.Name)}
	if k.Secret && v != "" {
		s.Value = Mask
	}
	return s
}

func globalDefault(key string) string {
	if key == "keyring_timeout" {
		return DefaultKeyringTimeout.String()
	}
	return ""
}

func hostDefault(h *Host, hp hosts.Host, key string) string {
	if h != nil && h.Protocol != "" {
		hp.Scheme = h.Protocol
	}
	ep := h.Endpoints(hp)
	switch key {
	case "protocol":
		return hp.Scheme
	case "scopes":
		return strings.Join(DefaultScopes, ",")
	case "store":
		return "keyring"
	case "device_code_url":
		return ep.DeviceCodeURL
	case "authorize_url":
		return ep.AuthorizeURL
	case "token_url":
		return ep.TokenURL
	case "api_url":
		return ep.APIURL
	case "userinfo_url":
		return ep.UserInfoURL
	case "login_field":
		return "login"
	case "client_auth":
		return "body"
	case "pkce", "git_prompt":
		return "true"
	}
	return ""
}

// SortedSettings orders settings by host ("" first) then Keys order.
func SortedSettings(s []Setting) {
	order := map[string]int{}
	for i, k := range keys {
		order[k.Name] = i
	}
	sort.SliceStable(s, func(i, j int) bool {
		if s[i].Host != s[j].Host {
			return s[i].Host < s[j].Host
		}
		return order[s[i].Key] < order[s[j].Key]
	})
}
