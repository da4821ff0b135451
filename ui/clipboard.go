package ui

import (
	"context"
	"errors"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// ErrNoClipboard says this machine has no clipboard tool ghlogin can use.
// An Options.Clipboard that finds no clipboard returns an error wrapping it.
var ErrNoClipboard = errors.New("no clipboard tool (pbcopy, clip.exe, wl-copy, xclip, xsel, termux-clipboard-set) found")

// clipboardTimeout bounds one run of a clipboard tool.
const clipboardTimeout = 3 * time.Second

// localClipboard returns the default Options.Clipboard: it puts text on this
// machine's clipboard with the platform's tool, looked up only when the
// person asks to copy.
//
// Written here instead of using github.com/atotto/clipboard: that package
// searches PATH for its tools in its init function, on every start of
// ghlogin, and ghlogin starts once per git credential request, where every
// millisecond counts.
func localClipboard(getenv func(string) string) func(string) error {
	return func(text string) error {
		var candidates [][]string
		switch runtime.GOOS {
		case "darwin":
			candidates = [][]string{{"pbcopy"}}
		case "windows":
			candidates = [][]string{{"clip.exe"}}
		default:
			if getenv("WAYLAND_DISPLAY") != "" {
				candidates = append(candidates, []string{"wl-copy"})
			}
			if getenv("DISPLAY") != "" {
				candidates = append(candidates,
					[]string{"xclip", "-in", "-selection", "clipboard"},
					[]string{"xsel", "--input", "--clipboard"})
			}
			candidates = append(candidates, []string{"termux-clipboard-set"})
		}
		for _, c := range candidates {
			path, err := exec.LookPath(c[0])
			if err != nil {
				continue
			}
			ctx, cancel := context.WithTimeout(context.Background(), clipboardTimeout)
			cmd := exec.CommandContext(ctx, path, c[1:]...)
			cmd.Stdin = strings.NewReader(text)
			err = cmd.Run()
			cancel()
			return err
		}
		return ErrNoClipboard
	}
}
