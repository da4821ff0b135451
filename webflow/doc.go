// Package webflow implements the browser login of RFC 8252 (OAuth 2.0 for
// Native Apps) with the authorization code grant of RFC 6749 §4.1, as
// GitHub's authorization endpoint expects it: a one-shot callback server on
// 127.0.0.1 (RFC 8252 §7.3), a 256-bit state, PKCE S256 (RFC 7636), and the
// code exchanged at the token endpoint. It never prints: progress goes out
// as Events, and the caller decides how to show them.
//
// # Main types
//
//   - Config describes one login: the oauth.Client, the app's Credentials
//     (GitHub requires the client secret for this flow), AuthorizeURL and
//     TokenURL (for github.com, https://github.com/login/oauth/authorize and
//     https://github.com/login/oauth/access_token), Scopes, an Opener that
//     starts the browser, and an OnEvent callback. Login runs the flow.
//   - Opener opens the authorization URL; OpenerFunc adapts a function.
//     With no Opener the URL still goes out in the KindAuthorize event, for
//     the person to open by hand.
//   - Event reports progress: KindAuthorize (the URL; the server listens),
//     KindBrowser, KindCallback, KindPasteAccepted, KindPasteRejected,
//     KindSuccess, KindError. Events never hold a token, a code or the
//     state.
//   - Config.Paste (a PasteFunc; NewLinePaster reads one from a terminal or
//     stdin) takes the address a browser on another device ended on, or
//     just its code, while the loopback listener waits; *PasteError says
//     why a paste was rejected and whether the flow asks again.
//
// # Use
//
//	cfg := &webflow.Config{
//		Credentials:  oauth.Credentials{ClientID: clientID, ClientSecret: clientSecret},
//		AuthorizeURL: "https://github.com/login/oauth/authorize",
//		TokenURL:     "https://github.com/login/oauth/access_token",
//		Scopes:       []string{"repo"},
//		Opener:       webflow.OpenerFunc(openInBrowser),
//	}
//	tok, err := cfg.Login(ctx)
//
// ExampleConfig_Login runs this against a test server, with http.Get as
// the browser.
//
// # Defaults
//
// The callback server listens on an ephemeral port (Config.Port fixes one)
// at http://127.0.0.1:PORT/callback, accepts one GET with the right state
// and Host, and shuts down before Login returns. Login waits DefaultTimeout
// (5 minutes) for the browser unless Config.Timeout says otherwise. Both
// endpoints must be https, or http on a loopback address (RFC 8252 §8.3).
//
// # Errors
//
// Login ends with the token, an *oauth.Error (the server's error, in the
// callback or from the token endpoint), an *oauth.TimeoutError with Flow
// oauth.FlowWeb when the browser does not come back in time, ctx.Err(), a
// *PasteError when Config.PasteAttempts pastes were rejected, or a
// *ConfigError, *ListenError or *CallbackError. Errors carry data
// (fields, addresses, codes); what a person should do about them is for the
// program to say.
package webflow
