//go:build unix

package cli

import (
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// sshSignals are the signals ghlogin ssh passes on to ssh. While ssh runs,
// ghlogin catches them, so that it outlives ssh, stops the agent after it
// and says what the remote asked for.
var sshSignals = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// runSSHCommand starts cmd, passes sshSignals on to it, waits for it and
// returns its exit status: its own, or 128+N when signal N ended it, as
// shells report it. An error means it could not start.
//
// A terminal sends the signals of its keys (Ctrl-C: SIGINT, Ctrl-\:
// SIGQUIT) to its whole foreground process group, ssh included; when
// ghlogin is in that group they are not passed on again, which would make
// ssh see each key twice.
func runSSHCommand(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, sshSignals...)
	defer signal.Stop(sigs)
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	done := make(chan struct{})
	go func() {
		for {
			select {
			case s := <-sigs:
				if (s == syscall.SIGINT || s == syscall.SIGQUIT) && inForeground() {
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

// inForeground reports whether this process is in the foreground process
// group of its controlling terminal (false when it has none).
func inForeground() bool {
	tty, err := os.Open("/dev/tty")
	if err != nil {
		return false
	}
	defer tty.Close()
	fg, err := unix.IoctlGetInt(int(tty.Fd()), unix.TIOCGPGRP)
	return err == nil && fg == unix.Getpgrp()
}
