// Package federation turns a workload's OIDC token into Google Cloud
// credentials through Workload Identity Federation: the Security Token
// Service (STS) exchanges the token for a federated access token, and IAM
// Credentials can then mint a service account's access token or ID token
// with it. It follows Google's REST references for sts.googleapis.com/v1/token,
// projects.serviceAccounts.generateAccessToken and generateIdToken.
package federation

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/oauth"
)

// Default endpoints and values.
const (
	DefaultSTSURL            = "https://sts.googleapis.com/v1/token"
	DefaultIAMCredentialsURL = "https://iamcredentials.googleapis.com"
	DefaultScope             = "https://www.googleapis.com/auth/cloud-platform"
	DefaultTimeout           = 30 * time.Second

	GrantTypeTokenExchange = "urn:ietf:params:oauth:grant-type:token-exchange"
	TokenTypeJWT           = "urn:ietf:params:oauth:token-type:jwt"
	TokenTypeIDToken       = "urn:ietf:params:oauth:token-type:id_token"
	TokenTypeAccessToken   = "urn:ietf:params:oauth:token-type:access_token"
)

// maxTokenLen bounds a token accepted from a server.
const maxTokenLen = 16 << 10

// Config says where and how to call STS and IAM Credentials. The zero value
// uses Google's endpoints.
type Config struct {
	// STSURL is the token exchange endpoint; "" means DefaultSTSURL.
	STSURL string
	// IAMCredentialsURL is IAM Credentials' base URL (the paths
	// /v1/projects/-/serviceAccounts/... are added); "" means
	// DefaultIAMCredentialsURL.
	IAMCredentialsURL string
	// HTTPClient sends the requests; nil means a client with Timeout.
	HTTPClient *http.Client
	// Timeout bounds each request; zero means DefaultTimeout.
	Timeout time.Duration
	// Clock tells the time for expiry times; nil means clock.Real.
	Clock clock.Clock
}

func (c *Config) now() time.Time { return clock.Or(c.Clock).Now() }

func (c *Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return DefaultTimeout
}

// httpClient is HTTPClient (or a new client) under ghlogin's one redirect
// policy (safehttp.HTTPClient): STS and IAM requests carry a token and follow
// no redirect.
func (c *Config) httpClient() *http.Client {
	return safehttp.HTTPClient(c.HTTPClient, c.timeout())
}

// STSEndpoint returns the STS URL in use.
func (c *Config) STSEndpoint() string {
	if c.STSURL != "" {
		return c.STSURL
	}
	return DefaultSTSURL
}

// IAMCredentialsEndpoint returns IAM Credentials' base URL in use, without a
// trailing slash.
func (c *Config) IAMCredentialsEndpoint() string {
	if c.IAMCredentialsURL != "" {
		return strings.TrimRight(c.IAMCredentialsURL, "/")
	}
	return DefaultIAMCredentialsURL
}

// ImpersonationURL is the generateAccessToken URL for a service account, as
// a credential configuration's service_account_impersonation_url names it.
func (c *Config) ImpersonationURL(serviceAccount string) string {
	return c.iamURL(serviceAccount, "generateAccessToken")
}

func (c *Config) iamURL(serviceAccount, method string) string {
	return c.IAMCredentialsEndpoint() + "/v1/projects/-/serviceAccounts/" + url.PathEscape(serviceAccount) + ":" + method
}

// CheckEndpoint checks raw with safe.CheckURL: an absolute https URL, or
// http on a loopback host, with no user info or fragment. name says which
// endpoint.
func CheckEndpoint(name, raw string) error {
	_, err := safe.CheckURL(raw)
	if err == nil {
		return nil
	}
	e := &UsageError{Name: name, Value: raw, Reason: "must be an absolute https URL"}
	var ue *safe.URLError
	if errors.As(err, &ue) {
		switch ue.Problem {
		case safe.UserInfo:
			e.Value, e.Reason = "", "must not hold a user name or password"
			if u, err := url.Parse(raw); err == nil {
				e.Value = u.Redacted()
			}
		case safe.Fragment:
			e.Reason = "must not have a #fragment"
		case safe.PlainHTTP:
			e.Reason = "must use https (http is allowed only on a loopback address)"
		}
	}
	return e
}

// Token is an access token from STS or IAM Credentials. It is a secret:
// String and GoString hide it.
type Token struct {
	AccessToken     string
	TokenType       string // "Bearer"
	IssuedTokenType string // urn:ietf:params:oauth:token-type:access_token
	Expiry          time.Time

	provider Provider // set by Exchange, for error hints
}

// String never shows the token.
func (t Token) String() string {
	exp := "none"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("federation.Token{type=%q issued=%q expiry=%s}", t.TokenType, t.IssuedTokenType, exp)
}

// GoString hides the token from %#v too.
func (t Token) GoString() string { return t.String() }

// IDToken is a Google-signed ID token from generateIdToken. It is a secret:
// String and GoString hide it.
type IDToken struct {
	Token  string
	Expiry time.Time // the JWT's exp, read without verifying the signature
}

// String never shows the token.
func (t IDToken) String() string {
	exp := "none"
	if !t.Expiry.IsZero() {
		exp = t.Expiry.UTC().Format(time.RFC3339)
	}
	return fmt.Sprintf("federation.IDToken{expiry=%s}", exp)
}

// GoString hides the token from %#v too.
func (t IDToken) GoString() string { return t.String() }

// ExchangeRequest is what to exchange at STS.
type ExchangeRequest struct {
	Provider     Provider
	SubjectToken string // the workload's OIDC token (a secret)
	// SubjectTokenType defaults to TokenTypeJWT.
	SubjectTokenType string
	// Scopes default to DefaultScope.
	Scopes []string
}

type stsReply struct {
	AccessToken     string        `json:"access_token"`
	IssuedTokenType string        `json:"issued_token_type"`
	TokenType       string        `json:"token_type"`
	ExpiresIn       oauth.Seconds `json:"expires_in"`
}

// Exchange trades the subject token for a federated access token at STS
// (RFC 8693 as Google implements it; no client authentication).
func (c *Config) Exchange(ctx context.Context, req ExchangeRequest) (*Token, error) {
	if err := req.Provider.Validate(); err != nil {
		return nil, err
	}
	if strings.TrimSpace(req.SubjectToken) == "" {
		return nil, &UsageError{Name: "subject token", Reason: "it is empty: pass the workload's OIDC token"}
	}
	if len(req.SubjectToken) > maxTokenLen || strings.ContainsAny(req.SubjectToken, "\r\n\x00") {
		return nil, &UsageError{Name: "subject token", Reason: "it is not a single-line token"}
	}
	tt := req.SubjectTokenType
	if tt == "" {
		tt = TokenTypeJWT
	}
	scopes := req.Scopes
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	endpoint := c.STSEndpoint()
	if err := CheckEndpoint("STS URL", endpoint); err != nil {
		return nil, err
	}
	form := url.Values{
		"grant_type":           {GrantTypeTokenExchange},
		"audience":             {req.Provider.Audience()},
		"scope":                {strings.Join(scopes, " ")},
		"requested_token_type": {TokenTypeAccessToken},
		"subject_token":        {req.SubjectToken},
		"subject_token_type":   {tt},
	}
	start := c.now()
	cl := &oauth.Client{HTTPClient: c.HTTPClient, Timeout: c.timeout()}
	var r stsReply
	if err := cl.Post(ctx, endpoint, oauth.Credentials{}, form, &r); err != nil {
		return nil, stsError(err, req.SubjectToken)
	}
	if !plausibleToken(r.AccessToken) {
		return nil, &STSError{StatusCode: http.StatusOK, Description: "the reply holds no usable access_token"}
	}
	if r.TokenType != "" && !strings.EqualFold(r.TokenType, "bearer") {
		return nil, &STSError{StatusCode: http.StatusOK, Description: fmt.Sprintf("the reply has token_type %q, not Bearer", safe.Short(r.TokenType, 40))}
	}
	if r.IssuedTokenType != "" && r.IssuedTokenType != TokenTypeAccessToken {
		return nil, &STSError{StatusCode: http.StatusOK, Description: fmt.Sprintf("the reply has issued_token_type %q, not an access token", safe.Short(r.IssuedTokenType, 80))}
	}
	t := &Token{AccessToken: r.AccessToken, TokenType: "Bearer", IssuedTokenType: TokenTypeAccessToken, provider: req.Provider}
	if r.ExpiresIn > 0 {
		t.Expiry = start.Add(r.ExpiresIn.Duration())
	}
	return t, nil
}

// STSError is a failed token exchange: an OAuth error reply from STS (Code
// set), an HTTP failure such as 5xx or 429, or a reply that is not what STS
// sends. It never holds the subject token.
type STSError struct {
	Code        string // the "error" field: invalid_grant, invalid_target, ...
	Description string // error_description, sanitized
	StatusCode  int
	RetryAfter  time.Duration
	err         error
}

func (e *STSError) Error() string {
	var b strings.Builder
	b.WriteString("STS token exchange failed")
	switch {
	case e.Code != "":
		fmt.Fprintf(&b, " (%s): %s", e.Code, stsHint(e.Code))
		if e.Description != "" {
			fmt.Fprintf(&b, "; Google said: %q", e.Description)
		}
	case e.StatusCode == http.StatusTooManyRequests:
		b.WriteString(": HTTP 429 Too Many Requests: STS is rate-limiting; try again later")
	case e.StatusCode >= 500:
		fmt.Fprintf(&b, ": HTTP %d %s: STS has a temporary problem; try again later", e.StatusCode, http.StatusText(e.StatusCode))
	default:
		fmt.Fprintf(&b, ": HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Description != "" {
			b.WriteString(": " + e.Description)
		}
		b.WriteString(" (this is not a reply STS sends: check the STS URL)")
	}
	if e.RetryAfter > 0 {
		fmt.Fprintf(&b, " (retry after %s)", e.RetryAfter)
	}
	return b.String()
}

// Unwrap returns the *oauth.Error or *oauth.HTTPError behind e, if any.
func (e *STSError) Unwrap() error { return e.err }

// Transient reports whether trying again later may succeed.
func (e *STSError) Transient() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests ||
		e.Code == "temporarily_unavailable" || e.Code == "server_error"
}

func stsHint(code string) string {
	switch code {
	case "invalid_grant":
		return "the provider rejected the token: its audience or claims don't match the provider (allowed audiences / attribute condition), or it expired; ghlogin oidc doctor --provider ... says which"
	case "unauthorized_client":
		return "the provider's attribute condition rejected the token: ghlogin oidc doctor --provider ... shows which part of the condition is false, with the claims it read"
	case "invalid_target":
		return "the pool or provider doesn't exist or is disabled: check --provider"
	case "invalid_request":
		return "STS refused the request as malformed: check --provider and that the subject token is an OIDC JWT"
	case "invalid_scope":
		return "STS refused the requested scopes: check --scope"
	case "unsupported_grant_type":
		return "this endpoint does not do token exchange: check the STS URL"
	case "access_denied":
		return "STS denied the exchange: check the provider's configuration"
	case "temporarily_unavailable", "server_error":
		return "STS has a temporary problem; try again later"
	}
	return "check --provider and the subject token"
}

// stsError maps oauth.Client.Post's errors; network errors and context
// cancellation pass through unchanged.
func stsError(err error, secret string) error {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		// The wrapped error is ours alone: scrub it too, for errors.As users.
		oe.Description = safe.Redact(oe.Description, secret)
		oe.URI = safe.Redact(oe.URI, secret)
		return &STSError{Code: oe.Code, Description: oe.Description, StatusCode: oe.StatusCode, RetryAfter: oe.RetryAfter, err: err}
	}
	var he *oauth.HTTPError
	if errors.As(err, &he) {
		return &STSError{StatusCode: he.StatusCode, Description: safe.Redact(he.Detail, secret), RetryAfter: he.RetryAfter, err: err}
	}
	return err
}

// GenerateAccessToken asks IAM Credentials for an access token of
// serviceAccount, authenticated with the federated token. scopes default to
// DefaultScope and lifetime (0) to DefaultLifetime.
func (c *Config) GenerateAccessToken(ctx context.Context, federated *Token, serviceAccount string, scopes []string, lifetime time.Duration) (*Token, error) {
	if err := checkFederated(federated); err != nil {
		return nil, err
	}
	if err := ValidateServiceAccount(serviceAccount); err != nil {
		return nil, err
	}
	if lifetime == 0 {
		lifetime = DefaultLifetime
	}
	if err := ValidateLifetime(lifetime); err != nil {
		return nil, err
	}
	if len(scopes) == 0 {
		scopes = []string{DefaultScope}
	}
	body := struct {
		Scope    []string `json:"scope"`
		Lifetime string   `json:"lifetime"`
	}{scopes, strconv.FormatInt(int64(lifetime/time.Second), 10) + "s"}
	var r struct {
		AccessToken string `json:"accessToken"`
		ExpireTime  string `json:"expireTime"`
	}
	call := iamCall{method: "generateAccessToken", serviceAccount: serviceAccount, lifetime: lifetime, provider: federated.provider}
	if err := c.iamPost(ctx, call, federated.AccessToken, body, &r); err != nil {
		return nil, err
	}
	if !plausibleToken(r.AccessToken) {
		return nil, call.replyError("the reply holds no usable accessToken")
	}
	exp, err := time.Parse(time.RFC3339, r.ExpireTime)
	if err != nil {
		return nil, call.replyError("the reply's expireTime is not an RFC 3339 time")
	}
	return &Token{AccessToken: r.AccessToken, TokenType: "Bearer", IssuedTokenType: TokenTypeAccessToken, Expiry: exp}, nil
}

// GenerateIDToken asks IAM Credentials for a Google-signed ID token of
// serviceAccount for audience, authenticated with the federated token.
func (c *Config) GenerateIDToken(ctx context.Context, federated *Token, serviceAccount, audience string, includeEmail bool) (*IDToken, error) {
	if err := checkFederated(federated); err != nil {
		return nil, err
	}
	if err := ValidateServiceAccount(serviceAccount); err != nil {
		return nil, err
	}
	if strings.TrimSpace(audience) == "" {
		return nil, &UsageError{Name: "ID token audience", Reason: "it is empty: say which audience the ID token is for"}
	}
	if len(audience) > 2048 || strings.ContainsAny(audience, "\r\n\x00") {
		return nil, &UsageError{Name: "ID token audience", Value: audience, Reason: "must be a single line of at most 2048 characters"}
	}
	body := struct {
		Audience     string `json:"audience"`
		IncludeEmail bool   `json:"includeEmail"`
	}{audience, includeEmail}
	var r struct {
		Token string `json:"token"`
	}
	call := iamCall{method: "generateIdToken", serviceAccount: serviceAccount, provider: federated.provider}
	if err := c.iamPost(ctx, call, federated.AccessToken, body, &r); err != nil {
		return nil, err
	}
	if !plausibleToken(r.Token) {
		return nil, call.replyError("the reply holds no usable token")
	}
	exp, err := jwtExpiry(r.Token)
	if err != nil {
		return nil, call.replyError("the reply's token is not a JWT: " + err.Error())
	}
	return &IDToken{Token: r.Token, Expiry: exp}, nil
}

func checkFederated(t *Token) error {
	if t == nil || !plausibleToken(t.AccessToken) {
		return &UsageError{Name: "federated token", Reason: "it is missing: exchange the workload's token at STS first"}
	}
	return nil
}

// iamCall describes one IAM Credentials call, for error messages.
type iamCall struct {
	method         string
	serviceAccount string
	lifetime       time.Duration
	provider       Provider
}

func (c iamCall) replyError(msg string) *APIError {
	return &APIError{StatusCode: http.StatusOK, Message: msg, Method: c.method, ServiceAccount: c.serviceAccount, unexpected: true}
}

// googleError is Google's API error body.
type googleError struct {
	Error *struct {
		Code    int               `json:"code"`
		Message string            `json:"message"`
		Status  string            `json:"status"`
		Details []json.RawMessage `json:"details"`
	} `json:"error"`
}

// iamPost posts body to an IAM Credentials method with the bearer token;
// whatever the server echoes, the token is not in the error (the redirect's
// location and a network error's cause go through oauth.RedactError; an
// API error's message is redacted where it is read).
func (c *Config) iamPost(ctx context.Context, call iamCall, bearer string, body, out any) error {
	if ctx == nil {
		ctx = context.Background()
	}
	return oauth.RedactError(c.iamPostRaw(ctx, call, bearer, body, out), bearer)
}

// iamPostRaw is iamPost before redaction.
func (c *Config) iamPostRaw(ctx context.Context, call iamCall, bearer string, body, out any) error {
	base := c.IAMCredentialsEndpoint()
	if err := CheckEndpoint("IAM Credentials URL", base); err != nil {
		return err
	}
	endpoint := c.iamURL(call.serviceAccount, call.method)
	u, err := url.Parse(endpoint)
	if err != nil {
		return &UsageError{Name: "IAM Credentials URL", Value: base, Reason: "must be an absolute https URL"}
	}
	where := u.Scheme + "://" + u.Host + u.EscapedPath()
	payload, err := json.Marshal(body)
	if err != nil {
		return fmt.Errorf("encoding the %s request: %w", call.method, err)
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(payload))
	if err != nil {
		return fmt.Errorf("building the %s request to %s: %w", call.method, where, err)
	}
	req.Header.Set("Authorization", "Bearer "+bearer)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := c.httpClient().Do(req)
	if err != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(pe, context.Canceled) {
			return pe
		}
		var re *safehttp.RedirectError
		if errors.As(err, &re) {
			return re
		}
		return &oauth.NetworkError{Endpoint: where, Err: oauth.StripURL(err)}
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, oauth.MaxBodyBytes+1))
	if err != nil {
		if pe := ctx.Err(); pe != nil && errors.Is(pe, context.Canceled) {
			return pe
		}
		return &oauth.NetworkError{Endpoint: where, Err: err}
	}
	if len(raw) > oauth.MaxBodyBytes {
		return &APIError{StatusCode: resp.StatusCode, Message: "the reply is larger than 1 MiB", Method: call.method, ServiceAccount: call.serviceAccount, unexpected: true}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		e := &APIError{StatusCode: resp.StatusCode, Method: call.method, ServiceAccount: call.serviceAccount,
			RetryAfter: oauth.ParseRetryAfter(resp.Header.Get("Retry-After"), c.now()), lifetime: call.lifetime, provider: call.provider}
		var ge googleError
		if json.Unmarshal(raw, &ge) == nil && ge.Error != nil {
			e.Status = safe.Short(ge.Error.Status, 60)
			e.Message = safe.Short(safe.Redact(ge.Error.Message, bearer), 300)
			e.Reason = errorInfoReason(ge.Error.Details)
		} else {
			e.unexpected = true
			e.Message = "the reply is not a Google API error"
		}
		return e
	}
	if err := json.Unmarshal(raw, out); err != nil {
		return call.replyError("the reply is not the expected JSON")
	}
	return nil
}

// errorInfoReason returns the reason of a google.rpc.ErrorInfo detail.
func errorInfoReason(details []json.RawMessage) string {
	for _, d := range details {
		var info struct {
			Type   string `json:"@type"`
			Reason string `json:"reason"`
		}
		if json.Unmarshal(d, &info) == nil && strings.HasSuffix(info.Type, "google.rpc.ErrorInfo") && info.Reason != "" {
			return safe.Short(info.Reason, 60)
		}
	}
	return ""
}

// APIError is an error reply from IAM Credentials (Google's
// {"error":{"code","message","status"}} shape), or a reply that is not what
// IAM Credentials sends. It never holds a token.
type APIError struct {
	StatusCode     int
	Status         string // PERMISSION_DENIED, INVALID_ARGUMENT, ...
	Message        string // Google's message, sanitized
	Reason         string // the ErrorInfo reason, if any (IAM_PERMISSION_DENIED, ...)
	Method         string // generateAccessToken or generateIdToken
	ServiceAccount string
	RetryAfter     time.Duration

	lifetime   time.Duration
	provider   Provider
	unexpected bool
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "IAM Credentials %s for %s failed: HTTP %d", e.Method, e.ServiceAccount, e.StatusCode)
	if e.Status != "" {
		b.WriteString(" " + e.Status)
	} else if t := http.StatusText(e.StatusCode); t != "" {
		b.WriteString(" " + t)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %q", e.Message)
	}
	if h := e.hint(); h != "" {
		b.WriteString(" (" + h + ")")
	}
	return b.String()
}

func (e *APIError) hint() string {
	if e.unexpected && e.StatusCode < 300 {
		return "this is not a reply IAM Credentials sends: check the IAM Credentials URL"
	}
	switch {
	case e.StatusCode == http.StatusForbidden:
		who := "the workload identity pool's principals"
		if e.provider.Pool != "" {
			who = "the pool's principals (" + e.provider.PrincipalSet() + ", or a narrower principal:// or principalSet:// member)"
		}
		return "grant roles/iam.workloadIdentityUser (or Service Account Token Creator, roles/iam.serviceAccountTokenCreator) on " + e.ServiceAccount + " to " + who + ", and check that the service account email is right"
	case e.StatusCode == http.StatusUnauthorized:
		return "the federated token was refused: it expired or is not an STS token; run the exchange again"
	case e.StatusCode == http.StatusBadRequest && e.lifetime > DefaultLifetime:
		return "lifetimes over 3600s need the organization policy constraints/iam.allowServiceAccountCredentialLifetimeExtension to list " + e.ServiceAccount + "; or ask for 3600s or less"
	case e.StatusCode == http.StatusBadRequest:
		return "IAM Credentials refused the request: check the scopes, audience and lifetime"
	case e.StatusCode == http.StatusNotFound:
		return "the service account " + e.ServiceAccount + " does not exist: check --service-account"
	case e.StatusCode == http.StatusTooManyRequests:
		return "rate limited; try again later"
	case e.StatusCode >= 500:
		return "IAM Credentials has a temporary problem; try again later"
	case e.unexpected:
		return "this is not a reply IAM Credentials sends: check the IAM Credentials URL"
	}
	return ""
}

// Transient reports whether trying again later may succeed (429, 5xx).
func (e *APIError) Transient() bool {
	return e.StatusCode >= 500 || e.StatusCode == http.StatusTooManyRequests
}

// plausibleToken reports whether s can be a bearer token: non-empty, one
// line, no spaces, bounded.
func plausibleToken(s string) bool {
	if s == "" || len(s) > maxTokenLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return false
		}
	}
	return true
}

// jwtExpiry reads a JWT's exp claim without checking the signature.
func jwtExpiry(tok string) (time.Time, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("it does not have three parts")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("its payload is not base64url")
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	if err := dec.Decode(&claims); err != nil {
		return time.Time{}, errors.New("its payload is not a JSON object")
	}
	if claims.Exp == "" {
		return time.Time{}, nil
	}
	f, err := claims.Exp.Float64()
	if err != nil || f < 0 || f > 1<<40 {
		return time.Time{}, errors.New("its exp claim is not a time")
	}
	return time.Unix(int64(f), 0), nil
}
