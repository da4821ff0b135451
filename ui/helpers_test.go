package ui

import (
	"bytes"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/clock"
)

// newFakeNow is the injected clock for countdowns, at a fixed start.
func newFakeNow() *clock.Fake {
	return clock.NewFake(time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
}

// syncBuffer is a bytes.Buffer safe for a writer goroutine and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// recorder records what the injected Opener and Copy were given.
type recorder struct {
	mu     sync.Mutex
	opened []string
	copied []string
	err    error
}

func (r *recorder) Open(u string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.opened = append(r.opened, u)
	return r.err
}

func (r *recorder) Copy(s string) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.copied = append(r.copied, s)
	return r.err
}

const canaryDeviceCode = "DEVICECODE-CANARY-5f2a9c"

// testCode is a device code reply as GitHub sends it.
func testCode(now time.Time, complete bool) *deviceflow.Code {
	c := &deviceflow.Code{
		DeviceCode:      canaryDeviceCode,
		UserCode:        "WDJB-MJHT",
		VerificationURI: "https://github.com/login/device",
		ExpiresAt:       now.Add(15 * time.Minute),
		Interval:        5 * time.Second,
	}
	if complete {
		c.VerificationURIComplete = "https://github.com/login/device?user_code=WDJB-MJHT"
	}
	return c
}

type testModel struct {
	*model
	t         *testing.T
	clock     *clock.Fake
	rec       *recorder
	cancelled bool
}

// newTestModel builds the TUI model with an injected clock, opener and
// clipboard, sized 100×40, colour off unless opts says otherwise.
func newTestModel(t *testing.T, opts Options) *testModel {
	t.Helper()
	tm := &testModel{t: t, clock: newFakeNow(), rec: &recorder{}}
	if opts.Host == "" {
		opts.Host = "github.com"
	}
	if opts.Out == nil {
		opts.Out = &bytes.Buffer{}
	}
	opts.Clock = tm.clock
	if opts.Opener == nil {
		opts.Opener = tm.rec
	}
	opts.Clipboard = tm.rec.Copy
	opts = opts.withDefaults()
	tm.model = newModel(opts, func() { tm.cancelled = true })
	tm.send(tea.WindowSizeMsg{Width: 100, Height: 40})
	return tm
}

func (tm *testModel) send(msg tea.Msg) tea.Cmd {
	tm.t.Helper()
	_, cmd := tm.Update(msg)
	return cmd
}

// emit converts v as Run does and hands the event, if any, to the model.
func (tm *testModel) emit(v any) {
	emitter(func(e Event) { tm.send(eventMsg{e}) })(v)
}

// press sends a key and runs the command it returns (opening, copying),
// feeding the result back, as the program would.
func (tm *testModel) press(k string) tea.Cmd {
	tm.t.Helper()
	var msg tea.KeyMsg
	switch k {
	case "enter":
		msg = tea.KeyMsg{Type: tea.KeyEnter}
	case "esc":
		msg = tea.KeyMsg{Type: tea.KeyEsc}
	case "ctrl+c":
		msg = tea.KeyMsg{Type: tea.KeyCtrlC}
	case "ctrl+y":
		msg = tea.KeyMsg{Type: tea.KeyCtrlY}
	default:
		msg = tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune(k)}
	}
	cmd := tm.send(msg)
	if cmd != nil {
		if out := cmd(); out != nil {
			return tm.send(out)
		}
	}
	return nil
}

// plainView is the view without escape sequences.
func (tm *testModel) plainView() string { return ansi.Strip(tm.View()) }

func (tm *testModel) mustShow(parts ...string) {
	tm.t.Helper()
	v := tm.plainView()
	flat := wrapped.ReplaceAllString(v, " ") // text wrapped over lines reads as one
	for _, p := range parts {
		if !strings.Contains(v, p) && !strings.Contains(flat, p) {
			tm.t.Errorf("view lacks %q:\n%s", p, v)
		}
	}
}

func (tm *testModel) mustNotShow(parts ...string) {
	tm.t.Helper()
	v := tm.plainView()
	for _, p := range parts {
		if strings.Contains(v, p) {
			tm.t.Errorf("view shows %q but should not:\n%s", p, v)
		}
	}
}

var wrapped = regexp.MustCompile(`[ \t]*\n[ \t]*`)

var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// isQuit reports whether cmd is tea.Quit.
func isQuit(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	_, ok := cmd().(tea.QuitMsg)
	return ok
}
