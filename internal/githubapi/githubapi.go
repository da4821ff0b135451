// Package githubapi asks a host's API who a token belongs to: GET /user with
// Authorization: Bearer gives the login, and X-OAuth-Scopes the granted scopes.
// For generic OAuth servers the same call goes to the configured userinfo URL
// and reads the configured login field. Errors carry data (host, field,
// status); internal/hint says what to do about them.
package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// DefaultTimeout bounds one API call when Client.Timeout is zero.
const DefaultTimeout = 15 * time.Second

// Client calls the API. The zero value is ready to use.
type Client struct {
	HTTPClient *http.Client
	Timeout    time.Duration
	UserAgent  string
}

// User is who a token belongs to.
type User struct {
	Login string
	// Scopes are from X-OAuth-Scopes; nil when the server does not send it.
	Scopes []string
	// ScopesKnown is true when the server sent X-OAuth-Scopes.
	ScopesKnown bool
}

// UnauthorizedError is a 401: the token is revoked, expired or not valid.
type UnauthorizedError struct {
	// Host is the API host that answered ("" when unknown).
	Host string
}

// Error names the host that rejected the token.
func (e *UnauthorizedError) Error() string {
	if e.Host == "" {
		return "the server rejected the token (HTTP 401): it was revoked or has expired"
	}
	return fmt.Sprintf("%s rejected the token (HTTP 401): it was revoked or has expired", e.Host)
}

// LoginHost is the host a person logs in to for e.Host: github.com's API
// lives on api.github.com, but people log in to github.com.
func (e *UnauthorizedError) LoginHost() string {
	if strings.EqualFold(e.Host, "api.github.com") {
		return "github.com"
	}
	return e.Host
}

// LoginFieldError is a user info reply without a usable login in the field
// the host is configured to read.
type LoginFieldError struct {
	// Field is the JSON field that was read ("login" for GitHub).
	Field string
	// Err is the reply as an *oauth.HTTPError (its status and a detail).
	Err *oauth.HTTPError
}

// Error gives the status and names the field.
func (e *LoginFieldError) Error() string { return e.Err.Error() }

// Unwrap returns the *oauth.HTTPError.
func (e *LoginFieldError) Unwrap() error { return e.Err }

// IsUnauthorized reports whether err is a 401 from the API.
func IsUnauthorized(err error) bool {
	var ue *UnauthorizedError
	return errors.As(err, &ue)
}

// GetUser calls userURL (for GitHub, API root + "/user") with token and reads
// the login from loginField ("login" when empty).
func (c *Client) GetUser(ctx context.Context, userURL, loginField, token string) (*User, error) {
	if loginField == "" {
		loginField = "login"
	}
	u, err := safe.CheckURL(userURL)
	if err != nil {
		return nil, fmt.Errorf("invalid user info URL: %w", err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json, application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	// The request carries the token (Authorization), so the one redirect
	// policy never lets it follow a redirect, whatever the caller's client
	// would do.
	resp, err := safe.HTTPClient(c.HTTPClient, timeout).Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		var re *safe.RedirectError
		if errors.As(err, &re) {
			return nil, re
		}
		return nil, &oauth.NetworkError{Endpoint: u.Scheme + "://" + u.Host + u.Path, Err: oauth.StripURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, oauth.MaxBodyBytes+1))
	if err != nil {
		return nil, &oauth.NetworkError{Endpoint: u.Scheme + "://" + u.Host + u.Path, Err: err}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized:
		return nil, &UnauthorizedError{Host: u.Host}
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "from " + u.Host + u.Path}
	case len(raw) > oauth.MaxBodyBytes:
		return nil, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "reply larger than 1 MiB"}
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil {
		return nil, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "the user info reply is not a JSON object"}
	}
	login, ok := body[loginField].(string)
	if !ok || !usableLogin(login) {
		return nil, &LoginFieldError{Field: loginField, Err: &oauth.HTTPError{StatusCode: resp.StatusCode,
			Detail: fmt.Sprintf("the user info reply has no usable %q field", safe.Short(loginField, 100))}}
	}
	user := &User{Login: login}
	if v, present := resp.Header["X-Oauth-Scopes"]; present {
		// SplitScopes keeps only scope-tokens (RFC 6749 §3.3): what is
		// stored and shown holds no control character.
		user.ScopesKnown = true
		user.Scopes = oauth.SplitScopes(strings.Join(v, ","))
	}
	return user, nil
}

// usableLogin reports whether a login read from a server can be used as an
// account name: non-empty, at most 255 bytes, printable (no control, format or
// space characters that could forge terminal output), no path separators, and
// not "." or "..". It is a grammar for account names, not a sanitiser: what
// prints a login still treats it as server text (safe.Text).
func usableLogin(login string) bool {
	if login == "" || len(login) > 255 || login == "." || login == ".." || !utf8.ValidString(login) {
		return false
	}
	for _, r := range login {
		if r == ' ' || r == '/' || r == '\\' || r == utf8.RuneError || !unicode.IsPrint(r) {
			return false
		}
	}
	return true
}
