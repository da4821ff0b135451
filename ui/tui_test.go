package ui

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/webflow"
)

func TestTUIStartScreen(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.mustShow("ghlogin", "Logging in to github.com", "Contacting github.com…", "q cancel")
	tm.mustNotShow("enter", "copy code")
	tm.emit(Status("Requesting a code from github.com"))
	tm.mustShow("Requesting a code from github.com")
}

func TestTUIDeviceCodeShown(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow(
		"1. Copy your one-time code",
		"╭───╮", "│ W │", "│ D │", "│ J │", "│ B │", "│ M │", "│ H │", "│ T │", "─",
		"2. Open this page and enter the code",
		"https://github.com/login/device",
		"Press Enter to open github.com/login/device in your browser.",
		"Waiting for you to approve…",
		"code expires in 15:00",
		"enter open in browser", "c copy code", "r show QR code", "q cancel",
	)
	tm.mustNotShow(canaryDeviceCode, "Scan to open")
}

func TestTUINarrowTerminalSpacesTheCode(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.send(tea.WindowSizeMsg{Width: 44, Height: 30})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow("W D J B - M J H T")
	tm.mustNotShow("╭───╮")
}

func TestTUICountdown(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow("code expires in 15:00")
	tm.clock.Advance(61 * time.Second)
	tm.mustShow("code expires in 13:59")
	tm.clock.Advance(14*time.Minute - 31*time.Second)
	tm.mustShow("code expires in 0:30")
	tm.clock.Advance(31 * time.Second)
	tm.mustShow("code expired")
	tm.mustNotShow("expires in")
	// The tick keeps the screen refreshing until the end.
	if cmd := tm.send(tickMsg{}); cmd == nil {
		t.Error("tick did not schedule the next tick")
	}
}

func TestTUIPendingSlowDownRetry(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindPending})
	tm.mustShow("Waiting for you to approve…")
	tm.mustNotShow("slowed down")

	tm.emit(deviceflow.Event{Kind: deviceflow.KindSlowDown, Interval: 10 * time.Second})
	tm.mustShow("Waiting for you to approve… (slowed down to 10 s)")
	tm.emit(deviceflow.Event{Kind: deviceflow.KindPending})
	tm.mustShow("(slowed down to 10 s)") // the new interval stays in force

	tm.emit(deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "could not reach github.com: connection refused", RetryIn: 4 * time.Second})
	tm.mustShow("Could not reach github.com: connection refused; retrying in 4 s")
	tm.clock.Advance(2 * time.Second)
	tm.mustShow("retrying in 2 s")
	tm.clock.Advance(3 * time.Second)
	tm.mustShow("retrying now")

	tm.emit(deviceflow.Event{Kind: deviceflow.KindPending})
	tm.mustNotShow("retrying")
	tm.mustShow("Waiting for you to approve…")

	tm.emit(deviceflow.Event{Kind: deviceflow.KindSuccess})
	tm.mustShow("Approved! Finishing up…")
	tm.mustNotShow("expires in")
	tm.emit(Status("Checking the token with the API"))
	tm.mustShow("Checking the token with the API")
}

func TestTUISuccessScreen(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.emit(Warning("GH_TOKEN is set and shadows the stored token"))
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	cmd := tm.send(doneMsg{res: &Result{Host: "github.com", Login: "octocat", Store: "keyring", Scopes: []string{"repo", "gist"}}})
	if !isQuit(cmd) {
		t.Fatal("the program does not quit after success")
	}
	tm.mustShow("✓ Logged in to github.com as octocat", "Token kept in the keyring · scopes: repo, gist",
		"⚠ GH_TOKEN is set and shadows the stored token")
	tm.mustNotShow("WDJB", "q cancel", "expires")
	// Keys after the end do nothing.
	if cmd := tm.press("q"); cmd != nil || tm.cancelled {
		t.Error("q after success did something")
	}

	tm2 := newTestModel(t, Options{})
	tm2.send(doneMsg{res: &Result{Host: "ghe.example.com", Login: "hubot", Store: "file", StorePath: "/home/h/.config/ghlogin/credentials.json"}})
	tm2.mustShow("✓ Logged in to ghe.example.com as hubot", "Token kept in /home/h/.config/ghlogin/credentials.json")
}

func TestTUIErrorScreens(t *testing.T) {
	cases := []struct {
		err  error
		want []string
	}{
		{&oauth.Error{Code: "access_denied", Description: "The user has denied your application access."},
			[]string{"✗ Could not log in to github.com", "The user has denied your application access. (access_denied)",
				"→ The request was denied in the browser; run login again to retry"}},
		{&oauth.Error{Code: "device_flow_disabled"},
			[]string{"The server answered device_flow_disabled.", "→ Enable Device Flow in the OAuth app's settings"}},
		{fmt.Errorf("polling: %w", &oauth.Error{Code: "incorrect_client_credentials"}),
			[]string{"incorrect_client_credentials", "→ Check the client ID"}},
		{&oauth.TimeoutError{Message: "the code expired; run login again"},
			[]string{"The code expired; run login again"}},
		{&oauth.NetworkError{Endpoint: "https://github.com/login/device/code", Err: errors.New("connection refused")},
			[]string{"Could not reach https://github.com/login/device/code: connection refused (check your network connection)"}},
	}
	for _, c := range cases {
		tm := newTestModel(t, Options{})
		tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
		tm.emit(deviceflow.Event{Kind: deviceflow.KindError, Err: c.err})
		tm.mustShow("Stopped: ")
		if !isQuit(tm.send(doneMsg{err: c.err})) {
			t.Fatalf("%v: the program does not quit after an error", c.err)
		}
		tm.mustShow(c.want...)
		tm.mustNotShow("q cancel", "WDJB")
	}
}

func TestTUICancelKeys(t *testing.T) {
	for _, k := range []string{"q", "esc", "ctrl+c"} {
		t.Run(k, func(t *testing.T) {
			tm := newTestModel(t, Options{})
			tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
			tm.press(k)
			if !tm.cancelled {
				t.Fatalf("%s did not cancel the task's context", k)
			}
			tm.mustShow("Cancelling…")
			tm.mustNotShow("expires in")
			// Until the task returns, other keys do nothing.
			tm.press("enter")
			if len(tm.rec.opened) != 0 {
				t.Error("Enter opened a browser while cancelling")
			}
			if !isQuit(tm.send(doneMsg{err: context.Canceled})) {
				t.Fatal("no quit after the cancelled task returned")
			}
			tm.mustShow("✗ Login cancelled.")
		})
	}
}

func TestTUISignalBecomesCancel(t *testing.T) {
	tm := newTestModel(t, Options{})
	if _, ok := quitFilter(tm.model, tea.QuitMsg{}).(cancelMsg); !ok {
		t.Error("a QuitMsg (SIGTERM) before the end is not turned into a cancellation")
	}
	if _, ok := quitFilter(tm.model, tea.InterruptMsg{}).(cancelMsg); !ok {
		t.Error("an InterruptMsg (SIGINT) before the end is not turned into a cancellation")
	}
	tm.send(cancelMsg{})
	if !tm.cancelled {
		t.Error("cancelMsg did not cancel the task")
	}
	tm.send(doneMsg{err: context.Canceled})
	if _, ok := quitFilter(tm.model, tea.QuitMsg{}).(tea.QuitMsg); !ok {
		t.Error("the model's own quit was filtered")
	}
}

func TestTUICopy(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.press("c") // before the code: nothing to copy
	if len(tm.rec.copied) != 0 {
		t.Fatal("copied before there was a code")
	}
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	tm.press("c")
	if len(tm.rec.copied) != 1 || tm.rec.copied[0] != "WDJB-MJHT" {
		t.Fatalf("copied %q, want the user code", tm.rec.copied)
	}
	tm.mustShow("1. Copy your one-time code   ✓ Copied")
	tm.clock.Advance(flashFor + time.Second)
	tm.send(tickMsg{})
	tm.mustNotShow("Copied")

	// The local clipboard fails: only the OSC 52 sequence went out, which
	// no terminal confirms.
	tm.rec.err = errors.New("xclip: cannot open display")
	tm.press("c")
	tm.mustShow("Sent to your terminal's clipboard")
	tm.mustNotShow("Copied")
}

func TestTUIEnterOpensCompleteURI(t *testing.T) {
	for _, complete := range []bool{true, false} {
		tm := newTestModel(t, Options{})
		tm.press("enter") // nothing to open yet
		tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), complete)})
		tm.press("enter")
		want := "https://github.com/login/device"
		if complete {
			want += "?user_code=WDJB-MJHT"
		}
		if len(tm.rec.opened) != 1 || tm.rec.opened[0] != want {
			t.Fatalf("complete=%v: opened %q, want %q", complete, tm.rec.opened, want)
		}
		tm.mustShow("✓ Opened your browser")
	}

	tm := newTestModel(t, Options{})
	tm.rec.err = errors.New(`exec: "xdg-open": executable file not found in $PATH`)
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.press("o")
	tm.mustShow(`✗ Could not open a browser: exec: "xdg-open": executable file not found in $PATH`)
}

func TestTUINoOpener(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.opts.Opener = nil
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	if cmd := tm.press("enter"); cmd != nil {
		t.Fatal("Enter with no opener returned a command")
	}
	tm.mustShow("Open the link in a browser.", "✗ ghlogin cannot open a browser here; open the link yourself")
	tm.mustNotShow("enter open in browser", "no browser can be started")

	// --no-browser: the screen says the person chose it.
	tm = newTestModel(t, Options{NoBrowser: true})
	tm.opts.Opener = nil
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.press("enter")
	tm.mustShow("Open the link in a browser (--no-browser: ghlogin opens none).", "✗ Not opening a browser (--no-browser); open the link yourself")
}

func TestTUIHeadless(t *testing.T) {
	tm := newTestModel(t, Options{Headless: true, HeadlessReason: "this is an SSH session"})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	tm.mustShow("No browser will be opened here: this is an SSH session.",
		"Open the link on another device, or scan the QR code.",
		"Scan to open on your phone", "▀", "r hide QR code")
	tm.mustNotShow("Press Enter", "enter open")
	if _, ok := tm.qrCache["https://github.com/login/device?user_code=WDJB-MJHT"]; !ok {
		t.Errorf("the QR code does not encode verification_uri_complete (cache: %v)", keys(tm.qrCache))
	}
	tm.press("enter")
	if len(tm.rec.opened) != 0 {
		t.Fatal("Enter opened a browser on a headless machine")
	}
	tm.mustShow("✗ Not opening a browser: this is an SSH session")

	tm.press("r")
	tm.mustNotShow("Scan to open")
	tm.mustShow("press r for a QR code", "r show QR code")
	tm.press("r")
	tm.mustShow("Scan to open on your phone")
}

func keys(m map[string][]string) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}

func TestTUIQRToggle(t *testing.T) {
	tm := newTestModel(t, Options{})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustNotShow("Scan to open")
	tm.press("r")
	tm.mustShow("Scan to open on your phone")
	want, err := qrLines("https://github.com/login/device", false)
	if err != nil {
		t.Fatal(err)
	}
	v := tm.plainView()
	for _, l := range want[1:3] {
		if !strings.Contains(v, strings.TrimSpace(l)) {
			t.Fatalf("the QR code shown is not that of verification_uri:\n%s", v)
		}
	}
	// Side by side at 100 columns: the code's boxes and the QR share rows.
	if !strings.Contains(v, "│ W │") || strings.Count(v, "\n") > 30 {
		t.Errorf("unexpected layout:\n%s", v)
	}
	tm.press("r")
	tm.mustNotShow("Scan to open")
}

// The note that stands in for a QR code names the size the QR code needs
// as what it needs: at 40×12 the review read "Too small for QR (40×26)"
// as the terminal's size. Every size in a note follows "needs" or
// "enlarge the terminal to", at every width from 24 to 120 columns.
func TestTUIQRNoteSaysWhatItNeeds(t *testing.T) {
	size := regexp.MustCompile(`(\S+ \S+) \(?\d+×\d+`)
	for w := 24; w <= 120; w += 2 {
		for _, h := range []int{10, 12, 16} {
			tm := newTestModel(t, Options{Headless: true, NoColor: true})
			tm.send(tea.WindowSizeMsg{Width: w, Height: h})
			tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
			v := tm.plainView()
			for _, m := range size.FindAllStringSubmatch(v, -1) {
				if before := m[1]; before != "QR needs" && before != "code needs" && before != "(it needs" && before != "terminal to" {
					t.Errorf("%d×%d: the size in %q does not read as what the QR code needs:\n%s", w, h, m[0], v)
				}
			}
		}
	}
	tm := newTestModel(t, Options{Headless: true, NoColor: true})
	tm.send(tea.WindowSizeMsg{Width: 40, Height: 12})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	tm.mustShow("The QR code needs 40×26; use the URL.")
	tm.send(tea.WindowSizeMsg{Width: 30, Height: 12})
	tm.mustShow("QR needs 35×28; use the URL.")
}

func TestTUIQRTooTall(t *testing.T) {
	tm := newTestModel(t, Options{Headless: true})
	tm.send(tea.WindowSizeMsg{Width: 60, Height: 24})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	tm.mustShow("QR code: make the terminal 25 lines tall, or use the URL.", "│ W │")
	tm.mustNotShow("scan the QR code")
	if n := strings.Count(tm.View(), "\n") + 1; n > 24 {
		t.Errorf("view has %d lines in a 24-line terminal", n)
	}
	tm.send(tea.WindowSizeMsg{Width: 60, Height: 50})
	tm.mustShow("Scan to open on your phone")
	tm.mustNotShow("Make the terminal taller")
}

func TestTUILinesFitTheTerminal(t *testing.T) {
	for _, headless := range []bool{false, true} {
		for _, w := range []int{40, 60, 80, 100, 140} {
			tm := newTestModel(t, Options{Headless: headless, HeadlessReason: "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)"})
			tm.send(tea.WindowSizeMsg{Width: w, Height: 50})
			tm.emit(Warning("GH_TOKEN is set and shadows the stored token for github.com; unset it to use the new login"))
			tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
			tm.emit(deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "could not reach https://github.com/login/oauth/access_token: dial tcp: connection refused", RetryIn: 8 * time.Second})
			tm.press("enter")
			for i, l := range strings.Split(tm.View(), "\n") {
				if lw := ansi.StringWidth(l); lw > w {
					t.Errorf("headless=%v width %d: line %d is %d wide: %q", headless, w, i, lw, ansi.Strip(l))
				}
			}
		}
	}
}

func TestTUINoColor(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	tm := newTestModel(t, Options{NoColor: true, NoHyperlink: true, Headless: true})
	tm.emit(Warning("careful"))
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "x", RetryIn: time.Second})
	views := []string{tm.View()}
	tm.send(doneMsg{err: &oauth.Error{Code: "access_denied"}})
	views = append(views, tm.View())
	for _, v := range views {
		if strings.Contains(v, "\x1b") {
			t.Errorf("NoColor view holds escape sequences: %q", v)
		}
	}
	if !strings.Contains(views[0], "█") {
		t.Error("no QR code drawn without colour")
	}

	// The same screen with colour does use colour, so the check above means something.
	tc := newTestModel(t, Options{Headless: true})
	r := lipgloss.NewRenderer(&strings.Builder{})
	r.SetColorProfile(termenv.ANSI256)
	tc.setRenderer(r)
	tc.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tc.clock.Now(), true)})
	if !sgr.MatchString(tc.View()) {
		t.Error("the colour view has no colour codes")
	}
}

func TestTUIHyperlink(t *testing.T) {
	t.Setenv("TERM", "xterm-256color")
	tm := newTestModel(t, Options{})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), true)})
	v := tm.View()
	if !strings.Contains(v, ";https://github.com/login/device?user_code=WDJB-MJHT\x1b\\") || !strings.Contains(v, "\x1b]8;;\x1b\\") {
		t.Errorf("no OSC 8 hyperlink to verification_uri_complete in %q", v)
	}
	tn := newTestModel(t, Options{NoHyperlink: true})
	tn.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tn.clock.Now(), true)})
	if strings.Contains(tn.View(), "\x1b]8;") {
		t.Error("hyperlink shown with NoHyperlink")
	}
	t.Setenv("TERM", "dumb")
	td := newTestModel(t, Options{})
	td.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(td.clock.Now(), true)})
	if strings.Contains(td.View(), "\x1b]8;") {
		t.Error("hyperlink shown with TERM=dumb")
	}
}

func TestTUIUntrustedTextIsSanitized(t *testing.T) {
	tm := newTestModel(t, Options{NoColor: true, NoHyperlink: true})
	code := testCode(tm.clock.Now(), false)
	code.UserCode = "AB\x1b]52;c;ZXZpbA==\x07CD"
	code.VerificationURI = "https://evil.example/\x1b[2Jdevice"
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: code})
	tm.emit(Status("status \x1b[31mred"))
	tm.emit(deviceflow.Event{Kind: deviceflow.KindRetry, Reason: "bad\x1b[1Areason", RetryIn: time.Second})
	if v := tm.View(); strings.ContainsAny(v, "\x1b\x07") {
		t.Errorf("server text reached the terminal with control characters: %q", v)
	}
	// A URL with control characters is neither linked nor opened.
	tm.press("enter")
	if len(tm.rec.opened) != 0 {
		t.Errorf("opened an unsafe URL: %q", tm.rec.opened)
	}
	tm.mustShow("cannot be opened safely")
}

func TestTUIWebFlow(t *testing.T) {
	const authURL = "https://github.com/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&scope=repo&state=S&code_challenge=C&code_challenge_method=S256"
	tm := newTestModel(t, Options{Flow: FlowWeb})
	tm.mustShow("Logging in to github.com · in your browser")
	tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: authURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
	flat := strings.ReplaceAll(strings.ReplaceAll(tm.plainView(), "\n", ""), " ", "")
	if !strings.Contains(flat, authURL) {
		t.Errorf("the authorization URL is not shown in full:\n%s", tm.plainView())
	}
	tm.mustShow("Authorize ghlogin in your browser", "Waiting for the browser…", "times out in 5:00", "Press Enter to open it in your browser.")
	tm.mustShow("c copy URL")
	tm.mustNotShow("copy code", "QR")
	tm.press("r")
	if tm.showQR {
		t.Error("r did something in the web flow")
	}
	// c copies the authorization URL (TestTUIWebCopyURL has the details).
	tm.press("c")
	if len(tm.rec.copied) != 1 || tm.rec.copied[0] != authURL {
		t.Errorf("c copied %q", tm.rec.copied)
	}

	tm.emit(webflow.Event{Kind: webflow.KindBrowser, Err: errors.New("no browser found")})
	tm.mustShow("✗ Could not open a browser: no browser found")
	tm.emit(webflow.Event{Kind: webflow.KindBrowser})
	tm.mustShow("✓ Opened your browser", "Press Enter to open it again.", "enter open again")
	tm.press("enter")
	if len(tm.rec.opened) != 1 || tm.rec.opened[0] != authURL {
		t.Fatalf("Enter opened %q", tm.rec.opened)
	}
	tm.clock.Advance(4*time.Minute + 30*time.Second)
	tm.mustShow("times out in 0:30")
	tm.emit(webflow.Event{Kind: webflow.KindCallback})
	tm.mustShow("The browser came back; finishing the login…")
	tm.mustNotShow("times out")
	tm.send(doneMsg{res: &Result{Host: "github.com", Login: "octocat", Store: "keyring"}})
	tm.mustShow("✓ Logged in to github.com as octocat")

	te := newTestModel(t, Options{Flow: FlowWeb})
	te.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: authURL, ExpiresAt: te.clock.Now().Add(time.Minute)})
	te.clock.Advance(2 * time.Minute)
	te.mustShow("timed out")
	te.send(doneMsg{err: &oauth.TimeoutError{Message: "the browser did not come back within 5 minutes; run login again"}})
	te.mustShow("✗ Could not log in", "The browser did not come back within 5 minutes; run login again")
}

func TestTUIWebFlowHeadless(t *testing.T) {
	const authURL = "https://github.com/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&state=S"
	tm := newTestModel(t, Options{Flow: FlowWeb, Headless: true, HeadlessReason: "this is an SSH session"})
	tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: authURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
	tm.mustShow("No browser will be opened here: this is an SSH session.", "ssh -L 43123:127.0.0.1:43123", "device flow")
	tm.mustNotShow("Scan to open", "Press Enter")
	tm.press("enter")
	if len(tm.rec.opened) != 0 {
		t.Fatal("Enter opened a browser on a headless machine")
	}
}

// NoQR starts a headless TUI without the QR code; r still shows it.
func TestTUINoQR(t *testing.T) {
	tm := newTestModel(t, Options{Headless: true, HeadlessReason: "this is an SSH session", NoQR: true})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow("press r for a QR code")
	tm.press("r")
	tm.mustShow("r hide QR")
}
