package e2e

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"
	"github.com/creack/pty"
)

// terminalProc is a process on a terminal of its own (a pseudo-terminal, made
// its controlling terminal, so /dev/tty is that terminal), as a person at a
// terminal or an SSH session has one. Its output is read all along (a
// terminal UI blocks when nobody reads) and kept.
type terminalProc struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	done chan struct{}
}

// startTerminal runs name with args in dir with env, on a 120×40 terminal.
func startTerminal(t *testing.T, dir string, env []string, name string, args ...string) *terminalProc {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = dir
	cmd.Env = append(append([]string(nil), env...), "TERM=xterm-256color")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		t.Fatalf("starting %s on a terminal: %v", name, err)
	}
	p := &terminalProc{t: t, cmd: cmd, tty: f, done: make(chan struct{})}
	read := make(chan struct{})
	go func() {
		defer close(read)
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			// Answer what a terminal is asked at start (bubbletea's init
			// asks for the background colour, then the cursor position), as
			// xterm would: a terminal that never answers costs 5 s.
			if bytes.Contains(buf[:n], []byte("\x1b]11;?")) {
				_, _ = f.WriteString("\x1b]11;rgb:0000/0000/0000\x1b\\")
			}
			if bytes.Contains(buf[:n], []byte("\x1b[6n")) {
				_, _ = f.WriteString("\x1b[1;1R")
			}
			if err != nil {
				return
			}
		}
	}()
	go func() {
		_ = cmd.Wait()
		// The terminal's last output is read before done (EIO on Linux
		// once the process and its children have closed it).
		select {
		case <-read:
		case <-time.After(2 * time.Second):
		}
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
		f.Close()
	})
	return p
}

// raw is everything the process wrote, escape sequences included.
func (p *terminalProc) raw() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// text is the output without escape sequences.
func (p *terminalProc) text() string { return ansi.Strip(p.raw()) }

// shows reports whether the output holds want (escape sequences removed).
func (p *terminalProc) shows(want string) bool { return strings.Contains(p.text(), want) }

// waitFor waits until the output holds want.
func (p *terminalProc) waitFor(want string, timeout time.Duration) {
	p.t.Helper()
	deadline := time.Now().Add(timeout)
	for !p.shows(want) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal does not show %q within %v; it shows:\n%s", want, timeout, p.text())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// typeIn writes s to the terminal, as typed.
func (p *terminalProc) typeIn(s string) {
	p.t.Helper()
	if _, err := p.tty.WriteString(s); err != nil {
		p.t.Fatalf("typing into the terminal: %v", err)
	}
}

// wait waits for the process to end and returns its exit status.
func (p *terminalProc) wait(timeout time.Duration) int {
	p.t.Helper()
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.t.Fatalf("%s did not exit within %v; the terminal shows:\n%s", p.cmd.Path, timeout, p.text())
	}
	return p.cmd.ProcessState.ExitCode()
}
