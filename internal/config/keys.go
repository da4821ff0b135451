package config

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth/grammar"
)

// DefaultScopes are the scopes requested when a host sets none.
var DefaultScopes = []string{"repo", "read:org", "gist"}

// MaxKeyringTimeout is the largest keyring_timeout accepted.
const MaxKeyringTimeout = 5 * time.Minute

// scope is what a setting reads and writes: the whole file for a global
// key; for a per-host key, one host's entry (never nil: an empty entry for
// a host the file does not name) and the host, whose Scheme is the one the
// entry's protocol setting chooses.
type scope struct {
	file *File
	host *Host
	name hosts.Host
}

// setting is one row of the settings table: everything ghlogin knows about
// a key. Adding a setting means adding a row here (and its field to File or
// Host); Get, Set, Unset, List, the key lists and Host.HasSettings all read
// the table.
type setting struct {
	Key
	// get returns the value the file sets, in its canonical spelling, or
	// "" when the key is unset.
	get func(s scope) string
	// set checks a value (trimmed; never "") and stores it, or returns why
	// it is not accepted; the error becomes an *InvalidValueError's reason.
	set func(s scope, value string) error
	// unset removes the setting.
	unset func(s scope)
	// def returns what applies when the key is unset ("" when nothing does).
	def func(s scope) string
}

// settings is the table of every setting, per-host keys first (in the order
// `ghlogin config list` shows them), then global ones.
var settings = []setting{
	{
		Key: Key{Name: "protocol", Example: "https", Values: []string{"https", "http"},
			Help: "https (default), or http for a loopback host only"},
		get: func(s scope) string { return s.host.Protocol },
		set: func(s scope, v string) error {
			switch v = strings.ToLower(v); v {
			case "https":
			case "http":
				if !safe.IsLoopback(s.name.Name) {
					return errors.New("http is allowed only for loopback hosts (127.0.0.1, ::1, localhost); use https")
				}
			default:
				return errors.New("use https (or http for a loopback host)")
			}
			s.host.Protocol = v
			return nil
		},
		unset: func(s scope) { s.host.Protocol = "" },
		def:   func(s scope) string { return s.name.Scheme },
	},
	textKey(Key{Name: "client_id", Example: "Iv1.0123456789abcdef",
		Help: "the OAuth app's (or GitHub App's) client ID"},
		func(h *Host) *string { return &h.ClientID }, checkClientCredential, nil),
	textKey(Key{Name: "client_secret", Secret: true, Example: "0123456789abcdef0123456789abcdef01234567",
		Help: "the OAuth app's client secret (web flow only)"},
		func(h *Host) *string { return &h.ClientSecret }, checkClientCredential, nil),
	{
		Key: Key{Name: "scopes", Example: "repo,read:org",
			Help: "scopes to request, comma separated (default: repo,read:org,gist on GitHub hosts; openid,profile,email,offline_access on OpenID Connect hosts, those the server supports)"},
		get: func(s scope) string { return strings.Join(s.host.Scopes, ",") },
		set: func(s scope, v string) error {
			scopes, err := ParseScopes(v)
			if err != nil {
				return err
			}
			s.host.Scopes = scopes
			return nil
		},
		unset: func(s scope) { s.host.Scopes = nil },
		def:   func(s scope) string { return strings.Join(DefaultScopesFor(s.host.Kind(), nil), ",") },
	},
	enumKey(Key{Name: "store", Example: "file",
		Help: "where new tokens are kept: keyring (default), kernel (Linux kernel keyring, in memory) or file"},
		func(h *Host) *string { return &h.Store },
		"use keyring, kernel or file", "keyring", "kernel", "file"),
	{
		Key: Key{Name: "issuer", Example: "https://sso.example.com/dex",
			Help: "OpenID Connect issuer: every endpoint is read from ISSUER/.well-known/openid-configuration (its host must be this host)"},
		get: func(s scope) string { return s.host.Issuer },
		set: func(s scope, v string) error {
			u, err := CheckIssuer(v)
			if err != nil {
				return err
			}
			if h := hosts.Normalize(u.Host, u.Scheme); h != s.name.Name {
				return fmt.Errorf("the issuer's host is %s, not %s; set it on --host %s", safe.Short(h, 100), s.name.Name, safe.Short(u.Scheme+"://"+u.Host, 100))
			}
			s.host.Issuer = v
			if strings.EqualFold(u.Scheme, "http") {
				// The host is the issuer's: a loopback issuer on http makes
				// the host http too (as `protocol http` would).
				s.host.Protocol = "http"
			}
			return nil
		},
		unset: func(s scope) { s.host.Issuer = "" },
		def:   func(scope) string { return "" },
	},
	urlKey(Key{Name: "device_code_url", Example: "https://auth.example.com/oauth/device/code",
		Help: "device authorization endpoint (RFC 8628)"},
		func(h *Host) *string { return &h.DeviceCodeURL }, false,
		func(e hosts.Endpoints) string { return e.DeviceCodeURL }),
	urlKey(Key{Name: "authorize_url", Example: "https://auth.example.com/oauth/authorize",
		Help: "authorization endpoint for the web flow"},
		func(h *Host) *string { return &h.AuthorizeURL }, false,
		func(e hosts.Endpoints) string { return e.AuthorizeURL }),
	urlKey(Key{Name: "token_url", Example: "https://auth.example.com/oauth/token",
		Help: "token endpoint"},
		func(h *Host) *string { return &h.TokenURL }, false,
		func(e hosts.Endpoints) string { return e.TokenURL }),
	urlKey(Key{Name: "api_url", Example: "https://auth.example.com/api",
		Help: "REST API root (GitHub: https://api.github.com or https://HOST/api/v3)"},
		func(h *Host) *string { return &h.APIURL }, true,
		func(e hosts.Endpoints) string { return e.APIURL }),
	urlKey(Key{Name: "userinfo_url", Example: "https://auth.example.com/userinfo",
		Help: "URL that returns the signed-in user as JSON (default api_url + /user)"},
		func(h *Host) *string { return &h.UserInfoURL }, false,
		func(e hosts.Endpoints) string { return e.UserInfoURL }),
	{
		Key: Key{Name: "revocation_url", Example: "https://auth.example.com/oauth/revoke",
			Help: "token revocation endpoint (RFC 7009), used by logout; OpenID Connect hosts read it from discovery, GitHub hosts use the API"},
		get: func(s scope) string { return s.host.RevocationURL },
		set: func(s scope, v string) error {
			if err := validateLike(v, "https://auth.example.com/oauth/revoke"); err != nil {
				return err
			}
			s.host.RevocationURL = v
			return nil
		},
		unset: func(s scope) { s.host.RevocationURL = "" },
		def:   func(scope) string { return "" },
	},
	textKey(Key{Name: "login_field", Example: "preferred_username",
		Help: "JSON field of the userinfo reply holding the login (default login)"},
		func(h *Host) *string { return &h.LoginField }, checkLoginField,
		func(s scope) string { return s.host.Endpoints(s.name).LoginField }),
	{
		// The values --client-auth takes (grammar.ParseAuthStyle), kept in
		// their canonical spelling: "post" is stored as "body".
		Key: Key{Name: "client_auth", Example: "basic", Values: []string{"body", "basic"},
			Help: "how the client authenticates at the token endpoint: body (default; also post) or basic (also header)"},
		get: func(s scope) string { return s.host.ClientAuth },
		set: func(s scope, v string) error {
			style, err := grammar.ParseAuthStyle(v)
			if err != nil {
				return errors.New("use body (client_id in the request body, as GitHub wants) or basic (HTTP Basic authentication)")
			}
			s.host.ClientAuth = style.String()
			return nil
		},
		unset: func(s scope) { s.host.ClientAuth = "" },
		def:   func(scope) string { return grammar.AuthInBody.String() },
	},
	boolKey(Key{Name: "pkce", Example: "false",
		Help: "use PKCE (S256) in the web flow: true (default) or false"},
		func(h *Host) **bool { return &h.PKCE }),
	{
		Key: Key{Name: "callback_port", Example: "8123",
			Help: "fixed loopback port for the web flow's redirect, 1-65535 (default: any free port)"},
		get: func(s scope) string {
			if s.host.CallbackPort == 0 {
				return ""
			}
			return strconv.Itoa(s.host.CallbackPort)
		},
		set: func(s scope, v string) error {
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || n > 65535 {
				return errors.New("use a port number from 1 to 65535 (or unset it for any free port)")
			}
			s.host.CallbackPort = n
			return nil
		},
		unset: func(s scope) { s.host.CallbackPort = 0 },
		def:   func(scope) string { return "" },
	},
	boolKey(Key{Name: "git_prompt", Example: "false",
		Help: "let the git credential helper start a login when it has no token: true (default) or false"},
		func(h *Host) **bool { return &h.GitPrompt }),
	{
		Key: Key{Name: "keyring_timeout", Global: true, Example: "10s",
			Help: "longest wait for the OS keyring, e.g. 3s (default 3s)"},
		get: func(s scope) string {
			if s.file.KeyringTimeout > 0 {
				return s.file.KeyringTimeout.String()
			}
			return ""
		},
		set: func(s scope, v string) error {
			d, err := time.ParseDuration(v)
			if err != nil {
				return errors.New(`write a duration such as "3s" or "500ms"`)
			}
			if d <= 0 || d > MaxKeyringTimeout {
				return errors.New("give a duration above 0 and at most " + MaxKeyringTimeout.String())
			}
			s.file.KeyringTimeout = Duration(d)
			return nil
		},
		unset: func(s scope) { s.file.KeyringTimeout = 0 },
		def:   func(scope) string { return DefaultKeyringTimeout.String() },
	},
}

// textKey is a per-host string setting whose value check is check; a nil
// def means no default.
func textKey(k Key, field func(*Host) *string, check func(string) error, def func(scope) string) setting {
	if def == nil {
		def = func(scope) string { return "" }
	}
	return setting{
		Key: k,
		get: func(s scope) string { return *field(s.host) },
		set: func(s scope, v string) error {
			if err := check(v); err != nil {
				return err
			}
			*field(s.host) = v
			return nil
		},
		unset: func(s scope) { *field(s.host) = "" },
		def:   def,
	}
}

// enumKey is a per-host setting that takes one of values (any case; the
// first is the default), with reason saying so when it gets another.
func enumKey(k Key, field func(*Host) *string, reason string, values ...string) setting {
	k.Values = values
	return setting{
		Key: k,
		get: func(s scope) string { return *field(s.host) },
		set: func(s scope, v string) error {
			v = strings.ToLower(v)
			for _, ok := range values {
				if v == ok {
					*field(s.host) = v
					return nil
				}
			}
			return errors.New(reason)
		},
		unset: func(s scope) { *field(s.host) = "" },
		def:   func(scope) string { return values[0] },
	}
}

// urlKey is a per-host endpoint URL, checked by ValidateURL; def picks its
// default from the host's endpoints. With trimSlash a trailing slash is
// dropped (api_url, to which paths are appended).
func urlKey(k Key, field func(*Host) *string, trimSlash bool, def func(hosts.Endpoints) string) setting {
	return setting{
		Key: k,
		get: func(s scope) string { return *field(s.host) },
		set: func(s scope, v string) error {
			if err := validateLike(v, k.Example); err != nil {
				return err
			}
			if trimSlash {
				v = strings.TrimRight(v, "/")
			}
			*field(s.host) = v
			return nil
		},
		unset: func(s scope) { *field(s.host) = "" },
		def:   func(s scope) string { return def(s.host.Endpoints(s.name)) },
	}
}

// boolKey is a per-host switch that is on unless set to false.
func boolKey(k Key, field func(*Host) **bool) setting {
	k.Values = []string{"true", "false"}
	return setting{
		Key: k,
		get: func(s scope) string {
			if p := *field(s.host); p != nil {
				return strconv.FormatBool(*p)
			}
			return ""
		},
		set: func(s scope, v string) error {
			b, ok := ParseBool(v)
			if !ok {
				return errors.New("use true or false")
			}
			*field(s.host) = &b
			return nil
		},
		unset: func(s scope) { *field(s.host) = nil },
		def:   func(scope) string { return "true" },
	}
}

// checkClientCredential accepts a client ID or secret: printable ASCII
// without spaces, at most 512 characters.
func checkClientCredential(v string) error {
	if len(v) > 512 {
		return errors.New("it is longer than 512 characters")
	}
	for _, r := range v {
		if r <= ' ' || r >= 0x7f {
			return errors.New("it may hold only printable ASCII characters without spaces")
		}
	}
	return nil
}

// checkLoginField accepts a JSON field name.
func checkLoginField(v string) error {
	for _, r := range v {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("_-.:", r)) {
			return errors.New("use a JSON field name such as login, preferred_username or sub")
		}
	}
	return nil
}

// lookup returns the table row of the setting named name.
func lookup(name string) (*setting, error) {
	for i := range settings {
		if settings[i].Name == name {
			return &settings[i], nil
		}
	}
	return nil, &UnknownKeyError{Key: name, Valid: KeyNames()}
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
		if !grammar.IsScopeToken(f) {
			return nil, fmt.Errorf("scope %q holds a character scopes may not contain", f)
		}
		if !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out, nil
}

// URLError is a URL that ValidateURL refuses. Its message is the reason
// alone (the caller names the setting or flag); it unwraps to the
// *safe.URLError that says which rule the URL breaks.
type URLError struct{ *safe.URLError }

// Error says what is wrong with the URL.
func (e *URLError) Error() string { return e.Reason }

// Unwrap returns the *safe.URLError.
func (e *URLError) Unwrap() error { return e.URLError }

// IssuerError is an issuer URL that breaks a rule of OpenID Connect
// Discovery 1.0 §2 beyond the URL rules (CheckIssuer).
type IssuerError struct {
	// Issuer is the value as given.
	Issuer string
	// Reason says what is wrong, as a sentence fragment.
	Reason string
}

// Error gives the reason.
func (e *IssuerError) Error() string { return e.Reason }

// CheckIssuer reads an OpenID Connect issuer URL: ghlogin's URL policy
// (https, or http on a loopback address; no user info or fragment; errors
// *URLError) and no query (OpenID Connect Discovery 1.0 §2; *IssuerError).
// An issuer may have a path (https://sso.example.com/dex).
func CheckIssuer(s string) (*url.URL, error) {
	if err := ValidateURL(s); err != nil {
		return nil, err
	}
	u, _ := url.Parse(s)
	if u.RawQuery != "" || u.ForceQuery {
		return nil, &IssuerError{Issuer: s, Reason: "an issuer URL has no query (?...)"}
	}
	return u, nil
}

// ValidateEndpoint is ValidateURL for the endpoint setting key (or its
// flag): a value that is not an absolute URL is answered with that
// endpoint's own example (a device endpoint for device_code_url, not a
// token endpoint).
func ValidateEndpoint(key, s string) error {
	example := ""
	if st, err := lookup(key); err == nil {
		example = st.Example
	}
	return validateLike(s, example)
}

// validateLike is ValidateURL, whose "give an absolute URL" names example
// when it is not "".
func validateLike(s, example string) error {
	err := ValidateURL(s)
	var ue *URLError
	if errors.As(err, &ue) && ue.Problem == safe.NotAbsolute && example != "" {
		ue.Reason = "give an absolute URL such as " + example
	}
	return err
}

// ValidateURL applies ghlogin's URL policy (safe.CheckURL) to an endpoint
// setting or flag: an absolute https URL, or an http URL whose host is a
// loopback address, without user info or a fragment. Errors are *URLError.
func ValidateURL(s string) error {
	_, err := safe.CheckURL(s)
	var ue *safe.URLError
	if errors.As(err, &ue) {
		return &URLError{ue}
	}
	return err
}
