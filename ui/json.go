package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// The JSON events of SPEC.md ("Machine-readable output"), one object a line
// on stdout. The web flow adds one event of its own:
//
//	{"event":"authorize","url":"https://…/login/oauth/authorize?…","expires_at":"RFC 3339"}
//
// sent when the loopback server is listening: open url in a browser on this
// machine before expires_at. Status and Warning values go to stderr as plain
// lines, so stdout holds nothing but events.

// CodeEvent is {"event":"code",…}: the device flow's user code.
type CodeEvent struct {
	Event                   string  `json:"event"`
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURIComplete *string `json:"verification_uri_complete"`
	ExpiresAt               string  `json:"expires_at"`
	Interval                int64   `json:"interval"`
}

// PendingEvent is {"event":"pending"}: the person has not approved yet.
type PendingEvent struct {
	Event string `json:"event"`
}

// SlowDownEvent is {"event":"slow_down","interval":N}: the new interval in seconds.
type SlowDownEvent struct {
	Event    string `json:"event"`
	Interval int64  `json:"interval"`
}

// RetryEvent is {"event":"retry","error":"…","retry_in":N}: a transient failure.
type RetryEvent struct {
	Event   string `json:"event"`
	Error   string `json:"error"`
	RetryIn int64  `json:"retry_in"`
}

// AuthorizeEvent is {"event":"authorize","url":"…","expires_at":"…"} (web flow).
type AuthorizeEvent struct {
	Event     string `json:"event"`
	URL       string `json:"url"`
	ExpiresAt string `json:"expires_at,omitempty"`
}

// SuccessEvent is {"event":"success","host":…,"login":…,"store":…}.
type SuccessEvent struct {
	Event string `json:"event"`
	Host  string `json:"host"`
	Login string `json:"login"`
	Store string `json:"store"`
}

// ErrorEvent is {"event":"error","code":…,"message":…}; code is the OAuth
// error code, or timeout, network, cancelled, error.
type ErrorEvent struct {
	Event   string `json:"event"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type jsonOut struct {
	mu  sync.Mutex
	out io.Writer
	err io.Writer
}

func runJSON(ctx context.Context, opts Options, task Task) (*Result, error) {
	j := &jsonOut{out: opts.Out, err: opts.Err}
	res, err := task(ctx, j.emit)
	res, err = settle(res, err, opts.Host)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		code := oauth.ErrorCode(err)
		msg := err.Error()
		if code == "cancelled" {
			msg = "login cancelled"
		}
		j.write(ErrorEvent{Event: "error", Code: code, Message: msg})
		return nil, err
	}
	j.write(SuccessEvent{Event: "success", Host: res.Host, Login: res.Login, Store: res.Store})
	return res, nil
}

// write puts one event on its own line with a single Write.
func (j *jsonOut) write(v any) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return
	}
	_, _ = j.out.Write(b.Bytes())
}

func rfc3339(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(time.RFC3339)
}

func (j *jsonOut) emit(v any) {
	j.mu.Lock()
	defer j.mu.Unlock()
	switch e := v.(type) {
	case deviceflow.Event:
		j.device(e)
	case *deviceflow.Event:
		if e != nil {
			j.device(*e)
		}
	case webflow.Event:
		j.web(e)
	case *webflow.Event:
		if e != nil {
			j.web(*e)
		}
	case Status:
		fmt.Fprintln(j.err, clean(string(e)))
	case Warning:
		fmt.Fprintln(j.err, "warning: "+clean(string(e)))
	}
}

func (j *jsonOut) device(e deviceflow.Event) {
	switch e.Kind {
	case deviceflow.KindCode:
		c := e.Code
		if c == nil {
			return
		}
		ev := CodeEvent{
			Event:           "code",
			UserCode:        c.UserCode,
			VerificationURI: c.VerificationURI,
			ExpiresAt:       rfc3339(c.ExpiresAt),
			Interval:        seconds(c.Interval),
		}
		if c.VerificationURIComplete != "" {
			s := c.VerificationURIComplete
			ev.VerificationURIComplete = &s
		}
		j.write(ev)
	case deviceflow.KindPending:
		j.write(PendingEvent{Event: "pending"})
	case deviceflow.KindSlowDown:
		j.write(SlowDownEvent{Event: "slow_down", Interval: seconds(e.Interval)})
	case deviceflow.KindRetry:
		j.write(RetryEvent{Event: "retry", Error: e.Reason, RetryIn: seconds(e.RetryIn)})
	}
	// success and error come from the task's outcome, once, in runJSON.
}

func (j *jsonOut) web(e webflow.Event) {
	switch e.Kind {
	case webflow.KindAuthorize:
		j.write(AuthorizeEvent{Event: "authorize", URL: e.URL, ExpiresAt: rfc3339(e.ExpiresAt)})
	case webflow.KindBrowser:
		if e.Err != nil {
			fmt.Fprintln(j.err, "Could not open a browser ("+clean(e.Err.Error())+"); open the URL yourself.")
		}
	}
}
