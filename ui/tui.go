package ui

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/bubbles/spinner"
	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"
	"github.com/muesli/termenv"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
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
	copiedMsg struct{ err error } // Copy returned
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

// flashFor is how long "Copied!" stays on screen.
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
	hyperlinks bool

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

	showQR  bool
	qrCache map[string][]string

	note       string // outcome of opening the browser
	noteBad    bool
	flash      string
	flashBad   bool
	flashUntil time.Time

	warnings []string
	res      *Result
	err      error
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
		showQR:     opts.Headless,
		qrCache:    map[string][]string{},
	}
	m.setRenderer(r)
	return m
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
		m.width, m.height = msg.Width, msg.Height
		m.help.Width = max(msg.Width-2, 0)
	case tea.KeyMsg:
		return m, m.key(msg)
	case eventMsg:
		dispatch(m, msg.e, m.opts.observe)
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
		if msg.err != nil {
			m.setFlash("Could not copy: "+safe.Text(msg.err.Error()), true)
		} else {
			m.setFlash("✓ Copied!", false)
		}
	case tickMsg:
		if m.finished {
			return m, nil
		}
		if m.flash != "" && !m.now().Before(m.flashUntil) {
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
		case m.opts.Opener == nil:
			m.note, m.noteBad = "✗ No browser can be started from here; open the link yourself", true
		case !linkable(target):
			m.note, m.noteBad = "✗ The server sent a URL that cannot be opened safely", true
		default:
			op := m.opts.Opener
			return func() tea.Msg { return openedMsg{err: op.Open(target)} }
		}
	case key.Matches(msg, m.keys.Copy) && m.phase == phaseDevice:
		code, cp := m.code.UserCode, m.opts.Copy
		if cp == nil {
			return nil
		}
		return func() tea.Msg { return copiedMsg{err: cp(code)} }
	case key.Matches(msg, m.keys.QR) && m.phase == phaseDevice:
		m.showQR = !m.showQR
	}
	return nil
}

func (m *model) headlessReason() string {
	if m.opts.HeadlessReason != "" {
		return safe.Text(m.opts.HeadlessReason)
	}
	return "there is no display here"
}

func (m *model) onCode(c Code) {
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
	m.retryReason = safe.Text(e.Reason)
	if m.retryReason == "" {
		m.retryReason = "the server did not answer"
	}
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

// View renders the screen. Every line starts with a two-column margin.
func (m *model) View() string {
	w := m.width - 2
	if w < 20 {
		w = 20
	}
	body := m.body(w, m.showQR, "")
	if m.showQR && m.phase == phaseDevice && m.height > 0 && len(body)+2 > m.height {
		// The QR code does not fit: show the rest, and say how to get it.
		body = m.body(w, false, "Make the terminal taller to see the QR code.")
	}
	for i, l := range body {
		if l != "" {
			body[i] = "  " + l
		}
	}
	// The last line stays empty: bubbletea erases it when the program ends.
	return "\n" + strings.Join(body, "\n") + "\n"
}

func (m *model) body(w int, withQR bool, qrNote string) []string {
	var L []string
	L = append(L, m.header(w), "")
	for _, wn := range m.warnings {
		for i, l := range wrap(wn, w-2) {
			prefix := "  "
			if i == 0 {
				prefix = "⚠ "
			}
			L = append(L, m.st.warn.Render(prefix+l))
		}
	}
	if len(m.warnings) > 0 {
		L = append(L, "")
	}
	switch m.phase {
	case phaseStart:
		L = append(L, m.statusLines(w)...)
		L = append(L, "", m.helpLine())
	case phaseDevice:
		L = append(L, m.deviceView(w, withQR, qrNote)...)
		L = append(L, "", m.helpLine())
	case phaseWeb:
		L = append(L, m.webView(w)...)
		L = append(L, "", m.helpLine())
	case phaseDone:
		L = append(L, m.successView(w)...)
	case phaseFailed:
		L = append(L, m.errorView(w)...)
	case phaseCancelled:
		L = append(L, m.st.bad.Render("✗ Login cancelled."))
	}
	return L
}

func (m *model) header(w int) string {
	host := safe.Text(m.opts.Host)
	if host == "" {
		host = "GitHub"
	}
	how := "with a one-time code"
	if m.opts.Flow == FlowWeb {
		how = "in your browser"
	}
	h := m.st.badge.Render("ghlogin") + "  " + "Logging in to " + m.st.bold.Render(host)
	if ansi.StringWidth(h)+len(how)+3 <= w {
		h += m.st.dim.Render(" · " + how)
	}
	return ansi.Truncate(h, w, "…")
}

func (m *model) helpLine() string {
	k := m.keys
	k.Open.SetEnabled((m.phase == phaseDevice || m.phase == phaseWeb) && !m.opts.Headless && m.opts.Opener != nil && !m.cancelling)
	k.Copy.SetEnabled(m.phase == phaseDevice && m.opts.Copy != nil && !m.cancelling)
	k.QR.SetEnabled(m.phase == phaseDevice && !m.cancelling)
	if m.showQR {
		k.QR.SetHelp("r", "hide QR code")
	} else {
		k.QR.SetHelp("r", "show QR code")
	}
	if m.phase == phaseWeb && m.note != "" && !m.noteBad {
		k.Open.SetHelp("enter", "open again")
	}
	return m.help.ShortHelpView([]key.Binding{k.Open, k.Copy, k.QR, k.Cancel})
}

// statusLines is the spinner, the live status and the countdown.
func (m *model) statusLines(w int) []string {
	text, style := m.statusText()
	line := m.spin.View() + style.Render(ansi.Truncate(text, w-2, "…"))
	cd := m.countdownText()
	if cd == "" {
		return []string{line}
	}
	if ansi.StringWidth(line)+ansi.StringWidth(cd)+5 <= w {
		return []string{line + m.st.faint.Render("  ·  ") + cd}
	}
	return []string{line, "  " + cd}
}

func (m *model) statusText() (string, lipgloss.Style) {
	switch {
	case m.cancelling:
		return "Cancelling…", m.st.warn
	case m.retryReason != "":
		left := m.retryAt.Sub(m.now())
		when := "retrying now"
		if left > 0 {
			when = fmt.Sprintf("retrying in %d s", seconds(left))
		}
		return "Network error, " + when + " (" + m.retryReason + ")", m.st.warn
	case m.status == "":
		return "Contacting " + safe.Text(m.opts.Host) + "…", m.st.dim
	case m.statusPoll && m.slowed && m.interval > 0:
		return fmt.Sprintf("%s (slowed down to %d s)", m.status, seconds(m.interval)), lipgloss.Style{}
	}
	return m.status, lipgloss.Style{}
}

func (m *model) countdownText() string {
	if m.expiresAt.IsZero() || m.cancelling {
		return ""
	}
	left := m.expiresAt.Sub(m.now())
	what := "code expires in "
	if m.phase == phaseWeb {
		what = "times out in "
	}
	switch {
	case left <= 0 && m.phase == phaseWeb:
		return m.st.bad.Render("timed out")
	case left <= 0:
		return m.st.bad.Render("code expired")
	case left <= time.Minute:
		return m.st.warn.Render(what + countdown(left))
	}
	return m.st.dim.Render(what) + m.st.bold.Render(countdown(left))
}

// link renders a URL, wrapped to w columns, as a terminal hyperlink to
// target where supported.
func (m *model) link(text, target string, w int) []string {
	var out []string
	id := ""
	if m.hyperlinks && linkable(target) {
		h := fnv.New32a()
		h.Write([]byte(target))
		id = fmt.Sprintf("ghlogin-%x", h.Sum32())
	}
	for _, piece := range chop(safe.Text(text), w) {
		s := m.st.link.Render(piece)
		if id != "" {
			s = hyperlink(s, target, id)
		}
		out = append(out, s)
	}
	return out
}

// bigCode renders the user code with each character in a box, or spaced
// out when the terminal is too narrow.
func (m *model) bigCode(w int) []string {
	code := safe.Text(m.code.UserCode)
	runes := []rune(code)
	if len(runes) > 0 && len(runes) <= 12 {
		blocks := make([]string, 0, 2*len(runes))
		for i, r := range runes {
			if i > 0 {
				blocks = append(blocks, " ")
			}
			if r == '-' || r == ' ' {
				blocks = append(blocks, m.st.sep.Render("─"))
				continue
			}
			blocks = append(blocks, m.st.box.Render(string(r)))
		}
		big := lipgloss.JoinHorizontal(lipgloss.Top, blocks...)
		if lipgloss.Width(big) <= w {
			return strings.Split(big, "\n")
		}
	}
	spaced := strings.Join(strings.Split(code, ""), " ")
	if ansi.StringWidth(spaced) > w {
		spaced = code
	}
	return []string{m.st.codeText.Render(spaced)}
}

func (m *model) qr(content string) []string {
	if l, ok := m.qrCache[content]; ok {
		return l
	}
	dark := m.color()
	lines, err := qrLines(content, dark)
	if err != nil {
		lines = nil
	}
	if dark {
		for i, l := range lines {
			lines[i] = m.st.qr.Render(l)
		}
	}
	m.qrCache[content] = lines
	return lines
}

// deviceSteps is the left column of the device screen: the code, the link
// and what Enter does, fitted to w columns.
func (m *model) deviceSteps(w int) []string {
	c := m.code
	var L []string
	title := m.st.step.Render("1.") + " " + m.st.bold.Render("Copy your one-time code")
	if m.flash != "" {
		st := m.st.ok
		if m.flashBad {
			st = m.st.warn
		}
		title += "   " + st.Render(m.flash)
	}
	L = append(L, ansi.Truncate(title, w, "…"), "")
	for _, l := range m.bigCode(w - 3) {
		L = append(L, "   "+l)
	}
	L = append(L, "")
	L = append(L, ansi.Truncate(m.st.step.Render("2.")+" "+m.st.bold.Render("Open this page and enter the code"), w, "…"))
	for _, l := range m.link(c.VerificationURI, m.openTarget(), w-3) {
		L = append(L, "   "+l)
	}
	L = append(L, "")
	return append(L, m.openHint(w, m.openTarget())...)
}

// deviceView lays out the device screen: with the QR code beside the steps
// when there is room, else below them; note replaces a QR code that does not
// fit.
func (m *model) deviceView(w int, withQR bool, note string) []string {
	status := append([]string{""}, m.statusLines(w)...)
	target := m.openTarget()
	var qr []string
	if withQR && linkable(target) {
		qr = m.qr(target)
	}
	if len(qr) == 0 {
		L := m.deviceSteps(w)
		if note != "" {
			L = append(L, "", m.st.dim.Render(note))
		}
		return append(L, status...)
	}
	qw := lipgloss.Width(qr[0])
	caption := "Scan to open on your phone"
	if qw > len(caption) {
		caption = strings.Repeat(" ", (qw-len(caption)+1)/2) + caption
	}
	qrBlock := append(append([]string{}, qr...), m.st.dim.Render(caption))
	if lw := min(w-4-qw, 62); lw >= 40 {
		left := append(m.deviceSteps(lw), "")
		for i, l := range left {
			if pad := lw - ansi.StringWidth(l); pad > 0 {
				left[i] = l + strings.Repeat(" ", pad) // the QR code stays put
			}
		}
		left = append(left, m.statusLines(lw)...)
		joined := lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(left, "\n"), "    ", strings.Join(qrBlock, "\n"))
		out := strings.Split(joined, "\n")
		for i := range out {
			out[i] = strings.TrimRight(out[i], " ")
		}
		return out
	}
	L := m.deviceSteps(w)
	if qw > w {
		L = append(L, "", m.st.dim.Render("The terminal is too narrow for the QR code."))
		return append(L, status...)
	}
	L = append(append(L, ""), qrBlock...)
	return append(L, status...)
}

func (m *model) openHint(w int, target string) []string {
	var L []string
	switch {
	case m.opts.Headless:
		L = append(L, wrapStyled(m.st.warn, "No browser will be opened here: "+m.headlessReason()+".", w)...)
		more := "Open the link on another device, or scan the QR code."
		if !m.showQR {
			more = "Open the link on another device, or press r for a QR code."
		}
		L = append(L, wrapStyled(m.st.dim, more, w)...)
	case m.opts.Opener == nil:
		L = append(L, wrapStyled(m.st.dim, "Open the link in a browser (no browser can be started from here).", w)...)
	default:
		short := shortURL(safe.Text(target))
		if m.phase == phaseDevice && m.code.VerificationURIComplete != "" {
			short = shortURL(safe.Text(m.code.VerificationURI))
		}
		tails := []string{" to open " + short + " in your browser.", " to open it in your browser.", " to open it."}
		if m.phase == phaseWeb && m.note != "" && !m.noteBad {
			tails = []string{" to open it again."}
		} else if m.phase == phaseWeb {
			tails = tails[1:]
		}
		enter := m.st.helpKey.Render("Enter")
		line := ""
		for _, t := range tails {
			line = "Press " + enter + t
			if ansi.StringWidth(line) <= w {
				break
			}
		}
		L = append(L, line)
	}
	if m.note != "" {
		st := m.st.ok
		if m.noteBad {
			st = m.st.bad
		}
		L = append(L, wrapStyled(st, m.note, w)...)
	}
	return L
}

func wrapStyled(st lipgloss.Style, s string, w int) []string {
	lines := wrap(s, w)
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}

func (m *model) webView(w int) []string {
	var L []string
	L = append(L, m.st.step.Render("→")+" "+m.st.bold.Render("Authorize ghlogin in your browser on this page"))
	for _, l := range m.link(m.webURL, m.webURL, w-2) {
		L = append(L, "  "+l)
	}
	L = append(L, "")
	if m.opts.Headless {
		L = append(L, wrapStyled(m.st.warn, "No browser will be opened here: "+m.headlessReason()+".", w)...)
		more := "Open the link in a browser that can reach 127.0.0.1 on this machine."
		if p := loopbackPort(m.webURL); p != "" {
			more += " Over SSH, forward the port first: ssh -L " + p + ":127.0.0.1:" + p + " …"
		}
		more += " The device flow (ghlogin login without --web) works better here."
		L = append(L, wrapStyled(m.st.dim, more, w)...)
		if m.note != "" {
			L = append(L, wrapStyled(m.st.bad, m.note, w)...)
		}
	} else {
		L = append(L, m.openHint(w, m.webURL)...)
	}
	L = append(L, "")
	return append(L, m.statusLines(w)...)
}

func (m *model) successView(w int) []string {
	r := m.res
	L := []string{m.st.ok.Render("✓ ") + m.st.bold.Render(loggedIn(r))}
	var details []string
	if where := storeText(r); where != "" {
		details = append(details, "Token kept in "+where)
	}
	if len(r.Scopes) > 0 {
		sc := make([]string, len(r.Scopes))
		for i, s := range r.Scopes {
			sc[i] = safe.Text(s)
		}
		details = append(details, "scopes: "+strings.Join(sc, ", "))
	}
	if len(details) > 0 {
		for _, l := range wrap(strings.Join(details, " · "), w-2) {
			L = append(L, "  "+m.st.dim.Render(l))
		}
	}
	return L
}

func (m *model) errorView(w int) []string {
	title := "✗ Could not log in"
	if h := safe.Text(m.opts.Host); h != "" {
		title += " to " + h
	}
	L := []string{m.st.bad.Render(title)}
	msg, hint := errorText(m.err)
	for _, l := range wrap(msg, w-2) {
		L = append(L, "  "+l)
	}
	if hint != "" {
		for i, l := range wrap(hint, w-4) {
			prefix := "    "
			if i == 0 {
				prefix = "  → "
			}
			L = append(L, m.st.warn.Render(prefix+l))
		}
	}
	return L
}

// errorText splits an error into a message and a hint for the error screen.
func errorText(err error) (msg, next string) {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		code := safe.Text(oe.Code)
		if oe.Description != "" {
			msg = capitalize(safe.Text(oe.Description)) + " (" + code + ")"
		} else {
			msg = "The server answered " + code + "."
		}
		return msg, capitalize(hint.OAuth(oe.Code))
	}
	return capitalize(safe.Text(hint.Explain(err))), ""
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
