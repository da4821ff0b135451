// Package hosts names hosts the way git does and derives their OAuth and API
// endpoints: github.com, GitHub Enterprise Server by hostname, or any OAuth 2.0
// server whose endpoints are set explicitly.
package hosts

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// GitHub is the default host.
const GitHub = "github.com"

// Host is a normalized host: Name is the key used everywhere (lower case,
// default port dropped, as git names it in credential requests), Scheme is
// "https", or "http" for a loopback address only.
type Host struct {
	Name   string
	Scheme string
}

// Error is a host that cannot be used, with the reason.
type Error struct {
	Input  string
	Reason string
	// Path reports a URL with a path (or query), which a host cannot have
	// but an OpenID Connect issuer can.
	Path bool
}

func (e *Error) Error() string {
	return fmt.Sprintf("invalid host %q: %s", e.Input, e.Reason)
}

// Parse reads a --host value: a bare name ("github.com", "ghe.example.com",
// "127.0.0.1:8787"; https implied) or a URL ("https://ghe.example.com",
// "http://127.0.0.1:8787"). http:// is refused unless the address is loopback.
func Parse(s string) (Host, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return Parse(GitHub)
	}
	scheme := "https"
	rest := in
	if i := strings.Index(in, "://"); i >= 0 {
		u, err := url.Parse(in)
		if err != nil {
			return Host{}, &Error{Input: in, Reason: "not a valid URL"}
		}
		scheme = strings.ToLower(u.Scheme)
		if scheme != "https" && scheme != "http" {
			return Host{}, &Error{Input: in, Reason: "only https:// (or http:// on a loopback address) is supported"}
		}
		if u.User != nil {
			return Host{}, &Error{Input: in, Reason: "remove the user name from the host"}
		}
		if p := u.EscapedPath(); (p != "" && p != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "" || strings.ContainsAny(in, "?#") {
			return Host{}, &Error{Input: in, Reason: "give only the scheme and host, without a path", Path: true}
		}
		rest = u.Host
	}
	name, err := normalize(rest, scheme)
	if err != nil {
		return Host{}, &Error{Input: in, Reason: err.Error()}
	}
	if scheme == "http" && !safe.IsLoopback(name) {
		return Host{}, &Error{Input: in, Reason: "http:// is allowed only for loopback addresses (127.0.0.1, ::1, localhost); use https://"}
	}
	return Host{Name: name, Scheme: scheme}, nil
}

// Normalize returns the key for a host name: lower case, without the default
// port of scheme ("https" when empty). It returns "" for names that are not valid.
func Normalize(name, scheme string) string {
	if scheme == "" {
		scheme = "https"
	}
	n, err := normalize(name, strings.ToLower(scheme))
	if err != nil {
		return ""
	}
	return n
}

func normalize(hostport, scheme string) (string, error) {
	hp := strings.ToLower(strings.TrimSpace(hostport))
	if hp == "" {
		return "", errors.New("the host name is empty")
	}
	for _, r := range hp {
		if r <= ' ' || r == 0x7f || strings.ContainsRune("/\\@?#%\"'<>`{}|^", r) {
			return "", fmt.Errorf("the host name contains %q", r)
		}
	}
	host, port := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.Index(hp, "]")
		if end < 0 {
			return "", errors.New("unbalanced brackets in an IPv6 address")
		}
		host = hp[1:end]
		rest := hp[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", errors.New("unexpected text after the IPv6 address")
			}
			port = rest[1:]
		}
		if net.ParseIP(host) == nil {
			return "", errors.New("not a valid IPv6 address")
		}
	} else if strings.Count(hp, ":") == 1 {
		host, port, _ = strings.Cut(hp, ":")
	} else if strings.Count(hp, ":") > 1 {
		return "", errors.New("write IPv6 addresses in brackets, as [::1]:8787")
	}
	host = strings.TrimSuffix(host, ".")
	if host == "" {
		return "", errors.New("the host name is empty")
	}
	if net.ParseIP(host) == nil {
		if len(host) > 253 {
			return "", errors.New("the host name is too long (253 characters at most)")
		}
		for _, label := range strings.Split(host, ".") {
			if label == "" || len(label) > 63 {
				return "", errors.New("the host name has an empty or overlong label")
			}
			for _, r := range label {
				if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
					return "", fmt.Errorf("the host name contains %q", r)
				}
			}
		}
	}
	if port != "" {
		for _, r := range port {
			if r < '0' || r > '9' {
				return "", errors.New("the port is not a number")
			}
		}
		if len(port) > 5 || atoi(port) == 0 || atoi(port) > 65535 {
			return "", errors.New("the port is out of range")
		}
		port = fmt.Sprint(atoi(port))
		if (scheme == "https" && port == "443") || (scheme == "http" && port == "80") {
			port = ""
		}
	}
	if strings.Contains(host, ":") {
		host = "[" + host + "]"
	}
	if port != "" {
		return host + ":" + port, nil
	}
	return host, nil
}

func atoi(s string) int {
	n := 0
	for _, r := range s {
		n = n*10 + int(r-'0')
		if n > 1<<20 {
			return n
		}
	}
	return n
}

// IsLoopback reports whether a host name (with or without port) is a loopback
// address or "localhost". It is safe.IsLoopback, ghlogin's one loopback rule.
//
// Deprecated: call safe.IsLoopback.
func IsLoopback(hostport string) bool { return safe.IsLoopback(hostport) }

// URL returns scheme://name.
func (h Host) URL() string { return h.Scheme + "://" + h.Name }

// String returns the host's name.
func (h Host) String() string { return h.Name }

// Arg returns the --host value that names h on a command line: its name,
// or its URL when it speaks plain http (a loopback server), since a bare
// name means https. Every step ghlogin suggests names a host this way.
func (h Host) Arg() string { return Arg(h.Name, h.Scheme) }

// Arg is Host.Arg for a host name and scheme.
func Arg(name, scheme string) string {
	if strings.EqualFold(scheme, "http") {
		return "http://" + name
	}
	return name
}

// IsGitHub reports whether h is github.com.
func (h Host) IsGitHub() bool { return h.Name == GitHub }

// Endpoints are the URLs a login uses.
type Endpoints struct {
	DeviceCodeURL string `json:"device_code_url"`
	AuthorizeURL  string `json:"authorize_url"`
	TokenURL      string `json:"token_url"`
	// APIURL is GitHub's REST API root (https://api.github.com, or /api/v3).
	APIURL string `json:"api_url"`
	// UserInfoURL is where the login is read with the new token; by default
	// APIURL + "/user".
	UserInfoURL string `json:"userinfo_url"`
	// LoginField is the JSON field of the UserInfoURL reply that holds the
	// account's name; by default "login" (GitHub), "preferred_username" or
	// "sub" suit OpenID Connect servers.
	LoginField string `json:"login_field"`
}

// Endpoints derives h's endpoints: github.com's, or GHES's (same paths on the
// host, API at /api/v3), with every non-empty field of override taking precedence.
func (h Host) Endpoints(override Endpoints) Endpoints {
	base := h.URL()
	e := Endpoints{
		DeviceCodeURL: base + "/login/device/code",
		AuthorizeURL:  base + "/login/oauth/authorize",
		TokenURL:      base + "/login/oauth/access_token",
		APIURL:        base + "/api/v3",
		LoginField:    "login",
	}
	if h.IsGitHub() {
		e.APIURL = "https://api.github.com"
	}
	if override.DeviceCodeURL != "" {
		e.DeviceCodeURL = override.DeviceCodeURL
	}
	if override.AuthorizeURL != "" {
		e.AuthorizeURL = override.AuthorizeURL
	}
	if override.TokenURL != "" {
		e.TokenURL = override.TokenURL
	}
	if override.APIURL != "" {
		e.APIURL = strings.TrimRight(override.APIURL, "/")
	}
	e.UserInfoURL = e.APIURL + "/user"
	if override.UserInfoURL != "" {
		e.UserInfoURL = override.UserInfoURL
	}
	if override.LoginField != "" {
		e.LoginField = override.LoginField
	}
	return e
}
