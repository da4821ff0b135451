package ui

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ghlogin/ghlogin/deviceflow"
)

// The OSC 52 sequences for "WDJB-MJHT" (base64 V0RKQi1NSkhU), written out
// by hand from the xterm control sequences documentation and tmux's
// passthrough rules, not computed with the library under test.
const (
	osc52Plain  = "\x1b]52;c;V0RKQi1NSkhU\x07"
	osc52Tmux   = "\x1bPtmux;\x1b\x1b]52;c;V0RKQi1NSkhU\x07\x1b\\"
	osc52Screen = "\x1bP\x1b]52;c;V0RKQi1NSkhU\x07\x1b\\"
)

// fakeClipboard is this machine's clipboard in tests: present (it records
// what it was given), absent (ErrNoClipboard), or failing.
type fakeClipboard struct {
	absent bool
	err    error
	got    []string
}

func (f *fakeClipboard) write(text string) error {
	switch {
	case f.absent:
		return fmt.Errorf("looking for a clipboard: %w", ErrNoClipboard)
	case f.err != nil:
		return f.err
	}
	f.got = append(f.got, text)
	return nil
}

// failingWriter is a terminal that cannot be written to.
type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("input/output error") }

func env(kv map[string]string) func(string) string {
	return func(k string) string { return kv[k] }
}

func TestOSC52Sequences(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{nil, osc52Plain},
		// In tmux the wrapped sequence reaches the outer terminal when
		// allow-passthrough is on; the plain one is for tmux itself.
		{map[string]string{"TMUX": "/tmp/tmux-0/default,1,0"}, osc52Plain + osc52Tmux},
		{map[string]string{"STY": "1234.pts-0.host"}, osc52Plain + osc52Screen},
	}
	for _, c := range cases {
		if got := osc52Sequences("WDJB-MJHT", env(c.env)); got != c.want {
			t.Errorf("env %v: %q, want %q", c.env, got, c.want)
		}
	}
}

// TestCopyTellsWhatWasDone copies with each combination of a local
// clipboard (present, absent, failing) and a terminal (a writer, none, one
// that fails) and checks the exact bytes sent and the exact messages.
func TestCopyTellsWhatWasDone(t *testing.T) {
	cases := []struct {
		name      string
		clip      *fakeClipboard
		term      string // "writer", "none", "failing"
		tmux      bool
		wantBytes string
		short     string
		sentence  string
	}{
		{"clipboard and terminal", &fakeClipboard{}, "writer", false, osc52Plain,
			"✓ Copied", "Copied the code to the clipboard."},
		{"clipboard and terminal in tmux", &fakeClipboard{}, "writer", true, osc52Plain + osc52Tmux,
			"✓ Copied", "Copied the code to the clipboard."},
		{"clipboard only", &fakeClipboard{}, "none", false, "",
			"✓ Copied", "Copied the code to the clipboard."},
		{"no clipboard, terminal", &fakeClipboard{absent: true}, "writer", false, osc52Plain,
			"Sent to your terminal's clipboard", "Sent the code to your terminal's clipboard."},
		{"no clipboard, terminal in tmux", &fakeClipboard{absent: true}, "writer", true, osc52Plain + osc52Tmux,
			"Sent to your terminal's clipboard", "Sent the code to your terminal's clipboard."},
		{"clipboard fails, terminal", &fakeClipboard{err: errors.New("xclip: Error: Can't open display")}, "writer", false, osc52Plain,
			"Sent to your terminal's clipboard", "Sent the code to your terminal's clipboard."},
		{"no clipboard, no terminal", &fakeClipboard{absent: true}, "none", false, "",
			"✗ Could not copy: looking for a clipboard: " + ErrNoClipboard.Error(),
			"Could not copy the code: looking for a clipboard: " + ErrNoClipboard.Error() + "."},
		{"no clipboard, terminal fails", &fakeClipboard{absent: true}, "failing", false, "",
			"✗ Could not copy: looking for a clipboard: " + ErrNoClipboard.Error() + "; writing to the terminal: input/output error",
			"Could not copy the code: looking for a clipboard: " + ErrNoClipboard.Error() + "; writing to the terminal: input/output error."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := map[string]string{}
			if c.tmux {
				e["TMUX"] = "/tmp/tmux-0/default,1,0"
			}
			var buf bytes.Buffer
			cp := copier{local: c.clip.write, getenv: env(e)}
			switch c.term {
			case "writer":
				cp.terminal = &buf
			case "failing":
				cp.terminal = failingWriter{}
			}
			r := cp.copy("WDJB-MJHT")
			if buf.String() != c.wantBytes {
				t.Errorf("the terminal got %q, want %q", buf.String(), c.wantBytes)
			}
			if msg, _ := r.short(); msg != c.short {
				t.Errorf("short = %q, want %q", msg, c.short)
			}
			if got := r.sentence(); got != c.sentence {
				t.Errorf("sentence = %q, want %q", got, c.sentence)
			}
			if !c.clip.absent && c.clip.err == nil && (len(c.clip.got) != 1 || c.clip.got[0] != "WDJB-MJHT") {
				t.Errorf("the clipboard got %q", c.clip.got)
			}
		})
	}
}

// TestCopierPerMode checks where OSC 52 goes by default: the TUI's output in
// TUI mode; nowhere in plain mode when Err is not a terminal; nowhere under
// TERM=dumb, which would print it.
func TestCopierPerMode(t *testing.T) {
	var out, errb bytes.Buffer
	base := Options{Out: &out, Err: &errb, Getenv: env(map[string]string{"TERM": "xterm-256color"})}

	o := base
	o.Mode = TUI
	if c := o.withDefaults().copier(); c.terminal != &out {
		t.Errorf("TUI: OSC 52 goes to %v, want Out", c.terminal)
	}
	o.Mode = Plain
	if c := o.withDefaults().copier(); c.terminal != nil {
		t.Errorf("plain with a buffer for Err: OSC 52 goes to %v, want nowhere", c.terminal)
	}
	var term bytes.Buffer
	o.Terminal = &term
	if c := o.withDefaults().copier(); c.terminal != &term {
		t.Errorf("plain with Terminal set: OSC 52 goes to %v", c.terminal)
	}
	o.Mode = TUI
	o.Getenv = env(map[string]string{"TERM": "dumb"})
	if c := o.withDefaults().copier(); c.terminal != nil {
		t.Errorf("TERM=dumb: OSC 52 goes to %v, want nowhere", c.terminal)
	}
}

// TestTUICopyMessages presses c with a fake clipboard present and absent,
// and checks the exact note and the exact bytes the terminal got.
func TestTUICopyMessages(t *testing.T) {
	for _, c := range []struct {
		name string
		clip *fakeClipboard
		tmux bool
		want string
		seqs string
	}{
		{"clipboard", &fakeClipboard{}, false, "✓ Copied", osc52Plain},
		{"no clipboard", &fakeClipboard{absent: true}, false, "Sent to your terminal's clipboard", osc52Plain},
		{"no clipboard in tmux", &fakeClipboard{absent: true}, true, "Sent to your terminal's clipboard", osc52Plain + osc52Tmux},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := map[string]string{"TERM": "xterm-256color"}
			if c.tmux {
				e["TMUX"] = "/tmp/tmux-0/default,1,0"
			}
			term := &bytes.Buffer{}
			tm := newTestModel(t, Options{Getenv: env(e), Terminal: term})
			tm.model.copier.local = c.clip.write
			tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
			if term.Len() != 0 {
				t.Fatalf("the terminal got %q before c was pressed", term.String())
			}
			tm.press("c")
			tm.mustShow(c.want)
			if c.want != "✓ Copied" {
				tm.mustNotShow("Copied")
			}
			if term.String() != c.seqs {
				t.Errorf("the terminal got %q, want %q", term.String(), c.seqs)
			}
		})
	}

	// Nothing could take it: the note says why, in full, at 40 columns.
	tm := newTestModel(t, Options{Terminal: failingWriter{}})
	tm.model.copier.local = (&fakeClipboard{absent: true}).write
	tm.send(tea.WindowSizeMsg{Width: 40, Height: 24})
	tm.emit(deviceflow.Event{Kind: deviceflow.KindCode, Code: testCode(tm.clock.Now(), false)})
	tm.press("c")
	tm.mustShow("✗ Could not copy: looking for a clipboard: no clipboard tool", "writing to the terminal: input/output error")
	assertFits(t, tm.View(), 40, 24)
}

// TestCopyCodeAtOnce is --clipboard: the code is copied when it arrives,
// without a key, and what was done is said the same way in every mode.
func TestCopyCodeAtOnce(t *testing.T) {
	t.Run("tui", func(t *testing.T) {
		term := &bytes.Buffer{}
		clip := &fakeClipboard{}
		tm := newTestModel(t, Options{CopyCode: true, Terminal: term, Getenv: env(nil)})
		tm.model.copier.local = clip.write
		cmd := tm.send(eventMsg{Code{UserCode: "WDJB-MJHT", VerificationURI: "https://github.com/login/device", ExpiresAt: tm.clock.Now().Add(15 * time.Minute)}})
		if cmd == nil {
			t.Fatal("the code arrived and no copy was started")
		}
		tm.send(cmd())
		tm.mustShow("✓ Copied")
		// It stays: the person may look at the screen later than 2 s.
		tm.clock.Advance(time.Hour)
		tm.send(tickMsg{})
		tm.mustShow("✓ Copied")
		if len(clip.got) != 1 || clip.got[0] != "WDJB-MJHT" || term.String() != osc52Plain {
			t.Errorf("clipboard %q, terminal %q", clip.got, term.String())
		}
		// A second code event does not copy again.
		if cmd := tm.send(eventMsg{Pending{}}); cmd != nil {
			t.Error("copied again on a later event")
		}
	})

	for _, c := range []struct {
		name     string
		clip     *fakeClipboard
		terminal bool
		want     string
		seqs     string
	}{
		{"clipboard", &fakeClipboard{}, true, "Copied the code to the clipboard.", osc52Plain},
		{"no clipboard", &fakeClipboard{absent: true}, true, "Sent the code to your terminal's clipboard.", osc52Plain},
		{"neither", &fakeClipboard{absent: true}, false, "Could not copy the code: looking for a clipboard: " + ErrNoClipboard.Error() + ".", ""},
	} {
		for _, mode := range []Mode{Plain, JSON} {
			t.Run(mode.String()+"/"+c.name, func(t *testing.T) {
				var out, errb, term bytes.Buffer
				opts := Options{Mode: mode, Host: "github.com", Out: &out, Err: &errb, Clock: newFakeNow(),
					CopyCode: true, Clipboard: c.clip.write, Getenv: env(nil)}
				if c.terminal {
					opts.Terminal = &term
				}
				code := testCode(newFakeNow().Now(), false)
				_, err := Run(context.Background(), opts, scriptTask([]any{
					deviceflow.Event{Kind: deviceflow.KindCode, Code: code},
					deviceflow.Event{Kind: deviceflow.KindCode, Code: code}, // the same code again: copied once
				}, octocat, nil))
				if err != nil {
					t.Fatal(err)
				}
				if strings.Count(errb.String(), c.want+"\n") != 1 {
					t.Errorf("stderr lacks %q once:\n%s", c.want, errb.String())
				}
				if term.String() != c.seqs {
					t.Errorf("the terminal got %q, want %q", term.String(), c.seqs)
				}
				if mode == JSON && strings.Contains(out.String(), "clipboard") {
					t.Errorf("stdout holds more than JSON events: %q", out.String())
				}
				if mode == Plain && !strings.HasPrefix(errb.String(), "First copy your one-time code: WDJB-MJHT\n"+c.want+"\n") {
					t.Errorf("plain output:\n%s", errb.String())
				}
			})
		}
	}
}
