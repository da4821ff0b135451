package webflow

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// CallbackPath is the path of the redirect URI on the loopback server.
const CallbackPath = "/callback"

// Server limits of the loopback server.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	idleTimeout       = 5 * time.Second
	maxHeaderBytes    = 16 << 10
	// shutdownGrace bounds how long connections accepted before the flow
	// ended may still send a request before they are closed.
	shutdownGrace = 5 * time.Second
	// maxCodeLen bounds the authorization code accepted from a callback.
	maxCodeLen = 1024
)

// reservedParams are set by the flow itself; ExtraParams may not change them.
var reservedParams = []string{"client_id", "redirect_uri", "response_type", "scope", "state", "code_challenge", "code_challenge_method"}

// The Config fields a ConfigError names.
const (
	FieldClientID     = "client ID"
	FieldAuthorizeURL = "authorization URL"
	FieldTokenURL     = "token URL"
	FieldPort         = "callback port"
	FieldExtraParams  = "extra parameters"
)

// ConfigError is a Config that cannot start a login.
type ConfigError struct {
	Field  string // the Config field at fault: FieldClientID, FieldAuthorizeURL, …
	Reason string // what is wrong with it
	// Err is the cause, when there is one (an *oauth.URLError for a URL).
	Err error
}

// Error names the field and what is wrong.
func (e *ConfigError) Error() string { return "web flow: " + e.Field + ": " + e.Reason }

// Unwrap returns the cause.
func (e *ConfigError) Unwrap() error { return e.Err }

// ListenError is a failure to open the loopback callback server.
type ListenError struct {
	Addr string // 127.0.0.1:PORT, port 0 when any free port would do
	Err  error
}

// Error names the address and the cause.
func (e *ListenError) Error() string {
	msg := fmt.Sprintf("could not listen on %s for the browser's callback: %v", e.Addr, e.Err)
	if strings.HasSuffix(e.Addr, ":0") {
		return msg + " (check that the loopback interface 127.0.0.1 is up)"
	}
	return msg
}

// Unwrap returns the cause.
func (e *ListenError) Unwrap() error { return e.Err }

// CallbackError is a callback that carried the right state but nothing the
// flow can use: neither an authorization code nor an error, or a malformed code.
type CallbackError struct {
	// Reason says what was wrong, e.g. "without an authorization code".
	Reason string
}

// Error says what the callback lacked.
func (e *CallbackError) Error() string {
	return "the authorization server sent the browser back " + e.Reason
}

// Login runs the loopback web flow: it listens on 127.0.0.1, reports the
// authorization URL (KindAuthorize) and opens it with c.Opener, waits for the
// browser's callback, checks its state, and exchanges the code at TokenURL.
//
// With c.Paste set it also takes the address the browser ended on, or just
// the code, pasted into the terminal (login from another device), with the
// same checks; whichever comes first ends the flow, and the other is
// stopped (Paste's context is cancelled).
//
// It ends with the token, an *oauth.Error (the server's error, in the
// callback or from the token endpoint), an *oauth.TimeoutError when the
// browser does not come back within the timeout, ctx.Err() when ctx ends, a
// *PasteError when too many pastes were rejected, or another typed error
// (*ConfigError, *ListenError, *CallbackError, *oauth.NetworkError,
// *oauth.HTTPError). The callback server is closed before Login returns,
// and OnEvent is never called after it returns.
func (c *Config) Login(ctx context.Context) (*oauth.Token, error) {
	if ctx == nil {
		ctx = context.Background()
	}
	em := &emitter{fn: c.OnEvent}
	defer em.close()
	tok, err := c.login(ctx, em)
	if err != nil {
		em.emit(Event{Kind: KindError, Err: err})
		return nil, err
	}
	em.emit(Event{Kind: KindSuccess})
	return tok, nil
}

func (c *Config) login(ctx context.Context, em *emitter) (*oauth.Token, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	authURL, err := c.validate()
	if err != nil {
		return nil, err
	}
	timeout := c.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	f := &flow{
		ctx:      ctx,
		client:   c.Client,
		creds:    c.Credentials,
		tokenURL: c.TokenURL,
		result:   make(chan outcome, 1),
		emit:     em.emit,
		pages:    newPages(c.appName()),
	}
	if f.client == nil {
		f.client = &oauth.Client{}
	}
	if f.state, err = randomString(32); err != nil {
		return nil, err
	}
	var challenge string
	if !c.DisablePKCE {
		if f.verifier, err = randomString(32); err != nil {
			return nil, err
		}
		sum := sha256.Sum256([]byte(f.verifier))
		challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	}

	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port))
	lc := net.ListenConfig{}
	ln, err := lc.Listen(ctx, "tcp4", addr)
	if err != nil {
		if ctxErr := ctx.Err(); ctxErr != nil {
			return nil, ctxErr
		}
		return nil, &ListenError{Addr: addr, Err: unwrapOpError(err)}
	}
	tcp, ok := ln.Addr().(*net.TCPAddr)
	if !ok || !tcp.IP.IsLoopback() {
		_ = ln.Close()
		return nil, &ListenError{Addr: addr, Err: fmt.Errorf("the listener is on %v, not loopback", ln.Addr())}
	}
	f.host = net.JoinHostPort("127.0.0.1", strconv.Itoa(tcp.Port))
	f.redirectURI = "http://" + f.host + CallbackPath

	q := authURL.Query()
	for k, vs := range c.ExtraParams {
		q[k] = append([]string(nil), vs...)
	}
	q.Set("client_id", c.Credentials.ClientID)
	q.Set("redirect_uri", f.redirectURI)
	q.Set("response_type", "code")
	if len(c.Scopes) > 0 {
		q.Set("scope", strings.Join(c.Scopes, " "))
	} else {
		q.Del("scope")
	}
	q.Set("state", f.state)
	if challenge != "" {
		q.Set("code_challenge", challenge)
		q.Set("code_challenge_method", "S256")
	} else {
		q.Del("code_challenge")
		q.Del("code_challenge_method")
	}
	authURL.RawQuery = q.Encode()
	authorize := authURL.String()

	conns := newConnTracker()
	srv := &http.Server{
		Handler:           f,
		ConnState:         conns.hook,
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		// net/http's own complaints must not garble a terminal UI.
		ErrorLog: log.New(io.Discard, "", 0),
	}
	go func() { _ = srv.Serve(ln) }()
	defer stopServer(srv, ln, conns)

	clk := c.clock()
	expiresAt := clk.Now().Add(timeout)
	expired := make(chan struct{})
	waitCtx, stopWait := context.WithCancel(ctx)
	defer stopWait()
	go func() {
		if clk.Sleep(waitCtx, timeout) == nil {
			close(expired)
		}
	}()
	em.emit(Event{Kind: KindAuthorize, URL: authorize, ExpiresAt: expiresAt})
	if c.Paste != nil {
		limit := c.PasteAttempts
		if limit <= 0 {
			limit = DefaultPasteAttempts
		}
		// Stopped when Login returns, whatever ended the flow.
		pasteCtx, stopPaste := context.WithCancel(ctx)
		defer stopPaste()
		go f.readPastes(pasteCtx, c.Paste, limit)
	}
	if c.Opener != nil {
		op := c.Opener
		go func() {
			err := op.Open(authorize)
			em.emit(Event{Kind: KindBrowser, Err: err})
		}()
	}

	select {
	case o := <-f.result:
		return o.tok, o.err
	case <-ctx.Done():
		f.end(endCancelled)
		return nil, ctx.Err()
	case <-expired:
		if f.end(endTimeout) {
			return nil, &oauth.TimeoutError{Message: fmt.Sprintf("no answer from the browser within %v", timeout), Flow: oauth.FlowWeb, After: timeout}
		}
		// A callback arrived just in time and its code is being exchanged:
		// the exchange has its own timeout.
		select {
		case o := <-f.result:
			return o.tok, o.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (c *Config) clock() clock.Clock { return clock.Or(c.Clock) }

// appName is the program the browser pages name.
func (c *Config) appName() string {
	if c.AppName == "" {
		return "ghlogin"
	}
	return c.AppName
}

// validate checks the Config and returns the parsed authorization URL. Both
// endpoints follow safe.CheckURL: https, or http on a loopback address
// (RFC 8252 §8.3), without user info.
func (c *Config) validate() (*url.URL, error) {
	if c.Credentials.ClientID == "" {
		return nil, &ConfigError{Field: FieldClientID, Reason: "none is configured"}
	}
	// RFC 6749 §3.1: the endpoint has no fragment; one given anyway is
	// dropped rather than refused, as it never reaches the server.
	authorize, _, _ := strings.Cut(c.AuthorizeURL, "#")
	u, err := safe.CheckURL(authorize)
	if err != nil {
		return nil, &ConfigError{Field: FieldAuthorizeURL, Reason: err.Error(), Err: err}
	}
	if _, err := safe.CheckURL(c.TokenURL); err != nil {
		return nil, &ConfigError{Field: FieldTokenURL, Reason: err.Error(), Err: err}
	}
	if c.Port < 0 || c.Port > 65535 {
		return nil, &ConfigError{Field: FieldPort, Reason: fmt.Sprintf("%d is out of range; use 1-65535, or 0 for any free port", c.Port)}
	}
	for _, k := range reservedParams {
		if _, ok := c.ExtraParams[k]; ok {
			return nil, &ConfigError{Field: FieldExtraParams, Reason: fmt.Sprintf("%q is set by the flow itself and cannot be overridden", k)}
		}
	}
	return u, nil
}

// connTracker counts the callback server's open connections.
type connTracker struct {
	mu      sync.Mutex
	n       int
	changed chan struct{}
}

func newConnTracker() *connTracker { return &connTracker{changed: make(chan struct{}, 1)} }

func (t *connTracker) hook(_ net.Conn, s http.ConnState) {
	t.mu.Lock()
	defer t.mu.Unlock()
	switch s {
	case http.StateNew:
		t.n++
	case http.StateClosed, http.StateHijacked:
		t.n--
		select {
		case t.changed <- struct{}{}:
		default:
		}
	}
}

func (t *connTracker) count() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.n
}

// stopServer closes the listener at once, so the port refuses connections
// from now on. Connections accepted before that may still send their request
// (and learn that the login already finished) for a short grace period; then
// the server is closed.
func stopServer(srv *http.Server, ln net.Listener, conns *connTracker) {
	_ = ln.Close()
	go func() {
		grace := time.NewTimer(shutdownGrace)
		defer grace.Stop()
		for conns.count() > 0 {
			select {
			case <-conns.changed:
			case <-grace.C:
				_ = srv.Close()
				return
			}
		}
		_ = srv.Close()
	}()
}

// randomString returns n bytes from crypto/rand, base64url without padding.
func randomString(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("reading random bytes: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

func unwrapOpError(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err
	}
	return err
}

// emitter serializes events and drops those that come after Login returned
// (a slow browser opener reporting late).
type emitter struct {
	mu     sync.Mutex
	fn     func(Event)
	closed bool
}

func (e *emitter) emit(ev Event) {
	if e.fn == nil {
		return
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.fn(ev)
	}
}

func (e *emitter) close() {
	e.mu.Lock()
	e.closed = true
	e.mu.Unlock()
}

type phase int

const (
	waiting      phase = iota
	exchanging         // a callback with the right state is being handled
	finished           // that callback ended the flow
	endTimeout         // the flow timed out
	endCancelled       // ctx ended the flow
)

type outcome struct {
	tok *oauth.Token
	err error
}

// flow is the callback server's state for one login.
type flow struct {
	ctx         context.Context
	client      *oauth.Client
	creds       oauth.Credentials
	tokenURL    string
	host        string // 127.0.0.1:PORT, the only Host accepted
	redirectURI string
	state       string
	verifier    string
	result      chan outcome
	emit        func(Event)
	pages       *pages

	mu    sync.Mutex
	phase phase
	code  string // the code being exchanged, kept only to redact it
}

// claim makes the caller the one request that ends the flow; it fails when
// another request or the timeout already did.
func (f *flow) claim() (ok bool, now phase) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.phase != waiting {
		return false, f.phase
	}
	f.phase = exchanging
	return true, exchanging
}

// end stops the wait for a callback; it fails when a callback got there first.
func (f *flow) end(why phase) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch f.phase {
	case waiting:
		f.phase = why
		return true
	case exchanging:
		if why == endCancelled {
			f.phase = why
		}
	}
	return false
}

func (f *flow) stateMatches(got []string) bool {
	return len(got) == 1 && subtle.ConstantTimeCompare([]byte(got[0]), []byte(f.state)) == 1
}

// ServeHTTP serves GET /callback and nothing else.
func (f *flow) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	setSecurityHeaders(w.Header())
	switch {
	case r.Host != f.host:
		writePage(w, http.StatusMisdirectedRequest, f.pages.misdirected)
		return
	case r.URL.Path != CallbackPath:
		writePage(w, http.StatusNotFound, f.pages.notFound)
		return
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		writePage(w, http.StatusMethodNotAllowed, f.pages.method)
		return
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil || !f.stateMatches(q["state"]) {
		// A stray or forged request: the flow goes on waiting.
		writePage(w, http.StatusBadRequest, f.pages.badState)
		return
	}
	ok, now := f.claim()
	if !ok {
		if now == endTimeout || now == endCancelled {
			writePage(w, http.StatusConflict, f.pages.ended)
		} else {
			writePage(w, http.StatusConflict, f.pages.finished)
		}
		return
	}
	tok, status, err := f.complete(q, false)
	if err != nil {
		writePage(w, status, f.pages.failure(f.pageMessage(err)))
	} else {
		writePage(w, http.StatusOK, f.pages.success)
	}
	f.finish(tok, err)
}

// finish ends the flow with the outcome of the callback (or paste) that
// claimed it.
func (f *flow) finish(tok *oauth.Token, err error) {
	f.mu.Lock()
	if f.phase == exchanging {
		f.phase = finished
	}
	f.mu.Unlock()
	f.result <- outcome{tok: tok, err: err}
}

// complete turns a callback with the right state (or a paste, which emits
// its own event) into a token or an error, and the HTTP status of the page
// that says so.
func (f *flow) complete(q url.Values, pasted bool) (*oauth.Token, int, error) {
	if code := q.Get("error"); code != "" {
		// RFC 6749 §4.1.2.1: the code is NQSCHARs; anything else is not
		// shown (it could hold escape sequences).
		if !oauth.IsErrorCode(code) {
			code = oauth.InvalidErrorCode
		}
		return nil, http.StatusBadRequest, f.redactErr(&oauth.Error{
			Code:        code,
			Description: q.Get("error_description"),
			URI:         q.Get("error_uri"),
		})
	}
	codes := q["code"]
	if len(codes) == 0 || codes[0] == "" {
		return nil, http.StatusBadRequest, &CallbackError{Reason: "without an authorization code or an error"}
	}
	code := codes[0]
	if len(codes) > 1 || len(code) > maxCodeLen || !printableASCII(code) {
		return nil, http.StatusBadRequest, &CallbackError{Reason: "with a malformed authorization code"}
	}
	f.mu.Lock()
	f.code = code
	f.mu.Unlock()
	if !pasted {
		f.emit(Event{Kind: KindCallback})
	}

	form := url.Values{
		"grant_type":   {"authorization_code"},
		"code":         {code},
		"redirect_uri": {f.redirectURI},
	}
	if f.verifier != "" {
		form.Set("code_verifier", f.verifier)
	}
	tok, err := f.client.Exchange(f.ctx, f.tokenURL, f.creds, form)
	if err != nil {
		return nil, http.StatusBadGateway, f.redactErr(err)
	}
	return tok, http.StatusOK, nil
}

// pageMessage is what the failure page says about err.
func (f *flow) pageMessage(err error) string {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return "the login was cancelled in the terminal"
	}
	return f.redact(err.Error())
}

// secrets are the flow's secrets, which no error, page or event may show:
// the state, the PKCE verifier and the code being exchanged.
func (f *flow) secrets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return []string{f.state, f.verifier, f.code}
}

// redact removes the flow's secrets from a server-provided string
// (safe.Redact).
func (f *flow) redact(s string) string { return safe.Redact(s, f.secrets()...) }

// redactErr removes the flow's secrets from the server-provided fields of
// an error (oauth.RedactError): a server could echo the code back in its
// description. The exchange's own secrets are gone already (oauth.Post
// removes what the request carried); the state is not among them.
func (f *flow) redactErr(err error) error {
	var oe *oauth.Error
	if errors.As(err, &oe) && oe != err {
		// Wrapped: redact the *oauth.Error in place, which this flow made
		// or received and no one else holds.
		*oe = *oauth.RedactError(oe, f.secrets()...).(*oauth.Error)
		return err
	}
	return oauth.RedactError(err, f.secrets()...)
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= 0x20 || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
