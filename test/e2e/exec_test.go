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

// TestExecCtrlCAtTerminal types Ctrl-C on a terminal (a tmux pane) while
// ghlogin exec runs a command in the foreground: the terminal delivers
// SIGINT to the command, ghlogin survives it and exits with the command's
// status.
func TestExecCtrlCAtTerminal(t *testing.T) {
	e := newExecEnv(t)
	tm, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("tmux is required when CI=true: %v", err)
		}
		t.Skipf("tmux is not installed (%v); this test types Ctrl-C on a real terminal", err)
	}
	ts := &tmuxSession{t: t, tmux: tm, sock: filepath.Join(e.dir, "tmux.sock"), name: "exec", exitOut: filepath.Join(e.dir, "exit-status")}
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range e.env {
		k, v, _ := strings.Cut(kv, "=")
		script.WriteString("export " + k + "=" + shq(v) + "\n")
	}
	// The pane's shell catches SIGINT too, so that it lives to record
	// ghlogin's exit status.
	script.WriteString("trap 'echo shell got INT' INT\n")
	child := `trap 'echo "command got INT"; kill $! 2>/dev/null; exit 7' INT; echo ready; sleep 60 & wait`
	script.WriteString(shq(bin) + " exec --host " + shq(e.srv.URL()) + " -- sh -c " + shq(child) + "\n")
	script.WriteString("echo $? > " + shq(ts.exitOut) + ".tmp && mv " + shq(ts.exitOut) + ".tmp " + shq(ts.exitOut) + "\nsleep 600\n")
	path := filepath.Join(e.dir, "run.sh")
	if err := os.WriteFile(path, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(tm, "-S", ts.sock, "-f", "/dev/null", "new-session", "-d", "-s", ts.name, "-x", "120", "-y", "30", path)
	cmd.Env = []string{"HOME=" + e.dir, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tm, "-S", ts.sock, "kill-server").Run() })

	ts.waitFor("ready", waitTimeout)
	ts.send("C-c")
	if code := ts.exitCode(waitTimeout); code != 7 {
		t.Errorf("ghlogin exited %d, want the command's 7\n%s", code, ts.screen())
	}
	sc := ts.screen()
	if n := strings.Count(sc, "command got INT"); n != 1 {
		t.Errorf("the command reported SIGINT %d times, want once:\n%s", n, sc)
	}
	if strings.Contains(sc, e.octo) || strings.Contains(sc, e.hubot) {
		t.Error("a token appeared on the terminal")
	}
}
