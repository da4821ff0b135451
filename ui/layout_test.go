package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/webflow"
)

// probe runs the model under teatest for golden files: it starts neither
// the spinner nor the countdown tick (the frame and the fake clock stay
// put, so views are the same on every run), and answers a snapshot message
// with the view, rendered on the program's own goroutine.
type probe struct{ m *model }

// snapshot asks the probe for the current view.
type snapshot chan string

func (p probe) Init() tea.Cmd { return nil }

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ch, ok := msg.(snapshot); ok {
		ch <- p.m.View()
		return p, nil
	}
	_, cmd := p.m.Update(msg)
	return p, cmd
}

func (p probe) View() string { return p.m.View() }

// program is a model running under teatest, for layout tests.
type program struct {
	t  *testing.T
	tm *teatest.TestModel
	m  *model
}

// startProgram runs the TUI at w×h, without colour or hyperlinks, on a
// fake clock, with a fake opener and clipboard.
func startProgram(t *testing.T, w, h int, opts Options) *program {
	t.Helper()
	rec := &recorder{}
	if opts.Host == "" {
		opts.Host = "github.com"
	}
	opts.Out = &bytes.Buffer{} // the model's renderer; teatest captures the program's output
	opts.Clock = newFakeNow()
	opts.NoColor, opts.NoHyperlink = true, true
	opts.Getenv = env(map[string]string{"TERM": "xterm-256color"})
	if opts.Opener == nil && !opts.Headless {
		opts.Opener = rec
	}
	opts.Clipboard = rec.Copy
	opts = opts.withDefaults()
	m := newModel(opts, func() {})
	tm := teatest.NewTestModel(t, probe{m}, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return &program{t: t, tm: tm, m: m}
}

func (p *program) emit(v any) {
	emitter(func(e Event) { p.tm.Send(eventMsg{e}) })(v)
}

// view returns the view once every message sent before has been handled.
func (p *program) view() string {
	p.t.Helper()
	ch := make(snapshot, 1)
	p.tm.Send(ch)
	select {
	case v := <-ch:
		return v
	case <-time.After(10 * time.Second):
		p.t.Fatal("the program did not answer with its view")
	}
	return ""
}

// assertFits checks that no line of view is wider than w columns and that
// the view, with the empty last line bubbletea keeps for the cursor, is no
// taller than h lines.
func assertFits(t *testing.T, view string, w, h int) {
	t.Helper()
	lines := strings.Split(view, "\n")
	for i, l := range lines {
		if lw := ansi.StringWidth(l); lw > w {
			t.Errorf("line %d is %d columns wide in a %d-column terminal: %q", i, lw, w, ansi.Strip(l))
		}
	}
	if len(lines) > h {
		t.Errorf("the view has %d lines in a %d-line terminal:\n%s", len(lines), h, ansi.Strip(view))
	}
}

// codeOnScreen reports whether the user code WDJB-MJHT is readable in the
// view: boxed, spaced out or as it is.
func codeOnScreen(view string) bool {
	v := ansi.Strip(view)
	if strings.Contains(v, "W D J B - M J H T") || strings.Contains(v, "WDJB-MJHT") {
		return true
	}
	for _, c := range "WDJBMHT" {
		if !strings.Contains(v, "│ "+string(c)+" │") {
			return false
		}
	}
	return true
}

var layoutSizes = []struct{ w, h int }{{40, 12}, {60, 24}, {80, 24}, {120, 40}}

// TestLayoutGolden renders the device and web screens at 40, 60, 80 and
// 120 columns, with and without the QR code and after a resize, compares
// them with the golden files in testdata/TestLayoutGolden (go test -update
// rewrites them), and checks that every one fits the terminal and shows
// the code.
func TestLayoutGolden(t *testing.T) {
	const authURL = "https://github.com/login/oauth/authorize?client_id=Iv1.abc&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&scope=repo&state=S"
	scenarios := []struct {
		name string
		opts Options
		run  func(p *program, w, h int)
	}{
		{"code", Options{}, func(p *program, w, h int) {
			p.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(newFakeNow().Now(), false)})
		}},
		{"qr", Options{}, func(p *program, w, h int) {
			p.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(newFakeNow().Now(), false)})
			p.tm.Type("r")
		}},
		{"headless", Options{Headless: true, HeadlessReason: "this is an SSH session"}, func(p *program, w, h int) {
			p.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(newFakeNow().Now(), true)})
		}},
		{"resized", Options{Intro: "ghlogin demo: a GitHub emulator is running at http://127.0.0.1:37821 (nothing leaves this machine). Press Enter to open the emulator's page, enter the code and approve it as any user."}, func(p *program, w, h int) {
			p.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(newFakeNow().Now(), false)})
			p.view()
			p.tm.Send(tea.WindowSizeMsg{Width: 30, Height: 10})
			shrunk := p.view()
			assertFits(p.t, shrunk, 30, 10)
			if !codeOnScreen(shrunk) {
				p.t.Errorf("the code is not on the 30×10 screen:\n%s", shrunk)
			}
			p.tm.Send(tea.WindowSizeMsg{Width: w, Height: h})
		}},
		{"web", Options{Flow: FlowWeb}, func(p *program, w, h int) {
			p.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: authURL, ExpiresAt: newFakeNow().Now().Add(5 * time.Minute)})
		}},
	}
	for _, sc := range scenarios {
		for _, size := range layoutSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				p := startProgram(t, size.w, size.h, sc.opts)
				sc.run(p, size.w, size.h)
				v := p.view()
				if strings.Contains(v, "\x1b") {
					t.Fatalf("the view holds escape sequences without colour: %q", v)
				}
				assertFits(t, v, size.w, size.h)
				if sc.opts.Flow == FlowWeb {
					flat := strings.ReplaceAll(strings.ReplaceAll(v, "\n", ""), " ", "")
					if !strings.Contains(flat, authURL) {
						t.Errorf("the authorization URL is not on screen in full:\n%s", v)
					}
				} else if !codeOnScreen(v) {
					t.Errorf("the code is not on screen:\n%s", v)
				}
				help := v[strings.LastIndex(strings.TrimRight(v, "\n"), "\n")+1:]
				if !strings.Contains(help, "q cancel") || (sc.opts.Flow != FlowWeb && !regexp.MustCompile(`\br (show |hide )?QR`).MatchString(help)) {
					t.Errorf("the last line does not show the keys r and q: %q", help)
				}
				teatest.RequireEqualOutput(t, []byte(v))
			})
		}
	}
}

// longAuthURL is an authorization URL as long as a real one (PKCE, three
// scopes, a long state): nine lines at 40 columns.
const longAuthURL = "http://127.0.0.1:59145/login/oauth/authorize?client_id=Iv1.8a61f9b3a7aba766&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM&code_challenge_method=S256&redirect_uri=http%3A%2F%2F127.0.0.1%3A43123%2Fcallback&scope=repo+read%3Aorg+gist&state=zs1Jm5K8l2mX9qQ3vR7tY1uW4eD6fG0hJ2kL5nP8sA"

// TestWebScreenKeepsLabelsAndKeys renders the web screen with a long
// authorization URL, with the paste field (no display) and without it, at
// 40, 60, 80 and 120 columns, and compares it with the golden files in
// testdata/TestWebScreenKeepsLabelsAndKeys. As on the device screen, the
// step titles, the countdown and the key help stay at 40×12 (where the
// review saw only the URL and an unlabelled field): the end of the URL
// gives way first, the line where it is cut ending in "…".
func TestWebScreenKeepsLabelsAndKeys(t *testing.T) {
	for _, sc := range []struct {
		name  string
		opts  Options
		wants []string
		keys  string
	}{
		{"paste", Options{Flow: FlowWeb, Paste: NewPasteInput(), Headless: true, HeadlessReason: "there is no display"},
			[]string{"1. Open this page", "2. Paste the address", "   > ", "Waiting for the browser", "times out in 5:00"}, "enter submit • esc cancel"},
		{"browser", Options{Flow: FlowWeb},
			[]string{"→ Authorize ghlogin", "Waiting for the browser", "times out in 5:00"}, "q cancel"},
	} {
		for _, size := range layoutSizes {
			t.Run(fmt.Sprintf("%s_%dx%d", sc.name, size.w, size.h), func(t *testing.T) {
				p := startProgram(t, size.w, size.h, sc.opts)
				p.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: longAuthURL, ExpiresAt: newFakeNow().Now().Add(5 * time.Minute)})
				v := p.view()
				assertFits(t, v, size.w, size.h)
				flat := wrapped.ReplaceAllString(v, " ")
				for _, want := range sc.wants {
					if !strings.Contains(v, want) && !strings.Contains(flat, want) {
						t.Errorf("the view lacks %q:\n%s", want, v)
					}
				}
				lines := strings.Split(strings.TrimRight(v, "\n"), "\n")
				if help := lines[len(lines)-1]; !strings.HasSuffix(help, sc.keys) {
					t.Errorf("the last line is %q, want the key help ending in %q:\n%s", help, sc.keys, v)
				}
				// The URL: whole, or its start up to a line that ends in "…".
				var shown string
				for _, l := range lines {
					l = strings.TrimSpace(l)
					if shown == "" && !strings.HasPrefix(l, "http://127.0.0.1:59145/") {
						continue
					}
					if shown != "" && !strings.HasPrefix(longAuthURL, shown+l) && !strings.HasPrefix(longAuthURL, shown+strings.TrimSuffix(l, "…")) {
						break
					}
					shown += l
					if strings.HasSuffix(l, "…") {
						break
					}
				}
				cut := strings.TrimSuffix(shown, "…")
				switch {
				case shown == longAuthURL:
				case cut != shown && strings.HasPrefix(longAuthURL, cut) && len(cut) >= 60:
					if size.h >= 24 {
						t.Errorf("the URL is cut short at %d×%d:\n%s", size.w, size.h, v)
					}
				default:
					t.Errorf("the URL is neither whole nor cut with …: %q\n%s", shown, v)
				}
				teatest.RequireEqualOutput(t, []byte(v))
			})
		}
	}
}

// TestResizeRedraws checks that the view after shrinking and growing the
// window is the view of a fresh start at that size (nothing of the small
// layout stays), and that each resize after the first size clears the
// screen, where the terminal has folded or cut the old lines.
func TestResizeRedraws(t *testing.T) {
	for _, size := range layoutSizes {
		t.Run(fmt.Sprintf("%dx%d", size.w, size.h), func(t *testing.T) {
			code := deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(newFakeNow().Now(), false)}
			fresh := startProgram(t, size.w, size.h, Options{})
			fresh.emit(code)
			want := fresh.view()

			p := startProgram(t, size.w, size.h, Options{})
			p.emit(code)
			p.view()
			p.tm.Send(tea.WindowSizeMsg{Width: 30, Height: 10})
			p.view()
			p.tm.Send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
			if got := p.view(); got != want {
				t.Errorf("after shrinking to 30×10 and growing back:\n%s\nwant, as after a fresh start:\n%s", got, want)
			}
			teatest.WaitFor(t, p.tm.Output(), func(b []byte) bool {
				return bytes.Contains(b, []byte(ansi.EraseEntireScreen))
			}, teatest.WithDuration(10*time.Second))
		})
	}

	// Only a change of size after the first clears the screen: the first
	// size, or the same size again (a SIGWINCH with nothing changed), must
	// not wipe what was printed above the screen.
	m := newModel(Options{Out: &bytes.Buffer{}}.withDefaults(), nil)
	for _, c := range []struct {
		w, h  int
		clear bool
	}{{80, 24, false}, {80, 24, false}, {40, 24, true}, {40, 12, true}, {40, 12, false}, {80, 24, true}} {
		cmd := m.resize(c.w, c.h)
		if cleared := cmd != nil && fmt.Sprint(cmd()) == fmt.Sprint(tea.ClearScreen()); cleared != c.clear || (cmd != nil) != c.clear {
			t.Errorf("resize to %d×%d: clears %v, want %v", c.w, c.h, cleared, c.clear)
		}
	}
}

// TestQRNoteIsTrue checks, at every size from 30×10 to 120×40 in steps,
// that the code stays on screen with the QR code asked for, and that when
// a note stands in for the QR code, a terminal of the size it names does
// show the QR code.
func TestQRNoteIsTrue(t *testing.T) {
	note := regexp.MustCompile(`(\d+)×(\d+)|widen the terminal to (\d+) columns|make the terminal (\d+) lines tall`)
	for _, complete := range []bool{false, true} {
		for w := 24; w <= 120; w += 6 {
			for h := 10; h <= 40; h += 3 {
				tm := newTestModel(t, Options{NoColor: true, NoHyperlink: true})
				tm.send(tea.WindowSizeMsg{Width: w, Height: h})
				tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), complete)})
				tm.press("r")
				v := tm.View()
				assertFits(t, v, w, h)
				if !codeOnScreen(v) {
					t.Fatalf("%d×%d: the code left the screen:\n%s", w, h, v)
				}
				if strings.Contains(v, "█") {
					continue // the QR code is shown
				}
				m := note.FindStringSubmatch(ansi.Strip(v))
				if m == nil {
					t.Fatalf("%d×%d: neither the QR code nor a note saying what size it needs:\n%s", w, h, v)
				}
				nw, nh := w, h
				switch {
				case m[1] != "":
					fmt.Sscan(m[1], &nw)
					fmt.Sscan(m[2], &nh)
				case m[3] != "":
					fmt.Sscan(m[3], &nw)
				default:
					fmt.Sscan(m[4], &nh)
				}
				if nw < w || nh < h || (nw == w && nh == h) {
					t.Fatalf("%d×%d: the note asks for %d×%d:\n%s", w, h, nw, nh, v)
				}
				tm.send(tea.WindowSizeMsg{Width: nw, Height: nh})
				if v := tm.View(); !strings.Contains(v, "█") {
					t.Errorf("%d×%d: the note asks for %d×%d, where there is still no QR code:\n%s", w, h, nw, nh, v)
				}
			}
		}
	}
}

// TestKeyHelpAtEveryWidth checks that the key help shows r and q at every
// width from 30 to 120 columns, in the long form where it fits.
func TestKeyHelpAtEveryWidth(t *testing.T) {
	for w := 30; w <= 120; w++ {
		tm := newTestModel(t, Options{NoColor: true})
		tm.send(tea.WindowSizeMsg{Width: w, Height: 40})
		tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
		v := strings.TrimRight(tm.plainView(), "\n")
		help := strings.TrimSpace(v[strings.LastIndex(v, "\n")+1:])
		if !strings.Contains(help, "r ") || !strings.HasSuffix(help, "q cancel") {
			t.Errorf("%d columns: key help %q lacks r or q", w, help)
		}
		if w >= 67 && help != "enter open in browser • c copy code • r show QR code • q cancel" {
			t.Errorf("%d columns: key help %q, want the long form", w, help)
		}
		if w == 50 && help != "enter open • c copy • r QR • q cancel" {
			t.Errorf("50 columns: key help %q, want the short form", help)
		}
		assertFits(t, tm.View(), w, 40)
	}
}

// TestIntroWrapsAtWords checks that Options.Intro is wrapped at word
// boundaries in the TUI and gives way first on a short terminal.
func TestIntroWrapsAtWords(t *testing.T) {
	const intro = "ghlogin demo: a GitHub emulator is running at http://127.0.0.1:37821 (nothing leaves this machine)."
	tm := newTestModel(t, Options{Intro: intro, NoColor: true})
	tm.send(tea.WindowSizeMsg{Width: 40, Height: 40})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.mustShow("ghlogin demo: a GitHub emulator is\n  running at http://127.0.0.1:37821\n  (nothing leaves this machine).")
	tm.send(tea.WindowSizeMsg{Width: 40, Height: 12})
	tm.mustNotShow("emulator")
	if !codeOnScreen(tm.View()) {
		t.Errorf("the code is not on screen:\n%s", tm.View())
	}

	var errb bytes.Buffer
	if _, err := Run(context.Background(), Options{Mode: Plain, Intro: intro, Err: &errb, Out: &errb}, scriptTask(nil, octocat, nil)); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(errb.String(), intro+"\n") {
		t.Errorf("plain mode printed %q", errb.String())
	}
}

// At 100 columns (where the review saw "ghlogin login --⏎host …"), the
// success and error screens wrap at spaces only and keep each ghlogin
// command line on one line, so it can be copied and pasted as it is.
func TestTUIKeepsCommandLinesWhole(t *testing.T) {
	const kept = "The token is kept in the kernel keyring until the machine restarts, or after 3 days unused: in memory only, never written to disk; only you can read it. Then log in again: ghlogin login --host http://127.0.0.1:18788."
	const failed = "cannot keep the token for 127.0.0.1:18788 in the OS keyring: no keyring service on this machine; there is no terminal to ask where to keep it instead: choose --store kernel or --store file; to use one for 127.0.0.1:18788 from now on: ghlogin config set --host http://127.0.0.1:18788 store kernel"
	var views []string
	for _, done := range []doneMsg{
		{res: &Result{Host: "127.0.0.1:18788", Login: "octocat", Store: "kernel", Kept: kept, Scopes: []string{"repo", "read:org", "gist"}}},
		{err: errors.New(failed)},
	} {
		tm := newTestModel(t, Options{Host: "127.0.0.1:18788", NoColor: true, NoHyperlink: true})
		tm.send(tea.WindowSizeMsg{Width: 100, Height: 30})
		tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
		tm.send(done)
		v := tm.View()
		assertFits(t, v, 100, 30)
		flat := ansi.Strip(v)
		for _, cmd := range []string{"ghlogin login --host http://127.0.0.1:18788.", "ghlogin config set --host http://127.0.0.1:18788 store kernel"} {
			if strings.Contains(strings.Join(strings.Fields(flat), " "), cmd) && !strings.Contains(flat, cmd) {
				t.Errorf("%q is broken over two lines:\n%s", cmd, flat)
			}
		}
		for _, l := range strings.Split(flat, "\n") {
			if trimmed := strings.TrimSpace(l); strings.HasSuffix(trimmed, "-") || strings.HasPrefix(trimmed, "host ") {
				t.Errorf("a line breaks inside a flag: %q", l)
			}
		}
		views = append(views, flat)
	}
	teatest.RequireEqualOutput(t, []byte(strings.Join(views, "\n----\n")))
}

// Where a command line is wider than the window (40 and 60 columns), the
// error screen breaks it at its spaces, each flag with its value, never
// inside a word (the review saw "--host 127.0.0.1:5914⏎5" at 40 columns).
func TestTUICommandLinesBreakAtSpaces(t *testing.T) {
	const failed = "cannot keep the token for 127.0.0.1:18788 in the OS keyring: no keyring service on this machine; there is no terminal to ask where to keep it instead: choose --store kernel or --store file; to use one for 127.0.0.1:18788 from now on: ghlogin config set --host http://127.0.0.1:18788 store kernel"
	const cmd = "ghlogin config set --host http://127.0.0.1:18788 store kernel"
	for _, w := range []int{40, 60} {
		tm := newTestModel(t, Options{Host: "127.0.0.1:18788", NoColor: true, NoHyperlink: true})
		tm.send(tea.WindowSizeMsg{Width: w, Height: 30})
		tm.send(doneMsg{err: errors.New(failed)})
		v := tm.plainView()
		assertFits(t, v, w, 30)
		if !strings.Contains(v, "--host http://127.0.0.1:18788") {
			t.Errorf("%d columns: --host and its value are not on one line:\n%s", w, v)
		}
		words := map[string]bool{}
		for _, f := range strings.Fields(v) {
			words[f] = true
		}
		for _, f := range strings.Fields(cmd) {
			if !words[f] {
				t.Errorf("%d columns: %q of the command is broken over two lines:\n%s", w, f, v)
			}
		}
	}
}
