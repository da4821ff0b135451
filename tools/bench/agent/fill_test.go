// Package agent measures what git pays for a token lent by `ghlogin ssh`:
// `git credential fill` with ghlogin as the helper, answered from the
// local file store, from an agent on a local socket (`ghlogin agent`), and
// from the same agent through a socket forwarded by OpenSSH (`ssh -R` to
// an sshd on 127.0.0.1, the path `ghlogin ssh` sets up). Runs are
// interleaved (one of each per round, the order rotated) so that a busy
// machine slows each alike, and every answer is checked.
//
//	go test -run '^$' -bench Fill -benchtime 200x ./tools/bench/agent
//
// It builds ghlogin as it ships (CGO_ENABLED=0, -trimpath) and touches
// nothing outside temporary directories. Without sshd the forwarded case
// is skipped (failed under CI=true).
package agent

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	ghagent "github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/agent/sshtest"
	"github.com/ghlogin/ghlogin/store"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// TestMain removes the binary the benchmark built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binPath != "" {
		os.RemoveAll(filepath.Dir(binPath))
	}
	os.Exit(code)
}

// ghloginBin builds ghlogin once per process.
func ghloginBin(b *testing.B) string {
	b.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ghlogin-bench-agent-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "ghlogin")
		cmd := exec.Command("go", "build", "-trimpath", "-o", binPath, "../../..")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		b.Fatal(buildErr)
	}
	return binPath
}

// setup is one way of answering git.
type setup struct {
	name string
	// key names the setup's metrics.
	key  string
	env  []string
	runs []time.Duration
}

// request is what git asks for `git clone https://github.com/octocat/hello`.
const request = "protocol=https\nhost=github.com\n\n"

func BenchmarkFill(b *testing.B) {
	bin := ghloginBin(b)
	tmp := b.TempDir()
	rnd := make([]byte, 18)
	rand.Read(rnd)
	token := "gho_" + hex.EncodeToString(rnd)
	base := []string{
		"PATH=" + filepath.Dir(bin) + ":" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_TERMINAL_PROMPT=0",
		"GHLOGIN_STORE=file",
		"NO_COLOR=1",
		"DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent",
	}
	// home returns the environment of a machine rooted at dir.
	home := func(name string, extra ...string) []string {
		dir := filepath.Join(tmp, name)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			b.Fatal(err)
		}
		env := append(append([]string(nil), base...),
			"HOME="+dir,
			"GIT_CONFIG_GLOBAL="+filepath.Join(dir, "gitconfig"),
			"GHLOGIN_CONFIG_DIR="+filepath.Join(dir, "config"),
			"XDG_RUNTIME_DIR="+filepath.Join(dir, "run"),
		)
		if err := os.MkdirAll(filepath.Join(dir, "run"), 0o700); err != nil {
			b.Fatal(err)
		}
		env = append(env, extra...)
		if out, err := command(env, "", bin, "setup-git", "--host", "github.com"); err != nil {
			b.Fatalf("setup-git: %v\n%s", err, out)
		}
		return env
	}

	// The laptop: octocat's token in the file store, saved through the
	// store's API as a login saves it.
	laptop := home("laptop", "GHLOGIN_AGENT_SOCK=none")
	st, err := store.Open(store.Options{Dir: filepath.Join(tmp, "laptop", "config")})
	if err != nil {
		b.Fatal(err)
	}
	if err := st.Save(context.Background(), "github.com", "octocat", store.BackendFile, &store.Secret{Token: token}); err != nil {
		b.Fatal(err)
	}
	sock := startAgent(b, bin, laptop)
	setups := []*setup{
		{name: "local file store", key: "file", env: laptop},
		{name: "agent, local socket", key: "agent", env: home("remote", "GHLOGIN_AGENT_SOCK="+sock)},
	}
	if fwd := forward(b, sock); fwd != "" {
		setups = append(setups, &setup{name: "agent, forwarded by ssh -R", key: "agent-ssh", env: home("remote-ssh", "GHLOGIN_AGENT_SOCK="+fwd)})
	}

	once := func(s *setup) time.Duration {
		start := time.Now()
		out, err := command(s.env, request, "git", "credential", "fill")
		d := time.Since(start)
		if err != nil || !strings.Contains(out, "password="+token+"\n") {
			b.Fatalf("%s: git credential fill: %v\n%s", s.name, err, out)
		}
		return d
	}
	for range 5 {
		for _, s := range setups {
			once(s)
		}
	}
	b.ResetTimer()
	for i := range b.N {
		for j := range setups {
			s := setups[(i+j)%len(setups)]
			s.runs = append(s.runs, once(s))
		}
	}
	b.StopTimer()
	var report strings.Builder
	fmt.Fprintf(&report, "git credential fill, %d runs each, interleaved (milliseconds):\n", b.N)
	fmt.Fprintf(&report, "%-28s %8s %8s %8s\n", "answered from", "median", "p90", "min")
	for _, s := range setups {
		med, p90, lo := stats(s.runs)
		fmt.Fprintf(&report, "%-28s %8.1f %8.1f %8.1f\n", s.name, med, p90, lo)
		b.ReportMetric(med, s.key+"-median-ms")
		b.ReportMetric(p90, s.key+"-p90-ms")
	}
	// Printed, not logged: go test cuts a benchmark's log short.
	fmt.Print(report.String())
}

// startAgent runs `ghlogin agent` for github.com on the laptop until the
// benchmark ends and returns its socket.
func startAgent(b *testing.B, bin string, env []string) string {
	b.Helper()
	cmd := exec.Command(bin, "agent", "--allow", "github.com", "--print-socket", "--name", "laptop")
	cmd.Env = env
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		cmd.Wait()
	})
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		b.Fatalf("ghlogin agent printed no socket: %v", err)
	}
	return strings.TrimSpace(line)
}

// forward forwards sock through a real ssh session to an sshd on
// 127.0.0.1 and returns the forwarded socket, or "" when OpenSSH is not
// installed (outside CI).
func forward(b *testing.B, sock string) string {
	b.Helper()
	if _, err := exec.LookPath("sshd"); err != nil {
		if _, err := os.Stat("/usr/sbin/sshd"); err != nil && os.Getenv("CI") != "true" {
			b.Log("sshd is not installed (apt install openssh-server): the forwarded case is left out")
			return ""
		}
	}
	srv := sshtest.Start(b, sshtest.Options{})
	remote := "/tmp/ghlogin-bench-" + ghagent.NewNonce() + ".sock"
	args := append(srv.ClientArgs(), "-o", "ExitOnForwardFailure=yes", "-R", remote+":"+sock, srv.Destination(), "sleep 3600")
	cmd := exec.Command("ssh", args...)
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		os.Remove(remote)
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if fi, err := os.Stat(remote); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return remote
		}
		if time.Now().After(deadline) {
			b.Fatalf("ssh did not forward the socket\n%s", srv.Log())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// command runs argv with env and stdin, and returns its stdout (and its
// stderr when it fails).
func command(env []string, stdin string, argv ...string) (string, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String() + errb.String(), err
	}
	return out.String(), nil
}

// stats returns the median, the 90th percentile and the minimum, in ms.
func stats(d []time.Duration) (median, p90, min float64) {
	s := append([]time.Duration(nil), d...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	ms := func(x time.Duration) float64 { return float64(x) / float64(time.Millisecond) }
	return ms(s[len(s)/2]), ms(s[(len(s)*9)/10]), ms(s[0])
}
