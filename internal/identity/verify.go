// Package identity says who an OpenID Connect login belongs to: it verifies
// the ID token that came with the access token (OpenID Connect Core 1.0
// §3.1.3.7: signature with the issuer's keys, issuer, audience = the client
// ID, expiry, nonce when one was sent, azp, at_hash) with go-oidc, adds the
// userinfo claims when the ID token lacks the ones that name the person
// (§5.3), and picks the account's login and display name from the claims.
//
// # Which claim is the login
//
// The login is the account's key in the store, in --user and in git's
// username=, so it must be a value githubapi.UsableLogin accepts (no
// spaces, slashes or control characters). It is the first usable value of:
// the host's login_field claim when set, preferred_username, email, sub.
// When none is usable, the sub claim with every character UsableLogin
// refuses replaced by "_" (or, failing that, "sub-" and a hash of it)
// stands in: the login's spelling is never why an approved token is thrown
// away. The display name is kept apart, sanitised (safe.Short): the
// login_field value when it was not usable as a login ("Admin User"), else
// the name claim; "" when it would repeat the login.
package identity

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	jose "github.com/go-jose/go-jose/v4"
	"github.com/go-jose/go-jose/v4/jwt"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// DefaultTimeout bounds the fetch of the issuer's keys.
const DefaultTimeout = 15 * time.Second

// Verifier checks ID tokens of one issuer for one client.
type Verifier struct {
	// Document is the issuer's discovery document (its issuer, jwks_uri and
	// id_token_signing_alg_values_supported); required.
	Document *oidcdisc.Document
	// ClientID is the audience the token must name; required.
	ClientID string
	// HTTPClient fetches the keys, under the one redirect policy
	// (safehttp.HTTPClient); nil means a new client.
	HTTPClient *http.Client
	// Timeout bounds the key fetch; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock tells the time exp is checked against; nil means the real clock.
	Clock clock.Clock
}

// Claims is a verified ID token.
type Claims struct {
	Issuer   string
	Subject  string
	Audience []string
	IssuedAt time.Time
	Expiry   time.Time
	// All holds every claim of the token (server text: sanitise before
	// showing).
	All map[string]any
}

// Reason says which check an ID token failed.
type Reason string

// The checks of OpenID Connect Core 1.0 §3.1.3.7.
const (
	ReasonMalformed Reason = "malformed"
	ReasonKeys      Reason = "keys unavailable"
	ReasonSignature Reason = "bad signature"
	ReasonIssuer    Reason = "wrong issuer"
	ReasonAudience  Reason = "wrong audience"
	ReasonExpired   Reason = "expired"
	ReasonNonce     Reason = "wrong nonce"
	ReasonAtHash    Reason = "at_hash mismatch"
	ReasonSubject   Reason = "no subject"
)

// VerifyError is an ID token that failed verification. It never holds the
// token.
type VerifyError struct {
	Reason Reason
	// Issuer is the issuer whose keys were used.
	Issuer string
	// Detail says what was wrong (sanitised).
	Detail string
	// Err is go-oidc's error, when there is one.
	Err error
}

// Error names the check that failed.
func (e *VerifyError) Error() string {
	msg := "the ID token from " + e.Issuer + " failed verification (" + string(e.Reason) + ")"
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Unwrap returns go-oidc's error.
func (e *VerifyError) Unwrap() error { return e.Err }

// supportedAlgs are the signing algorithms go-oidc verifies with a JWKS.
var supportedAlgs = []string{oidc.RS256, oidc.RS384, oidc.RS512, oidc.ES256, oidc.ES384, oidc.ES512, oidc.PS256, oidc.PS384, oidc.PS512, oidc.EdDSA}

// Verify checks rawIDToken: its signature against the keys at the
// document's jwks_uri, its issuer (the document's, exactly), that its
// audience holds ClientID (and azp, when present, is ClientID), its expiry,
// that it has a subject, its nonce when nonce is not "", and its at_hash
// against accessToken when both are present. Errors are *VerifyError.
func (v *Verifier) Verify(ctx context.Context, rawIDToken, nonce, accessToken string) (*Claims, error) {
	if v.Document == nil || v.ClientID == "" {
		return nil, errors.New("identity: a Verifier needs the discovery document and the client ID")
	}
	iss := v.Document.Issuer
	timeout := v.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	ctx = oidc.ClientContext(ctx, safehttp.HTTPClient(v.HTTPClient, timeout))
	var algs []string
	for _, a := range v.Document.IDTokenSigningAlgValuesSupported {
		if slices.Contains(supportedAlgs, a) {
			algs = append(algs, a)
		}
	}
	now := clock.Or(v.Clock).Now
	verifier := oidc.NewVerifier(iss, oidc.NewRemoteKeySet(ctx, v.Document.JWKSURI), &oidc.Config{
		ClientID:             v.ClientID,
		SupportedSigningAlgs: algs,
		Now:                  now,
	})
	idt, err := verifier.Verify(ctx, rawIDToken)
	if err != nil {
		return nil, classify(err, iss, rawIDToken)
	}
	all := map[string]any{}
	if err := idt.Claims(&all); err != nil {
		return nil, &VerifyError{Reason: ReasonMalformed, Issuer: iss, Detail: "the claims are not a JSON object", Err: err}
	}
	if idt.Subject == "" {
		return nil, &VerifyError{Reason: ReasonSubject, Issuer: iss, Detail: "it has no sub claim"}
	}
	if azp, ok := all["azp"].(string); ok && azp != v.ClientID {
		return nil, &VerifyError{Reason: ReasonAudience, Issuer: iss, Detail: fmt.Sprintf("it was issued to %q (azp), not to the client %q", safe.Short(azp, 100), v.ClientID)}
	}
	if nonce != "" && idt.Nonce != nonce {
		return nil, &VerifyError{Reason: ReasonNonce, Issuer: iss, Detail: "its nonce is not the one this login sent"}
	}
	if idt.AccessTokenHash != "" && accessToken != "" {
		if err := idt.VerifyAccessToken(accessToken); err != nil {
			return nil, &VerifyError{Reason: ReasonAtHash, Issuer: iss, Detail: "its at_hash does not match the access token", Err: redact(err, rawIDToken, accessToken)}
		}
	}
	return &Claims{Issuer: idt.Issuer, Subject: idt.Subject, Audience: idt.Audience, IssuedAt: idt.IssuedAt, Expiry: idt.Expiry, All: all}, nil
}

// classify turns go-oidc's error into a *VerifyError, by its type or the
// words go-oidc uses (it has no other way to tell them apart).
func classify(err error, iss, raw string) error {
	ve := &VerifyError{Issuer: iss, Err: redact(err, raw)}
	// The token is out of the text before any of it is cut.
	msg := safe.Redact(err.Error(), raw)
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		ve.Reason, ve.Detail = ReasonExpired, "it expired at "+expired.Expiry.UTC().Format(time.RFC3339)
	case strings.HasPrefix(msg, "failed to verify signature") && strings.Contains(msg, "keys"):
		ve.Reason, ve.Detail = ReasonKeys, "the issuer's keys (jwks_uri) could not be read: "+safe.Short(strings.TrimPrefix(msg, "failed to verify signature: "), 200)
	case strings.HasPrefix(msg, "failed to verify signature"):
		ve.Reason, ve.Detail = ReasonSignature, "the signature matches no key the issuer publishes"
	case strings.HasPrefix(msg, "oidc: malformed jwt"), strings.HasPrefix(msg, "oidc: id token not signed"), strings.HasPrefix(msg, "oidc: multiple signatures"):
		ve.Reason, ve.Detail = ReasonMalformed, safe.Short(msg, 200)
	case strings.HasPrefix(msg, "oidc: id token issued by a different provider"):
		ve.Reason, ve.Detail = ReasonIssuer, safe.Short(strings.TrimPrefix(msg, "oidc: "), 200)
	case strings.HasPrefix(msg, "oidc: expected audience"):
		ve.Reason, ve.Detail = ReasonAudience, safe.Short(strings.TrimPrefix(msg, "oidc: "), 200)
	default:
		ve.Reason, ve.Detail = ReasonMalformed, safe.Short(msg, 200)
	}
	return ve
}

// redact keeps err's type but never the tokens' text (safe.Redact).
func redact(err error, secrets ...string) error {
	if msg := err.Error(); safe.HasSecret(msg, secrets...) {
		return errors.New(safe.Redact(msg, secrets...))
	}
	return err
}

// NewNonce returns a fresh nonce for an authorization request (OpenID
// Connect Core 1.0 §3.1.2.1): 32 random bytes, base64url.
func NewNonce() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// tokenOf is the reply a login got: its ID token and access token.
func tokenOf(tok *oauth.Token) (id, access string) {
	if tok == nil {
		return "", ""
	}
	return tok.IDToken, tok.AccessToken
}

// StoredSubject reads the sub claim of an ID token that was verified when it
// was stored (Verify), WITHOUT checking it again, so that a later login can
// be compared with the account it replaces. It returns "" for a value that
// is not a signed JWT or has no sub. It never decides whether to trust a
// token.
func StoredSubject(rawIDToken string) string {
	algs := make([]jose.SignatureAlgorithm, len(supportedAlgs))
	for i, a := range supportedAlgs {
		algs[i] = jose.SignatureAlgorithm(a)
	}
	tok, err := jwt.ParseSigned(rawIDToken, algs)
	if err != nil {
		return ""
	}
	var c struct {
		Subject string `json:"sub"`
	}
	if err := tok.UnsafeClaimsWithoutVerification(&c); err != nil {
		return ""
	}
	return c.Subject
}
