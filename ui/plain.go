package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/webflow"
)

// plain writes human-readable progress lines (for logs and pipes). A status
// is printed only when it changes, so polling does not flood the output.
type plain struct {
	mu   sync.Mutex
	w    io.Writer
	now  func() time.Time
	last string // key of the last status printed
}

func runPlain(ctx context.Context, opts Options, task Task) (*Result, error) {
	p := &plain{w: opts.Err, now: opts.Now}
	res, err := task(ctx, p.emit)
	res, err = settle(res, err, opts.Host)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.line("error: " + errorLine(err))
		return nil, err
	}
	msg := loggedIn(res)
	if where := storeText(res); where != "" {
		msg += " (token kept in " + where + ")"
	}
	p.line(msg)
	return res, nil
}

// errorLine is an error's one-line message for people.
func errorLine(err error) string {
	if errors.Is(err, context.Canceled) {
		return "login cancelled"
	}
	return clean(err.Error())
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

func (p *plain) emit(v any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	switch e := v.(type) {
	case deviceflow.Event:
		p.device(e)
	case *deviceflow.Event:
		if e != nil {
			p.device(*e)
		}
	case webflow.Event:
		p.web(e)
	case *webflow.Event:
		if e != nil {
			p.web(*e)
		}
	case Status:
		s := clean(string(e))
		p.status("status:"+s, s)
	case Warning:
		p.line("warning: " + clean(string(e)))
	}
}

func (p *plain) device(e deviceflow.Event) {
	switch e.Kind {
	case deviceflow.KindCode:
		c := e.Code
		if c == nil {
			return
		}
		p.line("First copy your one-time code: " + clean(c.UserCode))
		p.line("Then open: " + clean(c.VerificationURI))
		if c.VerificationURIComplete != "" && c.VerificationURIComplete != c.VerificationURI {
			p.line("(or open " + clean(c.VerificationURIComplete) + ", which fills in the code)")
		}
		msg := "Waiting for approval…"
		if !c.ExpiresAt.IsZero() {
			msg = fmt.Sprintf("Waiting for approval (the code expires in %s)…", aboutDuration(c.ExpiresAt.Sub(p.now())))
		}
		p.status("waiting", msg)
	case deviceflow.KindPending:
		p.status("waiting", "Waiting for approval…")
	case deviceflow.KindSlowDown:
		p.status(fmt.Sprintf("slow:%d", seconds(e.Interval)),
			fmt.Sprintf("The server asked to slow down; checking every %d s.", seconds(e.Interval)))
	case deviceflow.KindRetry:
		p.last = "retry"
		p.line(fmt.Sprintf("Network error (%s); retrying in %d s.", clean(e.Reason), seconds(e.RetryIn)))
	case deviceflow.KindSuccess:
		p.status("approved", "Approved.")
	}
}

func (p *plain) web(e webflow.Event) {
	switch e.Kind {
	case webflow.KindAuthorize:
		p.line("Open this URL in a browser on this machine to log in: " + clean(e.URL))
		msg := "Waiting for the browser…"
		if !e.ExpiresAt.IsZero() {
			msg = fmt.Sprintf("Waiting for the browser (up to %s)…", aboutDuration(e.ExpiresAt.Sub(p.now())))
		}
		p.status("waiting-web", msg)
	case webflow.KindBrowser:
		if e.Err != nil {
			p.line("Could not open a browser (" + clean(e.Err.Error()) + "); open the URL yourself.")
		} else {
			p.line("Opened your browser.")
		}
	case webflow.KindCallback:
		p.status("callback", "The browser came back; finishing the login…")
	case webflow.KindSuccess:
		p.status("approved", "Approved.")
	}
}
