// Package githubapi asks a host's API who a token belongs to: GET /user with
// Authorization: Bearer gives the login, and X-OAuth-Scopes the granted scopes.
// For generic OAuth servers the same call goes to the configured userinfo URL
// and reads the configured login field; UserInfo returns an OpenID Connect
// server's claims. DeleteAppToken revokes a token through GitHub's API.
//
// One rule says when the server has rejected a token (Rejection): a 401, or
// a 403 whose WWW-Authenticate says error="invalid_token" (RFC 6750 §3.1),
// is a dead token (*UnauthorizedError, IsUnauthorized); GitHub's 403 with
// X-GitHub-SSO: required is a token that needs authorizing for an
// organisation's SAML single sign-on (*SSORequiredError); any other 403
// stays a forbidden request (*oauth.HTTPError). Errors carry data (host,
// field, status); internal/hint says what to do about them.
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
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
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
	// Login is the account name: a value UsableLogin accepts.
	Login string
	// LoginField is the field Login was read from: the configured one, or
	// the LoginFallbacks claim used instead.
	LoginField string
	// Name is how to show the person when it is not Login: the configured
	// field's value when that was not usable as a login, else the reply's
	// "name"; sanitised (safe.Short), "" when none.
	Name string
	// Scopes are from X-OAuth-Scopes; nil when the server does not send it.
	Scopes []string
	// ScopesKnown is true when the server sent X-OAuth-Scopes.
	ScopesKnown bool
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

// GetUser calls userURL (for GitHub, API root + "/user") with token and reads
// the login from loginField ("login" when empty). When that field is
// missing or holds no usable login (UsableLogin) — a display name such as
// "Admin User", say — the OpenID Connect claims preferred_username, email
// and sub are tried in turn (LoginFallbacks), and the field's value, when it
// is text, becomes User.Name: a login's odd field never throws an approved
// token away. Errors: *UnauthorizedError for a dead token (IsUnauthorized),
// *SSORequiredError, *LoginFieldError, *oauth.HTTPError, *oauth.NetworkError.
func (c *Client) GetUser(ctx context.Context, userURL, loginField, token string) (*User, error) {
	if loginField == "" {
		loginField = "login"
	}
	body, header, status, err := c.getJSON(ctx, userURL, token)
	if err != nil {
		return nil, err
	}
	// A login or name that holds the token is the server echoing it: not
	// a name to store or show.
	usable := func(v string) bool { return UsableLogin(v) && !safe.HasSecret(v, token) }
	user := &User{LoginField: loginField}
	if v, ok := body[loginField].(string); ok && usable(v) {
		user.Login = v
	} else {
		for _, f := range LoginFallbacks {
			if v, ok := body[f].(string); ok && f != loginField && usable(v) {
				user.Login, user.LoginField = v, f
				break
			}
		}
		if user.Login == "" {
			return nil, &LoginFieldError{Field: loginField, Err: &oauth.HTTPError{StatusCode: status,
				Detail: fmt.Sprintf("the user info reply has no usable %q field", safe.Short(loginField, 100))}}
		}
		if v, ok := body[loginField].(string); ok {
			user.Name = safe.Short(safe.Redact(v, token), 200)
		}
	}
	if user.Name == "" {
		if v, ok := body["name"].(string); ok && v != user.Login {
			user.Name = safe.Short(safe.Redact(v, token), 200)
		}
	}
	if v, present := header["X-Oauth-Scopes"]; present {
		user.ScopesKnown = true
		// SplitScopes keeps only scope-tokens (RFC 6749 §3.3): what is
		// stored and shown holds no control character.
		user.Scopes = oauth.SplitScopes(strings.Join(v, ","))
	}
	return user, nil
}

// LoginFallbacks are the claims GetUser reads, in order, when the configured
// login field gives no usable login (OpenID Connect Core 1.0 §5.1).
var LoginFallbacks = []string{"preferred_username", "email", "sub"}

// UserInfo calls an OpenID Connect userinfo endpoint (OpenID Connect Core
// 1.0 §5.3) with token and returns its claims. Errors are GetUser's, except
// *LoginFieldError.
func (c *Client) UserInfo(ctx context.Context, userinfoURL, token string) (map[string]any, error) {
	body, _, _, err := c.getJSON(ctx, userinfoURL, token)
	return body, err
}

// getJSON GETs rawURL with the token and returns the reply's JSON object,
// its header and status. A 401, or a 403 that says invalid_token, is a
// *UnauthorizedError; GitHub's SAML 403 a *SSORequiredError. Whatever the
// server echoes, neither the token nor a secret ctx names
// (oauth.WithSecrets: the refresh and ID tokens that go with it) is in the
// error (redact).
func (c *Client) getJSON(ctx context.Context, rawURL, token string) (map[string]any, http.Header, int, error) {
	body, header, status, err := c.get(ctx, rawURL, token)
	return body, header, status, redact(err, append(oauth.SecretsFrom(ctx), token)...)
}

// redact removes secrets from the server's text in an error of this
// package's requests: the one place where what the API answers meets the
// token (or the app's credentials) the request carried.
func redact(err error, secrets ...string) error {
	var ue *UnauthorizedError
	if errors.As(err, &ue) && ue == err {
		c := *ue
		c.Description = safe.Short(safe.Redact(c.Description, secrets...), 200)
		return &c
	}
	return oauth.RedactError(err, secrets...)
}

// get is getJSON before redaction.
func (c *Client) get(ctx context.Context, rawURL, token string) (map[string]any, http.Header, int, error) {
	u, err := safe.CheckURL(rawURL)
	if err != nil {
		return nil, nil, 0, fmt.Errorf("invalid user info URL: %w", err)
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, nil, 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/vnd.github+json, application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	// The request carries the token (Authorization), so the one redirect
	// policy never lets it follow a redirect, whatever the caller's client
	// would do.
	resp, err := safehttp.HTTPClient(c.HTTPClient, timeout).Do(req)
	if err != nil {
		if errors.Is(ctx.Err(), context.Canceled) {
			return nil, nil, 0, ctx.Err()
		}
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			return nil, nil, 0, re
		}
		return nil, nil, 0, &oauth.NetworkError{Endpoint: u.Scheme + "://" + u.Host + u.Path, Err: oauth.StripURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, oauth.MaxBodyBytes+1))
	if err != nil {
		return nil, nil, 0, &oauth.NetworkError{Endpoint: u.Scheme + "://" + u.Host + u.Path, Err: err}
	}
	if err := Rejection(u.Host, resp.StatusCode, resp.Header); err != nil {
		return nil, nil, 0, err
	}
	switch {
	case resp.StatusCode < 200 || resp.StatusCode > 299:
		return nil, nil, 0, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "from " + u.Host + u.Path}
	case len(raw) > oauth.MaxBodyBytes:
		return nil, nil, 0, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "reply larger than 1 MiB"}
	}
	var body map[string]any
	if err := json.Unmarshal(raw, &body); err != nil || body == nil {
		return nil, nil, 0, &oauth.HTTPError{StatusCode: resp.StatusCode, Detail: "the user info reply is not a JSON object"}
	}
	return body, resp.Header, resp.StatusCode, nil
}

// UsableLogin reports whether a login read from a server can be used as an
// account name: non-empty, at most 255 bytes, printable (no control, format or
// space characters that could forge terminal output), no path separators, and
// not "." or "..". It is a grammar for account names, not a sanitiser: what
// prints a login still treats it as server text (safe.Text).
func UsableLogin(login string) bool {
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
