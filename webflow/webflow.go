// Package webflow implements the loopback browser login of RFC 8252 with
// GitHub's authorization endpoint: a one-shot server on 127.0.0.1, a 256-bit
// state, PKCE S256, and the code exchanged at the token endpoint. It never
// prints: progress goes out as Events.
package webflow

import (
	"net/url"
	"time"

	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/oauth"
)

// DefaultTimeout is how long the flow waits for the browser to come back.
const DefaultTimeout = 5 * time.Minute

// Config describes one web-flow login. Zero fields take defaults.
type Config struct {
	Client *oauth.Client
	// Credentials: GitHub requires client_secret for the web flow.
	Credentials  oauth.Credentials
	AuthorizeURL string
	TokenURL     string
	Scopes       []string
	// DisablePKCE turns PKCE off for servers that reject it.
	DisablePKCE bool
	// Port fixes the loopback port; 0 picks an ephemeral one.
	Port int
	// Timeout bounds the wait for the callback; zero means DefaultTimeout.
	Timeout time.Duration
	// Opener opens the authorization URL; nil opens nothing (the URL is
	// still reported in the KindAuthorize event).
	Opener opener.Opener
	// ExtraParams are added to the authorization URL (login, allow_signup).
	ExtraParams url.Values
	// OnEvent receives progress; it may be nil. Calls come from the flow's
	// goroutines one at a time, never after Login returns, and must not
	// block for long.
	OnEvent func(Event)
}

// Kind names an Event.
type Kind string

// The event kinds.
const (
	KindAuthorize Kind = "authorize" // URL and ExpiresAt are set; the server is listening
	KindBrowser   Kind = "browser"   // the browser was started, or Err says why not
	KindCallback  Kind = "callback"  // a valid callback arrived; exchanging the code
	KindSuccess   Kind = "success"   // a token arrived
	KindError     Kind = "error"     // Err is set; the flow ended
)

// Event reports progress. It never holds a token, a code or the state.
type Event struct {
	Kind      Kind
	URL       string
	ExpiresAt time.Time
	Err       error
}
