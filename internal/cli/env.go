// Package cli wires ghlogin's commands (cobra) to the flows, the store, the
// UI and the emulator. It holds no protocol logic of its own.
package cli

import (
	"io"
	"net/http"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/store"
)

// Version is ghlogin's version, set at build time with -ldflags.
var Version = "dev"

// Env is everything a command touches outside itself; tests replace parts of it.
type Env struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Getenv         func(string) string
	// StdinTTY, StdoutTTY and StderrTTY tell whether each stream is a terminal.
	StdinTTY, StdoutTTY, StderrTTY bool
	// OpenTTY opens the controlling terminal (/dev/tty) for the git helper's
	// interactive login; nil means none.
	OpenTTY func() (*os.File, error)
	// HTTPClient is used for every network call; nil means a default client.
	HTTPClient *http.Client
	// Keyring is the OS keyring; nil means go-keyring.
	Keyring store.Keyring
	Opener  opener.Opener
	Clock   clock.Clock
}

// SystemEnv returns the real environment of the process.
func SystemEnv() *Env {
	return &Env{
		Stdin:     os.Stdin,
		Stdout:    os.Stdout,
		Stderr:    os.Stderr,
		Getenv:    os.Getenv,
		StdinTTY:  term.IsTerminal(int(os.Stdin.Fd())),
		StdoutTTY: term.IsTerminal(int(os.Stdout.Fd())),
		StderrTTY: term.IsTerminal(int(os.Stderr.Fd())),
		OpenTTY: func() (*os.File, error) {
			return os.OpenFile("/dev/tty", os.O_RDWR, 0)
		},
		HTTPClient: &http.Client{Timeout: 60 * time.Second},
		Opener:     opener.System{},
		Clock:      clock.Real{},
	}
}
