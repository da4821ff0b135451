package ui

import (
	"context"
	"io"
	"os"
	"sync"

	"github.com/ghlogin/ghlogin/webflow"
)

// PasteInput carries what the person pastes during a web login whose
// browser is on another device (paste-back, webflow.Config.Paste): the
// address the browser ended on, or just its code. Run gives it its source
// for the mode: in the TUI the web screen's text field, whose lines are
// sent when Enter is pressed; in plain and JSON modes lines read from
// Options.In (standard input: a terminal, or one line under --json). The
// task passes Read to the flow as its webflow.PasteFunc.
type PasteInput struct {
	mu  sync.Mutex
	src webflow.PasteFunc
	// lines are the TUI's entered lines.
	lines chan string
}

// NewPasteInput returns a PasteInput for Options.Paste.
func NewPasteInput() *PasteInput {
	return &PasteInput{lines: make(chan string)}
}

// Read returns the next line pasted; it is a webflow.PasteFunc. It returns
// ctx.Err() when ctx is done first, and io.EOF when no more lines can come
// (input ended, or Run has not given it a source).
func (p *PasteInput) Read(ctx context.Context) (string, error) {
	p.mu.Lock()
	src := p.src
	p.mu.Unlock()
	if src == nil {
		return "", io.EOF
	}
	return src(ctx)
}

func (p *PasteInput) setSource(f webflow.PasteFunc) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.src = f
}

// fromTUI makes the TUI's text field the source.
func (p *PasteInput) fromTUI() {
	p.setSource(func(ctx context.Context) (string, error) {
		select {
		case l := <-p.lines:
			return l, nil
		case <-ctx.Done():
			return "", ctx.Err()
		}
	})
}

// fromReader makes lines read from in (os.Stdin when nil) the source, and
// returns the function that stops reading (webflow.LinePaster.Close).
func (p *PasteInput) fromReader(in io.Reader) func() {
	if in == nil {
		in = os.Stdin
	}
	lp := webflow.NewLinePaster(in)
	p.setSource(lp.Paste)
	return func() { _ = lp.Close() }
}

// PasteAccepted says a pasted address (or code) passed the checks and its
// code is being exchanged.
type PasteAccepted struct{}

// PasteRejected says a paste was rejected: Err (a *webflow.PasteError)
// says why, and whether another paste is asked for (Retryable).
type PasteRejected struct {
	Err *webflow.PasteError
}

func (e PasteAccepted) renderTo(r renderer) { r.onPasteAccepted(e) }
func (e PasteRejected) renderTo(r renderer) { r.onPasteRejected(e) }

// pastePrompt is what the person is asked, in every mode.
const pastePrompt = "Paste the address your browser ended on (or just the code)"

// rejectedText says why a paste was rejected and what happens next.
func rejectedText(e *webflow.PasteError) string {
	if e == nil {
		return "Not accepted."
	}
	s := "Not accepted: " + e.Reason
	if e.Err != nil {
		s += " (" + e.Err.Error() + ")"
	}
	if e.Retryable() && e.Max > 0 {
		left := e.Max - e.Attempt
		tries := "tries"
		if left == 1 {
			tries = "try"
		}
		s += ". Paste it again (" + itoa(left) + " " + tries + " left)."
	} else if e.Retryable() {
		s += ". Paste it again."
	}
	return s
}

func itoa(n int) string {
	if n < 0 {
		return "-" + itoa(-n)
	}
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}
