// Package hint turns an error into the message a person sees: the error's
// own text plus the next step, naming ghlogin's commands, flags, variables
// and settings. The library packages (oauth, deviceflow, webflow, store) and
// internal/githubapi return errors that carry data only; this is the one
// place that knows what ghlogin's user should do about each of them.
//
// Explain finds the typed errors in an error's chain (and in joined
// errors) and puts each one's next step right after that error's own text,
// wherever a wrapper quoted it ("storing the token: …", "(… )"), so a
// message reads as one sentence. The walk itself and the steps for a
// forwarded agent's errors live in the light sub-package core, which the
// lean git-credential-ghlogin shares.
package hint

import (
	"errors"
	"fmt"
	"net/url"
	"runtime"
	"strings"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hint/core"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/webflow"
)

// Gone is the sentence for an account whose token was kept in memory (the
// kernel keyring) and is no longer there; the exit status is 4, as for any
// *store.NotLoggedInError.
const Gone = "the login was kept in memory and is gone (the machine restarted or it expired); log in again"

// Explain returns the message for err: its text, with the next step after
// each typed error that has one. It returns "" for nil. The message is fit
// for a terminal: each of its lines has passed through safe.Text, so no
// server text that reached an error (a TLS certificate's name in a network
// error, say) can carry an escape sequence to the screen.
func Explain(err error) string {
	return ExplainIn(err, Context{})
}

// Context is what a next step may name for the command at hand: its flags
// and hosts' --host values (see core.Context). The zero Context names
// whole command lines only.
type Context = core.Context

// ExplainIn is Explain for the command at hand that c describes: a step
// names a bare flag (--store kernel) only when that command has it, and
// otherwise the whole command line that does (ghlogin login --store
// kernel); a host is named by its --host value (http://127.0.0.1:8787 for a
// plain-http loopback host).
func ExplainIn(err error, c Context) string {
	return core.Explain(err, sentenceIn(c))
}

// Wrap returns err with Error() replaced by Explain(err); errors.Is and
// errors.As see err as before. Wrap(nil) is nil, and wrapping twice changes
// nothing.
func Wrap(err error) error {
	return WrapIn(err, Context{})
}

// WrapIn is Wrap with ExplainIn's message.
func WrapIn(err error, c Context) error {
	if core.IsExplained(err) || err == nil {
		return err
	}
	return core.WithMessage(err, ExplainIn(err, c))
}

// WithMessage returns err with Error() replaced by msg, a message already
// explained (by a caller that adds steps of its own to Explain's): Explain
// and Wrap leave it as it is, however it is wrapped. errors.Is and errors.As
// see err.
func WithMessage(err error, msg string) error {
	return core.WithMessage(err, msg)
}

// IsExplained reports whether err itself (not its chain) is already
// explained, by Wrap or WithMessage.
func IsExplained(err error) bool {
	return core.IsExplained(err)
}

// sentenceIn returns the SentenceFunc for the command at hand c.
func sentenceIn(c Context) core.SentenceFunc {
	return func(err error) (string, bool) { return sentence(c, err) }
}

// useStore says how to choose the store name: with --store where the
// command at hand has it, else with a new login.
func useStore(c Context, name string) string {
	if c.Has("store") {
		return "use --store " + name + " or set GHLOGIN_STORE=" + name
	}
	return "log in with " + c.Login("", "--store "+name)
}

// storeStep says how to keep a token in the kernel keyring (kernel set,
// on Linux) or in a file instead.
func storeStep(c Context, kernel bool) string {
	if !kernel {
		return "to keep the token in a file readable only by you instead, " + useStore(c, "file")
	}
	return "to keep the token in the kernel keyring instead (in memory, until the machine restarts), " + useStore(c, "kernel") +
		"; to keep it in a file readable only by you (plaintext at rest), " + useStore(c, "file")
}

// clientIDStep names where a client ID is given: --client-id where the
// command at hand has it, the variable, and the host's setting.
func clientIDStep(c Context) string {
	if c.Has("client-id") {
		return "--client-id, GHLOGIN_CLIENT_ID or the host's client_id setting"
	}
	return "GHLOGIN_CLIENT_ID or the host's client_id setting"
}

// issuerStep names where an issuer is given: --issuer where the command
// at hand has it, and the host's setting.
func issuerStep(c Context) string {
	if c.Has("issuer") {
		return "--issuer or the host's issuer setting"
	}
	return "the host's issuer setting"
}

// scopesStep names where scopes are asked for.
func scopesStep(c Context) string {
	if c.Has("scopes") {
		return "--scopes"
	}
	return "ghlogin login --scopes, or the host's scopes setting"
}

// sentence returns err's own text with its next step for the command at
// hand c, and whether it has one. It looks at err itself, not its chain.
func sentence(c Context, err error) (string, bool) {
	own := err.Error()
	step := ""
	switch e := err.(type) {
	case *oauth.Error:
		if h := OAuthIn(e.Code, c); h != "" {
			step = " (" + h + ")"
		}
	case *oauth.NetworkError:
		switch {
		case e.NotTLS():
			if u, err := url.Parse(e.Endpoint); err == nil && safe.IsLoopback(u.Host) {
				step = "; a server on this machine that speaks plain http is named with http://"
				if c.Has("host") {
					step += ", as in --host http://" + u.Host
				} else {
					step += " (http://" + u.Host + ")"
				}
			} else {
				step = "; check the host name and port"
			}
		case e.Certificate():
			step = "; if the server's certificate comes from a private authority, add that authority to this machine's trusted certificates (or point SSL_CERT_FILE at it)"
		}
	case *oauth.TimeoutError:
		switch e.Flow {
		case oauth.FlowDevice:
			step = "; run login again"
		case oauth.FlowWeb:
			step = "; run login again (or use the device flow: ghlogin login --device)"
		}
	case *store.NotLoggedInError:
		switch {
		case e.Gone, e.Invalid != "", e.Store != "":
			// A Gone message already says it was kept in memory and
			// is gone; the step is Gone's last words, with the command.
			step = "; log in again: " + c.Login(e.Host)
		default:
			step = "; run: " + c.Login(e.Host)
		}
	case *store.CorruptSecretError:
		step = "; log in again: " + c.Login(e.Host)
	case *store.UnknownBackendError:
		step = "; log in again: " + c.Login(e.Host)
	case *store.KeyringUnavailableError:
		var ns *store.NoKeyringServiceError
		switch {
		case e.Op == "delete":
			// Its own text says what to do; nothing inside it (a missing
			// keyring service) should add a step about storing tokens.
			return own, true
		case e.Op == "read":
			// The token is in the keyring: another store cannot read it,
			// only a new login can put one there.
			step = "; run this where the keyring can be reached (your desktop session), or " + storeStep(c, errors.As(e.Err, &ns) && runtime.GOOS == "linux")
		default:
			step = "; " + storeStep(c, errors.As(e.Err, &ns) && runtime.GOOS == "linux")
		}
	case *store.NoKeyringServiceError:
		step = "; " + storeStep(c, runtime.GOOS == "linux")
	case *store.KernelKeyringUnavailableError:
		if e.Op != "delete" {
			step = "; " + storeStep(c, false)
		}
	case *store.SecretTooLargeError:
		// The step goes before the keyring's own complaint.
		if cause := fmt.Sprint(e.Err); strings.HasSuffix(own, ": "+cause) {
			return strings.TrimSuffix(own, ": "+cause) + "; " + useStore(c, "file") + ": " + cause, true
		}
		step = "; " + useStore(c, "file")
	case *deviceflow.ConfigError:
		switch e.Field {
		case deviceflow.FieldClientID:
			step = "; give one with " + clientIDStep(c)
		case deviceflow.FieldDeviceCodeURL:
			step = "; set the host's device_code_url in the config file"
		case deviceflow.FieldTokenURL:
			step = "; set the host's token_url in the config file"
		}
	case *deviceflow.CodeError:
		step = " (check the host's device_code_url setting and that the server supports the device flow)"
	case *webflow.ConfigError:
		switch e.Field {
		case webflow.FieldClientID:
			step = "; give one with " + clientIDStep(c)
		case webflow.FieldAuthorizeURL:
			step = "; check the host's authorize_url"
		case webflow.FieldTokenURL:
			step = "; check the host's token_url"
		}
	case *webflow.ListenError:
		if !strings.HasSuffix(e.Addr, ":0") {
			step = " (free that port, or set the host's callback_port to 0 to use any free port)"
		}
	case *webflow.CallbackError:
		step = "; run login again, and if it keeps happening check the host's authorize_url setting or use the device flow (ghlogin login --device)"
	case *githubapi.UnauthorizedError:
		step = "; log in again with: " + c.Login(e.LoginHost())
	case *githubapi.LoginFieldError:
		step = " (check the host's userinfo_url and login_field settings)"
	case *config.ParseError:
		switch {
		case e.Key == config.KeyActive:
			// The file cannot be read, so no command can change it.
			step = "; in that file, set active to one of the host's accounts, or delete the line"
		case e.Key != "":
			value := "VALUE"
			if k, err := config.LookupKey(e.Key); err == nil && k.Secret {
				value = "-"
			}
			where := ""
			if e.Host != "" {
				where = "--host " + c.HostValue(e.Host) + " "
			}
			step = "; to change the setting, run: ghlogin config set " + where + e.Key + " " + value
		}
	case *safehttp.RedirectError:
		switch {
		case e.TooMany:
			step = " (check the URL: the server sends its requests round in a loop)"
		case e.Secret:
			step = " (check that URL, in the host's settings or the flag or variable that set it: it must be the server's final address, since ghlogin sends a secret only to the URL it was given; a proxy or a moved server can also cause this)"
		default:
			step = " (check that URL, in the host's settings or the flag or variable that set it: give the address the server redirects to, if you trust it)"
		}
	case *githubapi.SSORequiredError:
		if e.URL != "" {
			step = "; authorize this token for the organisation's single sign-on: open " + e.URL
		} else {
			step = "; authorize this token for the organisation's single sign-on in your token settings on " + strings.TrimPrefix(e.Host, "api.")
		}
	case *githubapi.AppTokenError:
		if e.StatusCode == 401 || e.StatusCode == 403 {
			step = " (check the host's client_id and client_secret settings)"
		}
	case *refresh.NeedsLoginError:
		if !e.DeadRefreshToken && e.Err != nil {
			// The server's refusal gets its own step. A dead refresh
			// token's does not: the message already says to log in
			// again, and the refusal is not about the endpoint settings.
			own = core.Walk(own, e.Err, sentenceIn(c))
		}
		// The message ends with the login command; name the host as
		// --host takes it (http:// for a plain-http loopback host).
		if tail := "; run ghlogin login --host " + e.Host; e.LoginHost == "" && strings.HasSuffix(own, tail) {
			own = strings.TrimSuffix(own, tail) + "; run " + c.Login(e.Host)
		}
		return own, true
	case *refresh.NoIDTokenError:
		step = "; ID tokens come from OpenID Connect servers: log in with ghlogin login --issuer URL (the openid scope is asked for by default)"
	case *oidcdisc.DocumentError:
		switch e.Problem {
		case oidcdisc.IssuerMismatch:
			step = "; check the issuer URL (" + issuerStep(c) + ")"
		default:
			step = " (check the issuer URL, or set the host's endpoints by hand: device_code_url, authorize_url, token_url)"
		}
	case *oidcdisc.FetchError:
		// A network failure inside already says to check the network.
		step = " (check the issuer URL: " + issuerStep(c) + ")"
	case *oidcdisc.NotDiscoveredError:
		step = "; log in again to read it: ghlogin login --issuer " + e.Issuer
	case *identity.VerifyError:
		switch e.Reason {
		case identity.ReasonExpired:
			step = "; check this machine's clock, then log in again"
		case identity.ReasonKeys:
			step = "; check your network, then log in again"
		default:
			step = "; the token was not kept: check the host's issuer and client_id settings"
		}
	case *identity.NoIdentityError:
		step = "; request the openid scope (" + scopesStep(c) + ") or set the host's userinfo_url"
	case *revoke.CannotRevokeError:
		if e.Page != "" {
			step = ": revoke it at " + e.Page
		}
	case *revoke.FailedError:
		// The cause's own step (check the client secret) comes first.
		own = core.Walk(own, e.Err, sentenceIn(c))
		if e.Page != "" {
			step = "; revoke it at " + e.Page
		}
	default:
		// The forwarded agent's errors (package core, which the lean
		// git helper shares).
		return c.Agent(err)
	}
	if step == "" {
		return "", false
	}
	return own + step, true
}

// OAuth says what a person can do about an OAuth error code (RFC 6749 §5.2,
// RFC 8628 §3.5, GitHub's own codes), or "" when there is nothing to add;
// with no command at hand (OAuthIn for one).
func OAuth(code string) string { return OAuthIn(code, Context{}) }

// OAuthIn is OAuth for the command at hand c: it names a flag only when
// that command has it.
func OAuthIn(code string, c Context) string {
	switch code {
	case "device_flow_disabled":
		web := "ghlogin login --web"
		if c.Has("web") {
			web = "--web"
		}
		return "enable Device Flow in the OAuth app's settings on GitHub, or use the web flow (" + web + ")"
	case "incorrect_client_credentials", "invalid_client", "unauthorized_client":
		return "check the client ID (" + clientIDStep(c) + ") and client secret"
	case "expired_token":
		return "the code expired; run login again"
	case "access_denied":
		return "the request was denied in the browser; run login again to retry"
	case "incorrect_device_code", "bad_verification_code":
		return "the code is not valid for this app; run login again"
	case "invalid_grant":
		return "the code or refresh token is no longer valid; run login again"
	case "unsupported_grant_type":
		return "the server does not support this login method; check the host's endpoint settings"
	case "bad_refresh_token":
		return "the refresh token is no longer valid; run login again"
	case "redirect_uri_mismatch":
		return "the OAuth app's callback URL must allow http://127.0.0.1/callback"
	case "invalid_scope":
		return "check the requested scopes (" + scopesStep(c) + ")"
	case "invalid_request":
		return "the server rejected the request; check the host's endpoint settings and client ID"
	case "server_error", "temporarily_unavailable":
		return "the server has a temporary problem; try again later"
	}
	return ""
}
