package e2e

import (
	"bytes"
	"io"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// onPTY is ghlogin running with its standard streams on a pseudo-terminal,
// as a person runs it: what the terminal shows is collected from the
// terminal's master side, and typing is writing to it.
type onPTY struct {
	cmd    *exec.Cmd
	master *os.File
	mu     sync.Mutex
	screen bytes.Buffer
	read   chan struct{} // closed when the master side reads EOF
	done   chan struct{} // closed when the process has exited
}

// startPTY runs ghlogin with env on a new 24×80 pseudo-terminal.
func startPTY(t *testing.T, env []string, args ...string) *onPTY {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	master, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatalf("starting ghlogin on a pseudo-terminal: %v", err)
	}
	p := &onPTY{cmd: cmd, master: master, read: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		answered := 0
		for {
			n, err := master.Read(buf)
			p.mu.Lock()
			p.screen.Write(buf[:n])
			// Answer cursor position requests as a terminal does (the
			// UI library asks once at start, and waits for the answer).
			asked := strings.Count(p.screen.String(), "\x1b[6n")
			p.mu.Unlock()
			for ; answered < asked; answered++ {
				_, _ = io.WriteString(master, "\x1b[1;1R")
			}
			if err != nil {
				return // EIO once the process and its terminal are gone
			}
		}
	}()
	go func() { _ = cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
		master.Close()
	})
	return p
}

// output is everything the terminal received so far.
func (p *onPTY) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.screen.String()
}

// waitFor waits until the terminal has shown want.
func (p *onPTY) waitFor(t *testing.T, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !strings.Contains(p.output(), want) {
		if time.Now().After(deadline) {
			t.Fatalf("the terminal did not show %q within %v; it shows:\n%q", want, timeout, p.output())
		}
		select {
		case <-p.done:
			if !strings.Contains(p.output(), want) {
				<-p.read
				if !strings.Contains(p.output(), want) {
					t.Fatalf("ghlogin exited without showing %q; the terminal shows:\n%q", want, p.output())
				}
			}
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// echoOff waits until the terminal no longer echoes what is typed.
func (p *onPTY) echoOff(t *testing.T, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatalf("reading the terminal's settings: %v", err)
		}
		if tio.Lflag&unix.ECHO == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("echo is still on after %v; the terminal shows:\n%q", timeout, p.output())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// wait waits for ghlogin to exit, and for the terminal's last output.
func (p *onPTY) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		t.Fatalf("ghlogin did not exit within %v; the terminal shows:\n%q", timeout, p.output())
	}
	select {
	case <-p.read:
	case <-time.After(5 * time.Second):
	}
	return p.cmd.ProcessState.ExitCode()
}

// A token pasted at `login --with-token` on a terminal is read with echo
// off: it never appears on the terminal, and is stored.
func TestWithTokenOnTerminalIsNotEchoed(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	s := newSandbox(t)
	tok := issueToken(t, srv, "octocat", "repo")
	p := startPTY(t, s.env, "login", "--with-token", "--host", srv.URL())
	p.waitFor(t, "(it is not shown)", 20*time.Second)
	p.echoOff(t, 10*time.Second)
	if _, err := io.WriteString(p.master, tok+"\r"); err != nil {
		t.Fatal(err)
	}
	if code := p.wait(t, 30*time.Second); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%q", code, p.output())
	}
	out := p.output()
	if strings.Contains(out, tok) || strings.Contains(out, tok[:12]) {
		t.Fatalf("the token appeared on the terminal:\n%q", out)
	}
	if !strings.Contains(out, "Logged in to "+emuHost(srv)+" as octocat") {
		t.Errorf("no success line:\n%q", out)
	}
	if got := s.mustToken("--host", srv.URL()); got != tok {
		t.Error("the token typed is not the one stored")
	}
	// The terminal's echo is back on for the shell.
	tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
	if err == nil && tio.Lflag&unix.ECHO == 0 {
		t.Error("echo was left off")
	}
}

// escapeSeq matches the escape sequences a terminal UI uses to move the
// cursor, clear the screen or switch screens.
var escapeSeq = regexp.MustCompile(`\x1b\[[0-9;?]*[ABCDEFGHJKSTfhlsu]`)

// Under TERM=dumb a login on a terminal prints plain lines: no cursor
// movement, no screen clearing, no alternate screen, no OSC sequences.
func TestDumbTerminalGetsLines(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second, AutoApproveAfter: 1})
	s := newSandbox(t)
	env := append(s.with("TERM=dumb"), "NO_COLOR=")
	p := startPTY(t, env, "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--clipboard")
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("exit %d; the terminal shows:\n%q", code, p.output())
	}
	out := p.output()
	if m := escapeSeq.FindString(out); m != "" {
		t.Errorf("a cursor or screen sequence %q reached a dumb terminal:\n%q", m, out)
	}
	if strings.Contains(out, "\x1b]") {
		t.Errorf("an OSC sequence reached a dumb terminal:\n%q", out)
	}
	for _, want := range []string{"First copy your one-time code: ", "Then open: " + srv.URL() + "/login/device", "Logged in to " + emuHost(srv)} {
		if !strings.Contains(out, want) {
			t.Errorf("the terminal lacks %q:\n%q", want, out)
		}
	}
	// The same login with TERM=xterm draws the full-screen UI: the test
	// above would see it.
	s2 := newSandbox(t)
	p = startPTY(t, append(s2.with("TERM=xterm-256color"), "NO_COLOR="), "login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID)
	if code := p.wait(t, 60*time.Second); code != 0 {
		t.Fatalf("xterm: exit %d; the terminal shows:\n%q", code, p.output())
	}
	if !escapeSeq.MatchString(p.output()) {
		t.Errorf("xterm: no terminal UI was drawn:\n%q", p.output())
	}
}

// terminalSane checks that the terminal is back in its ordinary line mode:
// echo on and lines edited by the terminal (canonical mode).
func (p *onPTY) terminalSane(t *testing.T) {
	t.Helper()
	tio, err := unix.IoctlGetTermios(int(p.master.Fd()), unix.TCGETS)
	if err != nil {
		t.Fatalf("reading the terminal's settings: %v", err)
	}
	if tio.Lflag&unix.ECHO == 0 || tio.Lflag&unix.ICANON == 0 {
		t.Errorf("the terminal was left with echo or line mode off (lflag %#x)", tio.Lflag)
	}
}

// Ctrl-C at every question ghlogin asks on a terminal ends ghlogin at once
// with exit 130 and "error: cancelled", and leaves the terminal as it was:
// the store question (keyring unavailable), and the hidden reads of a
// token and of a client secret.
func TestCtrlCAtEveryPrompt(t *testing.T) {
	srv := startEmulator(t, emulator.Config{Interval: time.Second})
	for _, tc := range []struct {
		name   string
		env    func(s *sandbox) []string
		args   []string
		prompt string
		hidden bool
	}{
		{"store question", func(s *sandbox) []string { return noKeyringEnv(s) }, []string{"login", "--host", srv.URL(), "--client-id", emulator.DefaultClientID, "--no-browser"}, "Choose 1-", false},
		{"token", func(s *sandbox) []string { return s.env }, []string{"login", "--with-token", "--host", srv.URL()}, "(it is not shown)", true},
		{"client secret", func(s *sandbox) []string { return s.env }, []string{"config", "set", "--host", srv.URL(), "client_secret", "-"}, "(it is not shown)", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newSandbox(t)
			p := startPTY(t, tc.env(s), tc.args...)
			p.waitFor(t, tc.prompt, 20*time.Second)
			if tc.hidden {
				p.echoOff(t, 10*time.Second)
			}
			start := time.Now()
			if _, err := io.WriteString(p.master, "\x03"); err != nil {
				t.Fatal(err)
			}
			code := p.wait(t, 10*time.Second)
			if took := time.Since(start); took > 5*time.Second {
				t.Errorf("ghlogin took %v to stop after Ctrl-C", took)
			}
			if code != 130 {
				t.Errorf("exit %d after Ctrl-C, want 130; the terminal shows:\n%q", code, p.output())
			}
			if out := p.output(); !strings.Contains(out, "\nerror: cancelled") && !strings.Contains(out, "\r\nerror: cancelled") {
				t.Errorf("no \"error: cancelled\" on a line of its own:\n%q", out)
			}
			p.terminalSane(t)
			if n := srv.Stats().DeviceCodes; n != 0 {
				t.Errorf("a device code was requested (%d)", n)
			}
		})
	}
}
