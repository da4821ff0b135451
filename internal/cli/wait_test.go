package cli

import (
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// qrTop reports whether l is the first line of a QR code as plain and JSON
// modes print it without colour: the quiet zone, light modules drawn, all
// full blocks. No other line of a code is (its finder patterns are dark).
func qrTop(l string) bool {
	return len([]rune(l)) >= 21 && strings.Trim(l, "█") == ""
}

// isQRLine reports whether l is a line of a QR code in half blocks.
func isQRLine(l string) bool {
	return l != "" && strings.Trim(l, "█▀▄ ") == ""
}

// --wait --qr: each new code is printed as the first one was. In plain mode
// (stderr not a terminal): the code, the URL, a QR code and the waiting
// line, for every code, though the URL is the same each time. With --json:
// as many QR codes on stderr as code events on stdout. Nobody approves;
// the injected clock runs the 5 minutes out.
func TestLoginWaitPrintsEachNewCodeInFull(t *testing.T) {
	h := newHarness(t, emulator.Config{ExpiresIn: 2 * time.Minute})
	h.vars["GHLOGIN_STORE"] = "file"
	h.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
	r := h.run("", "login", "--no-browser", "--qr", "--wait", "5m", "--host", h.srv.URL)
	if r.code != ExitFailure || !strings.Contains(r.stderr, "within 5m") {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	lines := strings.Split(r.stderr, "\n")
	codes, qrs := 0, 0
	for i := 0; i < len(lines); i++ {
		if qrTop(lines[i]) {
			qrs++
		}
		if !strings.HasPrefix(lines[i], "First copy your one-time code: ") {
			continue
		}
		codes++
		j := i + 1
		if !strings.HasPrefix(lines[j], "Then open: "+h.srv.URL+"/login/device") {
			t.Fatalf("code %d: line %q after the code\n%s", codes, lines[j], r.stderr)
		}
		j++
		if strings.HasPrefix(lines[j], "(or open ") {
			j++
		}
		if !qrTop(lines[j]) {
			t.Fatalf("code %d: no QR code under the URL\n%s", codes, r.stderr)
		}
		for j < len(lines) && isQRLine(lines[j]) {
			j++
		}
		if want := "Waiting for approval (the code expires in 2 minutes)…"; lines[j] != want {
			t.Fatalf("code %d: %q after the QR code, want %q\n%s", codes, lines[j], want, r.stderr)
		}
	}
	if codes < 3 || qrs != codes {
		t.Errorf("%d codes, %d QR codes\n%s", codes, qrs, r.stderr)
	}

	h2 := newHarness(t, emulator.Config{ExpiresIn: 2 * time.Minute})
	h2.vars["GHLOGIN_STORE"] = "file"
	h2.vars["GHLOGIN_CLIENT_ID"] = emulator.DefaultClientID
	r = h2.run("", "login", "--no-browser", "--qr", "--json", "--wait", "5m", "--host", h2.srv.URL)
	events := 0
	for _, ev := range jsonLines(t, r.stdout) {
		if ev["event"] == "code" {
			events++
		}
	}
	qrs = 0
	for _, l := range strings.Split(r.stderr, "\n") {
		if qrTop(l) {
			qrs++
		}
	}
	if events < 3 || qrs != events {
		t.Errorf("%d code events, %d QR codes on stderr\n%s", events, qrs, r.stderr)
	}
}
