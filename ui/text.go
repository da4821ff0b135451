package ui

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"
	"unicode"

	"github.com/charmbracelet/x/ansi"
	"golang.org/x/term"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// linkable reports whether u may be opened and put in an OSC 8 hyperlink:
// the project's URL policy (safe.CheckURL) accepts it, and it is printable
// ASCII of a sane length, so it cannot end the escape sequence early.
func linkable(u string) bool {
	if u == "" || len(u) > 4096 {
		return false
	}
	for i := 0; i < len(u); i++ {
		if u[i] <= ' ' || u[i] >= 0x7f {
			return false
		}
	}
	_, err := safe.CheckURL(u)
	return err == nil
}

// shortURL drops the scheme for display: "github.com/login/device".
func shortURL(u string) string {
	s := strings.TrimPrefix(strings.TrimPrefix(u, "https://"), "http://")
	return strings.TrimSuffix(s, "/")
}

// hyperlink wraps text in an OSC 8 hyperlink to target. id groups the pieces
// of one link that was wrapped over several lines.
func hyperlink(text, target, id string) string {
	params := ""
	if id != "" {
		params = "id=" + id
	}
	return "\x1b]8;" + params + ";" + target + "\x1b\\" + text + "\x1b]8;;\x1b\\"
}

// fder is a file with a descriptor, such as *os.File.
type fder interface{ Fd() uintptr }

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(fder)
	return ok && term.IsTerminal(int(f.Fd()))
}

// TerminalWidth returns the width of w in columns when w is a terminal
// (an *os.File on one), and 0 otherwise.
func TerminalWidth(w io.Writer) int {
	f, ok := w.(fder)
	if !ok {
		return 0
	}
	width, _, err := term.GetSize(int(f.Fd()))
	if err != nil || width < 0 {
		return 0
	}
	return width
}

// Wrap word-wraps text to width columns, for text printed outside the
// terminal UI (banners, prompts): lines break at spaces only, never inside
// a word, so a flag (--client-id) or a word wider than the terminal (a long
// URL or path) stays whole, for the terminal to fold. Line breaks in text
// are kept. Escape sequences and wide characters are measured as the
// terminal shows them. A width of 0 or less leaves text as it is.
func Wrap(text string, width int) string {
	if width <= 0 {
		return text
	}
	// ansi.Wordwrap also breaks after a hyphen; a non-breaking hyphen
	// (U+2011, as wide) stands in for each one while it wraps.
	const nbHyphen = "\u2011"
	if strings.Contains(text, nbHyphen) {
		return ansi.Wordwrap(text, width, "")
	}
	s := ansi.Wordwrap(strings.ReplaceAll(text, "-", nbHyphen), width, "")
	return strings.ReplaceAll(s, nbHyphen, "-")
}

// PrintWrapped writes text and a newline to w, word-wrapped (see Wrap) to
// w's width when w is a terminal.
func PrintWrapped(w io.Writer, text string) error {
	_, err := io.WriteString(w, Wrap(text, TerminalWidth(w))+"\n")
	return err
}

// wrap word-wraps plain text to width columns (long words are broken).
func wrap(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	return strings.Split(ansi.Wrap(s, width, ""), "\n")
}

// chop breaks s into pieces of at most width columns (for URLs, which have
// no spaces to wrap at).
func chop(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	var out []string
	r := []rune(s)
	for len(r) > width {
		out = append(out, string(r[:width]))
		r = r[width:]
	}
	return append(out, string(r))
}

// countdown formats the time left until t as m:ss (h:mm:ss past an hour),
// rounding up so a 15-minute code starts at 15:00.
func countdown(left time.Duration) string {
	if left <= 0 {
		return "0:00"
	}
	secs := int64((left + time.Second - 1) / time.Second)
	h, m, s := secs/3600, (secs/60)%60, secs%60
	if h > 0 {
		return fmt.Sprintf("%d:%02d:%02d", h, m, s)
	}
	return fmt.Sprintf("%d:%02d", m, s)
}

// seconds rounds d up to whole seconds.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}

// aboutDuration says "15 minutes" or "40 seconds".
func aboutDuration(d time.Duration) string {
	s := seconds(d)
	switch {
	case s >= 120:
		return fmt.Sprintf("%d minutes", (s+30)/60)
	case s == 1:
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", s)
}

// capitalize upper-cases the first letter of a message.
func capitalize(s string) string {
	r := []rune(s)
	if len(r) == 0 {
		return s
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

// loopbackPort returns the port of the redirect_uri in an authorization URL,
// for the "forward the port over SSH" hint, or "".
func loopbackPort(authorizeURL string) string {
	u, err := url.Parse(authorizeURL)
	if err != nil {
		return ""
	}
	r, err := url.Parse(u.Query().Get("redirect_uri"))
	if err != nil || r.Host == "" || !safe.IsLoopback(r.Host) {
		return ""
	}
	return r.Port()
}
