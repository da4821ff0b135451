package agent

import (
	"bytes"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The remote command under real shells, as sshd runs it ("$SHELL" -c
// COMMAND): the variable is set, the well-known link points at the socket
// while the command runs, the command's exit status comes back, and the
// socket and the link are gone afterwards. bash and dash are always tested;
// zsh, fish and tcsh when installed.
func TestRemoteCommandInShells(t *testing.T) {
	shells := []string{"/bin/sh", "/bin/bash", "/bin/dash"}
	for _, extra := range []string{"zsh", "fish", "tcsh"} {
		if p, err := exec.LookPath(extra); err == nil {
			shells = append(shells, p)
		}
	}
	for _, sh := range shells {
		t.Run(filepath.Base(sh), func(t *testing.T) {
			if _, err := os.Stat(sh); err != nil {
				t.Fatalf("%s: %v", sh, err)
			}
			run := t.TempDir()
			sock := filepath.Join(t.TempDir(), "ghlogin-agent-x.sock")
			ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: sock, Net: "unix"})
			if err != nil {
				t.Fatal(err)
			}
			ln.SetUnlinkOnClose(false)
			defer ln.Close()
			// Written in the syntax every one of these shells reads alike.
			user := `echo "a  b" $GHLOGIN_AGENT_SOCK; ls -l ` + run + `/ghlogin/agent.sock; exit 3`
			cmd := exec.Command(sh, "-c", RemoteCommand(sock, user))
			cmd.Env = []string{"SHELL=" + sh, "XDG_RUNTIME_DIR=" + run, "PATH=/usr/bin:/bin", "HOME=" + run}
			var out, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &stderr
			err = cmd.Run()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 3 {
				t.Fatalf("exit: %v; stderr %s", err, stderr.String())
			}
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if len(lines) != 2 || lines[0] != "a  b "+sock || !strings.HasSuffix(lines[1], "agent.sock -> "+sock) {
				t.Fatalf("output %q; stderr %s", out.String(), stderr.String())
			}
			for _, p := range []string{sock, filepath.Join(run, "ghlogin", "agent.sock")} {
				if _, err := os.Lstat(p); !errors.Is(err, os.ErrNotExist) {
					t.Errorf("%s outlived the session: %v", p, err)
				}
			}
			if fi, err := os.Stat(filepath.Join(run, "ghlogin")); err != nil || fi.Mode().Perm() != 0o700 {
				t.Errorf("the well-known directory: %v %v", fi.Mode(), err)
			}
		})
	}
}

// With no command, the login shell runs (here reading its commands from
// stdin, as without a terminal), the socket is made 0600, and a newer
// session's link is left alone.
func TestRemoteCommandLoginShell(t *testing.T) {
	run := t.TempDir()
	sock := filepath.Join(t.TempDir(), "ghlogin-agent-y.sock")
	// As if the server's StreamLocalBindMask let everyone in.
	os.WriteFile(sock, nil, 0o666)
	os.Chmod(sock, 0o666)
	cmd := exec.Command("/bin/bash", "-c", RemoteCommand(sock, ""))
	cmd.Env = []string{"SHELL=/bin/bash", "XDG_RUNTIME_DIR=" + run, "PATH=/usr/bin:/bin", "HOME=" + run}
	newer := filepath.Join(run, "newer.sock")
	cmd.Stdin = strings.NewReader(`echo "sock=$GHLOGIN_AGENT_SOCK"; stat -c %a "$GHLOGIN_AGENT_SOCK"; shopt -q login_shell && echo login; ln -sfn ` + newer + ` "$XDG_RUNTIME_DIR/ghlogin/agent.sock"; exit 5` + "\n")
	out, err := cmd.Output()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 5 {
		t.Fatalf("exit: %v", err)
	}
	if got := string(out); got != "sock="+sock+"\n600\nlogin\n" {
		t.Fatalf("output %q", got)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("the socket outlived the session")
	}
	if target, err := os.Readlink(filepath.Join(run, "ghlogin", "agent.sock")); err != nil || target != newer {
		t.Fatalf("the newer session's link: %q %v", target, err)
	}
}
