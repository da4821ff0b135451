package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/x/ansi"

	"github.com/ghlogin/ghlogin/webflow"
)

// TestTUIWebCopyURL presses c on both web screens (a browser on this
// machine, and the paste screen of a browser on another device) with this
// machine's clipboard present and absent, in tmux and not, and checks the
// exact bytes the terminal got, what the clipboard got and the note: "✓
// Copied" only after a local copy, else "Sent to your terminal's
// clipboard", as the device screen's c says.
func TestTUIWebCopyURL(t *testing.T) {
	plain, tmux := osc52For(longAuthURL)
	for _, screen := range []struct {
		name string
		opts Options
	}{
		{"browser", Options{Flow: FlowWeb}},
		{"paste", Options{Flow: FlowWeb, Paste: NewPasteInput(), Headless: true, HeadlessReason: "there is no display"}},
	} {
		for _, c := range []struct {
			name string
			clip *fakeClipboard
			tmux bool
			want string
			seqs string
		}{
			{"clipboard", &fakeClipboard{}, false, "✓ Copied", plain},
			{"no clipboard", &fakeClipboard{absent: true}, false, "Sent to your terminal's clipboard", plain},
			{"no clipboard in tmux", &fakeClipboard{absent: true}, true, "Sent to your terminal's clipboard", plain + tmux},
		} {
			t.Run(screen.name+"/"+c.name, func(t *testing.T) {
				e := map[string]string{"TERM": "xterm-256color"}
				if c.tmux {
					e["TMUX"] = "/tmp/tmux-0/default,1,0"
				}
				term := &bytes.Buffer{}
				opts := screen.opts
				opts.Getenv, opts.Terminal, opts.NoHyperlink = env(e), term, true
				tm := newTestModel(t, opts)
				tm.model.copier.local = c.clip.write
				tm.send(tea.WindowSizeMsg{Width: 80, Height: 24})
				tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: longAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
				copyKey := "c"
				if screen.opts.Paste != nil {
					copyKey = "ctrl+y"
				}
				tm.mustShow(copyKey + " copy URL")
				if term.Len() != 0 {
					t.Fatalf("the terminal got %q before %s was pressed", term.String(), copyKey)
				}
				tm.press(copyKey)
				tm.mustShow(c.want)
				if c.want != "✓ Copied" {
					tm.mustNotShow("Copied")
				}
				if term.String() != c.seqs {
					t.Errorf("the terminal got %q, want %q", term.String(), c.seqs)
				}
				if !c.clip.absent && (len(c.clip.got) != 1 || c.clip.got[0] != longAuthURL) {
					t.Errorf("the clipboard got %q", c.clip.got)
				}
				if screen.opts.Paste != nil && tm.paste.Value() != "" {
					t.Errorf("c went to the field too: %q", tm.paste.Value())
				}
				assertFits(t, tm.View(), 80, 24)
				// The note goes after 2 s, as the device screen's does.
				tm.clock.Advance(flashFor)
				tm.send(tickMsg{})
				tm.mustNotShow(c.want)
			})
		}
	}
}

// On the paste screen every letter types into the field, c included (a
// code typed by hand may start with c), and Ctrl-Y copies the URL whatever
// the field holds.
func TestTUIPasteScreenTypesEveryLetter(t *testing.T) {
	term := &bytes.Buffer{}
	tm := newTestModel(t, Options{Flow: FlowWeb, Paste: NewPasteInput(), Headless: true, NoHyperlink: true, Terminal: term, Getenv: env(nil)})
	tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: pasteAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
	tm.mustShow("ctrl+y copy URL • enter submit • esc cancel")
	tm.press("c")
	tm.press("0")
	if tm.paste.Value() != "c0" || term.Len() != 0 || len(tm.rec.copied) != 0 {
		t.Fatalf("typed c0: field %q, terminal %q, clipboard %q", tm.paste.Value(), term.String(), tm.rec.copied)
	}
	tm.press("ctrl+y")
	if tm.paste.Value() != "c0" || len(tm.rec.copied) != 1 || tm.rec.copied[0] != pasteAuthURL {
		t.Fatalf("ctrl+y: field %q, clipboard %q", tm.paste.Value(), tm.rec.copied)
	}
}

// TestWebKeyHelpAtEveryWidth checks the web screens' key help from 30 to
// 120 columns: it fits, q (or Esc on the paste screen) is always there,
// and the copy key ("c copy URL", "ctrl+y copy URL" on the paste screen)
// from 40 (45) columns on.
func TestWebKeyHelpAtEveryWidth(t *testing.T) {
	for _, screen := range []struct {
		name, last string
		opts       Options
	}{
		{"browser", "q cancel", Options{Flow: FlowWeb, NoColor: true}},
		{"paste", "esc cancel", Options{Flow: FlowWeb, NoColor: true, Paste: NewPasteInput(), Headless: true}},
	} {
		for w := 30; w <= 120; w++ {
			tm := newTestModel(t, screen.opts)
			tm.send(tea.WindowSizeMsg{Width: w, Height: 40})
			tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: longAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
			v := strings.TrimRight(tm.plainView(), "\n")
			help := strings.TrimSpace(v[strings.LastIndex(v, "\n")+1:])
			if !strings.HasSuffix(help, screen.last) {
				t.Errorf("%s, %d columns: key help %q lacks %q", screen.name, w, help, screen.last)
			}
			copyHelp, from := "c copy URL", 40
			if screen.name == "paste" {
				copyHelp, from = "ctrl+y copy URL", 45
			}
			if w >= from && !strings.Contains(help, copyHelp) {
				t.Errorf("%s, %d columns: key help %q lacks %s", screen.name, w, help, copyHelp)
			}
			if screen.name == "browser" && w >= 49 && help != "enter open in browser • c copy URL • q cancel" {
				t.Errorf("%d columns: key help %q, want the long form", w, help)
			}
			assertFits(t, tm.View(), w, 40)
		}
	}
}

// TestWebURLCopiesCleanly renders both web screens at several sizes and
// checks the lines that hold the authorization URL: when it takes more than
// one line they start at the first column (no margin, no indent) and hold
// nothing but the URL, so that selecting them gives the URL and line
// breaks, never spaces; they are as wide as the window; and joined they are
// the URL, or its start up to a line that ends in "…" on a short window.
func TestWebURLCopiesCleanly(t *testing.T) {
	for _, screen := range []struct {
		name string
		opts Options
	}{
		{"browser", Options{Flow: FlowWeb}},
		{"paste", Options{Flow: FlowWeb, Paste: NewPasteInput(), Headless: true}},
	} {
		for _, size := range []struct{ w, h int }{{30, 12}, {40, 12}, {40, 30}, {60, 24}, {80, 24}, {120, 40}, {200, 40}} {
			t.Run(fmt.Sprintf("%s_%dx%d", screen.name, size.w, size.h), func(t *testing.T) {
				opts := screen.opts
				opts.NoColor = true
				tm := newTestModel(t, opts)
				tm.send(tea.WindowSizeMsg{Width: size.w, Height: size.h})
				tm.emit(webflow.Event{Kind: webflow.KindAuthorize, URL: longAuthURL, ExpiresAt: tm.clock.Now().Add(5 * time.Minute)})
				v := tm.View()
				assertFits(t, v, size.w, size.h)
				lines := strings.Split(ansi.Strip(v), "\n")
				first := -1
				for i, l := range lines {
					if strings.Contains(l, "http://127.0.0.1:59145/") {
						first = i
						break
					}
				}
				if first < 0 {
					t.Fatalf("no URL on screen:\n%s", ansi.Strip(v))
				}
				if strings.TrimSpace(lines[first]) == longAuthURL {
					return // on one line: it copies as it is
				}
				var shown string
				for _, l := range lines[first:] {
					if l == "" || strings.HasPrefix(l, " ") {
						break
					}
					shown += l
					if strings.HasSuffix(l, "…") {
						break
					}
					if shown != longAuthURL && ansi.StringWidth(l) != size.w {
						t.Errorf("a URL line before the last is %d columns wide in a %d-column window: %q", ansi.StringWidth(l), size.w, l)
					}
				}
				if strings.ContainsAny(shown, " \t") {
					t.Errorf("the URL's lines hold spaces: %q", shown)
				}
				cut := strings.TrimSuffix(shown, "…")
				if shown != longAuthURL && (cut == shown || !strings.HasPrefix(longAuthURL, cut)) {
					t.Errorf("the lines from the URL's first are not the URL or its start cut with …: %q\n%s", shown, ansi.Strip(v))
				}
				if size.h >= 24 && shown != longAuthURL {
					t.Errorf("the URL is cut short at %d×%d:\n%s", size.w, size.h, ansi.Strip(v))
				}
			})
		}
	}
}

// runTestPasteProgram shows the paste screen of the web flow, with
// longAuthURL, on this process's terminal until Esc is pressed.
func runTestPasteProgram() int {
	opts := testProgramOptions()
	opts.Flow, opts.Paste, opts.Headless, opts.HeadlessReason = FlowWeb, NewPasteInput(), true, "there is no display"
	opts.Opener = nil
	opts.Clipboard = func(string) error { return ErrNoClipboard }
	_, err := Run(context.Background(), opts, func(ctx context.Context, emit func(any)) (*Result, error) {
		emit(webflow.Event{Kind: webflow.KindAuthorize, URL: longAuthURL, ExpiresAt: opts.Clock.Now().Add(5 * time.Minute)})
		<-ctx.Done()
		return nil, ctx.Err()
	})
	if errors.Is(err, context.Canceled) {
		return 0
	}
	fmt.Fprintln(os.Stderr, err)
	return 1
}

// TestWebURLCopiesCleanlyInTmux shows the paste screen in an 80-column
// tmux window, the review's repro: the URL's lines as the terminal holds
// them (not joined) start at the first column and, with the line breaks
// taken out, are the URL. Then c, with tmux taking OSC 52 (set-clipboard
// on) and no clipboard on this machine: tmux's paste buffer holds the URL,
// and the note says it was sent to the terminal's clipboard.
func TestWebURLCopiesCleanlyInTmux(t *testing.T) {
	ts := startTmux(t, "paste", 80, 30)
	ts.run("set-option", "-g", "set-clipboard", "on")
	sc := ts.waitScreen("the URL", func(sc []string) bool { return strings.Contains(strings.Join(sc, "\n"), "esc cancel") })
	var shown []string
	for _, l := range sc {
		if len(shown) == 0 && !strings.HasPrefix(strings.TrimSpace(l), "http://127.0.0.1:59145/") {
			continue
		}
		if l == "" || len(shown) > 0 && strings.HasPrefix(l, " ") {
			break
		}
		shown = append(shown, l)
	}
	if strings.Join(shown, "") != longAuthURL || strings.HasPrefix(shown[0], " ") {
		t.Fatalf("the URL's lines:\n%s\nscreen:\n%s", strings.Join(shown, "\n"), strings.Join(sc, "\n"))
	}
	ts.run("send-keys", "-t", "ui", "C-y")
	ts.waitScreen("the note", func(sc []string) bool {
		return strings.Contains(strings.Join(sc, "\n"), "Sent to your terminal's clipboard")
	})
	if got := ts.run("show-buffer"); got != longAuthURL {
		t.Errorf("tmux's buffer holds %q, want the URL", got)
	}
	ts.run("send-keys", "-t", "ui", "Escape")
}
