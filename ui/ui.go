package ui

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/ghlogin/ghlogin/internal/clock"
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
	// Headless means no browser can be shown here (SSH, no display): Enter
	// opens nothing and the QR code is shown by default.
	Headless bool
	// HeadlessReason says why, e.g. "this is an SSH session".
	HeadlessReason string
	// Copy puts text on the clipboard; nil means OSC 52 written to Out (works
	// over SSH) plus the local clipboard when there is one.
	Copy func(text string) error
	// Clock tells the time for countdowns and expiry; nil means clock.Real.
	Clock clock.Clock
	// NoColor turns colour and other styling off (NO_COLOR, or not a colour
	// terminal).
	NoColor bool
	// NoHyperlink turns OSC 8 terminal hyperlinks off. They are also off when
	// TERM is "dumb" or "linux" (the Linux console cannot show them).
	NoHyperlink bool

	// observe, when set (by this package's tests), sees every event just
	// before the mode's renderer does.
	observe func(Event)
}

// Result is what a successful login reports. It never holds a token.
type Result struct {
	Host  string
	Login string
	// Store is where the token is kept: "keyring" or "file".
	Store  string
	Scopes []string
	// StorePath optionally names the file of the file store; it is shown to
	// people ("token kept in PATH") and never put in JSON events.
	StorePath string
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
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Flow == "" {
		o.Flow = FlowDevice
	}
	if o.Copy == nil {
		o.Copy = defaultCopy(o.Out)
	}
	switch os.Getenv("TERM") {
	case "dumb", "linux":
		o.NoHyperlink = true
	}
	return o
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

// Confirm asks a yes/no question on a terminal and reads one line of answer;
// only "y" or "yes" (any case) is yes. End of input means no. It reads byte
// by byte so nothing after the answer's line is consumed.
func Confirm(in io.Reader, out io.Writer, question string) (bool, error) {
	if in == nil {
		return false, errors.New("cannot ask for confirmation: no input")
	}
	if out != nil {
		if _, err := fmt.Fprintf(out, "%s [y/N] ", safe.Text(question)); err != nil {
			return false, err
		}
	}
	var line []byte
	buf := make([]byte, 1)
	for len(line) < 1024 {
		n, err := in.Read(buf)
		if n == 1 {
			if buf[0] == '\n' {
				break
			}
			line = append(line, buf[0])
			continue
		}
		if errors.Is(err, io.EOF) {
			if out != nil {
				fmt.Fprintln(out)
			}
			break
		}
		if err != nil {
			return false, fmt.Errorf("reading the answer: %w", err)
		}
	}
	switch strings.ToLower(strings.TrimSpace(string(line))) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}
