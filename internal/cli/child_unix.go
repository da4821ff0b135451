//go:build unix

package cli

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// forwarded are the signals exec and ssh pass on to the command they run.
// While it runs, ghlogin catches them, so they do not end ghlogin (ssh's
// agent must outlive ssh, to stop after it and say what the remote asked for).
var forwarded = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// runChild starts cmd, passes the forwarded signals on to it, waits for it,
// and returns its exit status: its own, or 128+N when signal N ended it,
// as shells report it. An error means it could not start.
//
// A terminal sends the signals its keys make (Ctrl-C: SIGINT, Ctrl-\:
// SIGQUIT) to its whole foreground process group, command included; when
// ghlogin is in that group, passing them on would deliver them twice (and
// a second Ctrl-C means "stop at once, without cleaning up" to programs
// such as terraform), so they are passed on only when ghlogin is not in
// the terminal's foreground. sudo follows the same rule.
func runChild(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, forwarded...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if (s == syscall.SIGINT || s == syscall.SIGQUIT) && inTerminalForeground() {
					continue
				}
				_ = cmd.Process.Signal(s)
			case <-done:
				return
			}
		}
	}()
	err := cmd.Wait()
	close(done)
	if cmd.ProcessState == nil {
		return 0, err
	}
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal()), nil
	}
	return cmd.ProcessState.ExitCode(), nil
}

// inTerminalForeground reports whether this process belongs to the
// foreground process group of its controlling terminal (false when it has
// none).
func inTerminalForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}
