// Package cli is ghlogin's command line: cobra commands over the
// application layer (internal/session), the login flows, the UI and the
// emulator. It holds no rule of its own: which host, account or token a
// command uses is session's decision; cli parses flags, renders, and turns
// errors into sentences and exit statuses (Main).
//
// Each command has its own file, in the style of the GitHub CLI: an options
// struct holding its dependencies (IO, the session) and its flags, a
// newXCmd constructor that fills it from the command line, and a plain runX
// function that does the work, so tests can check either half.
package cli

import (
	"io"
	"net/http"
	"os"
	"time"

	"golang.org/x/term"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
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
	// Whatever it is, it is put under the one redirect policy
	// (safehttp.HTTPClient) before use.
	HTTPClient *http.Client
	// Keyring is the OS keyring; nil means go-keyring.
	Keyring store.Keyring
	// Backends replace the token store's backends of the same name
	// (store.Options.Backends); tests act out a kernel keyring that works
	// or that the kernel refuses. Nil keeps the store's own.
	Backends []store.Backend
	Opener   opener.Opener
	Clock    clock.Clock
	// Getwd returns the working directory (where bindings and the origin
	// remote are looked up); nil means os.Getwd.
	Getwd func() (string, error)
	// Environ is the environment exec passes on to its command; nil means
	// os.Environ.
	Environ func() []string

	// hints is what the next steps in error messages may name for the
	// command at hand: its flags, and hosts by their --host values. The
	// root command sets it once the command line is parsed (hintsFor).
	hints hint.Context
	// otherHosts, when the command named no host, lists the hosts that
	// have accounts (nil otherwise): "not logged in to github.com" then
	// names them (explain).
	otherHosts func() []string
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
		HTTPClient: safehttp.HTTPClient(nil, 60*time.Second),
		Opener:     opener.System{},
		Clock:      clock.Real{},
	}
}

// getenv reads the environment through Getenv (os.Getenv when nil).
func (e *Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

// now reads Clock (the system clock when nil).
func (e *Env) now() time.Time { return clock.Or(e.Clock).Now() }

// getwd reads the working directory through Getwd (os.Getwd when nil).
func (e *Env) getwd() (string, error) {
	if e.Getwd == nil {
		return os.Getwd()
	}
	return e.Getwd()
}

// environ returns the environment through Environ (os.Environ when nil).
func (e *Env) environ() []string {
	if e.Environ == nil {
		return os.Environ()
	}
	return e.Environ()
}
