package ui

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/charmbracelet/bubbles/key"
	"github.com/charmbracelet/lipgloss"
	"github.com/charmbracelet/x/ansi"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/oauth"
)

// The screen is laid out for the terminal's size. It is built as rows, each
// with a drop level; when the terminal is shorter than the screen, the most
// droppable rows give way first (the blank line above the screen, then the
// blank lines between parts, then hints, then the header, then the end of a
// long URL, then titles and the countdown), so that the code, the start of
// the URL, the status and the keys stay. Every row is fitted to the width
// when it is built: text wraps at word boundaries, the boxed code falls back
// to a compact one, the key help to its short form.

// Drop levels of rows: a higher level is dropped first.
const (
	dropNever    = iota // the code, a URL's first line, the status, the keys, what the person asked for
	dropContext         // step titles, the countdown, warnings, notes
	dropURL             // a URL's lines after its first, cut from the end (row.cut marks where)
	dropHeader          // the header
	dropHint            // "Press Enter to open…", the QR code's caption
	dropGap             // a blank line between parts
	dropInnerGap        // a blank line inside a part
	dropLead            // the blank line above the screen
)

// row is one line of the screen and how readily it gives way.
type row struct {
	s    string
	drop int
	more bool // the row continues the one above (a wrapped paragraph): they go together
	// cut, when set, replaces s when the row below it, of level dropURL,
	// is dropped: the line ends in "…", so a URL cut short reads as cut.
	cut string
	// flush puts the row at the window's first column, without the
	// screen's margin (a long URL's lines: see urlRows).
	flush bool
}

// rowsOf makes the lines of one paragraph into rows that give way together.
func rowsOf(drop int, lines ...string) []row {
	rs := make([]row, len(lines))
	for i, l := range lines {
		rs[i] = row{s: l, drop: drop, more: i > 0}
	}
	return rs
}

func blank(drop int) row { return row{drop: drop} }

// line is a row of one line.
func line(s string, drop int) row { return row{s: s, drop: drop} }

// fit drops rows, the highest drop level first and from the top within a
// level (from the bottom for dropURL: a URL is cut from its end), until at
// most max remain (max <= 0: no limit). If the rows that are never dropped
// are still too many, the last ones are cut: the top of the screen holds
// what matters most.
func fit(rs []row, max int) []row {
	n := len(rs)
	dropped := make([]bool, len(rs))
	for level := dropLead; level > dropNever && max > 0 && n > max; level-- {
		for k := range rs {
			if n <= max {
				break
			}
			i := k
			if level == dropURL {
				i = len(rs) - 1 - k
			}
			if !dropped[i] && rs[i].drop == level {
				dropped[i] = true
				n--
				for j := i + 1; j < len(rs) && rs[j].more; j++ {
					dropped[j] = true
					n--
				}
			}
		}
	}
	out := make([]row, 0, n)
	for i, r := range rs {
		if dropped[i] {
			continue
		}
		if r.cut != "" && i+1 < len(rs) && dropped[i+1] && rs[i+1].drop == dropURL {
			r.s = r.cut
		}
		out = append(out, r)
	}
	if max > 0 && len(out) > max {
		out = out[:max]
	}
	return out
}

// rowsBelow counts the rows whose drop level is below level: the rows left
// once every row of that level and above has given way.
func rowsBelow(rs []row, level int) int {
	n := 0
	for _, r := range rs {
		if r.drop < level {
			n++
		}
	}
	return n
}

// qrPlace is where the QR code goes on the device screen.
type qrPlace int

const (
	qrNone   qrPlace = iota // no QR code
	qrBeside                // right of the steps
	qrBelow                 // under the steps
)

// layout is one way to lay out the screen.
type layout struct {
	w       int     // columns for the text, after the margin
	qr      qrPlace // where the QR code goes
	compact bool    // the code on one line instead of boxed
	note    string  // replaces a QR code that does not fit
}

// View renders the screen for the terminal's size: no line is wider than the
// terminal, and the screen is no taller, the code staying on it.
func (m *model) View() string {
	margin := strings.Repeat(" ", marginFor(m.width))
	w := max(m.width-len(margin), 10)
	budget := 0
	if m.height > 0 {
		// The last line stays empty: bubbletea erases it when the program
		// ends.
		budget = max(m.height-1, 1)
	}
	rs := m.screen(w, budget)
	lines := make([]string, len(rs))
	for i, r := range rs {
		lines[i] = r.s
		if r.s != "" && !r.flush {
			lines[i] = margin + r.s
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// windowWidth is the width of the window in which the screen's text is w
// columns wide (View's w, inverted): the width a flush row may take.
func windowWidth(w int) int {
	if w+2 >= 30 {
		return w + 2
	}
	return w
}

// marginFor is the left margin of the screen in a window width columns
// wide: two columns, none in a very narrow window.
func marginFor(width int) int {
	if width < 30 {
		return 0
	}
	return 2
}

// qrKeeps is the drop level below which rows must stay for the QR code to
// be shown: a QR code may push out blank lines and hints, but not the
// header, the steps' titles or the countdown; where it would, a note takes
// its place.
const qrKeeps = dropHint

// screen picks the layout that keeps the most: the first whose rows fit
// budget with only blank lines dropped, else with hints dropped too, and so
// on. A QR code that was asked for is shown when a layout with it fits while
// keeping the rows below qrKeeps; otherwise a note says why it is not.
func (m *model) screen(w, budget int) []row {
	plain := []layout{{w: w}, {w: w, compact: true}}
	// The web screen shows a QR code only when asked (Options.QR): an
	// authorization URL makes a large one.
	if m.phase == phaseDevice && m.showQR || m.phase == phaseWeb && m.opts.QR {
		if qr := m.qrCode(); len(qr) > 0 {
			withQR := []layout{{w: w, qr: qrBeside}, {w: w, qr: qrBeside, compact: true}, {w: w, qr: qrBelow}, {w: w, qr: qrBelow, compact: true}}
			if m.phase == phaseWeb {
				withQR = []layout{{w: w, qr: qrBelow}}
			}
			if rs := m.pick(withQR, budget, qrKeeps); rs != nil {
				return fit(rs, budget)
			}
			note := m.qrNote(w, qr)
			for i := range plain {
				plain[i].note = note
			}
		}
	}
	if rs := m.pick(plain, budget, dropNever+1); rs != nil {
		return fit(rs, budget)
	}
	return fit(m.rows(plain[len(plain)-1]), budget)
}

// pick returns the rows of the layout that fits budget dropping the fewest
// kinds of row: for each drop level from blank lines down to keepBelow, the
// first layout whose rows below that level fit. Nil when none fits.
func (m *model) pick(layouts []layout, budget, keepBelow int) []row {
	var built [][]row
	for _, l := range layouts {
		built = append(built, m.rows(l))
	}
	for level := dropGap; level >= keepBelow; level-- {
		for _, rs := range built {
			if rs != nil && (budget <= 0 || rowsBelow(rs, level) <= budget) {
				return rs
			}
		}
	}
	return nil
}

// qrNote is the line shown instead of a QR code that does not fit: how big
// the terminal must be for it, or to use the URL.
func (m *model) qrNote(w int, qr []string) string {
	needW := max(m.width, lipgloss.Width(qr[0])+2)
	needH := 0
	for _, p := range []qrPlace{qrBeside, qrBelow} {
		for _, compact := range []bool{false, true} {
			if rs := m.rows(layout{w: needW - marginFor(needW), qr: p, compact: compact}); rs != nil {
				// The rows that must stay, and the empty last line.
				if h := rowsBelow(rs, qrKeeps) + 1; needH == 0 || h < needH {
					needH = h
				}
			}
		}
	}
	needH = max(needH, m.height)
	var first string
	switch {
	case needW > m.width && needH > m.height:
		first = fmt.Sprintf("QR code: enlarge the terminal to %d×%d, or use the URL.", needW, needH)
	case needW > m.width:
		first = fmt.Sprintf("QR code: widen the terminal to %d columns, or use the URL.", needW)
	default:
		first = fmt.Sprintf("QR code: make the terminal %d lines tall, or use the URL.", needH)
	}
	for _, s := range []string{
		first,
		// The shorter forms say "needs": a bare size next to "too small"
		// reads as the terminal's own.
		fmt.Sprintf("Too small for the QR code (it needs %d×%d); use the URL.", needW, needH),
		fmt.Sprintf("The QR code needs %d×%d; use the URL.", needW, needH),
		fmt.Sprintf("QR code needs %d×%d; use the URL.", needW, needH),
		fmt.Sprintf("QR needs %d×%d; use the URL.", needW, needH),
		fmt.Sprintf("QR needs %d×%d.", needW, needH),
	} {
		if ansi.StringWidth(s) <= w {
			return s
		}
	}
	return "No room for the QR code."
}

// rows builds the whole screen in layout l, or returns nil when l cannot be
// used at its width.
func (m *model) rows(l layout) []row {
	w := l.w
	rs := []row{blank(dropLead), line(m.header(w), dropHeader), blank(dropGap)}
	if m.opts.Intro != "" {
		rs = append(rs, rowsOf(dropHint, m.intro(w)...)...)
		rs = append(rs, blank(dropGap))
	}
	for _, wn := range m.warnings {
		lines := wrap(wn, w-2)
		for i, l := range lines {
			prefix := "  "
			if i == 0 {
				prefix = "⚠ "
			}
			lines[i] = m.st.warn.Render(prefix + l)
		}
		rs = append(rs, rowsOf(dropContext, lines...)...)
	}
	if len(m.warnings) > 0 {
		rs = append(rs, blank(dropGap))
	}
	switch m.phase {
	case phaseStart:
		rs = append(rs, m.statusRows(w)...)
	case phaseDevice:
		dev := m.deviceRows(l)
		if dev == nil {
			return nil
		}
		rs = append(rs, dev...)
	case phaseWeb:
		web := m.webRows(l)
		if web == nil {
			return nil
		}
		rs = append(rs, web...)
	case phaseDone:
		return append(rs, m.successRows(w)...)
	case phaseFailed:
		return append(rs, m.errorRows(w)...)
	case phaseCancelled:
		return append(rs, line(m.st.bad.Render("✗ Login cancelled."), dropNever))
	}
	return append(rs, blank(dropGap), line(m.helpLine(w), dropNever))
}

// intro is Options.Intro word-wrapped to w columns (lipgloss breaks a word
// only when it is wider than w).
func (m *model) intro(w int) []string {
	text := m.r.NewStyle().Width(w).Render(sanitizeLines(m.opts.Intro))
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return lines
}

// header is the first line, as much of it as fits: what logs in, where,
// how.
func (m *model) header(w int) string {
	host := safe.Text(m.opts.Host)
	if host == "" {
		host = "GitHub"
	}
	how := "with a one-time code"
	if m.opts.Flow == FlowWeb {
		how = "in your browser"
	}
	badge := m.st.badge.Render("ghlogin") + "  "
	to := "Logging in to " + m.st.bold.Render(host)
	var last string
	for _, h := range []string{
		badge + to + m.st.dim.Render(" · "+how),
		badge + to,
		to,
		badge + m.st.bold.Render(host),
		m.st.bold.Render(host),
	} {
		last = h
		if ansi.StringWidth(h) <= w {
			return h
		}
	}
	return ansi.Truncate(last, w, "…")
}

// helpLine is the key help, in the long form when it fits, else the short
// one, else the short one without Enter, then without c: r (device screen)
// and q are always shown. On the web screens c copies the URL (Ctrl-Y on
// the paste screen).
func (m *model) helpLine(w int) string {
	if m.pasting() {
		submit := key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "submit"))
		cancel := key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "cancel"))
		copyURL := key.NewBinding(key.WithKeys("ctrl+y"), key.WithHelp("ctrl+y", "copy URL"))
		// Ctrl-Y (every letter types into the field); it gives way
		// first where the line does not fit (below 45 columns).
		sets := [][]key.Binding{{submit, cancel}}
		if m.copiesURL() {
			sets = append([][]key.Binding{{copyURL, submit, cancel}}, sets...)
		}
		var v string
		for _, set := range sets {
			v = m.help.ShortHelpView(set)
			if ansi.StringWidth(v) <= w {
				return v
			}
		}
		return ansi.Truncate(v, w, "…")
	}
	k := m.keys
	k.Open.SetEnabled((m.phase == phaseDevice || m.phase == phaseWeb) && !m.opts.Headless && m.opts.Opener != nil && !m.cancelling)
	k.Copy.SetEnabled((m.phase == phaseDevice || m.phase == phaseWeb && m.webURL != "") && !m.cancelling)
	k.QR.SetEnabled(m.phase == phaseDevice && !m.cancelling)
	openLong := "open in browser"
	if m.phase == phaseWeb && m.note != "" && !m.noteBad {
		openLong = "open again"
	}
	qrLong, qrShort := "show QR code", "QR"
	if m.showQR {
		qrLong, qrShort = "hide QR code", "hide QR"
	}
	copyLong, copyShort := "copy code", "copy"
	if m.phase == phaseWeb {
		// "copy" alone would leave open what is copied: there is no code.
		copyLong, copyShort = "copy URL", "copy URL"
	}
	long := []key.Binding{k.Open, k.Copy, k.QR, k.Cancel}
	long[0].SetHelp("enter", openLong)
	long[1].SetHelp("c", copyLong)
	long[2].SetHelp("r", qrLong)
	short := []key.Binding{k.Open, k.Copy, k.QR, k.Cancel}
	short[0].SetHelp("enter", "open")
	short[1].SetHelp("c", copyShort)
	short[2].SetHelp("r", qrShort)
	var v string
	for _, set := range [][]key.Binding{long, short, short[1:], short[2:]} {
		v = m.help.ShortHelpView(set)
		if ansi.StringWidth(v) <= w {
			return v
		}
	}
	return ansi.Truncate(v, w, "…")
}

// statusRows is the spinner and the live status, wrapped, and the
// countdown, which goes on its own (droppable) row when it does not fit
// after the status.
func (m *model) statusRows(w int) []row {
	status, cd := m.statusLines(w)
	rs := rowsOf(dropNever, status...)
	if cd != "" {
		rs = append(rs, line(cd, dropContext))
	}
	return rs
}

// statusLines returns the status lines, and the countdown's own line when
// it does not fit on the last of them ("" when it does, or there is none).
func (m *model) statusLines(w int) (status []string, countdown string) {
	text, style := m.statusText()
	lines := wrap(text, w-2)
	for i, l := range lines {
		if i == 0 {
			lines[i] = m.spin.View() + style.Render(l)
		} else {
			lines[i] = "  " + style.Render(l)
		}
	}
	cd := m.countdownText()
	if cd == "" {
		return lines, ""
	}
	last := lines[len(lines)-1]
	if ansi.StringWidth(last)+ansi.StringWidth(cd)+5 <= w {
		lines[len(lines)-1] = last + m.st.faint.Render("  ·  ") + cd
		return lines, ""
	}
	return lines, ansi.Truncate("  "+cd, w, "")
}

// titleRows is a step's title, marker and text, wrapped under the text.
func (m *model) titleRows(marker, text string, w int) []row {
	ind := ansi.StringWidth(marker) + 1
	lines := wrap(text, w-ind)
	for i, l := range lines {
		if i == 0 {
			lines[i] = m.st.step.Render(marker) + " " + m.st.bold.Render(l)
		} else {
			lines[i] = strings.Repeat(" ", ind) + m.st.bold.Render(l)
		}
	}
	return rowsOf(dropContext, lines...)
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
		return capitalize(m.retryReason) + "; " + when, m.st.warn
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

// link renders a URL, cut into pieces of w columns (a URL has no spaces to
// wrap at), as a terminal hyperlink to target where supported.
func (m *model) link(text, target string, w int) []string {
	var out []string
	for _, piece := range chop(safe.Text(text), w) {
		out = append(out, m.linkPiece(piece, target))
	}
	return out
}

// linkPiece renders one piece of a URL: styled, and a terminal hyperlink
// to target where supported (every piece of one target shares an id, so
// the terminal underlines them together).
func (m *model) linkPiece(piece, target string) string {
	s := m.st.link.Render(piece)
	if m.hyperlinks && linkable(target) {
		h := fnv.New32a()
		h.Write([]byte(target))
		s = hyperlink(s, target, fmt.Sprintf("ghlogin-%x", h.Sum32()))
	}
	return s
}

// urlRows are the rows of a URL on a screen w columns wide (after the
// margin): one row after indent when it fits there. A longer one (an
// authorization URL) is cut into pieces as wide as the window, each on a
// flush row, from the first column on, so that the URL is a block of its
// own at the left edge. A URL has no spaces to wrap at, and indenting its
// lines would put spaces inside it for whoever selects it with the mouse to
// send it to another device (the paste-back use case): a selection of the
// block holds the URL and line breaks only, which are easy to take out
// (address bars such as Chrome's drop them from a pasted text), where
// spaces would break it. The c key copies it whole besides. The first
// row is never dropped, the others (dropURL) give way from the end on a
// short terminal, the last one left then ending in "…".
func (m *model) urlRows(indent, text, target string, w int) []row {
	safeText := safe.Text(text)
	if ansi.StringWidth(indent)+ansi.StringWidth(safeText) <= w {
		return []row{line(indent+m.linkPiece(safeText, target), dropNever)}
	}
	ww := windowWidth(w)
	pieces := chop(safeText, ww)
	rs := make([]row, len(pieces))
	for i, p := range pieces {
		rs[i] = row{s: m.linkPiece(p, target), drop: dropURL, flush: true}
		if i == 0 {
			rs[i].drop = dropNever
		}
		if i+1 < len(pieces) {
			r := []rune(p)
			rs[i].cut = m.linkPiece(string(r[:len(r)-1])+"…", target)
		}
	}
	return rs
}

// bigCode renders the user code with each character in a box, or, when
// compact or when the boxes do not fit in w columns, on one line: spaced
// out, or as it is when even that is too wide.
func (m *model) bigCode(w int, compact bool) []string {
	code := safe.Text(m.code.UserCode)
	runes := []rune(code)
	if !compact && len(runes) > 0 && len(runes) <= 12 {
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
		// Never cut: a code longer than the terminal is left for it to fold.
		spaced = code
	}
	return []string{m.st.codeText.Render(spaced)}
}

// qrCode is the QR code of what Enter opens, or nil when that URL may not
// be shown as one.
func (m *model) qrCode() []string {
	target := m.openTarget()
	if !linkable(target) {
		return nil
	}
	return m.qr(target)
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

// stepRows are the device screen's steps: the code, the link and what Enter
// does, fitted to w columns.
func (m *model) stepRows(w int, compact, qrShown bool) []row {
	c := m.code
	rs := m.titleRows("1.", "Copy your one-time code", w)
	flashStyle := m.st.ok
	if m.flashBad {
		flashStyle = m.st.warn
	}
	flashInline := false
	if m.flash != "" && len(rs) == 1 {
		if t := rs[0].s + "   " + flashStyle.Render(m.flash); ansi.StringWidth(t) <= w {
			rs[0].s, flashInline = t, true
		}
	}
	rs = append(rs, blank(dropInnerGap))
	for _, l := range m.bigCode(w-3, compact) {
		rs = append(rs, line("   "+l, dropNever))
	}
	if m.flash != "" && !flashInline {
		// What copying did is never cut short: it says what is true.
		for _, l := range wrap(m.flash, w-3) {
			rs = append(rs, line("   "+flashStyle.Render(l), dropNever))
		}
	}
	rs = append(rs, blank(dropGap))
	rs = append(rs, m.titleRows("2.", "Open this page and enter the code", w)...)
	for _, l := range m.link(c.VerificationURI, m.openTarget(), w-3) {
		rs = append(rs, line("   "+l, dropNever))
	}
	rs = append(rs, blank(dropGap))
	return append(rs, m.hintRows(w, m.openTarget(), qrShown)...)
}

// deviceRows lays out the device screen in l: with the QR code beside the
// steps (when at least 40 columns are left for them) or below them, or
// without it; nil when the QR code cannot go where l puts it.
func (m *model) deviceRows(l layout) []row {
	w := l.w
	if l.qr == qrNone {
		rs := m.stepRows(w, l.compact, false)
		if l.note != "" {
			rs = append(rs, blank(dropGap))
			rs = append(rs, rowsOf(dropNever, wrapStyled(m.st.dim, l.note, w)...)...)
		}
		rs = append(rs, blank(dropGap))
		return append(rs, m.statusRows(w)...)
	}
	qr := m.qrCode()
	if len(qr) == 0 {
		return nil
	}
	qw := lipgloss.Width(qr[0])
	caption := "Scan to open on your phone"
	if qw > len(caption) {
		caption = strings.Repeat(" ", (qw-len(caption)+1)/2) + caption
	}
	if l.qr == qrBeside {
		lw := min(w-4-qw, 62)
		if lw < 40 {
			return nil
		}
		var left []string
		for _, r := range m.stepRows(lw, l.compact, true) {
			left = append(left, r.s)
		}
		left = append(left, "")
		status, cd := m.statusLines(lw)
		left = append(left, status...)
		if cd != "" {
			left = append(left, cd)
		}
		for i, s := range left {
			if pad := lw - ansi.StringWidth(s); pad > 0 {
				left[i] = s + strings.Repeat(" ", pad) // the QR code stays put
			}
		}
		block := append(append([]string{}, qr...), m.st.dim.Render(caption))
		joined := lipgloss.JoinHorizontal(lipgloss.Top, strings.Join(left, "\n"), "    ", strings.Join(block, "\n"))
		out := strings.Split(joined, "\n")
		for i := range out {
			out[i] = strings.TrimRight(out[i], " ")
		}
		return rowsOf(dropNever, out...)
	}
	if qw > w {
		return nil
	}
	rs := m.stepRows(w, l.compact, true)
	rs = append(rs, blank(dropGap))
	rs = append(rs, rowsOf(dropNever, qr...)...)
	rs = append(rs, line(m.st.dim.Render(caption), dropHint), blank(dropGap))
	return append(rs, m.statusRows(w)...)
}

// hintRows say what Enter does (or why nothing can be opened), and how
// opening the browser went; qrShown says whether a QR code is on screen.
func (m *model) hintRows(w int, target string, qrShown bool) []row {
	var rs []row
	switch {
	case m.opts.Headless:
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.warn, "No browser will be opened here: "+m.headlessReason()+".", w)...)...)
		more := "Open the link on another device, or scan the QR code."
		switch {
		case !m.showQR:
			more = "Open the link on another device, or press r for a QR code."
		case !qrShown:
			more = "Open the link on another device."
		}
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.dim, more, w)...)...)
	case m.opts.Opener == nil && m.opts.NoBrowser:
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.dim, "Open the link in a browser (--no-browser: ghlogin opens none).", w)...)...)
	case m.opts.Opener == nil:
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.dim, "Open the link in a browser.", w)...)...)
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
		rs = append(rs, rowsOf(dropHint, wrap(line, w)...)...)
	}
	if m.note != "" {
		st := m.st.ok
		if m.noteBad {
			st = m.st.bad
		}
		rs = append(rs, rowsOf(dropContext, wrapStyled(st, m.note, w)...)...)
	}
	return rs
}

func wrapStyled(st lipgloss.Style, s string, w int) []string {
	lines := wrap(s, w)
	for i, l := range lines {
		lines[i] = st.Render(l)
	}
	return lines
}

// copiedRows say what copying the URL did (the c key), under it: never
// cut short, as on the device screen, since they say what is true.
func (m *model) copiedRows(indent string, w int) []row {
	if m.flash == "" {
		return nil
	}
	st := m.st.ok
	if m.flashBad {
		st = m.st.warn
	}
	var rs []row
	for _, l := range wrap(m.flash, w-len(indent)) {
		rs = append(rs, line(indent+st.Render(l), dropNever))
	}
	return rs
}

// webRows lays out the web screen in l: the page to open, what to do
// about it here, the paste field when the flow takes a pasted address, and
// the status; nil when a QR code l asks for does not fit.
func (m *model) webRows(l layout) []row {
	w := l.w
	if m.opts.Paste != nil {
		return m.pasteRows(l)
	}
	rs := m.titleRows("→", "Authorize ghlogin in your browser on this page", w)
	rs = append(rs, m.urlRows("  ", m.webURL, m.webURL, w)...)
	rs = append(rs, m.copiedRows("  ", w)...)
	rs = append(rs, blank(dropGap))
	qrRows, ok := m.webQRRows(l)
	if !ok {
		return nil
	}
	rs = append(rs, qrRows...)
	if m.opts.Headless {
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.warn, "No browser will be opened here: "+m.headlessReason()+".", w)...)...)
		more := "Open the link in a browser that can reach 127.0.0.1 on this machine."
		if p := loopbackPort(m.webURL); p != "" {
			more += " Over SSH, forward the port first: ssh -L " + p + ":127.0.0.1:" + p + " …"
		}
		more += " The device flow (ghlogin login without --web) works better here."
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.dim, more, w)...)...)
		if m.note != "" {
			rs = append(rs, rowsOf(dropContext, wrapStyled(m.st.bad, m.note, w)...)...)
		}
	} else {
		rs = append(rs, m.hintRows(w, m.webURL, false)...)
	}
	rs = append(rs, blank(dropGap))
	return append(rs, m.statusRows(w)...)
}

// webQRRows are the web screen's QR code, with its caption, when l puts
// one below the link, or the note that replaces it; ok is false when it
// does not fit.
func (m *model) webQRRows(l layout) (rs []row, ok bool) {
	switch {
	case l.qr == qrBelow:
		qr := m.qrCode()
		if len(qr) == 0 || lipgloss.Width(qr[0]) > l.w {
			return nil, false
		}
		rs = append(rs, rowsOf(dropNever, qr...)...)
		return append(rs, line(m.st.dim.Render("Scan to open on your phone"), dropHint), blank(dropGap)), true
	case l.note != "":
		rs = append(rs, rowsOf(dropNever, wrapStyled(m.st.dim, l.note, l.w)...)...)
		return append(rs, blank(dropGap)), true
	}
	return nil, true
}

// pasteRows is the web screen of a flow that takes a pasted address: open
// the page on any device; where its browser ends on a page that cannot be
// reached, paste that address (or its code) into the field.
func (m *model) pasteRows(l layout) []row {
	w := l.w
	rs := m.titleRows("1.", "Open this page in a browser on any device and authorize ghlogin", w)
	rs = append(rs, m.urlRows("   ", m.webURL, m.webURL, w)...)
	rs = append(rs, m.copiedRows("   ", w)...)
	rs = append(rs, blank(dropGap))
	qrRows, ok := m.webQRRows(l)
	if !ok {
		return nil
	}
	rs = append(rs, qrRows...)
	if m.opts.Headless {
		rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.warn, "No browser will be opened here: "+m.headlessReason()+".", w)...)...)
	}
	rs = append(rs, rowsOf(dropHint, wrapStyled(m.st.dim, "A browser on this machine finishes by itself. One on another device ends on a page that cannot be reached (127.0.0.1): copy that page's address.", w)...)...)
	if m.note != "" {
		st := m.st.ok
		if m.noteBad {
			st = m.st.bad
		}
		rs = append(rs, rowsOf(dropContext, wrapStyled(st, m.note, w)...)...)
	}
	rs = append(rs, blank(dropGap))
	rs = append(rs, m.titleRows("2.", pastePrompt, w)...)
	if m.pasting() {
		rs = append(rs, line("   "+m.paste.View(), dropNever))
	}
	if m.pasteNote != "" {
		st := m.st.dim
		if m.pasteBad {
			st = m.st.bad
		}
		for _, l := range wrap(m.pasteNote, w-3) {
			rs = append(rs, line("   "+st.Render(l), dropNever))
		}
	}
	rs = append(rs, blank(dropGap))
	return append(rs, m.statusRows(w)...)
}

func (m *model) successRows(w int) []row {
	r := m.res
	rs := rowsOf(dropNever, wrap(m.st.ok.Render("✓ ")+m.st.bold.Render(loggedIn(r)), w)...)
	var details []string
	if r.Kept != "" {
		for _, l := range wrap(safe.Text(r.Kept), w-2) {
			rs = append(rs, line("  "+l, dropNever))
		}
	} else if where := storeText(r); where != "" {
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
			rs = append(rs, line("  "+m.st.dim.Render(l), dropNever))
		}
	}
	return rs
}

func (m *model) errorRows(w int) []row {
	title := "✗ Could not log in"
	if h := safe.Text(m.opts.Host); h != "" {
		title += " to " + h
	}
	rs := rowsOf(dropNever, wrapStyled(m.st.bad, title, w)...)
	msg, next := errorText(m.err, m.opts.Hints)
	for _, l := range wrap(msg, w-2) {
		rs = append(rs, line("  "+l, dropNever))
	}
	if next != "" {
		for i, l := range wrap(next, w-4) {
			prefix := "    "
			if i == 0 {
				prefix = "  → "
			}
			rs = append(rs, line(m.st.warn.Render(prefix+l), dropNever))
		}
	}
	return rs
}

// errorText splits an error into a message and a hint for the error
// screen; c is the command at hand (Options.Hints).
func errorText(err error, c hint.Context) (msg, next string) {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		code := safe.Text(oe.Code)
		if oe.Description != "" {
			msg = capitalize(safe.Text(oe.Description)) + " (" + code + ")"
		} else {
			msg = "The server answered " + code + "."
		}
		return msg, capitalize(hint.OAuthIn(oe.Code, c))
	}
	return capitalize(safe.Text(hint.Explain(err))), ""
}
