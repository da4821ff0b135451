//go:build unix

package e2e

// End-to-end tests of `ghlogin exec`: the built binary runs a shell script
// as its command; the script reports what it sees and which signals reach
// it.

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// waitTimeout bounds how long the exec tests wait for a command's line.
const waitTimeout = 30 * time.Second

// execEnv is a sandbox logged in to the emulator as hubot and octocat
// (octocat active), with my-org bound to hubot.
type execEnv struct {
	*sandbox
	srv         *emulator.Server
	octo, hubot string
}

func newExecEnv(t *testing.T) *execEnv {
	t.Helper()
	srv := startEmulator(t, emulator.Config{})
	s := newSandbox(t)
	e := &execEnv{sandbox: s, srv: srv, hubot: issueToken(t, srv, "hubot", "repo"), octo: issueToken(t, srv, "octocat", "repo")}
	s.loginTok(srv.URL(), e.hubot)
	s.loginTok(srv.URL(), e.octo)
	if r := s.run("", "bind", "--host", srv.URL(), "--user", "hubot", "--owner", "my-org"); r.code != 0 {
		t.Fatalf("bind: exit %d\n%s", r.code, r.stderr)
	}
	return e
}

// exec runs ghlogin exec with args and checks that neither token shows in
// ghlogin's own output.
func (e *execEnv) exec(env []string, args ...string) run {
	e.t.Helper()
	r := e.runEnv(env, "", append([]string{"exec", "--host", e.srv.URL()}, args...)...)
	for _, tok := range []string{e.octo, e.hubot} {
		if strings.Contains(r.stdout+r.stderr, tok) {
			e.t.Fatalf("a token appeared in ghlogin exec's output (%v)", args)
		}
	}
	return r
}

func TestExecVariablesAndExitStatus(t *testing.T) {
	e := newExecEnv(t)
	dump := filepath.Join(e.dir, "seen.txt")
	script := `printf 'GH_TOKEN=%s\nGITHUB_TOKEN=%s\nGH_HOST=%s\nGH_ENTERPRISE_TOKEN=%s\n' "$GH_TOKEN" "$GITHUB_TOKEN" "$GH_HOST" "$GH_ENTERPRISE_TOKEN" > "$1"; echo "args: $*"`
	host := hostOf(e.srv)
	for _, tc := range []struct {
		name  string
		flags []string
		token string
	}{
		{"active account", nil, e.octo},
		{"--user", []string{"--user", "hubot"}, e.hubot},
		{"owner binding through --repo", []string{"--repo", "my-org/x"}, e.hubot},
		{"unbound owner", []string{"--repo", "octocat/y"}, e.octo},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{}, tc.flags...), "--", "sh", "-c", script, "sh", dump)
			r := e.exec(e.with("GH_TOKEN=gho_stale_value"), args...)
			if r.code != 0 {
				t.Fatalf("exit %d\n%s", r.code, r.stderr)
			}
			// The command's own output passes through; ghlogin adds nothing.
			if r.stdout != "args: "+dump+"\n" || r.stderr != "" {
				t.Errorf("stdout %q, stderr %q", r.stdout, r.stderr)
			}
			b, err := os.ReadFile(dump)
			if err != nil {
				t.Fatal(err)
			}
			want := "GH_TOKEN=" + tc.token + "\nGITHUB_TOKEN=" + tc.token + "\nGH_HOST=" + host + "\nGH_ENTERPRISE_TOKEN=" + tc.token + "\n"
			if string(b) != want {
				t.Errorf("the command saw the wrong variables (want %s's token and GH_HOST=%s)", map[string]string{e.octo: "octocat", e.hubot: "hubot"}[tc.token], host)
			}
		})
	}

	for _, tc := range []struct {
		script string
		code   int
	}{
		{"exit 0", 0},
		{"exit 1", 1},
		{"exit 42", 42},
		{"kill -TERM $$", 128 + int(syscall.SIGTERM)},
		{"kill -KILL $$", 128 + int(syscall.SIGKILL)},
	} {
		if r := e.exec(e.env, "--", "sh", "-c", tc.script); r.code != tc.code {
			t.Errorf("exec sh -c %q: exit %d, want %d\n%s", tc.script, r.code, tc.code, r.stderr)
		}
	}
	if r := e.exec(e.env, "--", "no-such-command-for-ghlogin"); r.code != 127 || !strings.Contains(r.stderr, "command not found") {
		t.Errorf("missing command: exit %d %q", r.code, r.stderr)
	}
}

// TestExecForwardsSignals sends each signal to ghlogin while its command
// runs: the command receives it and ghlogin, still alive, exits with the
// command's status. ghlogin runs in a session of its own, with no
// controlling terminal, as under a supervisor or in CI.
func TestExecForwardsSignals(t *testing.T) {
	e := newExecEnv(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			name := strings.TrimPrefix(strings.ToUpper(unixSignalName(sig)), "SIG")
			// The script reports the signal and exits 5; the background
			// sleep keeps it waiting in `wait`, which a trapped signal
			// interrupts at once.
			script := `trap 'echo "got ` + name + `"; kill $! 2>/dev/null; exit 5' ` + name + `; sleep 60 & echo ready; wait`
			code, out, stderr := e.signalled(sig, "--", "sh", "-c", script)
			if !strings.Contains(out, "got "+name) {
				t.Errorf("the command did not get %s; stdout %q, stderr %q", name, out, stderr)
			}
			if code != 5 {
				t.Errorf("ghlogin exited %d, want the command's 5 (ghlogin must survive %s)", code, name)
			}
		})
	}
	// A command that does not catch the signal dies of it: 128+N.
	code, _, stderr := e.signalled(syscall.SIGTERM, "--", "sh", "-c", "echo ready; exec sleep 60")
	if code != 128+int(syscall.SIGTERM) {
		t.Errorf("command killed by SIGTERM: ghlogin exited %d, want %d\n%s", code, 128+int(syscall.SIGTERM), stderr)
	}
}

// signalled starts ghlogin exec with args in a new session, waits for the
// command to print "ready", sends sig to ghlogin, and returns ghlogin's
// exit status with the output.
func (e *execEnv) signalled(sig syscall.Signal, args ...string) (int, string, string) {
	e.t.Helper()
	cmd := exec.Command(bin, append([]string{"exec", "--host", e.srv.URL()}, args...)...)
	cmd.Env = e.env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		e.t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		e.t.Fatal(err)
	}
	done := make(chan struct{})
	e.t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // the whole session, if still there
		<-done
	})
	lines := make(chan string, 16)
	var all strings.Builder
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()
	waitLine := func(want string) {
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					e.t.Fatalf("the command ended before printing %q; stderr:\n%s", want, stderr.String())
				}
				all.WriteString(l + "\n")
				if l == want {
					return
				}
			case <-time.After(waitTimeout):
				e.t.Fatalf("no %q from the command within %v; stderr:\n%s", want, waitTimeout, stderr.String())
			}
		}
	}
	waitLine("ready")
	if err := cmd.Process.Signal(sig); err != nil {
		e.t.Fatal(err)
	}
	for l := range lines {
		all.WriteString(l + "\n")
	}
	err = cmd.Wait()
	close(done)
	code := cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		e.t.Fatalf("ghlogin itself died of %v (err %v); it must pass the signal on and wait", ws.Signal(), err)
	}
	out := all.String()
	for _, tok := range []string{e.octo, e.hubot} {
		if strings.Contains(out+stderr.String(), tok) {
			e.t.Fatal("a token appeared in ghlogin exec's output")
		}
	}
	return code, out, stderr.String()
}

// unixSignalName is the signal's name as trap takes it ("INT").
func unixSignalName(s syscall.Signal) string {
	switch s {
	case syscall.SIGINT:
		return "INT"
	case syscall.SIGTERM:
		return "TERM"
	case syscall.SIGHUP:
		return "HUP"
	case syscall.SIGQUIT:
		return "QUIT"
	}
	return s.String()
}
