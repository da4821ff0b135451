// Package idtoken gets, decodes and verifies the OIDC ID token of a workload:
// the token a GitHub Actions job can ask its runner for, or the Google-signed
// ID token the metadata server hands a Compute Engine VM or GKE pod.
//
// Sources follow the providers' public documentation: GitHub's "OpenID Connect
// with cloud providers" guide (and actions/toolkit core.getIDToken), and
// Google's "Get an ID token" guide for the metadata server. Verification uses
// OIDC discovery and the issuer's JWKS through github.com/coreos/go-oidc.
//
// Tokens never appear in errors: every message built from a server's reply is
// sanitized, and the request token and any JWT-shaped text are redacted.
package idtoken

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// Source names accepted by Detect and returned by Source.Name.
const (
	SourceAuto          = "auto"
	SourceGitHubActions = "github-actions"
	SourceGCE           = "gce"
)

// Environment variables the sources read.
const (
	// EnvActionsRequestURL is the Actions runner's ID token endpoint; it is
	// set only for jobs with "permissions: id-token: write".
	EnvActionsRequestURL = "ACTIONS_ID_TOKEN_REQUEST_URL"
	// EnvActionsRequestToken is the bearer token for EnvActionsRequestURL.
	EnvActionsRequestToken = "ACTIONS_ID_TOKEN_REQUEST_TOKEN"
	// EnvMetadataHost overrides the metadata server's host:port, as Google's
	// client libraries do.
	EnvMetadataHost = "GCE_METADATA_HOST"
)

// DefaultMetadataHost is the documented address of the metadata server.
const DefaultMetadataHost = "169.254.169.254"

// DefaultTimeout bounds one request when the caller's HTTP client or context
// does not.
const DefaultTimeout = 10 * time.Second

// maxBodyBytes caps every response body read here (ID tokens are a few KiB).
const maxBodyBytes = 1 << 20

// userAgent is sent with the GitHub Actions request.
const userAgent = "ghlogin"

// Request says what token to ask for.
type Request struct {
	// Audience is the token's aud. "" asks for the source's default: on
	// GitHub Actions that is the URL of the repository owner, chosen by
	// GitHub; the metadata server requires one.
	Audience string
	// Full asks the metadata server for format=full, which adds the
	// google.compute_engine claims. Metadata server only.
	Full bool
	// Licenses asks the metadata server for licenses=TRUE (license codes of
	// the VM's images). Needs Full. Metadata server only.
	Licenses bool
}

// Source is where a workload's ID token comes from.
type Source interface {
	// Name is "github-actions" or "gce".
	Name() string
	// Token returns the raw JWT.
	Token(ctx context.Context, req Request) (string, error)
}

// NotAvailableError says a source cannot be used in this environment (its
// variables are unset, or no source was detected).
type NotAvailableError struct {
	Source  string // "github-actions", "gce" or "auto"
	Message string // what is missing and what to do
	// InActions is set when this runs inside a GitHub Actions job
	// (GITHUB_ACTIONS=true) that has no ID token request variables.
	InActions bool
}

// Error describes the failure and what to do next.
func (e *NotAvailableError) Error() string { return e.Message }

// UsageError is a request or configuration that is wrong before any request
// is made: a missing audience, an option the source does not support, an
// endpoint that is not https.
type UsageError struct {
	Source  string
	Message string
}

// Error describes the failure and what to do next.
func (e *UsageError) Error() string { return e.Source + ": " + e.Message }

// HTTPError is a token endpoint that answered with a status other than 200.
type HTTPError struct {
	Source     string // "github-actions" or "gce"
	StatusCode int
	// Message is a short sanitized snippet of the reply (never a token); it
	// may be empty.
	Message string
}

// Error describes the failure and what to do next.
func (e *HTTPError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %s answered HTTP %d", e.Source, endpointName(e.Source), e.StatusCode)
	if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, " (%q)", e.Message)
	}
	b.WriteString(": ")
	b.WriteString(e.Hint())
	return b.String()
}

// Transient reports whether trying again later may succeed (429 and 5xx).
func (e *HTTPError) Transient() bool {
	return e.StatusCode == http.StatusTooManyRequests || e.StatusCode >= 500
}

// Hint says what to do next about this reply.
func (e *HTTPError) Hint() string {
	if e.Source == SourceGCE {
		switch {
		case e.StatusCode == http.StatusNotFound:
			return "this VM/pod has no service account: attach one to the instance, or on GKE link the pod's Kubernetes service account with Workload Identity"
		case e.StatusCode == http.StatusForbidden:
			return "the metadata server refused the request: it requires the Metadata-Flavor: Google header and rejects proxied requests (X-Forwarded-For); on GKE the pod may not be allowed to use the node's identity"
		case e.StatusCode == http.StatusBadRequest:
			return "the metadata server rejected the request: check --audience"
		case e.Transient():
			return "the metadata server is unavailable right now: try again in a moment"
		}
		return "unexpected reply from the metadata server: check GCE_METADATA_HOST, or that this runs on Google Cloud"
	}
	switch {
	case e.StatusCode == http.StatusUnauthorized:
		return "the request token was refused: ACTIONS_ID_TOKEN_REQUEST_TOKEN is valid only while its job runs, so request the ID token from a step of the same job"
	case e.StatusCode == http.StatusForbidden:
		return "the job may not request an ID token: add \"permissions: id-token: write\" to the workflow or the job (pull requests from forks never get one)"
	case e.StatusCode == http.StatusNotFound:
		return "the token endpoint was not found: ACTIONS_ID_TOKEN_REQUEST_URL must be the one of this job, unchanged"
	case e.StatusCode == http.StatusBadRequest:
		return "the token endpoint rejected the request: check --audience"
	case e.Transient():
		return "GitHub's token service is unavailable right now: re-run the step in a moment"
	}
	return "unexpected reply from the GitHub Actions token endpoint: check ACTIONS_ID_TOKEN_REQUEST_URL"
}

// ResponseError is a 200 reply that does not carry a usable token: not JSON,
// no "value", empty, or not a JWT.
type ResponseError struct {
	Source  string
	Message string
}

// Error describes the failure and what to do next.
func (e *ResponseError) Error() string {
	return fmt.Sprintf("%s: %s sent an unusable reply: %s", e.Source, endpointName(e.Source), e.Message)
}

// NetworkError is a request that failed before a reply arrived: the host is
// unreachable, the connection broke, or the time ran out.
type NetworkError struct {
	Source string
	Host   string // host[:port] that was called
	Err    error  // the cause, without the request URL
}

// Error describes the failure and what to do next.
func (e *NetworkError) Error() string {
	msg := fmt.Sprintf("%s: could not reach %s at %s: %v", e.Source, endpointName(e.Source), e.Host, e.Err)
	switch {
	case e.Timeout():
		msg += " (timed out; check the network, or try again)"
	case e.Source == SourceGCE:
		msg += " (not on Google Cloud? set GCE_METADATA_HOST, or use --source github-actions)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the request ran out of time.
func (e *NetworkError) Timeout() bool {
	if errors.Is(e.Err, context.DeadlineExceeded) {
		return true
	}
	var t interface{ Timeout() bool }
	return errors.As(e.Err, &t) && t.Timeout()
}

func endpointName(source string) string {
	switch source {
	case SourceGCE:
		return "the metadata server"
	case SourceGitHubActions:
		return "the GitHub Actions ID token endpoint"
	}
	return "the ID token source"
}

// httpClient is hc (nil: a new client with a DefaultTimeout timeout) under
// ghlogin's one redirect policy (safehttp.HTTPClient): the Actions request
// carries a bearer token and follows no redirect; the metadata server's
// and the issuer's GETs follow one only to the same scheme, host and port.
func httpClient(hc *http.Client) *http.Client {
	return safehttp.HTTPClient(hc, DefaultTimeout)
}

// redirectRefused returns err's *safehttp.RedirectError, labelled with the
// source, when the policy refused a redirect; else nil. The error names the
// endpoint (without its query) and the Location's host, never a token: the
// secrets the request carried are removed from both (oauth.RedactError).
func redirectRefused(source string, err error, secrets ...string) error {
	var re *safehttp.RedirectError
	if errors.As(err, &re) {
		return fmt.Errorf("%s: %w", source, oauth.RedactError(re, secrets...))
	}
	return nil
}

// withTimeout bounds ctx by DefaultTimeout unless it already has a deadline.
func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, DefaultTimeout)
}

// readBody reads at most maxBodyBytes of r.
func readBody(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodyBytes {
		return nil, fmt.Errorf("reply larger than %d bytes", maxBodyBytes)
	}
	return b, nil
}

// jwtLike matches anything shaped like a JWS or JWE in compact form.
var jwtLike = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`eyJ[A-Za-z0-9_-]*(\.[A-Za-z0-9_-]*){1,4}`) })

// snippet turns a reply body into a short, printable, single-line message
// with secrets and JWT-shaped text redacted. JSON bodies contribute their
// message field when they have one.
func snippet(body []byte, secrets ...string) string {
	s := string(body)
	var obj map[string]any
	if json.Unmarshal(body, &obj) == nil {
		for _, k := range []string{"message", "error_description", "error"} {
			if v, ok := obj[k].(string); ok && v != "" {
				s = v
				break
			}
			if v, ok := obj[k].(map[string]any); ok {
				if m, ok := v["message"].(string); ok && m != "" {
					s = m
					break
				}
			}
		}
	}
	return sanitize(s, secrets...)
}

// sanitize redacts secrets and JWT-shaped text, collapses whitespace (a
// control character separates words as a space does) and makes the result
// safe to print with safe.Short, cut to 200 bytes.
func sanitize(s string, secrets ...string) string {
	// safe.Redact sanitises first (safe.Text removes whole escape
	// sequences; ESC c resets a terminal, so its "c" goes too), so that a
	// control character inside an echoed secret cannot hide it; what is
	// left is collapsed to single spaces, then cut.
	s = jwtLike().ReplaceAllString(safe.Redact(s, secrets...), safe.Redacted)
	return safe.Short(strings.Join(strings.Fields(s), " "), 200)
}
