package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// plain writes human-readable progress lines (for logs and pipes). A status
// is printed only when it changes, so polling does not flood the output.
type plain struct {
	mu    sync.Mutex
	w     io.Writer
	clock clock.Clock
	last  string // key of the last status printed
	// copy, when the code is to be copied at once (Options.CopyCode).
	copy   *copier
	copied string // the last code copied
	code   string // codeKey of the last code printed
	// qr prints QR codes of the URLs (Options.QR); nil when not asked.
	qr *qrPrinter
	// paste is set when the web flow takes a pasted address (Options.Paste);
	// headless says why no browser is opened here ("" when one may be).
	paste    bool
	headless string
}

func runPlain(ctx context.Context, opts Options, task Task) (*Result, error) {
	p := &plain{w: opts.Err, clock: opts.Clock, qr: newQRPrinter(opts), paste: opts.Paste != nil}
	if opts.Headless {
		p.headless = opts.HeadlessReason
		if p.headless == "" {
			p.headless = "there is no display here"
		}
	}
	if opts.Paste != nil {
		defer opts.Paste.fromReader(opts.In)()
	}
	if opts.CopyCode {
		c := opts.copier()
		p.copy = &c
	}
	if opts.Intro != "" {
		_ = PrintWrapped(opts.Err, sanitizeLines(opts.Intro))
	}
	res, err := task(ctx, emitter(func(e Event) {
		p.mu.Lock()
		defer p.mu.Unlock()
		dispatch(p, e, opts.observe)
	}))
	res, err = settle(res, err, opts.Host)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.line("error: " + errorLine(err))
		return nil, err
	}
	msg := loggedIn(res)
	if res.Kept != "" {
		p.line(msg + ".")
		_ = PrintWrapped(p.w, safe.Text(res.Kept))
		return res, nil
	}
	if where := storeText(res); where != "" {
		msg += " (token kept in " + where + ")"
	}
	p.line(msg)
	return res, nil
}

// retryReason is a retry's reason for people, sanitised.
func retryReason(r string) string {
	if r = safe.Text(r); r == "" {
		return "the server did not answer"
	}
	return r
}

// errorLine is an error's one-line message for people.
func errorLine(err error) string {
	if errors.Is(err, context.Canceled) {
		return "login cancelled"
	}
	return safe.Text(hint.Explain(err))
}

func (p *plain) line(s string) { fmt.Fprintln(p.w, s) }

// status prints s unless the last status had the same key.
func (p *plain) status(key, s string) {
	if key == p.last {
		return
	}
	p.last = key
	p.line(s)
}

func (p *plain) onCode(c Code) {
	if k := codeKey(c); k != p.code {
		// A new code (under --wait) is printed as the first one was, its
		// waiting line included, though the last status was "waiting".
		p.code, p.last = k, ""
	}
	p.line("First copy your one-time code: " + safe.Text(c.UserCode))
	if p.copy != nil && c.UserCode != p.copied {
		p.copied = c.UserCode
		p.line(p.copy.copy(c.UserCode).sentence())
	}
	p.line("Then open: " + safe.Text(c.VerificationURI))
	if c.VerificationURIComplete != "" && c.VerificationURIComplete != c.VerificationURI {
		p.line("(or open " + safe.Text(c.VerificationURIComplete) + ", which fills in the code)")
	}
	p.qr.print(codeKey(c), qrTarget(c))
	msg := "Waiting for approval…"
	if !c.ExpiresAt.IsZero() {
		msg = fmt.Sprintf("Waiting for approval (the code expires in %s)…", aboutDuration(c.ExpiresAt.Sub(p.clock.Now())))
	}
	p.status("waiting", msg)
}

func (p *plain) onPending(Pending) { p.status("waiting", "Waiting for approval…") }

func (p *plain) onSlowDown(e SlowDown) {
	p.status(fmt.Sprintf("slow:%d", seconds(e.Interval)),
		fmt.Sprintf("The server asked to slow down; checking every %d s.", seconds(e.Interval)))
}

func (p *plain) onRetry(e Retry) {
	p.last = "retry"
	// The reason says what failed ("network error: connection refused",
	// "the server answered HTTP 502 Bad Gateway"): not always the network.
	p.line(fmt.Sprintf("%s; retrying in %d s.", capitalize(retryReason(e.Reason)), seconds(e.RetryIn)))
}

func (p *plain) onAuthorize(e Authorize) {
	if !p.paste {
		p.line("Open this URL in a browser on this machine to log in: " + safe.Text(e.URL))
		p.qr.print(e.URL, e.URL)
		msg := "Waiting for the browser…"
		if !e.ExpiresAt.IsZero() {
			msg = fmt.Sprintf("Waiting for the browser (up to %s)…", aboutDuration(e.ExpiresAt.Sub(p.clock.Now())))
		}
		p.status("waiting-web", msg)
		return
	}
	if p.headless != "" {
		p.line("No browser is opened here: " + safe.Text(p.headless) + ".")
	}
	p.line("Open this URL in a browser on any device to log in: " + safe.Text(e.URL))
	p.qr.print(e.URL, e.URL)
	until := ""
	if !e.ExpiresAt.IsZero() {
		until = " (up to " + aboutDuration(e.ExpiresAt.Sub(p.clock.Now())) + ")"
	}
	p.line("When the browser ends on a page that cannot be reached (127.0.0.1), copy its address; a browser on this machine finishes by itself" + until + ".")
	p.last = "paste"
	p.line(pastePrompt + " and press Enter:")
}

func (p *plain) onPasteAccepted(PasteAccepted) {
	p.status("paste-accepted", "Accepted; finishing the login…")
}

func (p *plain) onPasteRejected(e PasteRejected) {
	p.last = "paste-rejected"
	p.line(safe.Text(rejectedText(e.Err)))
}

func (p *plain) onBrowser(e Browser) {
	if e.Err != nil {
		p.line("Could not open a browser (" + safe.Text(e.Err.Error()) + "); open the URL yourself.")
	} else {
		p.line("Opened your browser.")
	}
}

func (p *plain) onCallback(Callback) {
	p.status("callback", "The browser came back; finishing the login…")
}

func (p *plain) onApproved(Approved) { p.status("approved", "Approved.") }

// onStopped prints nothing: the task's error is the outcome, printed once
// by runPlain.
func (p *plain) onStopped(Stopped) {}

func (p *plain) onStatus(e Status) {
	s := safe.Text(string(e))
	p.status("status:"+s, s)
}

func (p *plain) onWarning(e Warning) { p.line("warning: " + safe.Text(string(e))) }
