package ui

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/ghlogin/ghlogin/webflow"
)

const pasteAuthURL = "https://github.com/login/oauth/authorize?client_id=x&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&state=S"

// pasteTask is a web login that reads pastes the way webflow does: each
// line is "good" (accepted: the login ends) or rejected as a wrong state.
func pasteTask(expires time.Time) Task {
	return func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: expires})
		return nil, nil
	}
}

// readPastes hands the paste lines of p to check, rejecting until one is
// accepted, as webflow.Login does.
func readPastes(ctx context.Context, p *PasteInput, emit func(any), accept string) error {
	for attempt := 1; ; attempt++ {
		line, err := p.Read(ctx)
		if err != nil {
			return err
		}
		if line == accept {
			emit(webflow.Event{Kind: webflow.KindPasteAccepted})
			return nil
		}
		emit(webflow.Event{Kind: webflow.KindPasteRejected, Err: &webflow.PasteError{Reason: webflow.PasteWrongState, Attempt: attempt, Max: 5}})
	}
}

// The TUI's web screen asks for the pasted address and takes every key but
// Esc, Ctrl-C and Enter into its field: q and r are letters of an address.
func TestTUIPastePrompt(t *testing.T) {
	p := NewPasteInput()
	tm := newTestModel(t, Options{Flow: FlowWeb, Paste: p, Headless: true, HeadlessReason: "this is an SSH session", NoHyperlink: true})
	tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
	tm.mustShow("1. Open this page in a browser on any device", "No browser will be opened here: this is an SSH session.",
		"copy that page's address", "2. "+pastePrompt, "> ", "enter submit", "esc cancel", "times out in 5:00")
	tm.mustNotShow("works better here", "q cancel")

	p.fromTUI()
	got := make(chan string, 2)
	go func() {
		for range 2 {
			l, err := p.Read(context.Background())
			if err != nil {
				return
			}
			got <- l
		}
	}()
	tm.press("q")
	tm.press("r")
	if tm.cancelled || tm.paste.Value() != "qr" {
		t.Fatalf("q and r did not go to the field: cancelled %v, value %q", tm.cancelled, tm.paste.Value())
	}
	tm.press("enter")
	if l := <-got; l != "qr" {
		t.Fatalf("pasted %q", l)
	}
	tm.mustShow("Checking what you pasted…")
	tm.emit(webflow.Event{Kind: webflow.KindPasteRejected, Err: &webflow.PasteError{Reason: webflow.PasteWrongState, Attempt: 1, Max: 5}})
	tm.mustShow("Not accepted: " + webflow.PasteWrongState + ". Paste it again (4 tries left).")

	// A terminal's paste arrives as one run of characters.
	addr := "http://127.0.0.1:43123/callback?code=abc&state=S"
	tm.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(addr), Paste: true})
	tm.mustShow("> " + addr[:20])
	tm.press("enter")
	if l := <-got; l != addr {
		t.Fatalf("pasted %q", l)
	}
	tm.emit(webflow.Event{Kind: webflow.KindPasteAccepted})
	tm.mustShow("Accepted; finishing the login…")
	tm.mustNotShow("Not accepted")
	// An empty Enter sends nothing.
	if cmd := tm.press("enter"); cmd != nil || tm.cancelled {
		t.Error("an empty line did something")
	}
	tm.press("esc")
	if !tm.cancelled {
		t.Error("Esc did not cancel")
	}
}

// At every size the paste field stays on screen with the link and the status.
func TestTUIPasteLayout(t *testing.T) {
	for _, size := range [][2]int{{40, 12}, {60, 20}, {80, 24}, {120, 40}} {
		tm := newTestModel(t, Options{Flow: FlowWeb, Paste: NewPasteInput(), Headless: true, NoHyperlink: true})
		tm.send(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
		tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
		v := tm.plainView()
		lines := strings.Split(strings.TrimRight(v, "\n"), "\n")
		if len(lines) > size[1]-1 {
			t.Errorf("%v: %d lines:\n%s", size, len(lines), v)
		}
		for _, l := range lines {
			if w := len([]rune(l)); w > size[0] {
				t.Errorf("%v: a line of %d columns: %q", size, w, l)
			}
		}
		for _, want := range []string{"> ", "https://github.com", "Waiting for the browser"} {
			if !strings.Contains(v, want) {
				t.Errorf("%v: the view lacks %q:\n%s", size, want, v)
			}
		}
	}
}

// --qr shows the authorization URL's QR code on the web screen when it fits.
func TestTUIWebQR(t *testing.T) {
	tm := newTestModel(t, Options{Flow: FlowWeb, Paste: NewPasteInput(), QR: true, Headless: true, NoHyperlink: true})
	tm.send(tea.WindowSizeMsg{Width: 140, Height: 80})
	tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
	tm.mustShow("Scan to open on your phone", "█", "> ")
	tm.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	tm.mustShow("QR", "use the URL", "> ")
	tm.mustNotShow("Scan to open")
}

// The whole program: the pasted address goes to the flow, which ends.
func TestTeatestPaste(t *testing.T) {
	clock := newFakeNow()
	p := NewPasteInput()
	opts := Options{Host: "github.com", Flow: FlowWeb, Paste: p, Out: io.Discard, Clock: clock, Headless: true, NoHyperlink: true}.withDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m := newModel(opts, cancel)
	m.taskDone = ctx.Done()
	p.fromTUI()
	tm := teatest.NewTestModel(t, m, teatest.WithInitialTermSize(100, 30))
	startTask(ctx, opts.Host, func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: clock.Now().Add(5 * time.Minute)})
		if err := readPastes(ctx, p, emit, "CODE-1234567890"); err != nil {
			return nil, err
		}
		return octocat, nil
	}, tm.Send)
	out := tm.Output()
	teatest.WaitFor(t, out, func(b []byte) bool { return strings.Contains(string(b), "Paste the address") }, teatest.WithDuration(10*time.Second))
	tm.Type("garbage")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	teatest.WaitFor(t, out, func(b []byte) bool { return strings.Contains(string(b), "Not accepted") }, teatest.WithDuration(10*time.Second))
	tm.Type("CODE-1234567890")
	tm.Send(tea.KeyMsg{Type: tea.KeyEnter})
	tm.WaitFinished(t, teatest.WithFinalTimeout(10*time.Second))
	if fm := tm.FinalModel(t).(*model); fm.phase != phaseDone {
		t.Fatalf("final phase %v", fm.phase)
	}
}

// Plain mode: the question on stderr, the answers read from In, a
// rejection says why and asks again.
func TestPlainPaste(t *testing.T) {
	clock := newFakeNow()
	p := NewPasteInput()
	var errb bytes.Buffer
	in := strings.NewReader("garbage\nhttp://127.0.0.1:43123/callback?code=abc&state=S\n")
	task := func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: clock.Now().Add(5 * time.Minute)})
		if err := readPastes(ctx, p, emit, "http://127.0.0.1:43123/callback?code=abc&state=S"); err != nil {
			return nil, err
		}
		return octocat, nil
	}
	if _, err := Run(context.Background(), Options{Mode: Plain, Host: "github.com", Flow: FlowWeb, Paste: p, In: in, Err: &errb, Out: io.Discard, Clock: clock,
		Headless: true, HeadlessReason: "this is an SSH session"}, task); err != nil {
		t.Fatal(err)
	}
	want := "No browser is opened here: this is an SSH session.\n" +
		"Open this URL in a browser on any device to log in: " + pasteAuthURL + "\n" +
		"When the browser ends on a page that cannot be reached (127.0.0.1), copy its address; a browser on this machine finishes by itself (up to 5 minutes).\n" +
		pastePrompt + " and press Enter:\n" +
		"Not accepted: " + webflow.PasteWrongState + ". Paste it again (4 tries left).\n" +
		"Accepted; finishing the login…\n" +
		"Logged in to github.com as octocat (token kept in the keyring)\n"
	if errb.String() != want {
		t.Errorf("stderr:\n%s\nwant:\n%s", errb.String(), want)
	}
}

// JSON mode: only events on stdout; the answer is one line on stdin; the
// question and rejections on stderr. A paste that never comes (stdin ends)
// leaves the flow waiting for the browser.
func TestJSONPaste(t *testing.T) {
	p := NewPasteInput()
	var out, errb bytes.Buffer
	task := func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL})
		if err := readPastes(ctx, p, emit, "abcdefghijkl"); err != nil {
			return nil, err
		}
		return octocat, nil
	}
	if _, err := Run(context.Background(), Options{Mode: JSON, Flow: FlowWeb, Paste: p, In: strings.NewReader("nope\nabcdefghijkl\n"), Out: &out, Err: &errb}, task); err != nil {
		t.Fatal(err)
	}
	evs := decodeLines(t, out.String())
	if len(evs) != 2 || evs[0]["event"] != "authorize" || evs[1]["event"] != "success" {
		t.Errorf("events %v", evs)
	}
	if !strings.Contains(errb.String(), pastePrompt+", as one line on standard input.") || !strings.Contains(errb.String(), "Not accepted") {
		t.Errorf("stderr %q", errb.String())
	}

	p = NewPasteInput()
	_, err := Run(context.Background(), Options{Mode: JSON, Flow: FlowWeb, Paste: p, In: strings.NewReader(""), Out: io.Discard, Err: io.Discard}, func(ctx context.Context, emit func(any)) (*Result, error) {
		_, err := p.Read(ctx)
		return nil, err
	})
	if !errors.Is(err, io.EOF) {
		t.Errorf("no input: %v, want io.EOF from Read", err)
	}
}
