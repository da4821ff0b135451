package githubapi

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// UnauthorizedError is a dead token: the server answered 401, or 403 with
// WWW-Authenticate: Bearer error="invalid_token" (RFC 6750 §3.1). The token
// was revoked, has expired or is not valid, and only a new login helps.
type UnauthorizedError struct {
	// Host is the API host that answered ("" when unknown).
	Host string
	// Status is the HTTP status: 401, or 403 (0 is read as 401).
	Status int
	// Description is the challenge's error_description, sanitised ("" when
	// none).
	Description string
}

// Error names the host that rejected the token.
func (e *UnauthorizedError) Error() string {
	who := "the server"
	if e.Host != "" {
		who = e.Host
	}
	status := "HTTP 401"
	if e.Status != 0 && e.Status != http.StatusUnauthorized {
		status = fmt.Sprintf("HTTP %d, invalid_token", e.Status)
	}
	msg := fmt.Sprintf("%s rejected the token (%s): it was revoked or has expired", who, status)
	if e.Description != "" {
		msg += " (" + e.Description + ")"
	}
	return msg
}

// LoginHost is the host a person logs in to for e.Host: github.com's API
// lives on api.github.com, but people log in to github.com.
func (e *UnauthorizedError) LoginHost() string {
	if strings.EqualFold(e.Host, "api.github.com") {
		return "github.com"
	}
	return e.Host
}

// IsUnauthorized reports whether err is a dead token (*UnauthorizedError):
// the one test that status, git's erase and token use.
func IsUnauthorized(err error) bool {
	var ue *UnauthorizedError
	return errors.As(err, &ue)
}

// SSORequiredError is GitHub's answer for a token that is valid but not yet
// authorized for an organisation that enforces SAML single sign-on: 403 with
// X-GitHub-SSO: required; url=… ("Authorizing a personal access token for
// use with SAML single sign-on"). It is not a dead token.
type SSORequiredError struct {
	// Host is the API host that answered.
	Host string
	// URL is the page where the person authorizes the token: an https URL
	// that passed safe.CheckURL, or "" when the server sent none usable.
	URL string
}

// Error says what the organisation requires.
func (e *SSORequiredError) Error() string {
	return e.Host + " requires this token to be authorized for an organisation's SAML single sign-on (HTTP 403)"
}

// IsSSORequired reports whether err is a *SSORequiredError.
func IsSSORequired(err error) bool {
	var se *SSORequiredError
	return errors.As(err, &se)
}

// Rejection applies the dead-token rule to a reply from a resource server
// (the API, a userinfo endpoint) that was sent a token: a *UnauthorizedError
// for 401, or for 403 with error="invalid_token"; a *SSORequiredError for
// GitHub's 403 with X-GitHub-SSO: required; nil for anything else (other
// 403s included, which callers report as forbidden). host names the server
// in the error.
func Rejection(host string, status int, h http.Header) error {
	switch status {
	case http.StatusUnauthorized:
		return &UnauthorizedError{Host: host, Status: status, Description: bearerDescription(h)}
	case http.StatusForbidden:
		if u, ok := ssoRequired(h); ok {
			return &SSORequiredError{Host: host, URL: u}
		}
		if p := BearerChallenge(h); p != nil && p["error"] == "invalid_token" {
			return &UnauthorizedError{Host: host, Status: status, Description: bearerDescription(h)}
		}
	}
	return nil
}

func bearerDescription(h http.Header) string {
	if p := BearerChallenge(h); p != nil {
		return safe.Short(p["error_description"], 200)
	}
	return ""
}

// ssoRequired reads X-GitHub-SSO: "required; url=URL". The URL is kept only
// when it is an https URL that passes safe.CheckURL and holds nothing
// safe.Text would change; ok is true for "required" with or without one.
func ssoRequired(h http.Header) (string, bool) {
	for _, v := range h.Values("X-GitHub-SSO") {
		state, rest, _ := strings.Cut(v, ";")
		if !strings.EqualFold(strings.TrimSpace(state), "required") {
			continue
		}
		// The URL runs to the end of the field: its query may hold ";".
		i := strings.Index(strings.ToLower(rest), "url=")
		if i < 0 {
			return "", true
		}
		value := strings.TrimSpace(rest[i+len("url="):])
		if u, err := safe.CheckURL(value); err == nil && strings.EqualFold(u.Scheme, "https") &&
			safe.Text(value) == value && len(value) <= 2048 {
			return value, true
		}
		return "", true
	}
	return "", false
}

// BearerChallenge returns the auth-params of the Bearer challenge in h's
// WWW-Authenticate fields (RFC 9110 §11.6.1, RFC 6750 §3), with lower-case
// names, or nil when there is none. Go's standard library has no parser
// for this header, and the grammar needed here is small.
func BearerChallenge(h http.Header) map[string]string {
	for _, v := range h.Values("WWW-Authenticate") {
		p := &challengeParser{s: v}
		for !p.end() {
			scheme := p.token()
			if scheme == "" {
				p.skipPast(',')
				continue
			}
			params := p.params()
			if strings.EqualFold(scheme, "Bearer") {
				return params
			}
		}
	}
	return nil
}

// challengeParser reads challenges: scheme [ token68 | auth-param *( ","
// auth-param ) ], challenges separated by commas.
type challengeParser struct {
	s string
	i int
}

func (p *challengeParser) end() bool { p.space(); return p.i >= len(p.s) }

func (p *challengeParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *challengeParser) skipPast(c byte) {
	for p.i < len(p.s) && p.s[p.i] != c {
		p.i++
	}
	if p.i < len(p.s) {
		p.i++
	}
}

// token reads an RFC 9110 token (tchar+).
func (p *challengeParser) token() string {
	p.space()
	start := p.i
	for p.i < len(p.s) && isTchar(p.s[p.i]) {
		p.i++
	}
	return p.s[start:p.i]
}

// params reads the auth-params that follow a scheme, stopping before the
// next challenge's scheme.
func (p *challengeParser) params() map[string]string {
	out := map[string]string{}
	for {
		if p.end() {
			return out
		}
		if p.s[p.i] == ',' { // an empty list element
			p.i++
			continue
		}
		save := p.i
		name := p.token()
		if name == "" {
			p.skipPast(',')
			continue
		}
		p.space()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			p.i = save // not an auth-param: the next challenge's scheme
			return out
		}
		p.i++ // '='
		p.space()
		var value string
		if p.i < len(p.s) && p.s[p.i] == '"' {
			value = p.quoted()
		} else {
			value = p.token()
			for p.i < len(p.s) && p.s[p.i] == '=' { // token68 padding
				p.i++
			}
		}
		out[strings.ToLower(name)] = value
		p.space()
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return out
	}
}

// quoted reads a quoted-string, undoing quoted-pairs.
func (p *challengeParser) quoted() string {
	var b strings.Builder
	p.i++ // opening quote
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String()
		case '\\':
			if p.i < len(p.s) {
				b.WriteByte(p.s[p.i])
				p.i++
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isTchar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0
}
