package cli

import (
	"context"
	"errors"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/webflow"
)

// The codes of the error event that login --json and refresh --json write
// (docs/json-events.md lists them all): the server's OAuth error code
// (RFC 6749 §5.2, RFC 8628 §3.5, RFC 6750 §3.1, GitHub's own), or one of
// these.
const (
	codeTimeout          = "timeout"
	codeNetwork          = "network"
	codeCancelled        = "cancelled"
	codeConfig           = "config"
	codeStoreUnavailable = "store_unavailable"
	codeServer           = "server"
	codeWrongAccount     = "wrong_account"
	codeInvalidToken     = "invalid_token"
	codeNotLoggedIn      = "not_logged_in"
	codeFailed           = "failed"
)

// eventCodes are the codes eventCode gives besides the server's OAuth
// codes, each with what it means; docs/json-events.md and the README list
// the same, and a test holds them to it.
var eventCodes = []struct{ Code, Meaning string }{
	{codeTimeout, "no code was approved before it expired (or before --wait ended), or the browser did not come back within --timeout"},
	{codeNetwork, "the server could not be reached, or answered with an HTTP failure (5xx, 429, …) or a redirect ghlogin does not follow"},
	{codeCancelled, "the person cancelled: Ctrl-C, q or Esc, or cancel at the store question"},
	{codeConfig, "the command line or the configuration cannot start the login: no client ID, no client secret for the web flow, a flag or setting value refused, a config directory ghlogin will not use"},
	{codeStoreUnavailable, "the token cannot be kept: the store in force is unavailable and there is nobody to ask for another, or the store refused the token"},
	{codeServer, "the server answered something ghlogin cannot use: an HTML page instead of a device code, a discovery document for another issuer, an ID token that fails verification, a browser sent back without a code"},
	{codeWrongAccount, "refresh was approved as another account than the one it was for (its token is kept)"},
	{codeInvalidToken, "the API refused the token (HTTP 401): a token given with --with-token that is wrong or revoked; RFC 6750's code"},
	{codeNotLoggedIn, "refresh names an account that is not logged in, or the new token ended with the old one"},
	{codeFailed, "anything else: the pasted address was refused five times, a file ghlogin could not write, …"},
}

// eventCode is the code of the error event for err: the code an error in
// its chain already carries (the outcome of a login another process ran,
// passed on), else the server's OAuth error code, else one of the codes
// in eventCodes.
func eventCode(err error) string {
	var (
		coded interface{ ErrorCode() string }
		oe    *oauth.Error
		te    *oauth.TimeoutError
		ne    *oauth.NetworkError
		he    *oauth.HTTPError
		re    *safehttp.RedirectError
		wa    *session.WrongAccountError
		ua    *githubapi.UnauthorizedError
		su    *session.StoreUnavailableError
		ku    *store.KeyringUnavailableError
		kk    *store.KernelKeyringUnavailableError
		ns    *store.NoKeyringServiceError
		tl    *store.SecretTooLargeError
		fi    *store.InsecureFileError
		fc    *store.CorruptFileError
		nl    *store.NotLoggedInError
		nle   *refresh.NeedsLoginError
		et    *session.EndedTogetherError
		cd    *deviceflow.CodeError
		dd    *oidcdisc.DocumentError
		ve    *identity.VerifyError
		cb    *webflow.CallbackError
		lf    *githubapi.LoginFieldError
	)
	switch {
	case err == nil:
		return ""
	case errors.As(err, &coded) && coded.ErrorCode() != "":
		return coded.ErrorCode()
	case errors.Is(err, context.Canceled):
		return codeCancelled
	case errors.As(err, &oe) && oauth.IsErrorCode(oe.Code):
		return oe.Code
	case errors.As(err, &wa):
		return codeWrongAccount
	case errors.As(err, &nle), errors.As(err, &et), errors.As(err, &nl):
		return codeNotLoggedIn
	case errors.As(err, &su), errors.As(err, &ku), errors.As(err, &kk), errors.As(err, &ns),
		errors.As(err, &tl), errors.As(err, &fi), errors.As(err, &fc):
		return codeStoreUnavailable
	case isConfigError(err):
		return codeConfig
	case errors.As(err, &ua):
		return codeInvalidToken
	case errors.As(err, &te):
		return codeTimeout
	case errors.As(err, &cd), errors.As(err, &dd), errors.As(err, &ve), errors.As(err, &cb), errors.As(err, &lf),
		errors.As(err, &he) && he.Unparsed && he.StatusCode < 300:
		return codeServer
	case errors.As(err, &ne), errors.As(err, &he), errors.As(err, &re):
		return codeNetwork
	}
	return codeFailed
}

// isConfigError reports whether err is the command line's or the
// configuration's: a value that cannot be used, or something missing that
// only the person can give.
func isConfigError(err error) bool {
	var (
		ue  *usageError
		ie  *session.InputError
		nc  *session.NoClientIDError
		ns  *session.NoClientSecretError
		se  *session.SettingError
		uk  *config.UnknownKeyError
		iv  *config.InvalidValueError
		pe  *config.ParseError
		ut  *config.UntrustedError
		cu  *config.URLError
		ci  *config.IssuerError
		he  *hosts.Error
		su  *safe.URLError
		dc  *deviceflow.ConfigError
		wc  *webflow.ConfigError
		ni  *identity.NoIdentityError
		ndi *oidcdisc.NotDiscoveredError
	)
	return errors.As(err, &ue) || errors.As(err, &ie) || errors.As(err, &nc) || errors.As(err, &ns) ||
		errors.As(err, &se) || errors.As(err, &uk) || errors.As(err, &iv) || errors.As(err, &pe) ||
		errors.As(err, &ut) || errors.As(err, &cu) || errors.As(err, &ci) || errors.As(err, &he) ||
		errors.As(err, &su) || errors.As(err, &dc) || errors.As(err, &wc) || errors.As(err, &ni) ||
		errors.As(err, &ndi)
}

// codedError is an error explained for the UI (hint.WithMessage) that
// carries its error event's code (eventCode), which the JSON writer uses.
type codedError struct {
	err  error
	code string
}

// Error returns the explained message.
func (e *codedError) Error() string { return e.err.Error() }

// Unwrap returns the explained error.
func (e *codedError) Unwrap() error { return e.err }

// ErrorCode returns the error event's code.
func (e *codedError) ErrorCode() string { return e.code }
