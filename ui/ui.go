package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// Mode selects how Run shows progress.
type Mode int

const (
	// TUI is the interactive terminal UI.
	TUI Mode = iota
	// Plain writes human-readable lines to Options.Err (not a terminal).
	Plain
	// JSON writes the JSON events (see the package doc), one object a
	// line, to Options.Out.
	JSON
)

// String names the mode.
func (m Mode) String() string {
	switch m {
	case TUI:
		return "tui"
	case Plain:
		return "plain"
	case JSON:
		return "json"
	}
	return fmt.Sprintf("Mode(%d)", int(m))
}

// Flow names accepted in Options.Flow.
const (
	FlowDevice = "device"
	FlowWeb    = "web"
)

// Options configure Run. Zero fields take defaults.
type Options struct {
	Mode Mode
	// Host is shown in the header and messages.
	Host string
	// Flow is "device" or "web"; it picks the TUI's first screen.
	Flow string
	// Intro is text shown before the login, such as the demo's
	// explanation: under the TUI's header, word-wrapped to the window and
	// given up first when the window is short (so it survives a resize,
	// which clears the screen); in plain and JSON modes, lines on Err,
	// word-wrapped when Err is a terminal.
	Intro string
	// In is the TUI's input (a terminal, or /dev/tty for the git helper);
	// nil means stdin, or the controlling terminal when stdin is not one.
	In io.Reader
	// Out receives the JSON events or the TUI; nil means os.Stdout.
	Out io.Writer
	// Err receives plain-mode lines, and Status/Warning in JSON mode; nil
	// means os.Stderr.
	Err io.Writer
	// Opener opens the URL when Enter is pressed; nil means it cannot.
	Opener opener.Opener
	// NoBrowser says the person asked that no browser be opened (login
	// --no-browser), which is why Opener is nil: the screen says so rather
	// than that no browser can be started.
	NoBrowser bool
	// Headless means no browser can be shown here (SSH, no display): Enter
	// opens nothing and the QR code is shown by default.
	Headless bool
	// HeadlessReason says why, e.g. "this is an SSH session".
	HeadlessReason string
	// QR shows a QR code of the URL to open (login --qr): the device
	// flow's verification URL (the complete one when the server sent it)
	// or the web flow's authorization URL. In plain and JSON modes it is
	// printed on Err under the URL, in half-block characters, for each new
	// code or URL (each new code under --wait gets its own, though the URL
	// is the same), which a serial
	// console or journalctl -f shows too; black on white when Err is a
	// colour terminal, otherwise light modules drawn on the dark
	// background such consoles have. In the TUI it is shown from the start,
	// as when Headless, and on the web screen too (only when asked: an
	// authorization URL makes a large one), below the link when it fits.
	QR bool
	// NoQR starts the TUI with the QR code hidden even when Headless (r
	// still shows it): for a URL that another device cannot open, such as
	// the demo's emulator on this machine's loopback address.
	NoQR bool
	// Paste, when set, asks for the address the browser ended on (or just
	// its code) during the web flow, for a browser on another device (SSH,
	// no display, --no-browser): the task hands Paste.Read to the flow as
	// webflow.Config.Paste. In the TUI the web screen shows the question
	// and a text field (Enter sends it, Esc or Ctrl-C cancels); in plain
	// mode the question is a line on Err and the answer a line read from In
	// (stdin); in JSON mode the answer is one line on In, the question and
	// any rejection go to Err.
	Paste *PasteInput
	// Clipboard puts text on this machine's clipboard; nil means the
	// platform's tool (pbcopy, clip.exe, wl-copy, xclip, xsel,
	// termux-clipboard-set), looked up when the code is first copied. When
	// there is none it returns an error wrapping ErrNoClipboard.
	Clipboard func(text string) error
	// Terminal receives the OSC 52 sequence that asks the terminal to put
	// the code on its clipboard (which reaches the person's clipboard over
	// SSH, where the terminal allows it). Nil means Out in TUI mode, and in
	// the other modes Err when Err is a terminal. No sequence is sent when
	// TERM is "dumb".
	Terminal io.Writer
	// CopyCode copies the user code as soon as it arrives (login
	// --clipboard), as the c key does, and says what was done: "copied"
	// only when this machine's clipboard took it, "sent to your terminal's
	// clipboard" when only the OSC 52 sequence went out (a terminal never
	// confirms it).
	CopyCode bool
	// Getenv reads the environment (TERM, TMUX, STY, DISPLAY,
	// WAYLAND_DISPLAY); nil means os.Getenv.
	Getenv func(string) string
	// Clock tells the time for countdowns and expiry; nil means clock.Real.
	Clock clock.Clock
	// NoColor turns colour and other styling off (NO_COLOR, or not a colour
	// terminal).
	NoColor bool
	// NoHyperlink turns OSC 8 terminal hyperlinks off. They are also off when
	// TERM is "dumb" or "linux" (the Linux console cannot show them).
	NoHyperlink bool

	// Hints says which flags the command at hand has, for the next step
	// the error screen adds to a server's OAuth error (hint.OAuthIn); the
	// zero value names whole command lines only.
	Hints hint.Context

	// observe, when set (by this package's tests), sees every event just
	// before the mode's renderer does.
	observe func(Event)
}

// Result is what a successful login reports. It never holds a token.
type Result struct {
	Host  string
	Login string
	// Store is where the token is kept: "keyring", "kernel" or "file".
	Store  string
	Scopes []string
	// StorePath optionally names the file of the file store; it is shown to
	// people ("token kept in PATH") and never put in JSON events.
	StorePath string
	// Kept, when set, replaces "token kept in …" in the success message
	// with a sentence saying where the token is kept and for how long it
	// works there (after a login on a machine without a desktop keyring:
	// the kernel keyring until a restart, a plaintext file until revoked,
	// an expiring token refreshed until a date). Never in JSON events.
	Kept string
}

// Task runs a login. It emits its progress: deviceflow.Event and
// webflow.Event values (or pointers to them), and Events such as Status and
// Warning; Run converts each to an Event and ignores any other value. It
// must return when ctx is cancelled.
type Task func(ctx context.Context, emit func(any)) (*Result, error)

// ErrNoResult is returned when a task ends with neither a result nor an error.
var ErrNoResult = errors.New("the login ended without a result; run login again")

// Run runs task, rendering what it emits in the chosen mode, and returns its
// result. Run itself reports the outcome in every mode (the success or error
// screen, "Logged in …"/"error: …" lines, or the success/error JSON event), so
// callers need only set the exit status. In TUI mode q, Esc and Ctrl-C cancel
// the task's context and Run returns an error matching context.Canceled. Run
// returns only after the task has returned.
func Run(ctx context.Context, opts Options, task Task) (*Result, error) {
	if task == nil {
		return nil, errors.New("ui.Run: no task given")
	}
	if ctx == nil {
		ctx = context.Background()
	}
	opts = opts.withDefaults()
	switch opts.Mode {
	case Plain:
		return runPlain(ctx, opts, task)
	case JSON:
		return runJSON(ctx, opts, task)
	case TUI:
		return runTUI(ctx, opts, task)
	}
	return nil, fmt.Errorf("ui.Run: unknown mode %d", int(opts.Mode))
}

func (o Options) withDefaults() Options {
	if o.Out == nil {
		o.Out = os.Stdout
	}
	if o.Err == nil {
		o.Err = os.Stderr
	}
	o.Clock = clock.Or(o.Clock)
	if o.Flow == "" {
		o.Flow = FlowDevice
	}
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Clipboard == nil {
		o.Clipboard = localClipboard(o.Getenv)
	}
	switch o.Getenv("TERM") {
	case "dumb", "linux":
		o.NoHyperlink = true
	}
	return o
}

// copier is how the code is copied in o's mode: OSC 52 to Terminal (or
// its default), and the local clipboard.
func (o Options) copier() copier {
	c := copier{local: o.Clipboard, terminal: o.Terminal, getenv: o.Getenv}
	if c.terminal == nil {
		switch {
		case o.Mode == TUI:
			c.terminal = o.Out
		case isTerminal(o.Err):
			c.terminal = o.Err
		}
	}
	if o.Getenv("TERM") == "dumb" {
		c.terminal = nil // it would print the sequence
	}
	return c
}

// settle normalizes what a task returned.
func settle(res *Result, err error, host string) (*Result, error) {
	if err != nil {
		return nil, err
	}
	if res == nil {
		return nil, ErrNoResult
	}
	if res.Host == "" {
		r := *res
		r.Host = host
		res = &r
	}
	return res, nil
}

// storeText says where the token is kept, for people.
func storeText(r *Result) string {
	switch r.Store {
	case "":
		return ""
	case "keyring":
		return "the keyring"
	case "kernel":
		return "the kernel keyring"
	case "file":
		if r.StorePath != "" {
			return safe.Text(r.StorePath)
		}
		return "the file store"
	}
	return safe.Text(r.Store)
}

// loggedIn is the one-line success message.
func loggedIn(r *Result) string {
	s := "Logged in to " + safe.Text(r.Host)
	if r.Login != "" {
		s += " as " + safe.Text(r.Login)
	}
	return s
}

// sanitizeLines applies safe.Text to each line of s, keeping the line
// breaks the caller wrote.
func sanitizeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = safe.Text(l)
	}
	return strings.Join(lines, "\n")
}
