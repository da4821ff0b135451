package ui

import (
	"fmt"
	"io"
	"os"

	"github.com/aymanbagabas/go-osc52/v2"
)

// defaultCopy returns the Copy used when Options.Copy is nil: an OSC 52
// sequence written to the terminal (so copying works over SSH, wrapped for
// tmux and screen), plus the local clipboard when a clipboard tool exists.
// It fails only when neither could be tried.
func defaultCopy(out io.Writer) func(string) error {
	return func(text string) error {
		seq := osc52.New(text)
		switch {
		case os.Getenv("TMUX") != "":
			seq = seq.Tmux()
		case os.Getenv("STY") != "":
			seq = seq.Screen()
		}
		_, termErr := seq.WriteTo(out)
		localErr := writeLocalClipboard(text)
		if termErr != nil && localErr != nil {
			return fmt.Errorf("could not copy: %v; %v", termErr, localErr)
		}
		return nil
	}
}
