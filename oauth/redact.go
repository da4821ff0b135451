package oauth

import (
	"context"
	"encoding/base64"
	"net/url"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
)

// publicParams are the form parameters that carry nothing secret. Post
// treats the value of every other parameter it sends (code, code_verifier,
// device_code, refresh_token, token, client_secret, subject_token, ...) as
// a secret the server may echo back.
var publicParams = map[string]bool{
	"grant_type": true, "client_id": true, "scope": true, "redirect_uri": true,
	"token_type_hint": true, "audience": true, "resource": true,
	"requested_token_type": true, "subject_token_type": true, "actor_token_type": true,
}

type secretsKey struct{}

// WithSecrets returns a context under which Post (and so Exchange and
// Revoke) also removes secrets from the errors it returns, besides those
// the request itself carries: the tokens the server issued earlier and may
// echo, such as the access token a refresh replaces. Other clients that
// send a secret read them with SecretsFrom.
func WithSecrets(ctx context.Context, secrets ...string) context.Context {
	all := append(SecretsFrom(ctx), secrets...)
	return context.WithValue(ctx, secretsKey{}, all)
}

// SecretsFrom returns the secrets ctx names (WithSecrets), nil when none.
func SecretsFrom(ctx context.Context) []string {
	if ctx == nil {
		return nil
	}
	prev, _ := ctx.Value(secretsKey{}).([]string)
	return append([]string(nil), prev...)
}

// requestSecrets lists what a Post carries that must never reach an error:
// every non-public form value, the client secret, and the HTTP Basic
// credentials as sent, plus what ctx adds (WithSecrets).
func requestSecrets(ctx context.Context, creds Credentials, form url.Values) []string {
	var out []string
	for k, vs := range form {
		if publicParams[k] {
			continue
		}
		out = append(out, vs...)
	}
	if creds.ClientSecret != "" {
		out = append(out, creds.ClientSecret)
		if creds.Style == AuthBasic {
			out = append(out, base64.StdEncoding.EncodeToString([]byte(url.QueryEscape(creds.ClientID)+":"+url.QueryEscape(creds.ClientSecret))))
		}
	}
	return append(out, SecretsFrom(ctx)...)
}

// RedactError returns err with secrets removed from every text a server
// chose in it (safe.Redact): an *Error's code (which becomes
// InvalidErrorCode when it held one), description and URI (cut to 300
// bytes after redacting); an *HTTPError's
// detail; a *safehttp.RedirectError's location; a *NetworkError's cause.
// The value returned is a copy: the fields of err itself are left as they
// are, so a caller must use what RedactError returns, not err. Another
// error whose text holds a secret is replaced by one with the text
// redacted that unwraps to it. nil and errors without secrets come back
// unchanged.
func RedactError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	switch e := err.(type) {
	case *Error:
		c := *e
		if safe.HasSecret(c.Code, secrets...) {
			c.Code = InvalidErrorCode
		}
		c.Description = safe.Short(safe.Redact(c.Description, secrets...), 300)
		c.URI = safe.Short(safe.Redact(c.URI, secrets...), 300)
		return &c
	case *HTTPError:
		c := *e
		c.Detail = safe.Short(safe.Redact(c.Detail, secrets...), 300)
		return &c
	case *safehttp.RedirectError:
		c := *e
		c.Endpoint = safe.Redact(c.Endpoint, secrets...)
		c.LocationHost = safe.Redact(c.LocationHost, secrets...)
		c.LocationScheme = safe.Redact(c.LocationScheme, secrets...)
		return &c
	case *NetworkError:
		c := *e
		c.Err = RedactError(c.Err, secrets...)
		return &c
	}
	if msg := err.Error(); safe.HasSecret(msg, secrets...) {
		return &redactedError{msg: safe.Redact(msg, secrets...), err: err}
	}
	return err
}

// redactedError is an error whose text held a secret: it shows the text
// redacted, and unwraps to the original for errors.Is and errors.As.
type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }
