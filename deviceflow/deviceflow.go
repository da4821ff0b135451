package deviceflow

import (
	"fmt"
	"time"

	"github.com/ghlogin/ghlogin/oauth"
)

// GrantType is the device code grant's grant_type.
const GrantType = "urn:ietf:params:oauth:grant-type:device_code"

// DefaultInterval is used when the server sends no interval (RFC 8628 §3.2).
const DefaultInterval = 5 * time.Second

// DefaultExpiry is the code's lifetime when the server sends no expires_in
// (GitHub's codes last 900 seconds).
const DefaultExpiry = 15 * time.Minute

// SlowDownStep is what slow_down adds to the interval (RFC 8628 §3.5).
const SlowDownStep = 5 * time.Second

// MaxBackoff caps the delay between retries after transient failures
// (unless the server's Retry-After asks for longer).
const MaxBackoff = 60 * time.Second

// Config describes one device-flow login. Zero fields take defaults.
type Config struct {
	// Client posts to the endpoints; nil means a default oauth.Client.
	Client *oauth.Client
	// Credentials identify the OAuth app (client_id; a secret only for
	// servers that require one).
	Credentials   oauth.Credentials
	DeviceCodeURL string
	TokenURL      string
	Scopes        []string
	// Clock is injected for tests; nil means the real clock.
	Clock oauth.Clock
	// OnEvent receives progress; it may be nil. It is called synchronously
	// from the polling goroutine and must not block for long.
	OnEvent func(Event)
	// Wait, when positive, lets Login outlast codes nobody approved (login
	// --wait, for a machine waiting for a person): when a code expires
	// unapproved, Login requests a new one (a new KindCode event) as long
	// as Wait has not passed since Login began, and failures to get a code
	// that are worth retrying (network, 5xx, 429) are retried until then.
	// The deadline wins: a code is polled until it expires or the deadline
	// passes, whichever comes first, and no code is requested that could
	// not be shown before the deadline (MinCodeGap).
	// Zero means one code, as RFC 8628 describes.
	Wait time.Duration
}

// Code is the device authorization reply.
type Code struct {
	// DeviceCode is the poller's secret; never show or log it. It is blank
	// in the copy that events carry, and never marshalled.
	DeviceCode              string `json:"-"`
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string
	ExpiresAt               time.Time
	Interval                time.Duration

	// received is when the reply arrived (on Clock, with its monotonic
	// reading); the first poll comes one interval after it.
	received time.Time
}

// String shows the code without the device code, so a stray %v cannot leak it.
func (c Code) String() string {
	return fmt.Sprintf("deviceflow.Code{user_code=%q verification_uri=%q expires_at=%s interval=%s}",
		c.UserCode, c.VerificationURI, c.ExpiresAt.Format(time.RFC3339), c.Interval)
}

// GoString hides the device code from %#v too.
func (c Code) GoString() string { return c.String() }

// Kind names an Event.
type Kind string

// The event kinds; ghlogin's --json events use the same names.
const (
	KindCode     Kind = "code"      // Code is set
	KindPending  Kind = "pending"   // authorization_pending
	KindSlowDown Kind = "slow_down" // Interval is the new interval
	KindRetry    Kind = "retry"     // Reason and RetryIn are set
	KindSuccess  Kind = "success"   // a token arrived
	KindError    Kind = "error"     // Err is set; polling stopped
)

// Event reports progress. It never holds a token.
type Event struct {
	Kind     Kind
	Code     *Code
	Interval time.Duration
	Reason   string
	RetryIn  time.Duration
	Err      error
}
