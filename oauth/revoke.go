package oauth

import (
	"context"
	"errors"
	"net/url"

	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// Token type hints for Revoke (RFC 7009 §2.1).
const (
	HintAccessToken  = "access_token"
	HintRefreshToken = "refresh_token"
)

// Revoke asks an RFC 7009 revocation endpoint to invalidate token, with
// token_type_hint set to hint when it is not "" (HintAccessToken,
// HintRefreshToken). The client authenticates as it does at the token
// endpoint (creds, RFC 7009 §2.1). The request carries secrets, so it
// never follows a redirect, whatever the caller's HTTP client would do.
//
// The server answers 200 whether or not the token was still valid (RFC
// 7009 §2.2), so nil means the token no longer works. Errors: *Error (for
// example unsupported_token_type or invalid_client, RFC 7009 §2.2.1),
// *HTTPError (503 with Retry-After means try later), *NetworkError,
// *URLError for an endpoint that breaks the URL rules.
func (c *Client) Revoke(ctx context.Context, endpoint string, creds Credentials, token, hint string) error {
	if token == "" {
		return errors.New("no token to revoke")
	}
	form := url.Values{"token": {token}}
	if hint != "" {
		form.Set("token_type_hint", hint)
	}
	// The one redirect policy: a request that carries a secret follows no
	// redirect (safehttp.HTTPClient), even with a caller's client that would.
	cc := *c
	cc.HTTPClient = safehttp.HTTPClient(c.HTTPClient, c.timeout())
	err := cc.Post(ctx, endpoint, creds, form, nil)
	var he *HTTPError
	if errors.As(err, &he) && he.StatusCode >= 200 && he.StatusCode <= 299 {
		// A success whose body is empty or not an OAuth reply: "the content
		// of the response body is ignored by the client" (RFC 7009 §2.2).
		return nil
	}
	return err
}
