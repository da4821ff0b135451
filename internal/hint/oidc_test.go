package hint

import (
	"errors"
	"fmt"
	"testing"

	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/oauth"
)

// The sentences for OpenID Connect hosts, dead and SSO-bound tokens,
// refreshes and revocation.
func TestLifecycleSentences(t *testing.T) {
	grant := &oauth.Error{Code: "invalid_grant", Description: "grant request is invalid"}
	req := &oauth.Error{Code: "invalid_request"}
	client := &oauth.Error{Code: "invalid_client"}
	const sso = "https://github.com/orgs/octo-org/sso?authorization_request=AZSC"
	for _, tc := range []struct {
		name string
		err  error
		want string
	}{
		{"403 invalid_token", &githubapi.UnauthorizedError{Host: "sso.example.com", Status: 403},
			"sso.example.com rejected the token (HTTP 403, invalid_token): it was revoked or has expired; log in again with: ghlogin login --host sso.example.com"},
		{"SAML with a URL", &githubapi.SSORequiredError{Host: "api.github.com", URL: sso},
			"api.github.com requires this token to be authorized for an organisation's SAML single sign-on (HTTP 403); authorize this token for the organisation's single sign-on: open " + sso},
		{"SAML without a URL", &githubapi.SSORequiredError{Host: "api.github.com"},
			"api.github.com requires this token to be authorized for an organisation's SAML single sign-on (HTTP 403); authorize this token for the organisation's single sign-on in your token settings on github.com"},
		{"dead refresh token: log in again, not the endpoint settings",
			&refresh.NeedsLoginError{Host: "sso.example.com", Login: "alice", Remaining: 42e9, DeadRefreshToken: true, Reason: "the refresh token is no longer valid: " + grant.Error(), Err: grant},
			"the token for alice@sso.example.com expires in 42 s and could not be refreshed (the refresh token is no longer valid: the server answered invalid_grant: grant request is invalid); run ghlogin login --host sso.example.com"},
		{"invalid_request to a refresh",
			&refresh.NeedsLoginError{Host: "h", Login: "l", DeadRefreshToken: true, Reason: "the refresh token is no longer valid: " + req.Error(), Err: req},
			"the token for l@h expired and could not be refreshed (the refresh token is no longer valid: the server answered invalid_request); run ghlogin login --host h"},
		{"another refusal keeps the server's hint",
			&refresh.NeedsLoginError{Host: "h", Login: "l", Reason: client.Error(), Err: client},
			"the token for l@h expired and could not be refreshed (the server answered invalid_client (check the client ID (--client-id, GHLOGIN_CLIENT_ID or the host's client_id setting) and client secret)); run ghlogin login --host h"},
		{"no ID token", &refresh.NoIDTokenError{Host: "github.com", Login: "octocat"},
			"the account octocat@github.com has no ID token; ID tokens come from OpenID Connect servers: log in with ghlogin login --issuer URL (the openid scope is asked for by default)"},
		{"issuer mismatch", &oidcdisc.DocumentError{Issuer: "https://sso.example.com", Problem: oidcdisc.IssuerMismatch, Field: "issuer", Discovered: "https://sso.example.com/"},
			`the discovery document of https://sso.example.com names the issuer "https://sso.example.com/"; an issuer must match its discovery document exactly; check the issuer URL (--issuer or the host's issuer setting)`},
		{"missing endpoint", &oidcdisc.DocumentError{Issuer: "https://sso.example.com", Problem: oidcdisc.MissingField, Field: "token_endpoint"},
			"the discovery document of https://sso.example.com has no token_endpoint (check the issuer URL, or set the host's endpoints by hand: device_code_url, authorize_url, token_url)"},
		{"fetch", &oidcdisc.FetchError{Issuer: "https://sso.example.com", URL: "https://sso.example.com/.well-known/openid-configuration", Err: &oauth.HTTPError{StatusCode: 404}},
			"could not read the discovery document https://sso.example.com/.well-known/openid-configuration: the server answered HTTP 404 Not Found (check the issuer URL: --issuer or the host's issuer setting)"},
		{"not discovered", &oidcdisc.NotDiscoveredError{Host: "sso.example.com", Issuer: "https://sso.example.com/dex"},
			"the endpoints of sso.example.com (issuer https://sso.example.com/dex) are not known yet (its discovery document has not been read); log in again to read it: ghlogin login --issuer https://sso.example.com/dex"},
		{"ID token signature", &identity.VerifyError{Reason: identity.ReasonSignature, Issuer: "https://sso.example.com", Detail: "the signature matches no key the issuer publishes"},
			"the ID token from https://sso.example.com failed verification (bad signature): the signature matches no key the issuer publishes; the token was not kept: check the host's issuer and client_id settings"},
		{"ID token expired", &identity.VerifyError{Reason: identity.ReasonExpired, Issuer: "https://sso.example.com"},
			"the ID token from https://sso.example.com failed verification (expired); check this machine's clock, then log in again"},
		{"cannot revoke on GitHub", &revoke.CannotRevokeError{Host: "github.com", Reason: revoke.NoSecret, Page: "https://github.com/settings/connections/applications/Ov23li"},
			"the token for github.com was not revoked (revoking it needs the OAuth app's client secret); it stays valid until it expires or is revoked: revoke it at https://github.com/settings/connections/applications/Ov23li"},
		{"cannot revoke elsewhere", &revoke.CannotRevokeError{Host: "sso.example.com", Reason: revoke.NoEndpoint},
			"the token for sso.example.com was not revoked (the host has no token revocation endpoint); it stays valid until it expires or is revoked"},
		{"revocation refused", &revoke.FailedError{Method: revoke.MethodGitHub, Endpoint: "https://api.github.com/applications/Ov23li/token", Token: "access_token",
			Page: "https://github.com/settings/connections/applications/Ov23li", Err: &githubapi.AppTokenError{Host: "api.github.com", StatusCode: 401}},
			"revoking the token at https://api.github.com/applications/Ov23li/token failed: api.github.com refused the OAuth app's client ID and secret (HTTP 401) (check the host's client_id and client_secret settings); revoke it at https://github.com/settings/connections/applications/Ov23li"},
		{"app token refused alone", fmt.Errorf("logout: %w", &githubapi.AppTokenError{Host: "api.github.com", StatusCode: 401}),
			"logout: api.github.com refused the OAuth app's client ID and secret (HTTP 401) (check the host's client_id and client_secret settings)"},
		{"joined revocation failures", errors.Join(&revoke.FailedError{Endpoint: "https://sso/r", Token: "refresh_token", Err: client}),
			"revoking the refresh token at https://sso/r failed: the server answered invalid_client (check the client ID (--client-id, GHLOGIN_CLIENT_ID or the host's client_id setting) and client secret)"},
	} {
		if got := ExplainIn(tc.err, loginCtx); got != tc.want {
			t.Errorf("%s:\n got %q\nwant %q", tc.name, got, tc.want)
		}
	}
}
