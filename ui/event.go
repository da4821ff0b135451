package ui

import (
	"errors"
	"reflect"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/webflow"
)

// Event is one step of a login's progress, in ui's own terms. The set is
// closed: only the types in this file are Events (the interface has an
// unexported method), and each renderer has one method per type, so adding
// a type fails to compile until every renderer handles it.
//
// A Task may emit Events directly (Status and Warning are the usual ones),
// or the flows' own events, which Run converts.
type Event interface {
	// renderTo hands the event to the renderer method for its type.
	renderTo(r renderer)
}

// Code is the device flow's user code and where to enter it (RFC 8628
// §3.2). It has no field for the device code, so no renderer can show it.
type Code struct {
	UserCode                string
	VerificationURI         string
	VerificationURIComplete string // "" when the server sent none
	ExpiresAt               time.Time
	Interval                time.Duration
}

// Pending says the person has not approved yet (authorization_pending).
type Pending struct{}

// SlowDown says the server asked to poll less often; Interval is the new
// polling interval (RFC 8628 §3.5).
type SlowDown struct {
	Interval time.Duration
}

// Retry is a transient failure: the next attempt comes after RetryIn.
type Retry struct {
	Reason  string
	RetryIn time.Duration
}

// Authorize says the web flow's loopback server is listening: open URL in
// a browser on this machine before ExpiresAt (RFC 8252 §7.3).
type Authorize struct {
	URL       string
	ExpiresAt time.Time
}

// Browser reports the attempt to open a browser: Err says why it could not,
// nil means it opened.
type Browser struct {
	Err error
}

// Callback says the browser came back with a valid callback and the code
// is being exchanged.
type Callback struct{}

// Approved says a token arrived (either flow); the task is finishing.
type Approved struct{}

// Stopped says the flow ended with Err. The task's returned error is what
// Run reports as the outcome; this only updates the live status.
type Stopped struct {
	Err error
}

// Status is a free-form progress line a task may emit, e.g. "Checking the
// token with the API". It replaces the TUI's status line and is printed once
// in plain mode (on stderr in JSON mode).
type Status string

// Warning is a message shown prominently, e.g. "GH_TOKEN is set and shadows
// the stored token". In JSON mode it goes to stderr.
type Warning string

// renderer is what each mode implements: one method per Event type. The
// TUI model, the plain writer and the JSON writer are the three.
type renderer interface {
	onCode(Code)
	onPending(Pending)
	onSlowDown(SlowDown)
	onRetry(Retry)
	onAuthorize(Authorize)
	onBrowser(Browser)
	onCallback(Callback)
	onApproved(Approved)
	onStopped(Stopped)
	onStatus(Status)
	onWarning(Warning)
	onPasteAccepted(PasteAccepted)
	onPasteRejected(PasteRejected)
}

func (e Code) renderTo(r renderer)      { r.onCode(e) }
func (e Pending) renderTo(r renderer)   { r.onPending(e) }
func (e SlowDown) renderTo(r renderer)  { r.onSlowDown(e) }
func (e Retry) renderTo(r renderer)     { r.onRetry(e) }
func (e Authorize) renderTo(r renderer) { r.onAuthorize(e) }
func (e Browser) renderTo(r renderer)   { r.onBrowser(e) }
func (e Callback) renderTo(r renderer)  { r.onCallback(e) }
func (e Approved) renderTo(r renderer)  { r.onApproved(e) }
func (e Stopped) renderTo(r renderer)   { r.onStopped(e) }
func (e Status) renderTo(r renderer)    { r.onStatus(e) }
func (e Warning) renderTo(r renderer)   { r.onWarning(e) }

// toEvent converts what a task emitted into an Event: deviceflow.Event and
// webflow.Event values (or non-nil pointers to them) become ui's events, an
// Event passes through (a pointer to one is dereferenced), and anything
// else — including a kind ui does not know — gives nil, to be ignored.
func toEvent(v any) Event {
	switch e := v.(type) {
	case deviceflow.Event:
		return fromDevice(e)
	case *deviceflow.Event:
		if e != nil {
			return fromDevice(*e)
		}
	case webflow.Event:
		return fromWeb(e)
	case *webflow.Event:
		if e != nil {
			return fromWeb(*e)
		}
	case Event:
		// Renderers and observers always get values: a pointer (*Status,
		// *Code…) implements Event through its element's methods.
		rv := reflect.ValueOf(e)
		if rv.Kind() != reflect.Pointer {
			return e
		}
		if rv.IsNil() {
			return nil
		}
		ev, _ := rv.Elem().Interface().(Event)
		return ev
	}
	return nil
}

func fromDevice(e deviceflow.Event) Event {
	switch e.Kind {
	case deviceflow.KindCode:
		if e.Code == nil {
			return nil
		}
		c := e.Code
		// Only the fields meant for people are copied: never DeviceCode.
		return Code{
			UserCode:                c.UserCode,
			VerificationURI:         c.VerificationURI,
			VerificationURIComplete: c.VerificationURIComplete,
			ExpiresAt:               c.ExpiresAt,
			Interval:                c.Interval,
		}
	case deviceflow.KindPending:
		return Pending{}
	case deviceflow.KindSlowDown:
		return SlowDown{Interval: e.Interval}
	case deviceflow.KindRetry:
		return Retry{Reason: e.Reason, RetryIn: e.RetryIn}
	case deviceflow.KindSuccess:
		return Approved{}
	case deviceflow.KindError:
		return Stopped{Err: e.Err}
	}
	return nil
}

func fromWeb(e webflow.Event) Event {
	switch e.Kind {
	case webflow.KindAuthorize:
		return Authorize{URL: e.URL, ExpiresAt: e.ExpiresAt}
	case webflow.KindBrowser:
		return Browser{Err: e.Err}
	case webflow.KindCallback:
		return Callback{}
	case webflow.KindPasteAccepted:
		return PasteAccepted{}
	case webflow.KindPasteRejected:
		var pe *webflow.PasteError
		if !errors.As(e.Err, &pe) {
			pe = &webflow.PasteError{Reason: safeErr(e.Err)}
		}
		return PasteRejected{Err: pe}
	case webflow.KindSuccess:
		return Approved{}
	case webflow.KindError:
		return Stopped{Err: e.Err}
	}
	return nil
}

// emitter returns the emit function a Task is given in every mode: each
// value is converted once, by toEvent, and the events (never the values
// that are not) go to deliver, in the order emitted.
func emitter(deliver func(Event)) func(any) {
	return func(v any) {
		if e := toEvent(v); e != nil {
			deliver(e)
		}
	}
}

// dispatch is the one place a renderer receives an event: observe (a test's
// tap; nil in production) sees it first, then e goes to r's method for its
// type.
func dispatch(r renderer, e Event, observe func(Event)) {
	if observe != nil {
		observe(e)
	}
	e.renderTo(r)
}

// safeErr is err's text, or "" for nil.
func safeErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
