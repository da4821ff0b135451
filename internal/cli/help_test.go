package cli

import (
	"strings"
	"testing"
)

// help COMMAND prints that command's help; an unknown topic is a usage
// error (exit 2), as an unknown command is.
func TestHelpCommand(t *testing.T) {
	h := newHarness(t, emuDefaults)
	if r := h.run("", "help", "login"); r.code != 0 || !strings.Contains(r.stdout, "ghlogin login [flags]") {
		t.Errorf("help login: exit %d\n%s", r.code, r.stdout)
	}
	if r := h.run("", "help", "oidc", "doctor"); r.code != 0 || !strings.Contains(r.stdout, "ghlogin oidc doctor") {
		t.Errorf("help oidc doctor: exit %d\n%s", r.code, r.stdout)
	}
	if r := h.run("", "help", "nosuch"); r.code != ExitUsage || r.stdout != "" || !strings.Contains(r.stderr, `no help topic "nosuch"`) {
		t.Errorf("help nosuch: exit %d %q %q", r.code, r.stdout, r.stderr)
	}
	if got := strings.Join(h.complete("help", "lo"), " "); got != "login logout" {
		t.Errorf("help lo<TAB>: %q", got)
	}
}
