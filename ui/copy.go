package ui

import (
	"fmt"
	"io"

	"github.com/aymanbagabas/go-osc52/v2"

	"github.com/ghlogin/ghlogin/internal/safe"
)

// copier copies the user code in every way this session allows: an OSC 52
// sequence to the terminal (which reaches the person's own clipboard over
// SSH, where the terminal allows it), and this machine's clipboard when it
// has one.
type copier struct {
	local    func(string) error  // this machine's clipboard
	terminal io.Writer           // where OSC 52 goes; nil means nowhere
	getenv   func(string) string // reads TMUX and STY
}

// copied is what one copy did, so that the message says only what is true:
// a terminal never confirms an OSC 52 sequence, so only a local clipboard
// that took the text makes it "copied".
type copied struct {
	local    bool  // this machine's clipboard took the text
	sent     bool  // an OSC 52 sequence was written to the terminal
	localErr error // why the local clipboard did not take it
	sendErr  error // why the sequence could not be written
}

// osc52Sequences returns the sequences that ask the terminal to put text on its
// clipboard: plain OSC 52, and inside tmux or screen the same sequence
// wrapped to pass through to the outer terminal as well. tmux drops the
// wrapped one unless allow-passthrough is on, and handles the plain one
// itself when set-clipboard allows it, so both are sent.
func osc52Sequences(text string, getenv func(string) string) string {
	seq := osc52.New(text)
	s := seq.String()
	switch {
	case getenv("TMUX") != "":
		s += seq.Tmux().String()
	case getenv("STY") != "":
		s += seq.Screen().String()
	}
	return s
}

// copy copies text and says what was done.
func (c copier) copy(text string) copied {
	var r copied
	if c.terminal != nil {
		// One Write, so the sequences are not split by a frame of the TUI.
		_, err := io.WriteString(c.terminal, osc52Sequences(text, c.getenv))
		r.sent, r.sendErr = err == nil, err
	}
	if c.local == nil {
		r.localErr = ErrNoClipboard
	} else if err := c.local(text); err != nil {
		r.localErr = err
	} else {
		r.local = true
	}
	return r
}

// ok reports whether the text went anywhere.
func (r copied) ok() bool { return r.local || r.sent }

// reason says why nothing was copied: the local clipboard's error, and the
// terminal's when writing to it failed.
func (r copied) reason() string {
	s := "nothing could take it"
	if r.localErr != nil {
		s = safe.Text(r.localErr.Error())
	}
	if r.sendErr != nil {
		s += "; writing to the terminal: " + safe.Text(r.sendErr.Error())
	}
	return s
}

// short is the TUI's note: "✓ Copied" only when this machine's clipboard
// took the code.
func (r copied) short() (msg string, bad bool) {
	switch {
	case r.local:
		return "✓ Copied", false
	case r.sent:
		return "Sent to your terminal's clipboard", false
	}
	return "✗ Could not copy: " + r.reason(), true
}

// sentence is the line plain and JSON modes print.
func (r copied) sentence() string {
	switch {
	case r.local:
		return "Copied the code to the clipboard."
	case r.sent:
		return "Sent the code to your terminal's clipboard."
	}
	return fmt.Sprintf("Could not copy the code: %s.", r.reason())
}
