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
// URL or path) stays whole, for the terminal to fold; nor inside a ghlogin
// command line ("ghlogin login --host 127.0.0.1:8787"), so it can be
// copied as it is (see keepWhole). A command line wider than width breaks
// at its spaces, a flag staying with its value where the two fit, rather
// than be folded by the terminal inside a word (see fitCommands). Line
// breaks in text are kept. Escape sequences and wide characters are
// measured as the terminal shows them. A width of 0 or less leaves text as
// it is.
func Wrap(text string, width int) string {
	if width <= 0 {
		return text
	}
	return unkeep(ansi.Wordwrap(fitCommands(keepWhole(text), width), width, ""))
}

// PrintWrapped writes text and a newline to w, word-wrapped (see Wrap) to
// w's width when w is a terminal.
func PrintWrapped(w io.Writer, text string) error {
	_, err := io.WriteString(w, Wrap(text, TerminalWidth(w))+"\n")
	return err
}

// wrap word-wraps text to width columns for the terminal UI, as Wrap does
// (at spaces only: never after a hyphen, never inside a ghlogin command
// line that fits, a wider one breaking at its spaces), except that a word
// wider than the window is broken, since no line of the UI may be wider
// than the window.
func wrap(s string, width int) []string {
	if width < 10 {
		width = 10
	}
	return strings.Split(unkeep(ansi.Wrap(fitCommands(keepWhole(s), width), width, "")), "\n")
}

// fitCommands takes text prepared by keepWhole and lets each command line
// wider than width break at its spaces again, except between a flag and
// its value ("--host http://127.0.0.1:8787") where the two fit in width:
// broken over lines at spaces, a command reads (and is retyped) word by
// word, where a terminal folding it would cut a word in two.
func fitCommands(text string, width int) string {
	if !strings.Contains(text, nbSpace) {
		return text
	}
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		words := strings.Split(l, " ")
		for j, w := range words {
			if !strings.Contains(w, nbSpace) || ansi.StringWidth(w) <= width {
				continue
			}
			parts := strings.Split(w, nbSpace)
			var b strings.Builder
			for k, p := range parts {
				if k > 0 {
					sep := " "
					if prev := parts[k-1]; strings.HasPrefix(prev, nbHyphen) && !strings.HasPrefix(p, nbHyphen) &&
						ansi.StringWidth(prev)+1+ansi.StringWidth(p) <= width {
						sep = nbSpace
					}
					b.WriteString(sep)
				}
				b.WriteString(p)
			}
			words[j] = b.String()
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.Join(lines, "\n")
}

// Stand-ins used while wrapping (see keepWhole): a non-breaking hyphen
// (U+2011) and a no-break space (U+00A0), as wide as what they stand for.
// The wrapping functions of charmbracelet/x/ansi break after '-' and at
// spaces, but at neither of these.
const (
	nbHyphen = "\u2011"
	nbSpace  = "\u00a0"
)

// maxCommandWords bounds how many words after "ghlogin" keepWhole takes for
// one command line, so that prose after a command that ends without
// punctuation still wraps.
const maxCommandWords = 10

// keepWhole prepares text for wrapping: every hyphen becomes nbHyphen, so
// no line breaks inside a flag (--host) or a hyphenated word, and the
// spaces of each ghlogin command line become nbSpace, so a command stays on
// one line. A command line starts at "ghlogin" (or "(ghlogin", or
// "`ghlogin" in Markdown-like quotes) followed by a command name and ends
// with the first word that ends in . , ; : ) or `, before a word that
// starts with (, at a line break, or after maxCommandWords words.
// unkeep undoes it.
func keepWhole(text string) string {
	if strings.Contains(text, nbHyphen) || strings.Contains(text, nbSpace) {
		return text // already prepared, or holding the stand-ins itself
	}
	lines := strings.Split(text, "\n")
	for i, line := range lines {
		words := strings.Split(line, " ")
		for j := 0; j < len(words); j++ {
			if words[j] != "ghlogin" && !strings.HasSuffix(words[j], "(ghlogin") && !strings.HasSuffix(words[j], "`ghlogin") || j+1 >= len(words) || !isCommandName(words[j+1]) {
				continue
			}
			end := j + 1
			for end < len(words)-1 && end-j < maxCommandWords && !endsCommand(words[end]) && !strings.HasPrefix(words[end+1], "(") {
				end++
			}
			joined := strings.Join(words[j:end+1], nbSpace)
			words = append(append(words[:j], joined), words[end+1:]...)
		}
		lines[i] = strings.Join(words, " ")
	}
	return strings.ReplaceAll(strings.Join(lines, "\n"), "-", nbHyphen)
}

// CommandNames are ghlogin's commands, whose command lines ("ghlogin
// login --host …") Wrap and the terminal UI keep on one line. The command
// line's tests hold it to its command tree.
var CommandNames = []string{
	"agent", "bind", "completion", "config", "demo", "emulator", "exec", "git-credential", "help", "login",
	"logout", "oidc", "refresh", "setup-git", "ssh", "status", "switch", "token", "version",
}

// isCommandName reports whether w (with trailing punctuation) is one of
// CommandNames.
func isCommandName(w string) bool {
	w = strings.TrimRight(w, ".,;:)`")
	for _, c := range CommandNames {
		if w == c {
			return true
		}
	}
	return false
}

// endsCommand reports whether w is the last word of a command line.
func endsCommand(w string) bool {
	return strings.HasSuffix(w, ".") || strings.HasSuffix(w, ",") || strings.HasSuffix(w, ";") ||
		strings.HasSuffix(w, ":") || strings.HasSuffix(w, ")") || strings.HasSuffix(w, "`")
}

// unkeep undoes keepWhole.
func unkeep(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, nbHyphen, "-"), nbSpace, " ")
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
