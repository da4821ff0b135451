// Package sshtest runs a throwaway OpenSSH server on 127.0.0.1 for tests
// of `ghlogin ssh`: its own host key, client key, authorized_keys and
// sshd_config in a temporary directory, started as `sshd -D -e -f CONFIG`.
// No system configuration is read or changed, except that, run as root,
// it creates sshd's privilege separation directory (/run/sshd) when it is
// missing, as the system's service would.
//
// Sessions log in as the user running the test. Options.Env sets variables
// in every session (sshd_config SetEnv, applied after sshd's own, so HOME
// there gives the remote side a throwaway home).
//
//	srv := sshtest.Start(t, sshtest.Options{Env: map[string]string{"HOME": remoteHome}})
//	args := append(srv.ClientArgs(), srv.Destination(), "true")
//	plan, _ := agent.BuildSSH(agent.SSHRequest{Args: args, LocalSocket: sock.Path, Nonce: agent.NewNonce()})
//	out, err := exec.Command(plan.Argv[0], plan.Argv[1:]...).Output()
package sshtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options configure Start.
type Options struct {
	// Env is set in every session; values may not hold a double quote or a
	// line break.
	Env map[string]string
	// Config holds more sshd_config lines.
	Config []string
}

// Server is a running sshd.
type Server struct {
	// Dir holds the keys, known_hosts and sshd_config.
	Dir string
	// Port is the port sshd listens on at 127.0.0.1.
	Port int
	// User is the login name sessions use.
	User string
	// Key is the client's private key; KnownHosts lists the server's key.
	Key        string
	KnownHosts string

	log *buffer
}

// startTimeout bounds sshd's start.
const startTimeout = 30 * time.Second

// Require returns the paths of sshd, ssh and ssh-keygen. When one is
// missing it skips the test, except under CI=true, where it fails.
func Require(t testing.TB) (sshd, ssh, keygen string) {
	t.Helper()
	find := func(name string, dirs ...string) string {
		for _, d := range dirs {
			p := filepath.Join(d, name)
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				return p
			}
		}
		if p, err := exec.LookPath(name); err == nil {
			if abs, err := filepath.Abs(p); err == nil {
				return abs
			}
		}
		msg := name + " is not installed (Debian: apt install openssh-server openssh-client)"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
		return ""
	}
	return find("sshd", "/usr/sbin", "/usr/local/sbin", "/sbin"), find("ssh", "/usr/bin", "/usr/local/bin"), find("ssh-keygen", "/usr/bin", "/usr/local/bin")
}

// Start runs sshd until the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	sshd, _, keygen := Require(t)
	u, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	s := &Server{Dir: dir, User: u.Username, Key: filepath.Join(dir, "client_key"), KnownHosts: filepath.Join(dir, "known_hosts")}
	for _, k := range []string{"host_key", "client_key"} {
		out, err := exec.Command(keygen, "-q", "-t", "ed25519", "-N", "", "-C", "sshtest", "-f", filepath.Join(dir, k)).CombinedOutput()
		if err != nil {
			t.Fatalf("ssh-keygen: %v: %s", err, out)
		}
	}
	pub, err := os.ReadFile(s.Key + ".pub")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), pub, 0o600); err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// sshd run as root insists on its privilege separation directory,
		// which the system's service creates at boot.
		if err := os.MkdirAll("/run/sshd", 0o755); err != nil {
			t.Fatalf("creating sshd's privilege separation directory: %v", err)
		}
	}
	var lastErr error
	for range 5 {
		port, err := freePort()
		if err != nil {
			t.Fatal(err)
		}
		s.Port = port
		if err := s.writeConfig(opts); err != nil {
			t.Fatal(err)
		}
		if lastErr = s.run(t, sshd); lastErr == nil {
			break
		}
	}
	if lastErr != nil {
		t.Fatalf("sshd did not start: %v\n%s", lastErr, s.Log())
	}
	hostPub, err := os.ReadFile(filepath.Join(dir, "host_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	line := fmt.Sprintf("[127.0.0.1]:%d %s", s.Port, hostPub)
	if err := os.WriteFile(s.KnownHosts, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	return s
}

// freePort asks the kernel for a port that is free now.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// writeConfig writes sshd_config.
func (s *Server) writeConfig(opts Options) error {
	lines := []string{
		"ListenAddress 127.0.0.1:" + strconv.Itoa(s.Port),
		"HostKey " + filepath.Join(s.Dir, "host_key"),
		"AuthorizedKeysFile " + filepath.Join(s.Dir, "authorized_keys"),
		"PidFile none",
		"UsePAM no",
		// The authorized key lives under the system's temporary directory,
		// whose world-writable (sticky) mode StrictModes rejects on every
		// path component; the files themselves are 0600 in a 0700
		// directory, so not checking exposes nothing.
		"StrictModes no",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication no",
		"PermitRootLogin prohibit-password",
		"AllowUsers " + s.User,
		// Defaults, spelt out: what `ghlogin ssh` relies on, and that it
		// needs no AcceptEnv and no StreamLocalBindUnlink.
		"AllowStreamLocalForwarding yes",
		"StreamLocalBindUnlink no",
		"PrintMotd no",
		"PrintLastLog no",
		"UseDNS no",
		"MaxStartups 64",
		"LogLevel VERBOSE",
	}
	keys := make([]string, 0, len(opts.Env))
	for k := range opts.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	// One SetEnv line holds them all: sshd takes the first line of a
	// keyword and ignores any later one.
	var setenv []string
	for _, k := range keys {
		v := opts.Env[k]
		if strings.ContainsAny(k+v, "\"\n\r") || k == "" || strings.Contains(k, "=") {
			return fmt.Errorf("sshtest: cannot set %q=%q with SetEnv", k, v)
		}
		setenv = append(setenv, `"`+k+"="+v+`"`)
	}
	if len(setenv) > 0 {
		lines = append(lines, "SetEnv "+strings.Join(setenv, " "))
	}
	lines = append(lines, opts.Config...)
	return os.WriteFile(filepath.Join(s.Dir, "sshd_config"), []byte(strings.Join(lines, "\n")+"\n"), 0o600)
}

// run starts sshd and waits until it listens; the test's cleanup stops it.
func (s *Server) run(t testing.TB, sshd string) error {
	if out, err := exec.Command(sshd, "-t", "-f", filepath.Join(s.Dir, "sshd_config")).CombinedOutput(); err != nil {
		return fmt.Errorf("sshd -t: %v: %s", err, out)
	}
	cmd := exec.Command(sshd, "-D", "-e", "-f", filepath.Join(s.Dir, "sshd_config"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	s.log = &buffer{}
	ready := make(chan struct{})
	exited := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stderr)
		once := sync.Once{}
		for sc.Scan() {
			line := sc.Text()
			s.log.add(line)
			if strings.Contains(line, "Server listening on 127.0.0.1 port "+strconv.Itoa(s.Port)) {
				once.Do(func() { close(ready) })
			}
		}
		io.Copy(io.Discard, stderr)
	}()
	go func() { cmd.Wait(); close(exited) }()
	stop := func() {
		cmd.Process.Kill()
		<-exited
	}
	select {
	case <-ready:
	case <-exited:
		return errors.New("sshd exited")
	case <-time.After(startTimeout):
		stop()
		return errors.New("sshd did not listen within " + startTimeout.String())
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", s.Log())
		}
	})
	return nil
}

// ClientArgs are the ssh options that reach this server with its key and
// nothing from the user's or the system's ssh configuration; put the
// destination after them.
func (s *Server) ClientArgs() []string {
	return []string{
		"-F", "none",
		"-p", strconv.Itoa(s.Port),
		"-i", s.Key,
		"-o", "IdentitiesOnly=yes",
		"-o", "IdentityAgent=none",
		"-o", "UserKnownHostsFile=" + s.KnownHosts,
		"-o", "GlobalKnownHostsFile=/dev/null",
		"-o", "StrictHostKeyChecking=yes",
		"-o", "UpdateHostKeys=no",
		"-o", "BatchMode=yes",
		"-o", "LogLevel=ERROR",
	}
}

// Destination is user@127.0.0.1.
func (s *Server) Destination() string { return s.User + "@127.0.0.1" }

// Log returns what sshd logged so far.
func (s *Server) Log() string {
	if s.log == nil {
		return ""
	}
	return s.log.String()
}

// Run runs argv (an ssh command line) with stdin and returns its stdout,
// stderr and exit code (-1 when it did not exit on its own). It gives up
// after timeout.
func Run(ctx context.Context, argv []string, stdin string, timeout time.Duration) (stdout, stderr string, code int, err error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	cmd.WaitDelay = 5 * time.Second
	err = cmd.Run()
	code = -1
	if cmd.ProcessState != nil {
		code = cmd.ProcessState.ExitCode()
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) && ctx.Err() == nil {
		err = nil
	}
	return out.String(), errb.String(), code, err
}

// buffer is a log written by one goroutine and read by others.
type buffer struct {
	mu    sync.Mutex
	lines []string
}

func (b *buffer) add(line string) {
	b.mu.Lock()
	b.lines = append(b.lines, line)
	b.mu.Unlock()
}

func (b *buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return strings.Join(b.lines, "\n")
}
