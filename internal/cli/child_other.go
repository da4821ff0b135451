//go:build !unix

package cli

import (
	"os"
	"os/exec"
	"os/signal"
)

// runChild starts cmd, waits for it and returns its exit status. A console
// sends Ctrl-C to every process attached to it, the command included;
// ghlogin only keeps it from ending ghlogin while the command runs.
func runChild(cmd *exec.Cmd) (int, error) {
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt)
	defer signal.Stop(sigs)
	if err := cmd.Run(); cmd.ProcessState == nil {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}
