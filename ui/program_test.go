package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"
	"github.com/skip2/go-qrcode"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

// waitFor polls cond until it holds or fails the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestTeatestDeviceFlow runs the whole program (renderer, key input, task
// goroutine) through teatest: the code appears, c copies it, Enter opens
// verification_uri_complete, and approval ends on the success screen.
func TestTeatestDeviceFlow(t *testing.T) {
	rec := &recorder{}
	clock := newFakeNow()
	opts := Options{Host: "github.com", Out: io.Discard, Opener: rec, Clipboard: rec.Copy, Clock: clock, NoHyperlink: true}.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := newModel(opts, cancel)
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))

	approve := make(chan struct{})
	done := startTask(ctx, opts.Host, func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(clock.Now(), true)})
		emit(deviceflow.Event{Kind: deviceflow.KindPending})
		select {
		case <-approve:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		emit(deviceflow.Event{Kind: deviceflow.KindSuccess})
		return octocat, nil
	}, tm.Send)

	out := tm.Output()
	teatest.WaitFor(t, out, func(b []byte) bool {
		return strings.Contains(string(b), "│ W │") && strings.Contains(string(b), "code expires in 15:00")
	}, teatest.WithDuration(10*time.Second))

	tm.Type("c")
	teatest.WaitFor(t, out, func(b []byte) bool { return strings.Contains(string(b), "✓ Copied") }, teatest.WithDuration(10*time.Second))
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	teatest.WaitFor(t, out, func(b []byte) bool { return strings.Contains(string(b), "Opened your browser") }, teatest.WithDuration(10*time.Second))
	close(approve)

	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	fm := tm.FinalModel(t).(*model)
	if fm.phase != phaseDone {
		t.Fatalf("final phase %v", fm.phase)
	}
	if v := fm.View(); !strings.Contains(v, "✓ Logged in to github.com as octocat") {
		t.Errorf("final view:\n%s", v)
	}
	if r := <-done; r.err != nil || r.res.Login != "octocat" {
		t.Errorf("task outcome %v %v", r.res, r.err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.copied) != 1 || rec.copied[0] != "WDJB-MJHT" {
		t.Errorf("copied %q", rec.copied)
	}
	if len(rec.opened) != 1 || rec.opened[0] != "https://github.com/login/device?user_code=WDJB-MJHT" {
		t.Errorf("opened %q", rec.opened)
	}
}

func TestTeatestCancel(t *testing.T) {
	opts := Options{Host: "github.com", Out: io.Discard, Clipboard: func(string) error { return nil }}.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	tm := teatest.NewTestModel(t, newModel(opts, cancel), teatest.WithInitialTermSize(80, 24))
	done := startTask(ctx, opts.Host, func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(time.Now(), false)})
		<-ctx.Done()
		return nil, fmt.Errorf("polling: %w", ctx.Err())
	}, tm.Send)
	teatest.WaitFor(t, tm.Output(), func(b []byte) bool { return strings.Contains(string(b), "Copy your one-time code") }, teatest.WithDuration(10*time.Second))
	tm.Type("q")
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if fm := tm.FinalModel(t).(*model); fm.phase != phaseCancelled || !strings.Contains(fm.View(), "Login cancelled") {
		t.Errorf("final phase %v:\n%s", fm.phase, fm.View())
	}
	if r := <-done; !errors.Is(r.err, context.Canceled) {
		t.Errorf("task error %v", r.err)
	}
}

// TestRunTUI drives Run itself in TUI mode through a pipe: q cancels the
// task's context, and Run waits for the task before returning.
func TestRunTUI(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &syncBuffer{}
	release := make(chan struct{})
	var taskReturned atomic.Bool
	type ret struct {
		res *Result
		err error
	}
	returned := make(chan ret, 1)
	go func() {
		res, err := Run(context.Background(), Options{Mode: TUI, Host: "github.com", In: inR, Out: out, Err: io.Discard},
			func(ctx context.Context, emit func(any)) (*Result, error) {
				emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(time.Now(), false)})
				<-ctx.Done()
				<-release
				taskReturned.Store(true)
				return nil, ctx.Err()
			})
		returned <- ret{res, err}
	}()
	waitFor(t, "the code on screen", func() bool { return strings.Contains(out.String(), "│ W │") })
	if _, err := inW.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "Cancelling…", func() bool { return strings.Contains(out.String(), "Cancelling…") })
	select {
	case <-returned:
		t.Fatal("Run returned before the task did")
	case <-time.After(50 * time.Millisecond):
	}
	close(release)
	r := <-returned
	if !taskReturned.Load() {
		t.Error("Run returned before the task")
	}
	if !errors.Is(r.err, context.Canceled) || r.res != nil {
		t.Errorf("Run = %v, %v; want context.Canceled", r.res, r.err)
	}
	if !strings.Contains(out.String(), "Login cancelled") {
		t.Errorf("no cancelled screen in %q", out.String())
	}
}

func TestRunTUISuccessAndParentCancel(t *testing.T) {
	inR, inW := io.Pipe()
	defer inW.Close()
	out := &syncBuffer{}
	res, err := Run(context.Background(), Options{Mode: TUI, Host: "github.com", In: inR, Out: out},
		scriptTask(deviceScript(time.Now(), false), &Result{Login: "octocat", Store: "keyring"}, nil))
	if err != nil || res.Login != "octocat" || res.Host != "github.com" {
		t.Fatalf("Run = %+v, %v", res, err)
	}
	if !strings.Contains(out.String(), "Logged in to github.com as octocat") {
		t.Errorf("no success screen in %q", out.String())
	}

	// Cancelling Run's context stops the task and ends the program.
	ctx, cancel := context.WithCancel(context.Background())
	inR2, inW2 := io.Pipe()
	defer inW2.Close()
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	_, err = Run(ctx, Options{Mode: TUI, Host: "github.com", In: inR2, Out: io.Discard},
		func(ctx context.Context, emit func(any)) (*Result, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v, want context.Canceled", err)
	}
}

// TestCanaryNeverShown runs a login whose task really holds secrets (an
// access and a refresh token from a token endpoint on loopback, and the
// device code inside the events it emits) in every mode, succeeding and
// failing, and checks that none reaches stdout or stderr.
func TestCanaryNeverShown(t *testing.T) {
	const access, refresh = "gho_CANARYaccess0123456789abcdefghijklmn", "ghr_CANARYrefresh0123456789abcdefghijk"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.Form.Get("device_code") != canaryDeviceCode {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"error":"incorrect_device_code"}`)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"access_token":%q,"refresh_token":%q,"token_type":"bearer","scope":"repo,gist"}`, access, refresh)
	}))
	defer srv.Close()

	task := func(fail bool) Task {
		return func(ctx context.Context, emit func(any)) (*Result, error) {
			code := testCode(time.Now(), true)
			if code.DeviceCode != canaryDeviceCode {
				return nil, errors.New("test broken: the event does not carry the device code")
			}
			emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: code})
			emit(&deviceflow.Event{Kind: deviceflow.KindCode, Code: code})
			emit(deviceflow.Event{Kind: deviceflow.KindPending})
			time.Sleep(60 * time.Millisecond) // a few TUI frames, so the code screen is drawn
			tok, err := (&oauth.Client{Timeout: 5 * time.Second}).Exchange(ctx, srv.URL+"/login/oauth/access_token",
				oauth.Credentials{ClientID: "Iv1.canary"},
				url.Values{"grant_type": {deviceflow.GrantType}, "device_code": {code.DeviceCode}})
			if err != nil {
				return nil, err
			}
			emit(deviceflow.Event{Kind: deviceflow.KindSuccess})
			emit(webflow.Event{Kind: webflow.KindCallback})
			emit(Status("Checking the token with the API"))
			emit(tok) // not a type ui renders: must be ignored, not printed
			if fail {
				return nil, fmt.Errorf("checking the token with the API: %w", &oauth.HTTPError{StatusCode: 401, Detail: "Bad credentials"})
			}
			return &Result{Host: "github.com", Login: "octocat", Store: "keyring", Scopes: tok.Scopes()}, nil
		}
	}
	for _, mode := range []Mode{TUI, Plain, JSON} {
		for _, fail := range []bool{false, true} {
			out, errb := &syncBuffer{}, &syncBuffer{}
			inR, inW := io.Pipe()
			_, err := Run(context.Background(), Options{Mode: mode, Host: "github.com", In: inR, Out: out, Err: errb, Headless: true}, task(fail))
			inW.Close()
			if (err != nil) != fail {
				t.Fatalf("%v fail=%v: Run error %v", mode, fail, err)
			}
			all := out.String() + errb.String()
			shown := map[Mode]string{TUI: "W D J B - M J H T", Plain: "WDJB-MJHT", JSON: `"user_code":"WDJB-MJHT"`}[mode]
			if !strings.Contains(all, shown) {
				t.Errorf("%v fail=%v: the code was not shown:\n%s", mode, fail, all)
			}
			if strings.Contains(all, "octocat") == fail {
				t.Errorf("%v fail=%v: wrong outcome shown:\n%s", mode, fail, all)
			}
			for _, secret := range []string{access, refresh, canaryDeviceCode, "CANARY"} {
				if strings.Contains(all, secret) {
					t.Errorf("%v fail=%v: output holds %q:\n%s", mode, fail, secret, all)
				}
			}
		}
	}
}

// TestQRRoundTrip decodes the half-block rendering back into modules and
// compares them with the QR symbol: every module survives, in both schemes.
func TestQRRoundTrip(t *testing.T) {
	for _, content := range []string{"https://github.com/login/device", "https://ghe.example.com/login/device?user_code=WDJB-MJHT"} {
		q, err := qrcode.New(content, qrcode.Low)
		if err != nil {
			t.Fatal(err)
		}
		q.DisableBorder = true
		bm := q.Bitmap()
		n := len(bm) + 2*qrQuiet
		for _, dark := range []bool{true, false} {
			lines, err := qrLines(content, dark)
			if err != nil {
				t.Fatal(err)
			}
			if len(lines) != (n+1)/2 {
				t.Fatalf("%d lines for %d modules", len(lines), n)
			}
			for y := 0; y < n; y++ {
				row := []rune(lines[y/2])
				if len(row) != n {
					t.Fatalf("line %d is %d wide, want %d", y/2, len(row), n)
				}
				for x := 0; x < n; x++ {
					var inked bool
					switch row[x] {
					case '█':
						inked = true
					case '▀':
						inked = y%2 == 0
					case '▄':
						inked = y%2 == 1
					}
					want := false
					if yy, xx := y-qrQuiet, x-qrQuiet; yy >= 0 && xx >= 0 && yy < len(bm) && xx < len(bm) {
						want = bm[yy][xx]
					}
					if inked != (want == dark) {
						t.Fatalf("%q dark=%v: module (%d,%d) wrong", content, dark, x, y)
					}
				}
			}
		}
	}
}
