package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// Canary values that must never be rendered: they sit only where ui has no
// business looking (the device code, an emitted token, fields of kinds that
// do not carry them, kinds ui does not know).
const (
	canaryToken  = "gho_CANARYtokenEvents0123456789abcdefghij"
	canaryReason = "CANARY-reason-of-a-pending-event"
	canaryURL    = "https://canary.example/CANARY-url-of-a-callback"
)

func TestToEvent(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	code := testCode(now, true)
	st := Status("checking")
	var nilStatus *Status
	var nilDevice *deviceflow.Event
	var nilWeb *webflow.Event
	boom := errors.New("boom")
	wantCode := Code{
		UserCode:                "WDJB-MJHT",
		VerificationURI:         "https://github.com/login/device",
		VerificationURIComplete: "https://github.com/login/device?user_code=WDJB-MJHT",
		ExpiresAt:               now.Add(15 * time.Minute),
		Interval:                5 * time.Second,
	}
	cases := []struct {
		name string
		in   any
		want Event // nil: ignored
	}{
		{"device code", deviceflow.Event{Kind: deviceflow.KindCode, Code: code}, wantCode},
		{"pointer to device code", &deviceflow.Event{Kind: deviceflow.KindCode, Code: code}, wantCode},
		{"device code without Code", deviceflow.Event{Kind: deviceflow.KindCode}, nil},
		{"pending", deviceflow.Event{Kind: deviceflow.KindPending, Reason: canaryReason}, Pending{}},
		{"slow_down", deviceflow.Event{Kind: deviceflow.KindSlowDown, Interval: 10 * time.Second}, SlowDown{Interval: 10 * time.Second}},
		{"retry", deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "HTTP 502", RetryIn: 4 * time.Second}, Retry{Reason: "HTTP 502", RetryIn: 4 * time.Second}},
		{"device success", deviceflow.Event{Kind: deviceflow.KindSuccess}, Approved{}},
		{"device error", deviceflow.Event{Kind: deviceflow.KindError, Err: boom}, Stopped{Err: boom}},
		{"unknown device kind", deviceflow.Event{Kind: "interval_changed", Reason: canaryReason, Code: code}, nil},
		{"nil device pointer", nilDevice, nil},
		{"authorize", webflow.Event{Kind: webflow.KindAuthorize, URL: "https://github.com/login/oauth/authorize?x=1", ExpiresAt: now}, Authorize{URL: "https://github.com/login/oauth/authorize?x=1", ExpiresAt: now}},
		{"browser opened", webflow.Event{Kind: webflow.KindBrowser}, Browser{}},
		{"browser failed", &webflow.Event{Kind: webflow.KindBrowser, Err: boom}, Browser{Err: boom}},
		{"callback", webflow.Event{Kind: webflow.KindCallback, URL: canaryURL}, Callback{}},
		{"web success", webflow.Event{Kind: webflow.KindSuccess}, Approved{}},
		{"web error", webflow.Event{Kind: webflow.KindError, Err: boom}, Stopped{Err: boom}},
		{"unknown web kind", webflow.Event{Kind: "redirected", URL: canaryURL}, nil},
		{"paste accepted", webflow.Event{Kind: webflow.KindPasteAccepted}, PasteAccepted{}},
		{"paste rejected", webflow.Event{Kind: webflow.KindPasteRejected, Err: &webflow.PasteError{Reason: webflow.PasteWrongState, Attempt: 1, Max: 5}},
			PasteRejected{Err: &webflow.PasteError{Reason: webflow.PasteWrongState, Attempt: 1, Max: 5}}},
		{"nil web pointer", nilWeb, nil},
		{"status", st, st},
		{"pointer to status", &st, st},
		{"nil pointer to status", nilStatus, nil},
		{"warning", Warning("careful"), Warning("careful")},
		{"ui event", Retry{Reason: "x", RetryIn: time.Second}, Retry{Reason: "x", RetryIn: time.Second}},
		{"pointer to ui event", &Code{UserCode: "AB-CD"}, Code{UserCode: "AB-CD"}},
		{"nil", nil, nil},
		{"a token", &oauth.Token{AccessToken: canaryToken}, nil},
		{"a string", canaryToken, nil},
		{"an error", errors.New(canaryToken), nil},
		{"a deviceflow.Code", *code, nil},
	}
	for _, c := range cases {
		got := toEvent(c.in)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s: toEvent(%#v) = %#v, want %#v", c.name, c.in, got, c.want)
		}
		if s := fmt.Sprintf("%#v", got); strings.Contains(s, canaryDeviceCode) || strings.Contains(s, "CANARY") {
			t.Errorf("%s: the event holds a canary: %s", c.name, s)
		}
	}
}

// methodRecorder is a renderer that records which method each event reached.
type methodRecorder struct{ got []string }

func (r *methodRecorder) onCode(Code)           { r.got = append(r.got, "code") }
func (r *methodRecorder) onPending(Pending)     { r.got = append(r.got, "pending") }
func (r *methodRecorder) onSlowDown(SlowDown)   { r.got = append(r.got, "slow_down") }
func (r *methodRecorder) onRetry(Retry)         { r.got = append(r.got, "retry") }
func (r *methodRecorder) onAuthorize(Authorize) { r.got = append(r.got, "authorize") }
func (r *methodRecorder) onBrowser(Browser)     { r.got = append(r.got, "browser") }
func (r *methodRecorder) onCallback(Callback)   { r.got = append(r.got, "callback") }
func (r *methodRecorder) onApproved(Approved)   { r.got = append(r.got, "approved") }
func (r *methodRecorder) onStopped(Stopped)     { r.got = append(r.got, "stopped") }
func (r *methodRecorder) onStatus(Status)       { r.got = append(r.got, "status") }
func (r *methodRecorder) onWarning(Warning)     { r.got = append(r.got, "warning") }
func (r *methodRecorder) onPasteAccepted(PasteAccepted) {
	r.got = append(r.got, "paste_accepted")
}
func (r *methodRecorder) onPasteRejected(PasteRejected) {
	r.got = append(r.got, "paste_rejected")
}

func TestDispatchReachesTheMethodOfEachType(t *testing.T) {
	events := []Event{Code{}, Pending{}, SlowDown{}, Retry{}, Authorize{}, Browser{}, Callback{}, Approved{}, Stopped{}, Status(""), Warning(""), PasteAccepted{}, PasteRejected{}}
	want := []string{"code", "pending", "slow_down", "retry", "authorize", "browser", "callback", "approved", "stopped", "status", "warning", "paste_accepted", "paste_rejected"}
	rec := &methodRecorder{}
	var observed []Event
	for _, e := range events {
		dispatch(rec, e, func(e Event) { observed = append(observed, e) })
	}
	if !reflect.DeepEqual(rec.got, want) {
		t.Errorf("methods reached %v, want %v", rec.got, want)
	}
	if !reflect.DeepEqual(observed, events) {
		t.Errorf("observed %v, want %v", observed, events)
	}
}

// TestRenderersReceiveTheSameEvents runs each task in the three modes and
// records, through Options.observe, what each mode's renderer receives: the
// same typed sequence every time, with the values that are not events (a
// token, strings, unknown kinds, nil pointers) left out. Nothing any mode
// writes holds a canary.
func TestRenderersReceiveTheSameEvents(t *testing.T) {
	clk := newFakeNow()
	now := clk.Now()
	code := testCode(now, true) // holds canaryDeviceCode
	uiCode := Code{
		UserCode:                code.UserCode,
		VerificationURI:         code.VerificationURI,
		VerificationURIComplete: code.VerificationURIComplete,
		ExpiresAt:               code.ExpiresAt,
		Interval:                code.Interval,
	}
	authURL := "https://github.com/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&state=S"
	noBrowser := errors.New("no browser found")
	st := Status("Checking the token with the API")
	var nilDevice *deviceflow.Event
	var nilStatus *Status

	cases := []struct {
		name   string
		flow   string
		script []any
		want   []Event
	}{
		{
			name: "device flow",
			flow: FlowDevice,
			script: []any{
				Status("Requesting a code from github.com"),
				deviceflow.Event{Kind: deviceflow.KindCode, Code: code},
				deviceflow.Event{Kind: deviceflow.KindPending, Reason: canaryReason},
				&deviceflow.Event{Kind: deviceflow.KindSlowDown, Interval: 10 * time.Second},
				deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "the server answered HTTP 502 Bad Gateway", RetryIn: 10 * time.Second},
				deviceflow.Event{Kind: deviceflow.KindPending},
				deviceflow.Event{Kind: deviceflow.KindSuccess},
				&oauth.Token{AccessToken: canaryToken, RefreshToken: canaryToken},
				&st,
				Warning("GH_TOKEN is set and shadows the stored token"),
			},
			want: []Event{
				Status("Requesting a code from github.com"),
				uiCode,
				Pending{},
				SlowDown{Interval: 10 * time.Second},
				Retry{Reason: "the server answered HTTP 502 Bad Gateway", RetryIn: 10 * time.Second},
				Pending{},
				Approved{},
				st,
				Warning("GH_TOKEN is set and shadows the stored token"),
			},
		},
		{
			name: "web flow",
			flow: FlowWeb,
			script: []any{
				webflow.Event{Kind: webflow.KindAuthorize, URL: authURL, ExpiresAt: now.Add(5 * time.Minute)},
				&webflow.Event{Kind: webflow.KindBrowser, Err: noBrowser},
				webflow.Event{Kind: webflow.KindCallback, URL: canaryURL},
				webflow.Event{Kind: webflow.KindSuccess},
				canaryToken,
				st,
			},
			want: []Event{
				Authorize{URL: authURL, ExpiresAt: now.Add(5 * time.Minute)},
				Browser{Err: noBrowser},
				Callback{},
				Approved{},
				st,
			},
		},
		{
			name: "nothing but values that are not events",
			flow: FlowDevice,
			script: []any{
				nil, nilDevice, nilStatus, 42, canaryToken, errors.New(canaryToken),
				&oauth.Token{AccessToken: canaryToken},
				*code, code,
				deviceflow.Event{Kind: deviceflow.KindCode},
				deviceflow.Event{Kind: "future_kind", Reason: canaryReason, Code: code},
				webflow.Event{Kind: "future_kind", URL: canaryURL},
			},
			want: nil,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, mode := range []Mode{TUI, Plain, JSON} {
				var mu sync.Mutex
				var got []Event
				out, errb := &syncBuffer{}, &syncBuffer{}
				inR, inW := io.Pipe()
				opts := Options{
					Mode: mode, Host: "github.com", Flow: c.flow, In: inR, Out: out, Err: errb, Clock: clk,
					Clipboard: func(string) error { return nil },
					observe: func(e Event) {
						mu.Lock()
						defer mu.Unlock()
						got = append(got, e)
					},
				}
				res, err := Run(context.Background(), opts, scriptTask(c.script, &Result{Login: "octocat", Store: "keyring"}, nil))
				inW.Close()
				if err != nil || res.Login != "octocat" {
					t.Fatalf("%v: Run = %v, %v", mode, res, err)
				}
				mu.Lock()
				if !reflect.DeepEqual(got, c.want) {
					t.Errorf("%v: the renderer received\n%#v\nwant\n%#v", mode, got, c.want)
				}
				mu.Unlock()
				all := out.String() + errb.String()
				if !strings.Contains(all, "octocat") {
					t.Errorf("%v: no outcome shown:\n%s", mode, all)
				}
				for _, canary := range []string{canaryDeviceCode, canaryToken, canaryReason, canaryURL, "CANARY"} {
					if strings.Contains(all, canary) {
						t.Errorf("%v: output holds %q:\n%s", mode, canary, all)
					}
				}
			}
		})
	}
}
