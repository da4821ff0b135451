package cli

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// On a terminal 60 columns wide, every paragraph the demo prints is wrapped
// at spaces to the width, the closing "While the demo runs…" one too
// (which the review saw folded by the terminal mid-word), and `ghlogin
// token` and `ghlogin status` stay whole. (The status lines it then shows
// are as that command prints them.)
func TestDemoWrapsToTheTerminal(t *testing.T) {
	const cols = 60
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	defer ptm.Close()
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 50, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	drained := make(chan struct{})
	go func() {
		_, _ = io.Copy(&raw, ptm) // ends when the terminal's last writer closes it
		close(drained)
	}()

	h := newHarness(t, emuDefaults)
	env, out, _ := h.env("")
	env.Stderr, env.StderrTTY = tty, true
	code := Main(context.Background(), []string{"demo"}, env)
	tty.Close()
	<-drained
	text := strings.ReplaceAll(raw.String(), "\r\n", "\n")
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, text)
	}
	if out.Len() != 0 {
		t.Errorf("stdout %q", out.String())
	}
	inStatus := false
	for _, l := range strings.Split(text, "\n") {
		if l == "" {
			inStatus = false
		}
		if w := ansi.StringWidth(l); w > cols && !inStatus {
			t.Errorf("a line of %d columns on a %d-column terminal: %q", w, cols, l)
		}
		// What `ghlogin status` says is shown as that command prints it.
		if strings.HasSuffix(l, "says:") {
			inStatus = true
		}
		if strings.HasSuffix(l, "`ghlogin") {
			t.Errorf("a command line is broken: %q", l)
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"While the demo runs, `ghlogin token` prints the stored token (gho_…", "and `ghlogin status` says:", "nothing was saved"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
}
