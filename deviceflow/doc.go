// Package deviceflow implements the OAuth 2.0 Device Authorization Grant
// (RFC 8628) as GitHub documents it: request a code, show the person the
// user code and the verification URL, then poll the token endpoint obeying
// interval and slow_down until the person approves, denies, or the code
// expires. It never prints: progress goes out as Events, and the caller
// decides how to show them.
//
// # Main types
//
//   - Config describes one login: the oauth.Client, the app's Credentials,
//     DeviceCodeURL and TokenURL (for github.com,
//     https://github.com/login/device/code and
//     https://github.com/login/oauth/access_token), Scopes, a Clock and an
//     OnEvent callback. Login runs the whole flow; RequestCode and Poll run
//     its two halves, for callers that show the code in between.
//   - Code is the device authorization reply (RFC 8628 §3.2), checked before
//     anyone sees it: a user code that is short and printable, verification
//     URLs that are https (or http on loopback) without user info.
//   - Event reports progress: KindCode, KindPending, KindSlowDown,
//     KindRetry, KindSuccess, KindError. Events never hold a token or the
//     device code.
//
// # Use
//
//	cfg := &deviceflow.Config{
//		Credentials:   oauth.Credentials{ClientID: clientID},
//		DeviceCodeURL: "https://github.com/login/device/code",
//		TokenURL:      "https://github.com/login/oauth/access_token",
//		Scopes:        []string{"repo"},
//		OnEvent: func(e deviceflow.Event) {
//			if e.Kind == deviceflow.KindCode {
//				fmt.Printf("Open %s and enter %s\n", e.Code.VerificationURI, e.Code.UserCode)
//			}
//		},
//	}
//	tok, err := cfg.Login(ctx)
//
// ExampleConfig_Login runs this against a test server.
//
// # Defaults and timing
//
// The first poll comes one interval after the code arrived, each later one
// no earlier than the interval after the previous reply (measured on the
// Clock, monotonic for the real one) plus a small margin. DefaultInterval
// (5 s) applies when the server sends none (RFC 8628 §3.2), DefaultExpiry
// (15 min) when it sends no expires_in. slow_down adds SlowDownStep (5 s)
// for good (RFC 8628 §3.5). Network failures, 5xx and 429 are retried with
// exponential backoff up to MaxBackoff (60 s), never sooner than the
// interval and at least the server's Retry-After, until the code expires.
//
// With Config.Wait (login --wait, for a machine waiting for a person), a
// code that expires unapproved is replaced by a new one — a new KindCode
// event — until Wait has passed since Login began; code requests are at
// least MinCodeGap (1 min) apart, and failed ones that are worth retrying
// are retried until then. The end of Wait wins over everything: a code is
// polled no longer than until then, and when the next code request could
// not go out before then the login ends at once. MinCodeGap's comment
// lists GitHub's rate limits that apply.
//
// # Errors
//
// Login and Poll end with the token, an *oauth.Error (the server's final
// answer, such as access_denied or expired_token), an *oauth.TimeoutError
// with Flow oauth.FlowDevice when the code expires (under Wait, when the
// wait ends with no code approved: "no code was approved within 2h"),
// ctx.Err(), or a
// *ConfigError or *CodeError. Errors carry data (fields, codes); what a
// person should do about them is for the program to say.
package deviceflow
