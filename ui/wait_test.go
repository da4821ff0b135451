package ui

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"

	"github.com/ghlogin/ghlogin/deviceflow"
)

// osc52For is the OSC 52 sequence for text, plain and wrapped for tmux's
// passthrough, built here from the xterm documentation and tmux's rules
// (as the constants osc52Plain and osc52Tmux are), not with the library
// under test.
func osc52For(text string) (plain, tmux string) {
	b := base64.StdEncoding.EncodeToString([]byte(text))
	return "\x1b]52;c;" + b + "\x07", "\x1bPtmux;\x1b\x1b]52;c;" + b + "\x07\x1b\\"
}

// TestOSC52ForMatchesTheCodeConstants checks the helper against the
// sequences written out by hand for the code.
func TestOSC52ForMatchesTheCodeConstants(t *testing.T) {
	if p, x := osc52For("WDJB-MJHT"); p != osc52Plain || x != osc52Tmux {
		t.Fatalf("osc52For = %q, %q", p, x)
	}
}

// TestTUINewCodeUnderWait is --wait in the TUI: when the code expired and a
// new one arrives, the screen shows the new code, its countdown from the
// start and the QR code, and no longer what copying the old one did; with
// --clipboard the new code is copied too.
func TestTUINewCodeUnderWait(t *testing.T) {
	for _, copyAtOnce := range []bool{false, true} {
		t.Run(fmt.Sprintf("clipboard=%v", copyAtOnce), func(t *testing.T) {
			term := &bytes.Buffer{}
			clip := &fakeClipboard{}
			tm := newTestModel(t, Options{Headless: true, HeadlessReason: "this is an SSH session", CopyCode: copyAtOnce, Terminal: term, Getenv: env(nil), NoHyperlink: true})
			tm.model.copier.local = clip.write
			tm.send(tea.WindowSizeMsg{Width: 120, Height: 40})
			send := func(c *deviceflow.Code) {
				if cmd := tm.send(eventMsg{toEvent(deviceflow.Event{Kind: deviceflow.KindCode, Code: c})}); cmd != nil {
					tm.send(cmd())
				}
			}
			first := testCode(tm.clock.Now(), false)
			send(first)
			tm.mustShow("│ W │", "Scan to open on your phone", "code expires in 15:00")
			tm.clock.Advance(15*time.Minute - time.Second)
			tm.send(tickMsg{})
			if !copyAtOnce {
				tm.press("c") // a second before it expires: the note is still up
			}
			tm.mustShow("✓ Copied")
			tm.clock.Advance(time.Second)
			tm.mustShow("code expired")

			second := testCode(tm.clock.Now(), false)
			second.UserCode = "ABCD-EFGH"
			send(second)
			tm.mustShow("│ A │", "│ E │", "Scan to open on your phone", "code expires in 15:00")
			tm.mustNotShow("│ W │", "code expired")
			if copyAtOnce {
				tm.mustShow("✓ Copied")
				if len(clip.got) != 2 || clip.got[1] != "ABCD-EFGH" {
					t.Errorf("the clipboard got %q", clip.got)
				}
				p1, _ := osc52For("WDJB-MJHT")
				p2, _ := osc52For("ABCD-EFGH")
				if term.String() != p1+p2 {
					t.Errorf("the terminal got %q", term.String())
				}
			} else {
				tm.mustNotShow("Copied")
				tm.press("c")
				if len(clip.got) != 2 || clip.got[1] != "ABCD-EFGH" {
					t.Errorf("c copied %q", clip.got)
				}
			}
		})
	}
}
