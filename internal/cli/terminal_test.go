package cli

import (
	"bytes"
	"context"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/store"
)

// stderrTerminal makes env's stderr a pseudo-terminal cols columns wide;
// the returned function closes it and returns what was written to it
// (lines ending in \n).
func stderrTerminal(t *testing.T, env *Env, cols uint16) (output func() string) {
	t.Helper()
	ptm, tty, err := pty.Open()
	if err != nil {
		t.Skipf("no pseudo-terminal: %v", err)
	}
	t.Cleanup(func() { ptm.Close() })
	if err := pty.Setsize(tty, &pty.Winsize{Rows: 50, Cols: cols}); err != nil {
		t.Fatal(err)
	}
	var raw bytes.Buffer
	drained := make(chan struct{})
	go func() {
		_, _ = io.Copy(&raw, ptm) // ends when the terminal's last writer closes it
		close(drained)
	}()
	env.Stderr, env.StderrTTY = tty, true
	var once bool
	return func() string {
		if !once {
			once = true
			tty.Close()
			<-drained
		}
		return strings.ReplaceAll(raw.String(), "\r\n", "\n")
	}
}

// On a terminal 60 columns wide, every paragraph the demo prints is wrapped
// at spaces to the width, the closing "While the demo runs…" one too
// (which the review saw folded by the terminal mid-word), and `ghlogin
// token` and `ghlogin status` stay whole. (The status lines it then shows
// are as that command prints them.)
func TestDemoWrapsToTheTerminal(t *testing.T) {
	const cols = 60
	h := newHarness(t, emuDefaults)
	env, out, _ := h.env("")
	output := stderrTerminal(t, env, cols)
	code := Main(context.Background(), []string{"demo"}, env)
	text := output()
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
		if strings.HasSuffix(l, "`ghlogin") {
			t.Errorf("a command line is broken: %q", l)
		}
		// What `ghlogin status` says is shown as that command prints it.
		if strings.HasSuffix(l, "says:") {
			inStatus = true
		}
	}
	flat := strings.Join(strings.Fields(text), " ")
	for _, want := range []string{"While the demo runs, `ghlogin token` prints the stored token (gho_…", "and `ghlogin status` says:", "nothing was saved"} {
		if !strings.Contains(flat, want) {
			t.Errorf("the output lacks %q:\n%s", want, text)
		}
	}
}

// The question a login asks on a terminal when the keyring cannot be used
// names the host in its config set command as the error does with nobody
// to ask (--host http://127.0.0.1:PORT for the plain-http emulator), and
// at 40 columns (where the review saw "--host 127.0.0.1:5914⏎5") breaks
// that command at its spaces only, the flag with its value.
func TestStoreQuestionOnANarrowTerminal(t *testing.T) {
	const cols = 40
	h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
	h.kernel = storefake.New(store.BackendKernel, nil)
	h.kr.FailWith("", &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}})
	env, _, _ := h.env("2\n")
	env.StdinTTY = true
	output := stderrTerminal(t, env, cols)
	code := Main(context.Background(), []string{"login", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID}, env)
	text := output()
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, text)
	}
	q := text[:strings.Index(text, "Choose 1-3:")]
	cmd := "ghlogin config set --host http://" + h.host + " store NAME"
	if flat := strings.Join(strings.Fields(q), " "); !strings.Contains(flat, cmd) {
		t.Errorf("the question lacks %q:\n%s", cmd, q)
	}
	if !strings.Contains(q, "--host http://"+h.host+" ") && !strings.Contains(q, "--host http://"+h.host+"\n") {
		t.Errorf("--host and its value are not on one line:\n%s", q)
	}
	words := map[string]bool{}
	for _, l := range strings.Split(q, "\n") {
		// A word wider than the terminal (the file store's path) is left
		// for it to fold; a line of narrower words could have been broken.
		longest := 0
		for _, f := range strings.Fields(l) {
			longest = max(longest, ansi.StringWidth(f))
		}
		if w := ansi.StringWidth(l); w > cols && longest < cols-6 {
			t.Errorf("a line of %d columns on a %d-column terminal: %q", w, cols, l)
		}
		for _, f := range strings.Fields(l) {
			words[strings.TrimRight(f, ")")] = true
		}
	}
	for _, f := range strings.Fields(cmd) {
		if !words[f] {
			t.Errorf("%q of the command is broken over two lines:\n%s", f, q)
		}
	}
	if _, err := os.Stat(h.dir); err != nil {
		t.Errorf("the login kept nothing: %v", err)
	}
}
