//go:build !unix

package cli

import "os/exec"

// runSSHCommand runs cmd and returns its exit status. ghlogin ssh cannot
// start here (the agent needs Unix-domain sockets with peer checks), so
// this only keeps the command building.
func runSSHCommand(cmd *exec.Cmd) (int, error) {
	if err := cmd.Run(); err != nil && cmd.ProcessState == nil {
		return 0, err
	}
	return cmd.ProcessState.ExitCode(), nil
}
