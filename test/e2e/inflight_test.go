package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// One login in flight, with the real binary: four git clones on terminals
// of their own (whose credential helpers find no token and would each run
// an interactive login on /dev/tty) and four `ghlogin login --json` runs
// start together for the same host. Exactly one device code is requested
// from the emulator; the seven others say whose login they wait for; once
// that code is approved every one of them gets the token: the clones
// succeed and each login reports the same success event.
func TestEightProcessesOneDeviceFlow(t *testing.T) {
	forHelpers(t, testEightProcessesOneDeviceFlow)
}

func testEightProcessesOneDeviceFlow(t *testing.T, k helperKind) {
	repos := t.TempDir()
	if err := emulator.InitRepo(repos, "octocat", "hello"); err != nil {
		t.Fatal(err)
	}
	srv := startEmulator(t, emulator.Config{Interval: time.Second, GitRepos: repos})
	g := newGitEnv(t, true, k)
	// git may ask: its helpers have terminals.
	var env []string
	for _, kv := range g.env {
		if !strings.HasPrefix(kv, "GIT_TERMINAL_PROMPT=") {
			env = append(env, kv)
		}
	}
	g.env = env
	if r := g.run("", "config", "set", "--host", srv.URL(), "client_id", emulator.DefaultClientID); r.code != 0 {
		t.Fatalf("config set: exit %d\n%s", r.code, r.stderr)
	}
	if r := g.run("", "setup-git", "--host", srv.URL()); r.code != 0 {
		t.Fatalf("setup-git: exit %d\n%s", r.code, r.stderr)
	}

	// The clones start first, so that one of their helpers runs the login:
	// its terminal UI shows the code; the other helpers and the logins wait.
	var clones []*terminalProc
	var logins []*started
	for i := range 4 {
		clones = append(clones, startTerminal(t, g.dir, g.env, g.git, "clone", srv.URL()+"/octocat/hello.git", filepath.Join(g.dir, fmt.Sprintf("clone%d", i))))
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(srv.Stats().Codes) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no device code after 90 s; clone 0 shows:\n%s", clones[0].text())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for range 4 {
		logins = append(logins, g.start("login", "--json", "--host", srv.URL()))
	}

	waiting := func() int {
		n := 0
		for _, c := range clones {
			if c.shows("Waiting for the login to " + hostOf(srv) + " that process ") {
				n++
			}
		}
		for _, l := range logins {
			if strings.Contains(l.stderrText(), "Waiting for the login to "+hostOf(srv)+" that process ") {
				n++
			}
		}
		return n
	}
	deadline = time.Now().Add(90 * time.Second)
	for len(srv.Stats().Codes) != 1 || waiting() != 7 {
		if time.Now().After(deadline) {
			var b strings.Builder
			for i, c := range clones {
				fmt.Fprintf(&b, "--- clone %d:\n%s\n", i, c.text())
			}
			for i, l := range logins {
				fmt.Fprintf(&b, "--- login %d:\n%s\n%s\n", i, l.all.String(), l.stderrText())
			}
			t.Fatalf("after 90 s: %d device codes, %d processes waiting (want 1 and 7)\n%s", len(srv.Stats().Codes), waiting(), b.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	leaders := 0
	for _, c := range clones {
		// The terminal UI boxes each character of the code.
		if c.shows("Copy your one-time code") {
			leaders++
		}
	}
	for code := range srv.Stats().Codes {
		if err := srv.Approve(code, "octocat"); err != nil {
			t.Fatal(err)
		}
	}
	if leaders != 1 {
		t.Errorf("%d clones' terminals show the code, want the one whose helper runs the login", leaders)
	}

	for i, c := range clones {
		if code := c.wait(90 * time.Second); code != 0 {
			t.Errorf("clone %d: exit %d; the terminal shows:\n%s", i, code, c.text())
			continue
		}
		if _, err := os.Stat(filepath.Join(g.dir, fmt.Sprintf("clone%d", i), "README.md")); err != nil {
			t.Errorf("clone %d has no README.md: %v", i, err)
		}
	}
	for i, l := range logins {
		var last event
		for {
			line, ok := l.next(t, 90*time.Second)
			if !ok {
				break
			}
			last = parseEvent(t, line)
		}
		if code := l.wait(t, 30*time.Second); code != 0 || last["event"] != "success" || last["login"] != "octocat" || last["store"] != "file" {
			t.Errorf("login %d: exit %d, last event %v\nstderr:\n%s", i, code, last, l.stderrText())
		}
	}
	st := srv.Stats()
	if n := st.Requests["POST /login/device/code"]; n != 1 {
		t.Errorf("POST /login/device/code reached the emulator %d times, want once", n)
	}
	if st.TokensIssued != 1 {
		t.Errorf("%d tokens issued, want 1", st.TokensIssued)
	}
	tok := g.mustToken("--host", srv.URL())
	for i, c := range clones {
		if strings.Contains(c.raw(), tok) {
			t.Errorf("the token appeared on clone %d's terminal", i)
		}
	}
	for i, l := range logins {
		if strings.Contains(l.all.String()+l.stderrText(), tok) {
			t.Errorf("the token appeared in login %d's output", i)
		}
	}
}
