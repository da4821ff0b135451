package ui

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"time"
)

// writeLocalClipboard puts text on this machine's clipboard with the
// platform's tool, found only when the person asks to copy.
//
// Written here instead of using github.com/atotto/clipboard: that package
// searches PATH for its tools in its init function, on every start of
// ghlogin, and ghlogin starts once per git credential request, where every
// millisecond counts.
func writeLocalClipboard(text string) error {
	var candidates [][]string
	switch runtime.GOOS {
	case "darwin":
		candidates = [][]string{{"pbcopy"}}
	case "windows":
		candidates = [][]string{{"clip.exe"}}
	default:
		if os.Getenv("WAYLAND_DISPLAY") != "" {
			candidates = append(candidates, []string{"wl-copy"})
		}
		candidates = append(candidates,
			[]string{"xclip", "-in", "-selection", "clipboard"},
			[]string{"xsel", "--input", "--clipboard"},
			[]string{"termux-clipboard-set"})
	}
	for _, c := range candidates {
		path, err := exec.LookPath(c[0])
		if err != nil {
			continue
		}
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		cmd := exec.CommandContext(ctx, path, c[1:]...)
		cmd.Stdin = strings.NewReader(text)
		err = cmd.Run()
		cancel()
		return err
	}
	return errors.New("no clipboard tool (pbcopy, clip.exe, wl-copy, xclip, xsel) found")
}
