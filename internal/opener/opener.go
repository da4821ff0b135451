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
	"sync"
	"time"

	"github.com/pkg/browser"

	"github.com/ghlogin/ghlogin/internal/safe"
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

// openWait bounds how long Open waits for the platform's opener (xdg-open,
// open, rundll32) to fail before assuming it is starting the browser.
var openWait = 3 * time.Second

// browserMu guards github.com/pkg/browser's package-level Stdout and Stderr.
var browserMu sync.Mutex

// Open starts the browser on url and returns without waiting for it to exit.
// It opens only what safe.CheckURL accepts: https, or http on a loopback
// address, without user info or a fragment.
//
// A command from GHLOGIN_BROWSER or BROWSER is split on spaces; the URL
// replaces every "%s" in its arguments, or else is added as the last
// argument. Either way it is one argument, never seen by a shell.
func (s System) Open(url string) error {
	if !strings.HasPrefix(url, "https://") && !strings.HasPrefix(url, "http://") {
		return fmt.Errorf("refusing to open %q: not an http(s) URL", safe.Short(url, 200))
	}
	if _, err := safe.CheckURL(url); err != nil {
		return fmt.Errorf("refusing to open it: %w", err)
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
		placed := false
		for i := 1; i < len(args); i++ {
			if strings.Contains(args[i], "%s") {
				args[i] = strings.ReplaceAll(args[i], "%s", url)
				placed = true
			}
		}
		if !placed {
			args = append(args, url)
		}
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Stdout, cmd.Stderr = s.Stdout, s.Stderr
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("starting the browser %q: %w (check GHLOGIN_BROWSER or BROWSER, or open the URL yourself)", args[0], err)
		}
		go func() { _ = cmd.Wait() }()
		return nil
	}
	// pkg/browser runs the platform opener and waits for it to exit, which
	// can be as long as the browser runs (a text browser behind xdg-open):
	// wait only a moment for an error.
	done := make(chan error, 1)
	go func() {
		browserMu.Lock()
		defer browserMu.Unlock()
		// Nil writers make the opener's output go to the null device. Any
		// other writer is a pipe that a browser started by the opener can
		// inherit and hold open for as long as it runs.
		browser.Stdout, browser.Stderr = s.Stdout, s.Stderr
		done <- browser.OpenURL(url)
	}()
	t := time.NewTimer(openWait)
	defer t.Stop()
	select {
	case err := <-done:
		if err != nil {
			return fmt.Errorf("could not open a browser: %w (set GHLOGIN_BROWSER to a browser command, or open the URL yourself)", err)
		}
		return nil
	case <-t.C:
		return nil
	}
}

// Headless reports whether no local browser can be shown: an SSH session, or
// Linux/BSD without DISPLAY or WAYLAND_DISPLAY. reason says why, for messages.
// A browser command in GHLOGIN_BROWSER (other than "none") counts as a
// display, even over SSH: the person asked for it. One in BROWSER counts
// where no display variable is set, but not over SSH, since shell profiles
// often set BROWSER for local sessions.
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
