// Package githubapi asks a host's API who a token belongs to: GET /user with
// Authorization: Bearer gives the login, and X-OAuth-Scopes the granted scopes.
// For generic OAuth servers the same call goes to the configured userinfo URL
// and reads the configured login field.
package githubapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

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
	Host string
}

func (e *UnauthorizedError) Error() string {
	if e.Host == "" {
		return "the server rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login"
	}
	// github.com's API lives on api.github.com, but people log in to github.com.
	login := e.Host
	if strings.EqualFold(login, "api.github.com") {
		login = "github.com"
	}
	return fmt.Sprintf("%s rejected the token (HTTP 401): it was revoked or has expired; log in again with: ghlogin login --host %s", e.Host, login)
}

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
	u, err := url.Parse(userURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("invalid user info URL %q", userURL)
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
	hc := c.HTTPClient
	if hc == nil {
		hc = &http.Client{Timeout: timeout}
	}
	resp, err := hc.Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, ctx.Err()
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, &oauth.NetworkError{Endpoint: u.Scheme + "://" + u.Host + u.Path, Err: err}
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
		return nil, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: fmt.Sprintf("the user info reply has no usable %q field (check the host's userinfo_url and login_field settings)", loginField)}
	}
	user := &User{Login: login}
	if v, present := resp.Header["X-Oauth-Scopes"]; present {
		user.ScopesKnown = true
		user.Scopes = oauth.SplitScopes(strings.Join(v, ","))
	}
	return user, nil
}

// usableLogin reports whether a login read from a server can be used as an
// account name: non-empty, at most 255 bytes, printable (no control, format or
// space characters that could forge terminal output), no path separators, and
// not "." or "..".
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
