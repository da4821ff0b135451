package webflow

// Paste-back: logging in from another device. When the browser is on a
// phone or a laptop, the authorization server sends it back to
// http://127.0.0.1:PORT/callback on that device, where nothing listens,
// and the person sees an error page whose address holds the code and the
// state. They paste that address (or just the code) into this terminal;
// the flow checks it as it checks a callback and exchanges the code. The
// loopback listener keeps running meanwhile, for a browser on this machine.
// GitHub accepts any loopback port for a registered
// http://127.0.0.1/callback (RFC 8252 §7.3), so this works with github.com.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"

	"github.com/muesli/cancelreader"

	"github.com/ghlogin/ghlogin/oauth"
)

// MaxPasteLen is the longest paste accepted, in bytes: a callback address
// with a long code and state fits many times over.
const MaxPasteLen = 4096

// DefaultPasteAttempts is how many rejected pastes end the login when
// Config.PasteAttempts is zero.
const DefaultPasteAttempts = 5

// Bare codes: at least minBareCode characters (so that "y", "yes" or
// "cancel" are never taken for one), of the characters codes are made of.
const minBareCode = 10

// PasteFunc returns the next line the person pasted (Config.Paste). It
// must return ctx.Err() when ctx is done: Login cancels ctx when the flow
// ends some other way, such as the browser reaching the loopback listener.
// Any other error (io.EOF when input ends) means no more pastes will come;
// the flow goes on waiting for the browser.
type PasteFunc func(ctx context.Context) (string, error)

// The reasons a PasteError gives.
const (
	PasteTooLong     = "it is longer than 4096 characters"
	PasteWrongPlace  = "it is not the address this login sent the browser to"
	PasteWrongState  = "its state does not match this login (is it from an older login?)"
	PasteNoState     = "it has no state; paste the whole address the browser ended on"
	PasteNoCode      = "it has neither a code nor an error"
	PasteBadCode     = "its code is malformed"
	PasteNotCode     = "it is neither an address nor a code"
	PasteCodeRefused = "the server did not accept the code (mistyped, already used, or expired?)"
)

// PasteError is a pasted address or code the flow rejected. While Attempt
// is below Max the flow asks again (Login calls Paste again), and the error
// comes as a KindPasteRejected event; the last one ends the login.
type PasteError struct {
	// Reason says why, for people: one of the Paste* constants, possibly
	// with detail (the expected address). It never quotes the paste, which
	// may hold a code.
	Reason string
	// Attempt is the number of rejected pastes so far; Max is the limit.
	Attempt, Max int
	// Err is the server's error when it refused the code.
	Err error
}

// Error says why the paste was rejected, and when the flow gave up.
func (e *PasteError) Error() string {
	msg := "the pasted text was rejected: " + e.Reason
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	if e.Max > 0 && e.Attempt >= e.Max {
		msg += fmt.Sprintf(" (%d attempts; giving up)", e.Attempt)
	}
	return msg
}

// Unwrap returns the server's error, if any.
func (e *PasteError) Unwrap() error { return e.Err }

// Retryable reports whether the flow asks for another paste.
func (e *PasteError) Retryable() bool { return e.Max == 0 || e.Attempt < e.Max }

// pasted is what a paste gave: callback parameters (q), and whether the
// state was checked. A bare code has no state.
type pasted struct {
	q        url.Values
	bareCode bool
}

// parsePaste checks a paste as ServeHTTP checks a callback: a full address
// must be this login's redirect URI, and a query (full address or not)
// must carry this login's state (compared in constant time). A bare code
// passes without a state: the state guards against a browser being made to
// deliver someone else's code (RFC 6749 §10.12), and here the code comes
// from this terminal's user, the only one who saw this login's URL and
// whose browser ended on the page the code came from. The PKCE verifier
// still binds the code to this login's authorization request (RFC 7636
// §1): a code obtained for another request fails the exchange. Only
// something shaped like a code is taken for one.
func (f *flow) parsePaste(line string) (*pasted, *PasteError) {
	if len(line) > MaxPasteLen {
		return nil, &PasteError{Reason: PasteTooLong}
	}
	line = strings.TrimSpace(line)
	query := ""
	switch {
	case strings.Contains(line, "://"):
		u, err := url.Parse(line)
		if err != nil || u.Scheme != "http" || u.Host != f.host || u.Path != CallbackPath {
			return nil, &PasteError{Reason: PasteWrongPlace + " (http://" + f.host + CallbackPath + "?…)"}
		}
		query = u.RawQuery
	case looksLikeQuery(line):
		_, query, _ = strings.Cut(line, "?")
		if !strings.Contains(line, "?") {
			query = line
		}
	default:
		code := line
		if strings.Contains(code, "%") {
			c, err := url.QueryUnescape(code)
			if err != nil {
				return nil, &PasteError{Reason: PasteNotCode}
			}
			code = c
		}
		if !plausibleCode(code) {
			return nil, &PasteError{Reason: PasteNotCode}
		}
		return &pasted{q: url.Values{"code": {code}}, bareCode: true}, nil
	}
	q, err := url.ParseQuery(query)
	if err != nil {
		return nil, &PasteError{Reason: PasteNotCode}
	}
	if _, ok := q["state"]; !ok {
		return nil, &PasteError{Reason: PasteNoState}
	}
	if !f.stateMatches(q["state"]) {
		return nil, &PasteError{Reason: PasteWrongState}
	}
	if q.Get("error") == "" {
		codes := q["code"]
		if len(codes) == 0 || codes[0] == "" {
			return nil, &PasteError{Reason: PasteNoCode}
		}
		if len(codes) > 1 || len(codes[0]) > maxCodeLen || !printableASCII(codes[0]) {
			return nil, &PasteError{Reason: PasteBadCode}
		}
	}
	return &pasted{q: q}, nil
}

// looksLikeQuery reports whether s is callback parameters ("code=…&state=…",
// "?code=…", "/callback?code=…") rather than a bare code.
func looksLikeQuery(s string) bool {
	if strings.Contains(s, "?") {
		return true
	}
	for _, kv := range strings.Split(s, "&") {
		k, _, ok := strings.Cut(kv, "=")
		if ok && (k == "code" || k == "state" || k == "error") {
			return true
		}
	}
	return false
}

// plausibleCode reports whether s is shaped like an authorization code:
// RFC 6749 allows any visible ASCII (Appendix A.11), but servers issue
// URL-safe tokens — GitHub 20 hex digits, others base64url or UUIDs — so
// this accepts minBareCode to maxCodeLen of letters, digits, "-._~+/" and
// trailing "=" padding.
func plausibleCode(s string) bool {
	if len(s) < minBareCode || len(s) > maxCodeLen {
		return false
	}
	body := strings.TrimRight(s, "=")
	if len(s)-len(body) > 2 {
		return false
	}
	for i := 0; i < len(body); i++ {
		c := body[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-._~+/", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// readPastes asks for pastes until one ends the flow, the limit of rejected
// ones is reached, Paste reports no more input, or ctx (the flow) ends.
func (f *flow) readPastes(ctx context.Context, paste PasteFunc, limit int) {
	rejected := 0
	for {
		line, err := paste(ctx)
		if err != nil || ctx.Err() != nil {
			return
		}
		if strings.TrimSpace(line) == "" {
			continue
		}
		in, perr := f.parsePaste(line)
		if perr == nil {
			ok, _ := f.claim()
			if !ok {
				return // a callback or the timeout got there first
			}
			f.emit(Event{Kind: KindPasteAccepted})
			tok, _, err := f.complete(in.q, true)
			if codeRefused(err, in.bareCode) {
				// The code was wrong, not the login: unclaim it so the
				// person can paste again (or the browser still arrive).
				f.mu.Lock()
				if f.phase == exchanging {
					f.phase = waiting
				}
				f.code = ""
				f.mu.Unlock()
				perr = &PasteError{Reason: PasteCodeRefused, Err: err}
			} else {
				f.finish(tok, err)
				return
			}
		}
		rejected++
		perr.Attempt, perr.Max = rejected, limit
		f.emit(Event{Kind: KindPasteRejected, Err: perr})
		if rejected >= limit {
			if ok, _ := f.claim(); ok {
				f.finish(nil, perr)
			}
			return
		}
	}
}

// codeRefused reports whether the token endpoint refused the code itself
// (RFC 6749 §5.2 invalid_grant; GitHub's bad_verification_code), or, for a
// bare code, refused it as issued for another redirect URI (another
// login's port): the paste was wrong, not the login.
func codeRefused(err error, bare bool) bool {
	var oe *oauth.Error
	if !errors.As(err, &oe) {
		return false
	}
	return oe.Code == "invalid_grant" || oe.Code == "bad_verification_code" || bare && oe.Code == "redirect_uri_mismatch"
}

// LinePaster reads pasted lines from a terminal or from standard input (a
// line on stdin under --json) for Config.Paste. Lines are read a byte at a
// time, so nothing after a line's end is consumed; a line longer than
// MaxPasteLen is cut there (and rejected by the flow as too long), the rest
// of it skipped. Close it when the login is over: on Linux, macOS and the
// BSDs a pending read of an *os.File (terminal, pipe) is interrupted
// (github.com/muesli/cancelreader); elsewhere the reading goroutine ends
// with the next line or the end of input.
type LinePaster struct {
	r     io.Reader
	cr    cancelreader.CancelReader // nil when r cannot be cancelled
	start sync.Once
	stop  sync.Once
	lines chan pasteLine
	done  chan struct{}
	// exited is closed when the reading goroutine has returned.
	exited chan struct{}
}

type pasteLine struct {
	s   string
	err error
}

// NewLinePaster returns a LinePaster reading r.
func NewLinePaster(r io.Reader) *LinePaster {
	p := &LinePaster{r: r, lines: make(chan pasteLine), done: make(chan struct{}), exited: make(chan struct{})}
	if cr, err := cancelreader.NewReader(r); err == nil {
		p.r, p.cr = cr, cr
	}
	return p
}

// Paste returns the next line, without its line ending; io.EOF when input
// ended (or the LinePaster was closed); ctx.Err() when ctx is done first (the
// line, when it comes, is kept for the next call).
func (p *LinePaster) Paste(ctx context.Context) (string, error) {
	p.start.Do(func() { go p.read() })
	select {
	case l, ok := <-p.lines:
		if !ok {
			return "", io.EOF
		}
		return l.s, l.err
	case <-p.done:
		return "", io.EOF
	case <-ctx.Done():
		return "", ctx.Err()
	}
}

// Close stops reading. Where the pending read could be interrupted it
// returns once the reader has let go of r, so r may be closed then. It may
// be called more than once.
func (p *LinePaster) Close() error {
	p.stop.Do(func() {
		close(p.done)
		started := true
		p.start.Do(func() { started = false; close(p.exited) })
		if started && p.cr != nil && p.cr.Cancel() {
			<-p.exited
		}
	})
	return nil
}

func (p *LinePaster) read() {
	defer close(p.exited)
	defer close(p.lines)
	if p.cr != nil {
		defer p.cr.Close()
	}
	var line []byte
	b := make([]byte, 1)
	for {
		n, err := p.r.Read(b)
		if n == 1 {
			switch {
			case b[0] == '\n':
				s := strings.TrimSuffix(string(line), "\r")
				line = line[:0]
				select {
				case p.lines <- pasteLine{s: s}:
				case <-p.done:
					return
				}
			case len(line) <= MaxPasteLen:
				line = append(line, b[0])
			}
			// Beyond MaxPasteLen+1 bytes the rest of the line is dropped.
			continue
		}
		if err != nil {
			if len(line) > 0 && errors.Is(err, io.EOF) {
				select {
				case p.lines <- pasteLine{s: string(line)}:
				case <-p.done:
				}
			}
			return
		}
	}
}
