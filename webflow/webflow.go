package webflow

import (
	"net/url"
	"time"

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
	Opener Opener
	// ExtraParams are added to the authorization URL (login, allow_signup).
	ExtraParams url.Values
	// AppName is the program the browser pages name ("ghlogin received
	// your token."); empty means "ghlogin".
	AppName string
	// Clock measures Timeout and dates KindAuthorize's ExpiresAt; nil
	// means the real clock.
	Clock oauth.Clock
	// Paste, when set, reads the address the browser ended on, or just
	// its code, pasted by the person while the loopback listener waits:
	// for a browser on another device (SSH, no display, --no-browser),
	// which lands on a dead 127.0.0.1 page. A pasted address gets the
	// same checks as a callback (this login's redirect URI, its state
	// compared in constant time, error= ending the flow as in a
	// callback), and a code is exchanged with the PKCE verifier as usual.
	// A paste the flow cannot use is a KindPasteRejected event with a
	// *PasteError saying why, and Paste is called again, up to
	// PasteAttempts rejections. NewLinePaster(os.Stdin).Paste reads a
	// terminal or, under --json, a line on stdin.
	Paste PasteFunc
	// PasteAttempts bounds the rejected pastes; zero means
	// DefaultPasteAttempts.
	PasteAttempts int
	// OnEvent receives progress; it may be nil. Calls come from the flow's
	// goroutines one at a time, never after Login returns, and must not
	// block for long.
	OnEvent func(Event)
}

// Opener opens a URL in a browser.
type Opener interface {
	Open(url string) error
}

// OpenerFunc is an Opener written as a function.
type OpenerFunc func(url string) error

// Open calls f(url).
func (f OpenerFunc) Open(url string) error { return f(url) }

// Kind names an Event.
type Kind string

// The event kinds.
const (
	KindAuthorize Kind = "authorize" // URL and ExpiresAt are set; the server is listening
	KindBrowser   Kind = "browser"   // the browser was started, or Err says why not
	KindCallback  Kind = "callback"  // a valid callback arrived; exchanging the code
	// KindPasteAccepted: a paste passed the checks; exchanging its code.
	KindPasteAccepted Kind = "paste_accepted"
	// KindPasteRejected: a paste was rejected; Err is a *PasteError saying
	// why, and whether the flow asks again (Retryable).
	KindPasteRejected Kind = "paste_rejected"
	KindSuccess       Kind = "success" // a token arrived
	KindError         Kind = "error"   // Err is set; the flow ended
)

// Event reports progress. It never holds a token, a code or the state.
type Event struct {
	Kind      Kind
	URL       string
	ExpiresAt time.Time
	Err       error
}
