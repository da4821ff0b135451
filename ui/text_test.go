package ui

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/charmbracelet/x/ansi"
)

func TestWrap(t *testing.T) {
	cases := []struct {
		text  string
		width int
		want  string
	}{
		{"ghlogin demo: a GitHub emulator is running at http://127.0.0.1:37821 (nothing leaves this machine).", 40,
			"ghlogin demo: a GitHub emulator is\nrunning at http://127.0.0.1:37821\n(nothing leaves this machine)."},
		// Breaks at spaces only: a flag and a hyphenated word stay whole.
		{"Use the client ID Iv1.ghlogin-emulator with --client-id or the host's client_id setting", 30,
			"Use the client ID\nIv1.ghlogin-emulator with\n--client-id or the host's\nclient_id setting"},
		// A command line wider than the terminal breaks at its spaces, a
		// flag staying with its value where the two fit, never inside a
		// word (where the terminal would fold it).
		{"Log in: ghlogin login --host http://127.0.0.1:8787 --client-id Iv1.ghlogin-emulator", 30,
			"Log in: ghlogin login\n--host http://127.0.0.1:8787\n--client-id\nIv1.ghlogin-emulator"},
		{"Where should ghlogin keep it instead? (remembered for 127.0.0.1:59145; change it with: ghlogin config set --host http://127.0.0.1:59145 store NAME)", 40,
			"Where should ghlogin keep it instead?\n(remembered for 127.0.0.1:59145; change\nit with: ghlogin config set\n--host http://127.0.0.1:59145 store\nNAME)"},
		{"Then log in again: ghlogin login --host 127.0.0.1:18788. It expires in 8 hours.", 40,
			"Then log in again:\nghlogin login --host 127.0.0.1:18788. It\nexpires in 8 hours."},
		{"log in as alice (ghlogin login) or remove the binding (ghlogin bind --remove --owner my-org)", 40,
			"log in as alice (ghlogin login) or\nremove the binding\n(ghlogin bind --remove --owner my-org)"},
		// A command line in `quotes` stays whole too.
		{"While the demo runs, `ghlogin token` prints the stored token (gho_…, 40 characters; not shown here), and `ghlogin status` says:", 24,
			"While the demo runs,\n`ghlogin token` prints\nthe stored token (gho_…,\n40 characters; not shown\nhere), and\n`ghlogin status` says:"},
		// "ghlogin" in prose starts no command line.
		{"Authorize ghlogin in your browser on this page", 25, "Authorize ghlogin in your\nbrowser on this page"},
		// A word wider than the terminal stays whole, for it to fold.
		{"Keep the token in /home/someone/.config/ghlogin/credentials.json instead?", 20,
			"Keep the token in\n/home/someone/.config/ghlogin/credentials.json\ninstead?"},
		// Line breaks in the text are kept.
		{"The OS keyring is not available.\nKeep the token in a file?", 80,
			"The OS keyring is not available.\nKeep the token in a file?"},
		{"not wrapped when the width is unknown", 0, "not wrapped when the width is unknown"},
	}
	for _, c := range cases {
		got := Wrap(c.text, c.width)
		if got != c.want {
			t.Errorf("Wrap(%q, %d) =\n%s\nwant\n%s", c.text, c.width, got, c.want)
		}
		for _, l := range strings.Split(got, "\n") {
			if c.width > 0 && ansi.StringWidth(l) > c.width && strings.Contains(l, " ") && !strings.HasPrefix(l, "ghlogin ") {
				t.Errorf("Wrap(%q, %d): line %q is too wide and could have been broken", c.text, c.width, l)
			}
		}
	}
}

func TestTerminalWidthOfANonTerminal(t *testing.T) {
	var b bytes.Buffer
	if w := TerminalWidth(&b); w != 0 {
		t.Errorf("TerminalWidth(buffer) = %d", w)
	}
	if err := PrintWrapped(&b, strings.Repeat("word ", 40)); err != nil || strings.Count(b.String(), "\n") != 1 {
		t.Errorf("PrintWrapped to a buffer wrapped or failed (%v): %q", err, b.String())
	}
}

func TestConfirmWidth(t *testing.T) {
	var out bytes.Buffer
	q := "The OS keyring is not available (no keyring service on this machine).\nKeep the token in /x/credentials.json instead (a file readable only by you)?"
	ok, err := ConfirmWidth(context.Background(), strings.NewReader("y\n"), &out, q, 40)
	if err != nil || !ok {
		t.Fatalf("ConfirmWidth = %v, %v", ok, err)
	}
	want := "The OS keyring is not available (no\nkeyring service on this machine).\nKeep the token in /x/credentials.json\ninstead (a file readable only by you)?\n[y/N] "
	if out.String() != want {
		t.Errorf("prompt\n%q\nwant\n%q", out.String(), want)
	}
	// Server-chosen text in a question cannot move the cursor.
	out.Reset()
	if _, err := ConfirmWidth(context.Background(), strings.NewReader("n\n"), &out, "Use \x1b[2Jthis?", 40); err != nil || strings.Contains(out.String(), "\x1b") {
		t.Errorf("escape sequence in the prompt: %q (%v)", out.String(), err)
	}
}
