package idtoken

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// VerifyOptions says whom to trust and what to check.
type VerifyOptions struct {
	// Issuer is the issuer to trust. "" trusts the token's own iss, which
	// must then be https (or http on a loopback host). When set, the token's
	// iss must equal it.
	Issuer string
	// Audience, when set, must be one of the token's aud values.
	Audience string
	// HTTPClient fetches the discovery document and the JWKS; nil = a client
	// with a DefaultTimeout timeout.
	HTTPClient *http.Client
	// Clock tells the time exp and nbf are checked against; nil = clock.Real.
	Clock clock.Clock
}

func (o VerifyOptions) clock() clock.Clock { return clock.Or(o.Clock) }

// Verified is a token whose signature, issuer, expiry and (when asked)
// audience were checked.
type Verified struct {
	Issuer   string
	Subject  string
	Audience []string
	Expiry   time.Time
	IssuedAt time.Time
	Claims   map[string]any
}

// VerifyReason says which check a token failed.
type VerifyReason string

// Reasons a token fails Verify.
const (
	ReasonMalformed       VerifyReason = "malformed token"
	ReasonUntrustedIssuer VerifyReason = "untrusted issuer"
	ReasonIssuerMismatch  VerifyReason = "issuer mismatch"
	ReasonDiscovery       VerifyReason = "discovery failed"
	ReasonKeys            VerifyReason = "keys unavailable"
	ReasonSignature       VerifyReason = "bad signature"
	ReasonAudience        VerifyReason = "wrong audience"
	ReasonExpired         VerifyReason = "expired"
	ReasonNotYetValid     VerifyReason = "not yet valid"
)

// VerifyError is a token that failed verification. It never holds the token.
type VerifyError struct {
	Reason  VerifyReason
	Issuer  string // the issuer whose keys were (or would have been) used
	Message string // what was wrong and what to do
	Err     error  // the underlying library error, if any
}

// Error names the failed check and what to do next.
func (e *VerifyError) Error() string {
	return "ID token verification failed (" + string(e.Reason) + "): " + e.Message
}

// Unwrap returns the underlying error.
func (e *VerifyError) Unwrap() error { return e.Err }

// Verify checks token with OIDC discovery on its issuer: it fetches
// {issuer}/.well-known/openid-configuration and the jwks_uri it names, then
// checks the signature, the issuer, exp and nbf (against opts.Clock) and, when
// opts.Audience is set, the audience. Failures are *VerifyError.
func Verify(ctx context.Context, token string, opts VerifyOptions) (*Verified, error) {
	token = strings.TrimSpace(token)
	d, err := Decode(token)
	if err != nil {
		return nil, &VerifyError{Reason: ReasonMalformed, Message: err.Error(), Err: err}
	}
	iss, _ := d.Claims["iss"].(string)
	if iss == "" {
		return nil, &VerifyError{Reason: ReasonMalformed, Message: "the token has no iss claim, so its issuer's keys cannot be found"}
	}
	if alg, _ := d.Header["alg"].(string); alg == "" || strings.EqualFold(alg, "none") {
		return nil, &VerifyError{Reason: ReasonSignature, Issuer: iss, Message: "the token is not signed (alg " + quote(alg) + ")"}
	}
	issuer := strings.TrimSpace(opts.Issuer)
	if issuer == "" {
		if !trustedIssuer(iss) {
			return nil, &VerifyError{Reason: ReasonUntrustedIssuer, Issuer: sanitize(iss, token), Message: "the token's issuer " + quote(iss) +
				" is not an https URL, so its keys cannot be fetched safely; pass the issuer you trust explicitly"}
		}
		issuer = iss
	} else {
		if !trustedIssuer(issuer) {
			return nil, &VerifyError{Reason: ReasonUntrustedIssuer, Issuer: sanitize(issuer), Message: "the issuer " + quote(issuer) +
				" is not an https URL (http is allowed only on loopback)"}
		}
		if iss != issuer {
			return nil, &VerifyError{Reason: ReasonIssuerMismatch, Issuer: issuer, Message: "the token was issued by " + quote(iss) +
				", not by the trusted issuer " + quote(issuer)}
		}
	}

	ctx, cancel := withTimeout(ctx)
	defer cancel()
	// go-oidc fetches discovery and the JWKS with the client in ctx; it is
	// under the one redirect policy like every client ghlogin makes. go-oidc
	// keeps only the text of a JWKS failure, so the refusal is also noted
	// here, to be returned as a typed error.
	var refused redirectNote
	ctx = oidc.ClientContext(ctx, refused.client(opts.HTTPClient))

	provider, err := oidc.NewProvider(ctx, issuer)
	if re := refused.get(); err != nil && re != nil {
		return nil, &VerifyError{Reason: ReasonDiscovery, Issuer: issuer, Message: "could not read the issuer's discovery document: " + re.Error(), Err: re}
	}
	if err != nil {
		var mm *oidc.IssuerMismatchError
		msg := "could not read " + strings.TrimSuffix(issuer, "/") + "/.well-known/openid-configuration: " + sanitize(oauth.StripURL(err).Error(), token) +
			"; check the issuer and the network"
		if errors.As(err, &mm) {
			msg = "the discovery document of " + quote(issuer) + " names the issuer " + quote(mm.Discovered) +
				"; the token's issuer must match its provider's discovery document exactly"
		}
		return nil, &VerifyError{Reason: ReasonDiscovery, Issuer: issuer, Message: msg, Err: redactErr(err, token)}
	}
	verifier := provider.Verifier(&oidc.Config{
		ClientID:          opts.Audience,
		SkipClientIDCheck: opts.Audience == "",
		Now:               opts.clock().Now,
	})
	idt, err := verifier.Verify(ctx, token)
	if re := refused.get(); err != nil && re != nil {
		return nil, &VerifyError{Reason: ReasonKeys, Issuer: issuer, Message: "could not fetch the issuer's signing keys (jwks_uri): " + re.Error(), Err: re}
	}
	if err != nil {
		return nil, classify(err, d, issuer, opts, token)
	}
	claims := map[string]any{}
	if err := idt.Claims(&claims); err != nil {
		return nil, &VerifyError{Reason: ReasonMalformed, Issuer: issuer, Message: "the claims are not a JSON object", Err: err}
	}
	return &Verified{
		Issuer:   idt.Issuer,
		Subject:  idt.Subject,
		Audience: idt.Audience,
		Expiry:   idt.Expiry,
		IssuedAt: idt.IssuedAt,
		Claims:   claims,
	}, nil
}

// classify turns a go-oidc verification error into a *VerifyError. go-oidc
// checks the signature first; when that passed, the claims read by Decode
// are the signed ones and tell which later check failed.
func classify(err error, d *Decoded, issuer string, opts VerifyOptions, token string) error {
	now := opts.clock().Now
	ve := &VerifyError{Issuer: issuer, Err: redactErr(err, token)}
	msg := err.Error()
	var expired *oidc.TokenExpiredError
	switch {
	case errors.As(err, &expired):
		ve.Reason = ReasonExpired
		ve.Message = fmt.Sprintf("the token expired at %s (now %s); get a fresh one",
			expired.Expiry.UTC().Format(time.RFC3339), now().UTC().Format(time.RFC3339))
	case strings.HasPrefix(msg, "failed to verify signature") && strings.Contains(msg, "fetching keys"):
		ve.Reason = ReasonKeys
		detail := msg
		for _, p := range []string{"failed to verify signature: ", "fetching keys ", "oidc: get keys failed: ", "oidc: get keys failed "} {
			detail = strings.TrimPrefix(detail, p)
		}
		ve.Message = "could not fetch the issuer's signing keys (jwks_uri): " + sanitize(detail, token) + "; check the issuer and the network"
	case strings.HasPrefix(msg, "failed to verify signature"):
		kid, _ := d.Header["kid"].(string)
		ve.Reason = ReasonSignature
		ve.Message = "the signature matches no key the issuer publishes"
		if kid != "" {
			ve.Message += " (key id " + quote(kid) + ")"
		}
		ve.Message += "; the token was altered, or not issued by " + quote(issuer)
	case strings.HasPrefix(msg, "oidc: malformed jwt"), strings.HasPrefix(msg, "oidc: id token not signed"),
		strings.HasPrefix(msg, "oidc: multiple signatures"):
		alg, _ := d.Header["alg"].(string)
		ve.Reason = ReasonSignature
		ve.Message = "the token's signature cannot be checked (alg " + quote(alg) + "): " + sanitize(msg, token)
	default:
		iss, _ := d.Claims["iss"].(string)
		aud := audiences(d.Claims["aud"])
		switch {
		case iss != issuer:
			ve.Reason = ReasonIssuerMismatch
			ve.Message = "the token was issued by " + quote(iss) + ", not by " + quote(issuer)
		case opts.Audience != "" && !slices.Contains(aud, opts.Audience):
			ve.Reason = ReasonAudience
			ve.Message = fmt.Sprintf("the token's audience is %s, not %s; ask for a token with --audience %s",
				quoteList(aud), quote(opts.Audience), quote(opts.Audience))
		case strings.Contains(msg, "nbf"):
			ve.Reason = ReasonNotYetValid
			ve.Message = "the token is not valid yet (nbf is in the future); check this machine's clock"
		default:
			ve.Reason = ReasonMalformed
			ve.Message = sanitize(msg, token)
		}
	}
	return ve
}

// trustedIssuer reports whether an issuer URL may be fetched: one that
// safe.CheckURL accepts, without a query (OpenID Connect Discovery 1.0 §2).
func trustedIssuer(s string) bool {
	u, err := safe.CheckURL(s)
	return err == nil && u.RawQuery == ""
}

func audiences(v any) []string {
	switch a := v.(type) {
	case string:
		return []string{a}
	case []any:
		var out []string
		for _, x := range a {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

func quoteList(ss []string) string {
	if len(ss) == 0 {
		return "empty"
	}
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = quote(s)
	}
	return strings.Join(q, ", ")
}

// redirectNote is an HTTP client under safe's redirect policy that also
// remembers the last redirect the policy refused.
type redirectNote struct {
	mu  sync.Mutex
	err *safehttp.RedirectError
}

// client returns httpClient(hc) with the policy's refusals noted.
func (n *redirectNote) client(hc *http.Client) *http.Client {
	c := httpClient(hc)
	c.CheckRedirect = func(req *http.Request, via []*http.Request) error {
		err := safehttp.CheckRedirect(req, via)
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			n.mu.Lock()
			n.err = re
			n.mu.Unlock()
		}
		return err
	}
	return c
}

// get returns the last refused redirect, or nil.
func (n *redirectNote) get() *safehttp.RedirectError {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.err
}
