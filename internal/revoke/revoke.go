// Package revoke ends a token on its server, as logout (and a refresh that
// replaces a token) does before the local copy goes:
//
//   - a host with a revocation endpoint (an OpenID Connect server's
//     revocation_endpoint, or the revocation_url setting) gets RFC 7009
//     requests: the refresh token first (token_type_hint=refresh_token,
//     which also ends the access tokens issued with it, RFC 7009 §2.1),
//     then the access token, the client authenticating as it does at the
//     token endpoint;
//   - a GitHub host (an OAuth app or a GitHub App with a client secret) gets
//     DELETE {api}/applications/{client_id}/token with HTTP Basic
//     client_id:client_secret and the token in the body — never
//     /applications/{client_id}/grant, which would end every session the
//     app has for that user;
//   - otherwise (no client secret on GitHub, no endpoint elsewhere) nothing
//     is sent, and *CannotRevokeError names the page where the person can
//     revoke the token (GitHub: https://HOST/settings/connections/applications/CLIENT_ID).
//
// Every request carries a secret and so follows no redirect. The package
// reports; removing the local copy whatever happens is the caller's job.
package revoke

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// Method is how a token is revoked.
type Method string

// The ways to revoke a token.
const (
	// MethodRFC7009: POST to the host's revocation endpoint.
	MethodRFC7009 Method = "rfc7009"
	// MethodGitHub: DELETE {api}/applications/{client_id}/token.
	MethodGitHub Method = "github"
)

// Request is a token to revoke and what its host needs to revoke it.
type Request struct {
	// Host is the token's host (for the page named when it cannot be
	// revoked).
	Host hosts.Host
	// Kind is the kind of server the host is.
	Kind config.Kind
	// APIURL is a GitHub host's REST API root.
	APIURL string
	// RevocationURL is the RFC 7009 endpoint ("" when none).
	RevocationURL string
	// Credentials identify the OAuth app, as at the token endpoint.
	Credentials oauth.Credentials
	// AccessToken and RefreshToken are the tokens to end ("" when none).
	AccessToken, RefreshToken string
	// IDToken is never sent; like the tokens, it is removed from whatever
	// the server answers before that reaches an error.
	IDToken string
}

// RequestFor builds the Request that revokes sec, a secret of a host whose
// endpoints are e (oidcdisc.Resolve or Lookup) and whose app is creds.
func RequestFor(e *oidcdisc.Endpoints, creds oauth.Credentials, sec *store.Secret) Request {
	r := Request{Host: e.Host, Kind: e.Kind, APIURL: e.APIURL, RevocationURL: e.RevocationURL, Credentials: creds}
	if sec != nil {
		r.AccessToken, r.RefreshToken, r.IDToken = sec.Token, sec.RefreshToken, sec.IDToken
	}
	return r
}

// Page returns where a person can revoke the app's access on a GitHub host:
// https://HOST/settings/connections/applications/CLIENT_ID (or the list of
// authorized apps when the client ID is unknown). It is "" for other kinds
// of server, which publish no such page.
func Page(h hosts.Host, kind config.Kind, clientID string) string {
	if kind != config.KindGitHub || h.Name == "" {
		return ""
	}
	if clientID == "" {
		return h.URL() + "/settings/applications"
	}
	return h.URL() + "/settings/connections/applications/" + url.PathEscape(clientID)
}

// Reason says why a token cannot be revoked.
type Reason string

// Why a token cannot be revoked.
const (
	// NoSecret: GitHub revokes a token only for the app's client secret.
	NoSecret Reason = "no client secret"
	// NoEndpoint: the host has no revocation endpoint.
	NoEndpoint Reason = "no revocation endpoint"
)

// CannotRevokeError means nothing was sent: the token stays valid until it
// expires or the person revokes it at Page.
type CannotRevokeError struct {
	Host   string
	Reason Reason
	// Page is where the person can revoke it ("" when unknown).
	Page string
}

// Error says why and for how long the token stays valid.
func (e *CannotRevokeError) Error() string {
	why := "the host has no token revocation endpoint"
	if e.Reason == NoSecret {
		why = "revoking it needs the OAuth app's client secret"
	}
	return fmt.Sprintf("the token for %s was not revoked (%s); it stays valid until it expires or is revoked", e.Host, why)
}

// FailedError is a revocation request the server refused or did not
// answer. Err is the cause (*oauth.Error, *oauth.HTTPError,
// *oauth.NetworkError, *githubapi.AppTokenError, ...).
type FailedError struct {
	Method Method
	// Endpoint is where the request went.
	Endpoint string
	// Token says which token: oauth.HintAccessToken or
	// oauth.HintRefreshToken.
	Token string
	// Page is where the person can revoke it instead ("" when unknown).
	Page string
	Err  error
}

// Error names the token and the cause.
func (e *FailedError) Error() string {
	what := "token"
	if e.Token == oauth.HintRefreshToken {
		what = "refresh token"
	}
	return fmt.Sprintf("revoking the %s at %s failed: %v", what, e.Endpoint, e.Err)
}

// Unwrap returns the cause.
func (e *FailedError) Unwrap() error { return e.Err }

// Result is what was revoked.
type Result struct {
	Method Method
	// Endpoint is where the requests went.
	Endpoint string
	// Revoked lists the tokens the server ended (oauth.HintRefreshToken,
	// oauth.HintAccessToken), in the order they were sent.
	Revoked []string
	// AlreadyGone reports that GitHub no longer knew the token (404): it
	// had been revoked already.
	AlreadyGone bool
}

// Revoker sends revocations.
type Revoker struct {
	// OAuth posts RFC 7009 requests; nil means a default client.
	OAuth *oauth.Client
	// API sends GitHub's DELETE; nil means a default client.
	API *githubapi.Client
}

// Revoke ends req's tokens on their server (see the package
// documentation). It returns the Result of what was sent, and an error when
// something was not revoked: *CannotRevokeError (nothing sent), or one
// *FailedError per refused request (joined), with Result still listing what
// succeeded.
func (r *Revoker) Revoke(ctx context.Context, req Request) (*Result, error) {
	if req.AccessToken == "" && req.RefreshToken == "" {
		return nil, errors.New("there is no token to revoke")
	}
	page := Page(req.Host, req.Kind, req.Credentials.ClientID)
	switch {
	case req.RevocationURL != "":
		return r.rfc7009(ctx, req, page)
	case req.Kind == config.KindGitHub && req.Credentials.ClientSecret == "":
		return nil, &CannotRevokeError{Host: req.Host.Name, Reason: NoSecret, Page: page}
	case req.Kind == config.KindGitHub && req.APIURL != "" && req.Credentials.ClientID != "":
		return r.github(ctx, req, page)
	}
	return nil, &CannotRevokeError{Host: req.Host.Name, Reason: NoEndpoint, Page: page}
}

func (r *Revoker) rfc7009(ctx context.Context, req Request, page string) (*Result, error) {
	c := r.OAuth
	if c == nil {
		c = &oauth.Client{}
	}
	res := &Result{Method: MethodRFC7009, Endpoint: req.RevocationURL}
	// Each request carries one token, but the server knows them all and
	// may echo any: oauth.Post removes them all from its errors.
	ctx = oauth.WithSecrets(ctx, req.AccessToken, req.RefreshToken, req.IDToken)
	var errs []error
	for _, t := range []struct{ token, hint string }{
		{req.RefreshToken, oauth.HintRefreshToken},
		{req.AccessToken, oauth.HintAccessToken},
	} {
		if t.token == "" {
			continue
		}
		if err := c.Revoke(ctx, req.RevocationURL, req.Credentials, t.token, t.hint); err != nil {
			if errors.Is(err, context.Canceled) {
				return res, err
			}
			errs = append(errs, &FailedError{Method: MethodRFC7009, Endpoint: endpoint(req.RevocationURL), Token: t.hint, Page: page, Err: err})
			continue
		}
		res.Revoked = append(res.Revoked, t.hint)
	}
	return res, errors.Join(errs...)
}

func (r *Revoker) github(ctx context.Context, req Request, page string) (*Result, error) {
	c := r.API
	if c == nil {
		c = &githubapi.Client{}
	}
	where := githubapi.AppTokenURL(req.APIURL, req.Credentials.ClientID)
	res := &Result{Method: MethodGitHub, Endpoint: where}
	if req.AccessToken == "" {
		return nil, &CannotRevokeError{Host: req.Host.Name, Reason: NoEndpoint, Page: page}
	}
	err := c.DeleteAppToken(ctx, req.APIURL, req.Credentials, req.AccessToken)
	var ae *githubapi.AppTokenError
	switch {
	case err == nil:
		res.Revoked = []string{oauth.HintAccessToken}
	case errors.As(err, &ae) && ae.Gone():
		res.AlreadyGone = true
	case errors.Is(err, context.Canceled):
		return res, err
	default:
		return res, &FailedError{Method: MethodGitHub, Endpoint: where, Token: oauth.HintAccessToken, Page: page, Err: err}
	}
	return res, nil
}

// endpoint is u without its query, for messages.
func endpoint(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i]
	}
	return u
}
