// Package oauth is the small layer every OAuth 2.0 grant shares: it posts a
// form to an endpoint (the token endpoint of RFC 6749 §3.2, or the device
// authorization endpoint of RFC 8628 §3.1) and turns the reply into a value
// or a typed error. Packages deviceflow and webflow build their grants on it.
//
// # Main types
//
//   - Client posts forms: Post decodes any reply, Exchange expects a Token.
//     The zero value is ready to use: a 30 s timeout per request
//     (DefaultTimeout), replies capped at 1 MiB (MaxBodyBytes).
//   - Credentials identify the OAuth app: client ID, optional secret, and
//     how to send them (AuthInBody, GitHub's way, or AuthBasic, RFC 6749
//     §2.3.1).
//   - Token is a token endpoint reply (RFC 6749 §5.1); its String method
//     hides the secrets.
//   - Error is an OAuth error reply (RFC 6749 §5.2, RFC 8628 §3.5, and
//     GitHub's own codes such as device_flow_disabled); HTTPError is a reply
//     that is neither; NetworkError is a server that could not be reached;
//     TimeoutError is a flow whose time ran out. ErrorCode classifies any of
//     them for machine-readable output, IsTransient says whether a retry may
//     help, RetryAfter gives the server's requested delay.
//
// # Use
//
//	tok, err := (&oauth.Client{}).Exchange(ctx, tokenURL,
//		oauth.Credentials{ClientID: clientID},
//		url.Values{"grant_type": {"refresh_token"}, "refresh_token": {refreshToken}})
//	var oe *oauth.Error
//	if errors.As(err, &oe) && oe.Code == "bad_refresh_token" {
//		// log in again
//	}
//
// ExampleClient_Exchange and ExampleError run against a test server.
//
// # GitHub's behaviour
//
// GitHub answers errors with HTTP 200 and form-encoded bodies unless the
// client sends Accept: application/json, so an "error" field is an error
// whatever the status, and both encodings are parsed. Text the server
// chose (error descriptions, URIs) is sanitised before it reaches an error.
// Endpoints must be https, or http on a loopback address (RFC 8252 §8.3).
//
// golang.org/x/oauth2 is not used here: its device-flow poller has no
// injectable clock or events, and its auth-style auto-detection posts twice
// after every error, which GitHub punishes with slow_down.
//
// Errors carry data (codes, status, endpoint); what a person should do
// about them is for the program using the package to say.
package oauth
