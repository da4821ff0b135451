// Package opener opens URLs in the person's browser without blocking, and
// tells whether there is a display to open one on.
//
// The command comes from GHLOGIN_BROWSER, then BROWSER ("none" opens nothing),
// then github.com/pkg/browser's platform default.
package opener

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"

	"github.com/pkg/browser"
)

// Opener opens a URL. It must return quickly: it never waits for the browser.
type Opener interface {
	Open(url string) error
}

// Func adapts a function to Opener.
type Func func(url string) error

// Open calls f.
func (f Func) Open(url string) error { return f(url) }

// ErrDisabled is returned when the configured browser is "none".
var ErrDisabled = errors.New("opening a browser is turned off (GHLOGIN_BROWSER or BROWSER is \"none\")")

// Env is the environment the opener reads; nil means os.Getenv.
type Env func(string) string

// System is the default Opener.
type System struct {
	Getenv Env
	// Stdout and Stderr receive the browser command's output; nil discards it
	// (so it never garbles a TUI).
	Stdout, Stderr io.Writer
}

// Open starts the browser on url and returns without waiting for it to exit.
func (s System) Open(url string) error {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return fmt.Errorf("refusing to open %q: not an http(s) URL", url)
	}
	getenv := s.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	cmdline := strings.TrimSpace(getenv("GHLOGIN_BROWSER"))
	if cmdline == "" {
		cmdline = strings.TrimSpace(getenv("BROWSER"))
	}
	if strings.EqualFold(cmdline, "none") {
		return ErrDisabled
	}
	if cmdline != "" {
		// The URL is passed as one argument, never through a shell.
		args := strings.Fields(cmdline)
		cmd := exec.Command(args[0], append(args[1:], url)...)
		cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting the browser %q: %w", args[0], err)
		}
		go func() { _ = cmd.Wait() }()
		return nil
	}
	browser.Stdout, browser.Stderr = discard(s.Stdout), discard(s.Stderr)
	return browser.OpenURL(url)
}

func discard(w io.Writer) io.Writer {
	if w == nil {
		return io.Discard
	}
	return w
}

// Headless reports whether no local browser can be shown: an SSH session, or
// Linux/BSD without DISPLAY or WAYLAND_DISPLAY. reason says why, for messages.
// A browser command set in GHLOGIN_BROWSER or BROWSER (other than "none")
// counts as a display: the person asked for it.
func Headless(getenv Env) (headless bool, reason string) {
	if getenv == nil {
		getenv = os.Getenv
	}
	if b := strings.TrimSpace(getenv("GHLOGIN_BROWSER")); b != "" && !strings.EqualFold(b, "none") {
		return false, ""
	}
	if getenv("SSH_CONNECTION") != "" || getenv("SSH_CLIENT") != "" || getenv("SSH_TTY") != "" {
		return true, "this is an SSH session"
	}
	switch runtime.GOOS {
	case "windows", "darwin", "ios", "android":
		return false, ""
	}
	if getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" {
		if b := strings.TrimSpace(getenv("BROWSER")); b != "" && !strings.EqualFold(b, "none") {
			return false, ""
		}
		return true, "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)"
	}
	return false, ""
}
