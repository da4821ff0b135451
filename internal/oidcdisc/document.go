package oidcdisc

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// WellKnownPath is appended to the issuer (OpenID Connect Discovery 1.0 §4).
const WellKnownPath = "/.well-known/openid-configuration"

// MaxDocumentBytes caps a discovery document; real ones are a few KiB.
const MaxDocumentBytes = 256 << 10

// Document is a validated discovery document (OpenID Connect Discovery 1.0
// §3, with RFC 8628's device_authorization_endpoint, RFC 7009's
// revocation_endpoint and RFC 7636's code_challenge_methods_supported).
// Every URL in it has passed safe.CheckURL; the lists are server text.
type Document struct {
	Issuer                      string `json:"issuer"`
	AuthorizationEndpoint       string `json:"authorization_endpoint"`
	TokenEndpoint               string `json:"token_endpoint"`
	UserinfoEndpoint            string `json:"userinfo_endpoint,omitempty"`
	JWKSURI                     string `json:"jwks_uri"`
	DeviceAuthorizationEndpoint string `json:"device_authorization_endpoint,omitempty"`
	RevocationEndpoint          string `json:"revocation_endpoint,omitempty"`
	// ScopesSupported keeps only values that are scope-tokens (RFC 6749 §3.3).
	ScopesSupported                        []string `json:"scopes_supported,omitempty"`
	CodeChallengeMethodsSupported          []string `json:"code_challenge_methods_supported,omitempty"`
	GrantTypesSupported                    []string `json:"grant_types_supported,omitempty"`
	ResponseTypesSupported                 []string `json:"response_types_supported,omitempty"`
	TokenEndpointAuthMethodsSupported      []string `json:"token_endpoint_auth_methods_supported,omitempty"`
	RevocationEndpointAuthMethodsSupported []string `json:"revocation_endpoint_auth_methods_supported,omitempty"`
	IDTokenSigningAlgValuesSupported       []string `json:"id_token_signing_alg_values_supported,omitempty"`
	ClaimsSupported                        []string `json:"claims_supported,omitempty"`
}

// SupportsPKCE reports whether the server lists S256 among its
// code_challenge_methods_supported, or lists none (RFC 8414 §2: absent
// means nothing is said, and ghlogin then uses PKCE, which servers that do
// not know it ignore).
func (d *Document) SupportsPKCE() bool {
	return len(d.CodeChallengeMethodsSupported) == 0 || contains(d.CodeChallengeMethodsSupported, "S256")
}

// Problem says which rule a discovery document breaks.
type Problem int

// The rules a document must follow.
const (
	// IssuerMismatch: its issuer is not exactly the issuer asked for.
	IssuerMismatch Problem = iota + 1
	// MissingField: a required member is absent or empty.
	MissingField
	// BadURL: an endpoint breaks the URL rules (Err is a *safe.URLError).
	BadURL
	// TooLarge: it is larger than MaxDocumentBytes.
	TooLarge
	// BadJSON: it is not a JSON object of the expected shape (Err is the
	// decoder's error).
	BadJSON
)

// DocumentError is a discovery document that may not be used.
type DocumentError struct {
	// Issuer is the issuer that was asked for.
	Issuer  string
	Problem Problem
	// Field is the member at fault ("issuer", "token_endpoint", ...), when
	// one is.
	Field string
	// Discovered is the issuer the document names (IssuerMismatch),
	// sanitised.
	Discovered string
	// Err is the cause: a *safe.URLError (BadURL) or a JSON error (BadJSON).
	Err error
}

// Error says what is wrong with the document.
func (e *DocumentError) Error() string {
	what := "the discovery document of " + e.Issuer
	switch e.Problem {
	case IssuerMismatch:
		return fmt.Sprintf("%s names the issuer %q; an issuer must match its discovery document exactly", what, e.Discovered)
	case MissingField:
		return fmt.Sprintf("%s has no %s", what, e.Field)
	case BadURL:
		reason := "it breaks the URL rules"
		var ue *safe.URLError
		if errors.As(e.Err, &ue) {
			reason = ue.Reason
		}
		return fmt.Sprintf("%s names a %s that cannot be used: %s", what, e.Field, reason)
	case TooLarge:
		return fmt.Sprintf("%s is larger than %d KiB", what, MaxDocumentBytes>>10)
	case BadJSON:
		msg := what + " is not valid JSON"
		if e.Field != "" {
			msg = fmt.Sprintf("%s has a %s of the wrong type", what, e.Field)
		}
		if e.Err != nil {
			msg += " (" + safe.Short(e.Err.Error(), 200) + ")"
		}
		return msg
	}
	return what + " cannot be used"
}

// Unwrap returns the cause.
func (e *DocumentError) Unwrap() error { return e.Err }

// URL returns the discovery document's URL for issuer: the issuer without
// a trailing slash, then WellKnownPath (OpenID Connect Discovery 1.0 §4.1).
func URL(issuer string) string {
	return strings.TrimSuffix(issuer, "/") + WellKnownPath
}

// IssuerHost checks issuer (config.CheckIssuer) and returns the host it
// names, as ghlogin names hosts: https, or http for a loopback issuer.
func IssuerHost(issuer string) (hosts.Host, error) {
	u, err := config.CheckIssuer(issuer)
	if err != nil {
		return hosts.Host{}, err
	}
	return hosts.Parse(strings.ToLower(u.Scheme) + "://" + u.Host)
}

// Parse decodes and validates raw as the discovery document of issuer.
// Errors are *DocumentError.
func Parse(issuer string, raw []byte) (*Document, error) {
	if len(raw) > MaxDocumentBytes {
		return nil, &DocumentError{Issuer: issuer, Problem: TooLarge}
	}
	var d Document
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&d); err != nil {
		de := &DocumentError{Issuer: issuer, Problem: BadJSON, Err: err}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			de.Field = safe.Short(te.Field, 100)
		}
		return nil, de
	}
	if dec.More() {
		return nil, &DocumentError{Issuer: issuer, Problem: BadJSON, Err: errors.New("text after the JSON object")}
	}
	if d.Issuer == "" {
		return nil, &DocumentError{Issuer: issuer, Problem: MissingField, Field: "issuer"}
	}
	if d.Issuer != issuer {
		return nil, &DocumentError{Issuer: issuer, Problem: IssuerMismatch, Field: "issuer", Discovered: safe.Short(d.Issuer, 200)}
	}
	for _, f := range []struct {
		name     string
		value    string
		required bool
	}{
		{"authorization_endpoint", d.AuthorizationEndpoint, true},
		{"token_endpoint", d.TokenEndpoint, true},
		{"jwks_uri", d.JWKSURI, true},
		{"userinfo_endpoint", d.UserinfoEndpoint, false},
		{"device_authorization_endpoint", d.DeviceAuthorizationEndpoint, false},
		{"revocation_endpoint", d.RevocationEndpoint, false},
	} {
		if f.value == "" {
			if f.required {
				return nil, &DocumentError{Issuer: issuer, Problem: MissingField, Field: f.name}
			}
			continue
		}
		if _, err := safe.CheckURL(f.value); err != nil {
			return nil, &DocumentError{Issuer: issuer, Problem: BadURL, Field: f.name, Err: err}
		}
	}
	d.ScopesSupported = scopeTokens(d.ScopesSupported)
	return &d, nil
}

// scopeTokens keeps the values that are scope-tokens (RFC 6749 §3.3).
func scopeTokens(v []string) []string {
	var out []string
	for _, s := range v {
		if oauth.IsScopeToken(s) {
			out = append(out, s)
		}
	}
	return out
}

func contains(v []string, s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}
