package ui

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// The JSON events' shapes, one struct each; the package doc lists them.

// jsonCode is {"event":"code",…}: the device flow's user code.
type jsonCode struct {
	Event                   string  `json:"event"`
	UserCode                string  `json:"user_code"`
	VerificationURI         string  `json:"verification_uri"`
	VerificationURIComplete *string `json:"verification_uri_complete"`
	ExpiresAt               string  `json:"expires_at"`
	Interval                int64   `json:"interval"`
}

// jsonPending is {"event":"pending"}: the person has not approved yet.
type jsonPending struct {
	Event string `json:"event"`
}

// jsonSlowDown is {"event":"slow_down","interval":N}: the new interval in seconds.
type jsonSlowDown struct {
	Event    string `json:"event"`
	Interval int64  `json:"interval"`
}

// jsonRetry is {"event":"retry","error":"…","retry_in":N}: a transient failure.
type jsonRetry struct {
	Event   string `json:"event"`
	Error   string `json:"error"`
	RetryIn int64  `json:"retry_in"`
}

// jsonAuthorize is {"event":"authorize","url":"…"} (web flow).
type jsonAuthorize struct {
	Event string `json:"event"`
	URL   string `json:"url"`
}

// jsonSuccess is {"event":"success","host":…,"login":…,"store":…}.
type jsonSuccess struct {
	Event string `json:"event"`
	Host  string `json:"host"`
	Login string `json:"login"`
	Store string `json:"store"`
}

// jsonError is {"event":"error","code":…,"message":…}; code is the OAuth
// error code, or timeout, network, cancelled, or the code the error
// carries (an ErrorCode method; the command line's codes are listed in
// docs/json-events.md).
type jsonError struct {
	Event   string `json:"event"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

// jsonOut writes events to out, and what is for people (Status, Warning, a
// browser that could not be opened, what copying the code did) to err, so
// out holds only events.
type jsonOut struct {
	mu  sync.Mutex
	out io.Writer
	err io.Writer
	// copy, when the code is to be copied at once (Options.CopyCode); what
	// was done goes to err.
	copy   *copier
	copied string // the last code copied
	// qr prints QR codes of the URLs on err (Options.QR); nil when not asked.
	qr *qrPrinter
	// paste is set when a pasted address is read from stdin (Options.Paste).
	paste bool
}

func runJSON(ctx context.Context, opts Options, task Task) (*Result, error) {
	j := &jsonOut{out: opts.Out, err: opts.Err, qr: newQRPrinter(opts), paste: opts.Paste != nil}
	if opts.Paste != nil {
		defer opts.Paste.fromReader(opts.In)()
	}
	if opts.CopyCode {
		c := opts.copier()
		j.copy = &c
	}
	if opts.Intro != "" {
		_ = PrintWrapped(opts.Err, sanitizeLines(opts.Intro))
	}
	res, err := task(ctx, emitter(func(e Event) {
		j.mu.Lock()
		defer j.mu.Unlock()
		dispatch(j, e, opts.observe)
	}))
	res, err = settle(res, err, opts.Host)
	j.mu.Lock()
	defer j.mu.Unlock()
	if err != nil {
		code := errorCode(err)
		msg := hint.Explain(err)
		if code == "cancelled" {
			msg = "login cancelled"
		}
		j.write(jsonError{Event: "error", Code: code, Message: msg})
		return nil, err
	}
	j.write(jsonSuccess{Event: "success", Host: res.Host, Login: res.Login, Store: res.Store})
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

func (j *jsonOut) onCode(c Code) {
	ev := jsonCode{
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
	j.qr.print(codeKey(c), qrTarget(c))
	if j.copy != nil && c.UserCode != j.copied {
		j.copied = c.UserCode
		fmt.Fprintln(j.err, j.copy.copy(c.UserCode).sentence())
	}
}

func (j *jsonOut) onPending(Pending) { j.write(jsonPending{Event: "pending"}) }

func (j *jsonOut) onSlowDown(e SlowDown) {
	j.write(jsonSlowDown{Event: "slow_down", Interval: seconds(e.Interval)})
}

func (j *jsonOut) onRetry(e Retry) {
	j.write(jsonRetry{Event: "retry", Error: e.Reason, RetryIn: seconds(e.RetryIn)})
}

func (j *jsonOut) onAuthorize(e Authorize) {
	j.write(jsonAuthorize{Event: "authorize", URL: e.URL})
	j.qr.print(e.URL, e.URL)
	if j.paste {
		fmt.Fprintln(j.err, pastePrompt+", as one line on standard input.")
	}
}

// onPasteAccepted writes nothing: the outcome follows.
func (j *jsonOut) onPasteAccepted(PasteAccepted) {}

// onPasteRejected says why on stderr: the JSON events have no paste event.
func (j *jsonOut) onPasteRejected(e PasteRejected) {
	fmt.Fprintln(j.err, safe.Text(rejectedText(e.Err)))
}

func (j *jsonOut) onBrowser(e Browser) {
	if e.Err != nil {
		fmt.Fprintln(j.err, "Could not open a browser ("+safe.Text(e.Err.Error())+"); open the URL yourself.")
	}
}

// onCallback writes nothing: the JSON events have no callback event.
func (j *jsonOut) onCallback(Callback) {}

// onApproved and onStopped write nothing: success and error come from the
// task's outcome, once, in runJSON.
func (j *jsonOut) onApproved(Approved) {}

func (j *jsonOut) onStopped(Stopped) {}

func (j *jsonOut) onStatus(e Status) { fmt.Fprintln(j.err, safe.Text(string(e))) }

func (j *jsonOut) onWarning(e Warning) { fmt.Fprintln(j.err, "warning: "+safe.Text(string(e))) }

// errorCode is the code of a JSON error event: the one an error in err's
// chain carries (an ErrorCode method: the outcome of a login another
// process ran, passed on), else oauth.ErrorCode's.
func errorCode(err error) string {
	var c interface{ ErrorCode() string }
	if errors.As(err, &c) && c.ErrorCode() != "" {
		return c.ErrorCode()
	}
	return oauth.ErrorCode(err)
}
