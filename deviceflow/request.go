package deviceflow

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// Limits on what a device authorization reply may hold. A user code is
// meant to be typed by a person (GitHub's look like WDJB-MJHT), so anything
// long is not a user code.
const (
	maxUserCode   = 40
	maxURI        = 1024
	maxDeviceCode = 4096
	// maxExpiry clamps an absurd expires_in so the countdown stays sane.
	maxExpiry = 24 * time.Hour
)

// The Config fields a ConfigError names.
const (
	FieldClientID      = "client ID"
	FieldDeviceCodeURL = "device code URL"
	FieldTokenURL      = "token URL"
	FieldCode          = "code"
)

// ConfigError is a Config that cannot start a login.
type ConfigError struct {
	Field  string // the Config field at fault: FieldClientID, FieldDeviceCodeURL, …
	Reason string // what is wrong with it
}

// Error names the field and what is wrong.
func (e *ConfigError) Error() string {
	return "device flow: " + e.Field + ": " + e.Reason
}

// CodeError is a device authorization reply that cannot be used safely:
// a field is missing, malformed, or could mislead the person reading it.
type CodeError struct {
	Field  string // the reply field at fault, e.g. "verification_uri"
	Reason string
	// HTML reports that the reply was an HTML page: the device code URL
	// is probably not a device authorization endpoint.
	HTML bool
	// Status is the reply's HTTP status when the whole reply is at fault
	// (Field "reply"), else zero.
	Status int
}

// Error names the reply field and what is wrong with it.
func (e *CodeError) Error() string {
	return fmt.Sprintf("the server's device code reply is unusable: %s %s", e.Field, e.Reason)
}

// codeReply is the device authorization endpoint's reply (RFC 8628 §3.2).
type codeReply struct {
	DeviceCode              string        `json:"device_code"`
	UserCode                string        `json:"user_code"`
	VerificationURI         string        `json:"verification_uri"`
	VerificationURL         string        `json:"verification_url"` // Google's spelling
	VerificationURIComplete string        `json:"verification_uri_complete"`
	ExpiresIn               oauth.Seconds `json:"expires_in"`
	Interval                oauth.Seconds `json:"interval"`
}

func (c *Config) client() *oauth.Client {
	if c.Client != nil {
		return c.Client
	}
	return &oauth.Client{}
}

func (c *Config) clock() clock.Clock { return clock.Or(c.Clock) }

func (c *Config) emit(ev Event) {
	if c.OnEvent != nil {
		c.OnEvent(ev)
	}
}

func (c *Config) checkClient() error {
	if strings.TrimSpace(c.Credentials.ClientID) == "" {
		return &ConfigError{Field: FieldClientID, Reason: "none is configured"}
	}
	return nil
}

// RequestCode asks the device authorization endpoint for a code (client_id
// and the scopes, space-separated) and checks the reply. It emits KindCode
// (with the device code blanked) on success and KindError on failure.
func (c *Config) RequestCode(ctx context.Context) (*Code, error) {
	code, err := c.requestCode(ctx)
	if err != nil {
		c.emit(Event{Kind: KindError, Err: err})
		return nil, err
	}
	c.emit(Event{Kind: KindCode, Code: code.public()})
	return code, nil
}

func (c *Config) requestCode(ctx context.Context) (*Code, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	if err := c.checkClient(); err != nil {
		return nil, err
	}
	if c.DeviceCodeURL == "" {
		return nil, &ConfigError{Field: FieldDeviceCodeURL, Reason: "none is set"}
	}
	form := url.Values{}
	if scope := strings.Join(c.Scopes, " "); strings.TrimSpace(scope) != "" {
		form.Set("scope", strings.Join(strings.Fields(scope), " "))
	}
	var r codeReply
	if err := c.client().Post(ctx, c.DeviceCodeURL, c.Credentials, form, &r); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		// The first request stays strict: an answer that is not an OAuth
		// reply means the URL is wrong (or a proxy answered), and retrying
		// would not help.
		var he *oauth.HTTPError
		if errors.As(err, &he) && he.HTML && !he.Transient() {
			return nil, &CodeError{Field: "reply", HTML: true, Status: he.StatusCode,
				Reason: fmt.Sprintf("is an HTML page (HTTP %d), not an OAuth reply: the device code URL is probably wrong, or a proxy or captive portal answered", he.StatusCode)}
		}
		if errors.As(err, &he) && he.StatusCode >= 200 && he.StatusCode <= 299 {
			return nil, &CodeError{Field: "reply", Status: he.StatusCode, Reason: "is malformed (" + he.Detail + ")"}
		}
		return nil, err
	}
	now := c.clock().Now()
	code, err := r.validate()
	if err != nil {
		return nil, err
	}
	code.received = now
	expires := r.ExpiresIn.Duration()
	if expires <= 0 {
		expires = DefaultExpiry
	}
	expires = min(expires, maxExpiry)
	code.ExpiresAt = now.Add(expires)
	code.Interval = r.Interval.Duration()
	if code.Interval <= 0 {
		code.Interval = DefaultInterval
	}
	code.Interval = min(code.Interval, maxExpiry)
	return code, nil
}

func (r *codeReply) validate() (*Code, error) {
	if r.DeviceCode == "" {
		return nil, &CodeError{Field: "device_code", Reason: "is missing"}
	}
	if len(r.DeviceCode) > maxDeviceCode || !printable(r.DeviceCode) || strings.ContainsAny(r.DeviceCode, " ") {
		return nil, &CodeError{Field: "device_code", Reason: "is malformed"}
	}
	if err := checkText("user_code", r.UserCode, maxUserCode); err != nil {
		return nil, err
	}
	uri, field := r.VerificationURI, "verification_uri"
	if uri == "" && r.VerificationURL != "" {
		uri, field = r.VerificationURL, "verification_url"
	}
	if err := checkURI(field, uri); err != nil {
		return nil, err
	}
	if r.VerificationURIComplete != "" {
		if err := checkURI("verification_uri_complete", r.VerificationURIComplete); err != nil {
			return nil, err
		}
	}
	return &Code{
		DeviceCode:              r.DeviceCode,
		UserCode:                r.UserCode,
		VerificationURI:         uri,
		VerificationURIComplete: r.VerificationURIComplete,
	}, nil
}

// checkText rejects a missing, long, or unprintable value that will be
// shown to a person.
func checkText(field, s string, max int) error {
	switch {
	case s == "":
		return &CodeError{Field: field, Reason: "is missing"}
	case utf8.RuneCountInString(s) > max:
		return &CodeError{Field: field, Reason: fmt.Sprintf("is longer than %d characters", max)}
	case !printable(s):
		return &CodeError{Field: field, Reason: "contains control characters"}
	}
	return nil
}

// printable reports whether s is valid UTF-8 free of control and format
// characters (which could rewrite the terminal or reorder text) and of
// U+FFFD (what invalid UTF-8 becomes once decoded).
func printable(s string) bool {
	if !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return false
		}
	}
	return true
}

// checkURI accepts what safe.CheckURL accepts (an absolute https URL, or
// http on a loopback address, without user info: https://github.com@evil.example
// would mislead) that is also fit to show a person: short, printable, and
// without spaces or backslashes.
func checkURI(field, s string) error {
	if err := checkText(field, s, maxURI); err != nil {
		return err
	}
	if strings.ContainsAny(s, " \\") {
		return &CodeError{Field: field, Reason: "is not a valid URL"}
	}
	if _, err := safe.CheckURL(s); err != nil {
		var ue *safe.URLError
		if errors.As(err, &ue) {
			return &CodeError{Field: field, Reason: "is not usable: " + serverURLProblem(ue.Problem)}
		}
		return &CodeError{Field: field, Reason: "is not a valid URL"}
	}
	return nil
}

// serverURLProblem says what is wrong with a URL the server sent. The
// URLError's own reason is advice to a person who typed the URL ("give an
// absolute URL such as …"); here nobody typed it, so it is described.
func serverURLProblem(p safe.URLProblem) string {
	switch p {
	case safe.UserInfo:
		return "it carries a user name or password"
	case safe.Fragment:
		return "it has a #fragment"
	case safe.PlainHTTP:
		return "it is plain http:// on a host that is not a loopback address"
	case safe.Scheme:
		return "its scheme is neither https nor http"
	}
	return "it is not an absolute https URL with a host"
}

// public is the copy events carry: everything but the device code.
func (c *Code) public() *Code {
	p := *c
	p.DeviceCode = ""
	return &p
}
