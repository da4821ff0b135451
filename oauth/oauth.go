package oauth

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth/grammar"
)

// MaxBodyBytes caps every response body read from an OAuth server.
const MaxBodyBytes = 1 << 20

// DefaultTimeout bounds one request when Client.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// AuthStyle says how the client authenticates to the token endpoint
// (grammar.AuthStyle).
type AuthStyle = grammar.AuthStyle

// The client authentication styles (see grammar.AuthStyle).
const (
	AuthInBody = grammar.AuthInBody
	AuthBasic  = grammar.AuthBasic
)

// ParseAuthStyle reads "body" or "basic" (empty means body); see
// grammar.ParseAuthStyle.
func ParseAuthStyle(s string) (AuthStyle, error) { return grammar.ParseAuthStyle(s) }

// Credentials identify the OAuth client (the app), never the user.
type Credentials struct {
	ClientID     string
	ClientSecret string
	Style        AuthStyle
}

// Clock is what the flows read the time from and wait with: Now, and a
// Sleep that ends early when its context does. Tests pass a fake to control
// polling intervals and expiry without waiting; nil fields mean the real clock.
type Clock = clock.Clock

// URLError is an endpoint or redirect URL that breaks the URL rules (https,
// or http on a loopback address, without user info). Use errors.As with a
// *URLError to read which URL and why.
type URLError = safe.URLError

// URLProblem says which rule a URLError's URL breaks.
type URLProblem = safe.URLProblem

// The URL rules, as URLError.Problem reports them.
const (
	URLNotAbsolute = safe.NotAbsolute // does not parse, or has no scheme or host
	URLUserInfo    = safe.UserInfo    // carries a user name or password
	URLFragment    = safe.Fragment    // has a #fragment
	URLPlainHTTP   = safe.PlainHTTP   // http on a host that is not a loopback address
	URLScheme      = safe.Scheme      // neither https nor http
)

// Client posts forms to OAuth endpoints. The zero value is ready to use.
type Client struct {
	// HTTPClient sends the requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each request (connect, send, and read the reply);
	// zero means DefaultTimeout.
	Timeout time.Duration
	// UserAgent is sent on every request when set.
	UserAgent string
	// Clock dates a Retry-After given as an HTTP date; nil means the real clock.
	Clock Clock
}

// Seconds is a duration in whole seconds as OAuth servers send it: a JSON
// number, a JSON string holding a number (form replies), or absent (zero).
type Seconds int64

// UnmarshalJSON accepts 900, "900" and null.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	str := strings.Trim(string(b), `"`)
	if str == "" || str == "null" {
		*s = 0
		return nil
	}
	f, err := strconv.ParseFloat(str, 64)
	if err != nil || f < 0 || f > 1<<40 {
		// The value is not repeated: a server could put anything there,
		// a secret it echoes included.
		return errors.New("not a number of seconds")
	}
	*s = Seconds(f)
	return nil
}

// maxSeconds is the largest Seconds that fits in a time.Duration.
const maxSeconds = Seconds(math.MaxInt64 / int64(time.Second))

// Duration converts to a time.Duration, saturating instead of overflowing
// when a server sends an absurdly large number.
func (s Seconds) Duration() time.Duration {
	if s > maxSeconds {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s) * time.Second
}

// Token is a successful token endpoint reply. It holds secrets: never log it.
type Token struct {
	AccessToken           string  `json:"access_token"`
	TokenType             string  `json:"token_type"`
	Scope                 string  `json:"scope"`
	ExpiresIn             Seconds `json:"expires_in"`
	RefreshToken          string  `json:"refresh_token"`
	RefreshTokenExpiresIn Seconds `json:"refresh_token_expires_in"`
	IDToken               string  `json:"id_token"`
	// ScopeOmitted reports that the reply had no scope field at all (as
	// opposed to an empty one), which RFC 6749 §5.1 allows when the scopes
	// granted are the ones requested: see GrantedScopes. Exchange sets it.
	ScopeOmitted bool `json:"-"`
}

// String never shows the secrets, so a stray %v cannot leak them. It has a
// value receiver so that a Token held by value (say, as a struct field) is
// hidden too.
func (t Token) String() string {
	return fmt.Sprintf("oauth.Token{type=%q scope=%q expires_in=%d refresh=%t}", t.TokenType, t.Scope, t.ExpiresIn, t.RefreshToken != "")
}

// GoString hides the secrets from %#v too.
func (t Token) GoString() string { return t.String() }

// Scopes splits Scope on commas and spaces (GitHub uses commas, RFC 6749
// spaces), dropping anything that is not a scope-token (see SplitScopes).
func (t *Token) Scopes() []string { return SplitScopes(t.Scope) }

// SplitScopes splits a scope list written with commas and/or spaces. What a
// server sends there is checked against the scope-token grammar (RFC 6749
// §3.3, IsScopeToken), and anything else is dropped, so no scope that
// reaches the store or a terminal can hold a control character.
func SplitScopes(s string) []string {
	f := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	out := f[:0]
	for _, sc := range f {
		if IsScopeToken(sc) {
			out = append(out, sc)
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// InvalidErrorCode stands in for an "error" value that breaks RFC 6749's
// grammar for error codes: the server's text is not shown at all.
const InvalidErrorCode = "invalid_error_code"

// IsErrorCode reports whether s is an error code as RFC 6749 §5.2 writes
// them (see grammar.IsErrorCode): printable ASCII without '"' and '\', at
// most 100 bytes.
func IsErrorCode(s string) bool { return grammar.IsErrorCode(s) }

// IsScopeToken reports whether s is a scope-token (RFC 6749 §3.3; see
// grammar.IsScopeToken): printable ASCII without space, '"' and '\'.
func IsScopeToken(s string) bool { return grammar.IsScopeToken(s) }

// Error is an OAuth error reply: RFC 6749 §5.2, RFC 8628 §3.5, and GitHub's
// own codes (device_flow_disabled, incorrect_client_credentials, ...).
type Error struct {
	Code        string // the "error" field
	Description string // error_description
	URI         string // error_uri
	// Interval is the "interval" field some servers send with slow_down.
	Interval Seconds
	// StatusCode is the HTTP status of the reply (GitHub uses 200).
	StatusCode int
	// RetryAfter is the server's Retry-After header, zero when absent (some
	// servers send a JSON error with 429 or 503).
	RetryAfter time.Duration
}

// Error gives the code and the server's description.
func (e *Error) Error() string {
	msg := "the server answered " + e.Code
	if e.Description != "" {
		msg += ": " + e.Description
	}
	return msg
}

// HTTPError is a reply that is neither a result nor an OAuth error: a 5xx, a
// 429, or a non-2xx status with an unreadable body.
type HTTPError struct {
	StatusCode int
	// RetryAfter is the server's Retry-After, zero when absent.
	RetryAfter time.Duration
	// Detail is a short, sanitized reason (never the raw body).
	Detail string
	// Unparsed reports that the body could not be read as an OAuth reply
	// (not JSON or form data, or not the expected fields): a captive
	// portal, a proxy's error page, or the wrong URL.
	Unparsed bool
	// HTML reports that the unparsed body was an HTML page.
	HTML bool
}

// Error gives the status and the detail.
func (e *HTTPError) Error() string {
	msg := fmt.Sprintf("the server answered HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
	if e.Detail != "" {
		msg += ": " + e.Detail
	}
	return msg
}

// Transient reports whether retrying later may succeed (5xx, 429, 408).
func (e *HTTPError) Transient() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests || e.StatusCode == http.StatusRequestTimeout
}

// NetworkError is a failure to reach the server or read its reply.
type NetworkError struct {
	Endpoint string // scheme://host/path, without query
	Err      error
}

// Error names the endpoint and the cause; for a network failure it adds
// "check your network connection", which does not help with a server that
// answered in plain http or with an untrusted certificate.
func (e *NetworkError) Error() string {
	var re *safehttp.RedirectError
	switch {
	case errors.As(e.Err, &re):
		// The server answered, with a redirect that was not followed: the
		// network is fine, and the redirect's message names both ends.
		return re.Error()
	case e.NotTLS():
		return fmt.Sprintf("could not reach %s: the server there does not speak https (%v)", e.Endpoint, e.Err)
	case e.Certificate():
		return fmt.Sprintf("could not reach %s: its TLS certificate is not trusted on this machine (%v)", e.Endpoint, e.Err)
	}
	return fmt.Sprintf("could not reach %s: %v (check your network connection)", e.Endpoint, e.Err)
}

// NotTLS reports whether the server answered an https request with
// something other than TLS, typically plain http.
func (e *NetworkError) NotTLS() bool {
	var rh tls.RecordHeaderError
	// net/http reports a plain-http answer with an untyped error.
	return errors.As(e.Err, &rh) || e.Err != nil && strings.Contains(e.Err.Error(), "server gave HTTP response to HTTPS client")
}

// Certificate reports whether the server's TLS certificate was refused
// (unknown authority, wrong name, expired).
func (e *NetworkError) Certificate() bool {
	var (
		cv *tls.CertificateVerificationError
		ua x509.UnknownAuthorityError
		hn x509.HostnameError
		ci x509.CertificateInvalidError
	)
	return errors.As(e.Err, &cv) || errors.As(e.Err, &ua) || errors.As(e.Err, &hn) || errors.As(e.Err, &ci)
}

// Unwrap returns the cause.
func (e *NetworkError) Unwrap() error { return e.Err }

// Timeout reports whether the failure was a timeout.
func (e *NetworkError) Timeout() bool {
	var ne net.Error
	return errors.Is(e.Err, context.DeadlineExceeded) || (errors.As(e.Err, &ne) && ne.Timeout())
}

// IsTransient reports whether err is worth retrying: network errors,
// timeouts, 5xx and 429. Context cancellation by the caller is not.
func IsTransient(err error) bool {
	var ne *NetworkError
	if errors.As(err, &ne) {
		return true
	}
	var he *HTTPError
	return errors.As(err, &he) && he.Transient()
}

// RetryAfter returns the server's requested delay for err, or zero.
func RetryAfter(err error) time.Duration {
	var he *HTTPError
	if errors.As(err, &he) {
		return he.RetryAfter
	}
	var oe *Error
	if errors.As(err, &oe) {
		return oe.RetryAfter
	}
	return 0
}

// httpClient is HTTPClient (or a new client) under the one redirect policy
// (safehttp.HTTPClient): every request this package makes carries a secret (the
// client's credentials, a code, a refresh token), so none follows a
// redirect, whatever CheckRedirect the caller's client had.
func (c *Client) httpClient() *http.Client {
	return safehttp.HTTPClient(c.HTTPClient, c.timeout())
}

func (c *Client) now() time.Time { return clock.Or(c.Clock).Now() }

func (c *Client) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// Post sends form (plus the client credentials) to endpoint and decodes a
// successful reply into out (a pointer to a struct with json tags; Seconds
// fields accept form-encoded numbers). An "error" field gives *Error whatever
// the HTTP status. endpoint must be an https URL, or http on a loopback
// address (RFC 8252 §8.3), without user info: else *URLError.
//
// Whatever the server echoes, no secret the request carried (a code, a
// PKCE verifier, a device code, a refresh token, a token being revoked, a
// client secret: every form value but the public ones, and the Basic
// credentials) nor one ctx names (WithSecrets) appears in the error
// returned: every text the server chose in it goes through RedactError.
func (c *Client) Post(ctx context.Context, endpoint string, creds Credentials, form url.Values, out any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return RedactError(c.post(ctx, endpoint, creds, form, out), requestSecrets(ctx, creds, form)...)
}

// post is Post before redaction.
func (c *Client) post(ctx context.Context, endpoint string, creds Credentials, form url.Values, out any) error {
	u, err := safe.CheckURL(endpoint)
	if err != nil {
		return err
	}
	where := u.Scheme + "://" + u.Host + u.Path
	body := url.Values{}
	for k, v := range form {
		body[k] = v
	}
	if creds.ClientID != "" {
		if creds.Style == AuthBasic && creds.ClientSecret != "" {
			body.Del("client_id")
			body.Del("client_secret")
		} else {
			body.Set("client_id", creds.ClientID)
			if creds.ClientSecret != "" {
				body.Set("client_secret", creds.ClientSecret)
			}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(body.Encode()))
	if err != nil {
		return fmt.Errorf("building request to %s: %w", where, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if c.UserAgent != "" {
		req.Header.Set("User-Agent", c.UserAgent)
	}
	if creds.Style == AuthBasic && creds.ClientSecret != "" {
		// RFC 6749 §2.3.1: both parts are form-urlencoded before Basic encoding.
		req.SetBasicAuth(url.QueryEscape(creds.ClientID), url.QueryEscape(creds.ClientSecret))
	}
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(pe, context.Canceled) {
			return pe
		}
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			// Not a network failure: the server sent us elsewhere, and a
			// request that carries a secret never follows.
			return re
		}
		return &NetworkError{Endpoint: where, Err: StripURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(pe, context.Canceled) {
			return pe
		}
		return &NetworkError{Endpoint: where, Err: err}
	}
	if len(raw) > MaxBodyBytes {
		return &HTTPError{StatusCode: resp.StatusCode, Detail: "reply larger than 1 MiB"}
	}
	html := looksHTML(resp.Header.Get("Content-Type"), raw)
	fields, perr := decodeFields(resp.Header.Get("Content-Type"), raw)
	if html {
		// A login page, a captive portal or a proxy's error page: whatever
		// its bytes parse as, it is not an OAuth reply.
		fields, perr = nil, errors.New("the reply is an HTML page, not an OAuth reply")
	}
	if perr == nil {
		if code, ok := fields["error"].(string); ok && code != "" {
			e := &Error{Code: code, StatusCode: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), c.now())}
			e.Description, _ = fields["error_description"].(string)
			e.URI, _ = fields["error_uri"].(string)
			if iv, ok := fields["interval"]; ok {
				b, _ := json.Marshal(iv)
				_ = e.Interval.UnmarshalJSON(b)
			}
			if !IsErrorCode(e.Code) {
				e.Code = InvalidErrorCode
			}
			// Post cuts them to 300 bytes (RedactError), once the
			// secrets are out: a cut could leave part of one.
			return e
		}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		he := &HTTPError{StatusCode: resp.StatusCode, RetryAfter: ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()),
			Unparsed: perr != nil, HTML: html}
		return he
	}
	if perr != nil {
		return &HTTPError{StatusCode: resp.StatusCode, Detail: perr.Error(), Unparsed: true, HTML: html}
	}
	if out == nil {
		return nil
	}
	b, _ := json.Marshal(fields)
	if err := json.Unmarshal(b, out); err != nil {
		return &HTTPError{StatusCode: resp.StatusCode, Detail: "unexpected reply: " + firstLine(err.Error()), Unparsed: true}
	}
	return nil
}

// Exchange posts a token request and checks that the reply holds a token.
// The reply's scope field is told apart from an absent one (ScopeOmitted).
func (c *Client) Exchange(ctx context.Context, tokenURL string, creds Credentials, form url.Values) (*Token, error) {
	// The outer Scope shadows Token.Scope, so that an absent field (nil)
	// differs from an empty one.
	var reply struct {
		Token
		Scope *string `json:"scope"`
	}
	if err := c.Post(ctx, tokenURL, creds, form, &reply); err != nil {
		return nil, err
	}
	t := reply.Token
	if reply.Scope != nil {
		t.Scope = *reply.Scope
	} else {
		t.ScopeOmitted = true
	}
	if t.AccessToken == "" {
		return nil, &HTTPError{StatusCode: http.StatusOK, Detail: "the reply holds no access_token", Unparsed: true}
	}
	if strings.ContainsAny(t.AccessToken, "\r\n\x00 ") || len(t.AccessToken) > 8192 {
		return nil, &HTTPError{StatusCode: http.StatusOK, Detail: "the reply holds a malformed access_token"}
	}
	if strings.ContainsAny(t.RefreshToken, "\r\n\x00 ") || len(t.RefreshToken) > 8192 {
		return nil, &HTTPError{StatusCode: http.StatusOK, Detail: "the reply holds a malformed refresh_token"}
	}
	return &t, nil
}

// decodeFields parses a JSON object or a form-encoded body into a map.
func decodeFields(contentType string, raw []byte) (map[string]any, error) {
	mt, _, _ := mime.ParseMediaType(contentType)
	trimmed := strings.TrimSpace(string(raw))
	isJSON := strings.HasSuffix(mt, "json") || strings.HasPrefix(trimmed, "{")
	if isJSON {
		var m map[string]any
		dec := json.NewDecoder(strings.NewReader(trimmed))
		dec.UseNumber()
		if err := dec.Decode(&m); err != nil {
			return nil, errors.New("the reply is not valid JSON")
		}
		return m, nil
	}
	if mt == "application/x-www-form-urlencoded" || mt == "text/plain" || (mt == "" && trimmed != "") {
		v, err := url.ParseQuery(trimmed)
		if err != nil {
			return nil, errors.New("the reply is not valid form data")
		}
		m := make(map[string]any, len(v))
		for k := range v {
			m[k] = v.Get(k)
		}
		return m, nil
	}
	return nil, fmt.Errorf("the reply has an unexpected content type %q", safe.Text(mt))
}

// looksHTML reports whether a reply is an HTML page, by its content type or
// its first bytes.
func looksHTML(contentType string, raw []byte) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	if mt == "text/html" || mt == "application/xhtml+xml" {
		return true
	}
	t := strings.ToLower(strings.TrimSpace(string(raw[:min(len(raw), 512)])))
	return strings.HasPrefix(t, "<!doctype html") || strings.HasPrefix(t, "<html") || strings.HasPrefix(t, "<head") || strings.HasPrefix(t, "<body")
}

// ParseRetryAfter reads a Retry-After header (delta-seconds or an HTTP
// date, capped at an hour); zero when absent or bad.
func ParseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		if n < 0 {
			return 0
		}
		if n > 3600 {
			n = 3600
		}
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		if d := t.Sub(now); d > 0 {
			if d > time.Hour {
				d = time.Hour
			}
			return d
		}
	}
	return 0
}

func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// StripURL removes the request URL (which could carry a query or a
// secret) from a *url.Error, keeping the underlying cause.
func StripURL(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// The flows a TimeoutError can name.
const (
	FlowDevice = "device" // RFC 8628: the device code expired
	FlowWeb    = "web"    // RFC 8252: the browser did not come back in time
)

// TimeoutError is a flow whose time ran out: the device code expired, or the
// browser never came back before the web flow's timeout.
type TimeoutError struct {
	// Message says what ran out.
	Message string
	// Flow is FlowDevice, FlowWeb, or "" for another use.
	Flow string
	// After is how long the flow waited, when it set the limit itself
	// (zero when the server did, as with a device code's expires_in).
	After time.Duration
}

// Error returns Message.
func (e *TimeoutError) Error() string { return e.Message }

// ErrorCode classifies err for machine-readable output: the OAuth error code
// for *Error, "timeout" for *TimeoutError, "network" for network and HTTP
// failures and refused redirects (*safehttp.RedirectError), "cancelled" for a
// cancelled context, and "error" otherwise.
func ErrorCode(err error) string {
	var oe *Error
	var te *TimeoutError
	var ne *NetworkError
	var he *HTTPError
	var re *safehttp.RedirectError
	switch {
	case err == nil:
		return ""
	case errors.As(err, &oe):
		return oe.Code
	case errors.As(err, &te):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	case errors.As(err, &ne), errors.As(err, &he), errors.As(err, &re):
		return "network"
	}
	return "error"
}
