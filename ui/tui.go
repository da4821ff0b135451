package ui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/cursor"
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	"github.com/charmbracelet/bubbles/textinput"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/webflow"
)

// Messages the model receives besides keys and window sizes.
type (
	eventMsg struct{ e Event } // something the task emitted, converted
	doneMsg  struct {
		res *Result
		err error
	} // the task returned
	cancelMsg struct{}            // a signal asked to stop
	tickMsg   struct{}            // once a second, for countdowns
	openedMsg struct{ err error } // the opener returned
	copiedMsg struct {
		r    copied
		auto bool // Options.CopyCode's copy, not the c key's
	} // copying the code finished
)

type phase int

const (
	phaseStart     phase = iota // nothing to show yet
	phaseDevice                 // the user code is on screen
	phaseWeb                    // waiting for the browser
	phaseDone                   // logged in
	phaseFailed                 // the task failed
	phaseCancelled              // the person cancelled
)

// flashFor is how long what the c key's copy did stays on screen; what
// Options.CopyCode's did stays until c is pressed.
const flashFor = 2 * time.Second

type keyMap struct {
	Open, Copy, QR, Cancel key.Binding
}

func newKeyMap() keyMap {
	return keyMap{
		Open:   key.NewBinding(key.WithKeys("enter", "o"), key.WithHelp("enter", "open in browser")),
		Copy:   key.NewBinding(key.WithKeys("c", "y"), key.WithHelp("c", "copy code")),
		QR:     key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "QR code")),
		Cancel: key.NewBinding(key.WithKeys("q", "esc", "ctrl+c"), key.WithHelp("q", "cancel")),
	}
}

// model is the bubbletea model of the login screen.
type model struct {
	opts       Options
	cancelTask context.CancelFunc
	r          *lipgloss.Renderer
	st         styles
	keys       keyMap
	help       help.Model
	spin       spinner.Model
	width      int
	height     int
	sized      bool // a window size arrived
	hyperlinks bool
	copier     copier

	phase         phase
	cancelling    bool
	userCancelled bool
	finished      bool

	code      *Code // the device flow's user code, once it arrived
	webURL    string
	expiresAt time.Time
	interval  time.Duration
	slowed    bool

	status      string
	statusPoll  bool // status is "waiting for approval" (slow-down note applies)
	retryReason string
	retryAt     time.Time

	showQR     bool
	qrCache    map[string][]string
	autoCopied string // the user code CopyCode's copy was started for

	note       string // outcome of opening the browser
	noteBad    bool
	flash      string
	flashBad   bool
	flashUntil time.Time

	warnings []string
	res      *Result
	err      error

	// paste is the web screen's text field for a pasted address
	// (Options.Paste); pasteNote says what became of the last one.
	paste     textinput.Model
	pasteNote string
	pasteBad  bool
	// taskDone is closed when the task's context ends: a line still being
	// handed to the flow is dropped then.
	taskDone <-chan struct{}
}

func newModel(opts Options, cancel context.CancelFunc) *model {
	r := lipgloss.NewRenderer(opts.Out)
	r.SetHasDarkBackground(true) // never query the terminal: the reply would reach the input
	if opts.NoColor {
		r.SetColorProfile(termenv.Ascii)
	}
	m := &model{
		opts:       opts,
		cancelTask: cancel,
		keys:       newKeyMap(),
		help:       help.New(),
		width:      80,
		hyperlinks: !opts.NoHyperlink,
		copier:     opts.copier(),
		showQR:     opts.Headless && !opts.NoQR || opts.QR,
		qrCache:    map[string][]string{},
	}
	if opts.Paste != nil {
		ti := textinput.New()
		ti.Prompt = "> "
		ti.Placeholder = "http://127.0.0.1:…/callback?code=…&state=…"
		// Longer than the flow accepts, so that a paste too long is
		// rejected with that reason rather than cut short here.
		ti.CharLimit = 2 * webflow.MaxPasteLen
		// ctrl+v would read this machine's clipboard (running xclip and
		// the like); a terminal's own paste arrives as typed text.
		ti.KeyMap.Paste.SetEnabled(false)
		ti.Cursor.SetMode(cursor.CursorStatic)
		ti.Focus()
		m.paste = ti
		m.sizePaste()
	}
	m.setRenderer(r)
	return m
}

// pasting reports whether the web screen's text field takes the keys.
func (m *model) pasting() bool {
	return m.opts.Paste != nil && m.phase == phaseWeb && !m.cancelling && !m.finished
}

// sizePaste fits the text field to the window.
func (m *model) sizePaste() {
	m.paste.Width = max(m.width-marginFor(m.width)-2-ansi.StringWidth(m.paste.Prompt)-1, 8)
}

// submitPaste hands the text field's line to the flow.
func (m *model) submitPaste() tea.Cmd {
	v := strings.TrimSpace(m.paste.Value())
	m.paste.Reset()
	if v == "" {
		return nil
	}
	m.pasteNote, m.pasteBad = "Checking what you pasted…", false
	lines, done := m.opts.Paste.lines, m.taskDone
	return func() tea.Msg {
		select {
		case lines <- v:
		case <-done:
		}
		return nil
	}
}

// setRenderer (re)builds every style for r's colour profile.
func (m *model) setRenderer(r *lipgloss.Renderer) {
	m.r = r
	m.st = newStyles(r)
	m.help.Styles = help.Styles{
		ShortKey:       m.st.helpKey,
		ShortDesc:      m.st.dim,
		ShortSeparator: m.st.faint,
		Ellipsis:       m.st.faint,
		FullKey:        m.st.helpKey,
		FullDesc:       m.st.dim,
		FullSeparator:  m.st.faint,
	}
	m.help.ShortSeparator = " • "
	m.spin = spinner.New(spinner.WithSpinner(spinner.Dot), spinner.WithStyle(m.st.accent))
	m.qrCache = map[string][]string{}
}

func (m *model) color() bool { return m.r.ColorProfile() != termenv.Ascii }

func (m *model) now() time.Time { return m.opts.Clock.Now() }

type styles struct {
	badge, bold, dim, faint, accent, step, ok, bad, warn, link, helpKey, box, sep, qr, codeText lipgloss.Style
}

func newStyles(r *lipgloss.Renderer) styles {
	var (
		violet = lipgloss.Color("#8957e5")
		green  = lipgloss.Color("#2da44e")
		red    = lipgloss.Color("#e5534b")
		yellow = lipgloss.Color("#d29922")
		blue   = lipgloss.Color("#4493f8")
		gray   = lipgloss.Color("#8b949e")
	)
	return styles{
		badge:    r.NewStyle().Bold(true).Foreground(lipgloss.Color("#ffffff")).Background(violet).Padding(0, 1),
		bold:     r.NewStyle().Bold(true),
		dim:      r.NewStyle().Foreground(gray),
		faint:    r.NewStyle().Foreground(gray).Faint(true),
		accent:   r.NewStyle().Foreground(violet),
		step:     r.NewStyle().Foreground(violet).Bold(true),
		ok:       r.NewStyle().Foreground(green).Bold(true),
		bad:      r.NewStyle().Foreground(red).Bold(true),
		warn:     r.NewStyle().Foreground(yellow),
		link:     r.NewStyle().Foreground(blue).Underline(true),
		helpKey:  r.NewStyle().Foreground(violet).Bold(true),
		box:      r.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(violet).Padding(0, 1).Bold(true),
		sep:      r.NewStyle().Foreground(violet).Padding(1, 1),
		qr:       r.NewStyle().Foreground(lipgloss.Color("#000000")).Background(lipgloss.Color("#ffffff")),
		codeText: r.NewStyle().Bold(true).Foreground(violet),
	}
}

func tick() tea.Cmd {
	return tea.Tick(time.Second, func(time.Time) tea.Msg { return tickMsg{} })
}

// Init starts the spinner and the countdown clock.
func (m *model) Init() tea.Cmd {
	return tea.Batch(m.spin.Tick, tick())
}

// Update handles keys, the task's events and its outcome.
func (m *model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		return m, m.resize(msg.Width, msg.Height)
	case tea.KeyMsg:
		return m, m.key(msg)
	case eventMsg:
		dispatch(m, msg.e, m.opts.observe)
		// Each new code (under --wait) is copied too: the one copied
		// before is no use any more.
		if m.opts.CopyCode && m.code != nil && m.autoCopied != m.code.UserCode && !m.finished {
			m.autoCopied = m.code.UserCode
			return m, m.copyCode(true)
		}
	case doneMsg:
		m.done(msg.res, msg.err)
		return m, tea.Quit
	case cancelMsg:
		m.cancel()
	case openedMsg:
		if msg.err != nil {
			m.note, m.noteBad = "✗ Could not open a browser: "+safe.Text(msg.err.Error()), true
		} else {
			m.note, m.noteBad = "✓ Opened your browser", false
		}
	case copiedMsg:
		m.setFlash(msg.r.short())
		if msg.auto {
			m.flashUntil = time.Time{}
		}
	case tickMsg:
		if m.finished {
			return m, nil
		}
		if m.flash != "" && !m.flashUntil.IsZero() && !m.now().Before(m.flashUntil) {
			m.flash = ""
		}
		return m, tick()
	case spinner.TickMsg:
		if m.finished {
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	}
	return m, nil
}

// resize lays the screen out for a new window size. After the first size,
// a change clears the screen: the terminal has folded or cut the lines
// drawn for the old size, so drawing over them would leave fragments and
// repeated headers.
func (m *model) resize(w, h int) tea.Cmd {
	changed := m.sized && (w != m.width || h != m.height)
	m.width, m.height, m.sized = w, h, true
	if m.opts.Paste != nil {
		m.sizePaste()
	}
	if changed {
		return tea.ClearScreen
	}
	return nil
}

func (m *model) setFlash(s string, bad bool) {
	m.flash, m.flashBad, m.flashUntil = s, bad, m.now().Add(flashFor)
}

func (m *model) cancel() {
	if m.finished || m.cancelling {
		return
	}
	m.cancelling, m.userCancelled = true, true
	if m.cancelTask != nil {
		m.cancelTask()
	}
}

// openTarget is the URL Enter opens: verification_uri_complete when the
// server gave one (the code is filled in), else verification_uri; the
// authorization URL in the web flow.
func (m *model) openTarget() string {
	switch m.phase {
	case phaseDevice:
		if m.code.VerificationURIComplete != "" {
			return m.code.VerificationURIComplete
		}
		return m.code.VerificationURI
	case phaseWeb:
		return m.webURL
	}
	return ""
}

func (m *model) key(msg tea.KeyMsg) tea.Cmd {
	if m.finished {
		return nil
	}
	if m.pasting() {
		// Every key but Esc, Ctrl-C, Ctrl-Y and Enter goes to the text
		// field: q, c and r are letters of an address or a code there (a
		// code typed by hand may start with c), so the page's address is
		// copied with Ctrl-Y, which types nothing.
		switch msg.String() {
		case "esc", "ctrl+c":
			m.cancel()
			return nil
		case "ctrl+y":
			if m.copiesURL() {
				return m.copyURL()
			}
			return nil
		case "enter":
			if strings.TrimSpace(m.paste.Value()) != "" || m.opts.Headless || m.opts.Opener == nil {
				return m.submitPaste()
			}
		default:
			var cmd tea.Cmd
			m.paste, cmd = m.paste.Update(msg)
			return cmd
		}
	}
	switch {
	case key.Matches(msg, m.keys.Cancel):
		m.cancel()
	case m.cancelling:
	case key.Matches(msg, m.keys.Open):
		target := m.openTarget()
		switch {
		case target == "":
		case m.opts.Headless:
			m.note, m.noteBad = "✗ Not opening a browser: "+m.headlessReason(), true
		case m.opts.Opener == nil && m.opts.NoBrowser:
			m.note, m.noteBad = "✗ Not opening a browser (--no-browser); open the link yourself", true
		case m.opts.Opener == nil:
			m.note, m.noteBad = "✗ ghlogin cannot open a browser here; open the link yourself", true
		case !linkable(target):
			m.note, m.noteBad = "✗ The server sent a URL that cannot be opened safely", true
		default:
			op := m.opts.Opener
			return func() tea.Msg { return openedMsg{err: op.Open(target)} }
		}
	case key.Matches(msg, m.keys.Copy) && m.phase == phaseDevice:
		return m.copyCode(false)
	case key.Matches(msg, m.keys.Copy) && m.phase == phaseWeb && m.webURL != "":
		return m.copyURL()
	case key.Matches(msg, m.keys.QR) && m.phase == phaseDevice:
		m.showQR = !m.showQR
	}
	return nil
}

// copyCode copies the user code, off the program's goroutine (a clipboard
// tool may take a moment), and reports what was done.
func (m *model) copyCode(auto bool) tea.Cmd {
	code, c := m.code.UserCode, m.copier
	return func() tea.Msg { return copiedMsg{c.copy(code), auto} }
}

// copyURL copies the web flow's authorization URL as c copies the user
// code (OSC 52, and this machine's clipboard when there is one), for a
// browser on another device: the URL is too long to select on screen
// reliably.
func (m *model) copyURL() tea.Cmd {
	u, c := m.webURL, m.copier
	return func() tea.Msg { return copiedMsg{c.copy(u), false} }
}

// copiesURL reports whether Ctrl-Y copies the URL on the paste screen:
// once the server's authorization URL is known.
func (m *model) copiesURL() bool {
	return m.pasting() && m.webURL != ""
}

func (m *model) headlessReason() string {
	if m.opts.HeadlessReason != "" {
		return safe.Text(m.opts.HeadlessReason)
	}
	return "there is no display here"
}

func (m *model) onCode(c Code) {
	if m.code != nil && m.code.UserCode != c.UserCode {
		// A new code under --wait: what copying the old one did no
		// longer holds.
		m.flash = ""
	}
	m.code, m.phase = &c, phaseDevice
	m.expiresAt, m.interval = c.ExpiresAt, c.Interval
	m.status, m.statusPoll = "Waiting for you to approve…", true
}

func (m *model) onPending(Pending) {
	m.retryReason = ""
	m.status, m.statusPoll = "Waiting for you to approve…", true
}

func (m *model) onSlowDown(e SlowDown) {
	m.retryReason = ""
	m.slowed, m.interval = true, e.Interval
	m.status, m.statusPoll = "Waiting for you to approve…", true
}

func (m *model) onRetry(e Retry) {
	m.retryReason = retryReason(e.Reason)
	m.retryAt = m.now().Add(e.RetryIn)
}

func (m *model) onAuthorize(e Authorize) {
	m.phase, m.webURL, m.expiresAt = phaseWeb, e.URL, e.ExpiresAt
	m.status, m.statusPoll = "Waiting for the browser…", false
}

func (m *model) onBrowser(e Browser) {
	if e.Err != nil {
		m.note, m.noteBad = "✗ Could not open a browser: "+safe.Text(e.Err.Error()), true
	} else {
		m.note, m.noteBad = "✓ Opened your browser", false
	}
}

func (m *model) onPasteAccepted(PasteAccepted) {
	m.pasteNote, m.pasteBad = "", false
	m.status = "Accepted; finishing the login…"
	m.expiresAt = time.Time{}
}

func (m *model) onPasteRejected(e PasteRejected) {
	m.pasteNote, m.pasteBad = safe.Text(rejectedText(e.Err)), true
}

func (m *model) onCallback(Callback) {
	m.status = "The browser came back; finishing the login…"
	m.expiresAt = time.Time{}
}

func (m *model) onApproved(Approved) {
	m.retryReason = ""
	m.status, m.statusPoll = "Approved! Finishing up…", false
	m.expiresAt = time.Time{}
}

func (m *model) onStopped(e Stopped) {
	m.retryReason = ""
	if e.Err != nil {
		m.status, m.statusPoll = "Stopped: "+safe.Text(hint.Explain(e.Err)), false
	}
}

func (m *model) onStatus(e Status) {
	m.status, m.statusPoll = safe.Text(string(e)), false
}

func (m *model) onWarning(e Warning) {
	w := safe.Text(string(e))
	for _, old := range m.warnings {
		if old == w {
			return
		}
	}
	m.warnings = append(m.warnings, w)
}

func (m *model) done(res *Result, err error) {
	m.finished, m.res, m.err = true, res, err
	switch {
	case err == nil:
		m.phase = phaseDone
	case errors.Is(err, context.Canceled) || m.userCancelled:
		m.phase = phaseCancelled
	default:
		m.phase = phaseFailed
	}
}

// quitFilter turns a quit request the model did not make (SIGTERM, SIGINT
// with no terminal) into a cancellation, so the task is stopped and awaited
// and the terminal restored before Run returns.
func quitFilter(tm tea.Model, msg tea.Msg) tea.Msg {
	switch msg.(type) {
	case tea.QuitMsg, tea.InterruptMsg:
		if m, ok := tm.(*model); ok && !m.finished {
			return cancelMsg{}
		}
	}
	return msg
}

// startTask runs task in a goroutine, sending what it emits and its outcome
// to the program; the outcome is also put on the returned channel.
func startTask(ctx context.Context, host string, task Task, send func(tea.Msg)) <-chan doneMsg {
	done := make(chan doneMsg, 1)
	go func() {
		res, err := task(ctx, emitter(func(e Event) { send(eventMsg{e}) }))
		res, err = settle(res, err, host)
		done <- doneMsg{res, err}
		send(doneMsg{res, err})
	}()
	return done
}

func runTUI(ctx context.Context, opts Options, task Task) (*Result, error) {
	tctx, cancel := context.WithCancel(ctx)
	defer cancel()
	m := newModel(opts, cancel)
	m.taskDone = tctx.Done()
	if opts.Paste != nil {
		opts.Paste.fromTUI()
	}
	popts := []tea.ProgramOption{tea.WithOutput(opts.Out), tea.WithFilter(quitFilter)}
	if opts.In != nil {
		popts = append(popts, tea.WithInput(opts.In))
	}
	p := tea.NewProgram(m, popts...)
	done := startTask(tctx, opts.Host, task, p.Send)
	_, perr := p.Run()
	if perr != nil {
		cancel()
	}
	out := <-done
	switch {
	case perr != nil && (out.err == nil || !errors.Is(out.err, context.Canceled)):
		// The task finished on its own; its outcome stands.
		return out.res, out.err
	case perr != nil:
		return nil, fmt.Errorf("the terminal UI failed: %w", perr)
	case m.userCancelled && out.err != nil && !errors.Is(out.err, context.Canceled):
		return nil, context.Canceled
	}
	return out.res, out.err
}
