package e2e

// End-to-end tests of `ghlogin ssh` through the real OpenSSH client and
// server (internal/agent/sshtest: sshd on 127.0.0.1 with throwaway keys
// and configuration). The laptop is a sandbox logged in to the emulator;
// the remote is a second HOME and runtime directory on the same machine,
// reached over ssh, where the same built ghlogin is found on PATH and git
// is set up with `ghlogin setup-git` but nobody ever logs in. Each test
// runs twice: with the full helper on the remote, and with the lean
// git-credential-ghlogin installed beside ghlogin there, which answers git
// from the forwarded agent itself.

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent/sshtest"
	"github.com/ghlogin/ghlogin/internal/emulator"
)

// remoteBox is the remote machine: its home and runtime directory, and the
// sshd that leads there.
type remoteBox struct {
	home, run string
	sshd      *sshtest.Server
}

// newRemoteBox starts sshd with sessions that get a throwaway HOME and
// XDG_RUNTIME_DIR, ghlogin on PATH (with the lean helper beside it for the
// lean kind), and git without system configuration or prompts.
func newRemoteBox(t *testing.T, k helperKind) *remoteBox {
	t.Helper()
	base := t.TempDir()
	r := &remoteBox{home: filepath.Join(base, "home"), run: filepath.Join(base, "run")}
	for _, d := range []string{r.home, r.run} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	r.sshd = sshtest.Start(t, sshtest.Options{Env: map[string]string{
		"HOME":                r.home,
		"XDG_RUNTIME_DIR":     r.run,
		"PATH":                k.binDir() + ":" + os.Getenv("PATH"),
		"GIT_CONFIG_NOSYSTEM": "1",
		"GIT_TERMINAL_PROMPT": "0",
		"GHLOGIN_BROWSER":     "none",
		"NO_COLOR":            "1",
		"GIT_AUTHOR_NAME":     "Octocat", "GIT_AUTHOR_EMAIL": "octocat@users.noreply.github.com",
		"GIT_COMMITTER_NAME": "Octocat", "GIT_COMMITTER_EMAIL": "octocat@users.noreply.github.com",
	}})
	return r
}

// sshArgs are `ghlogin ssh`'s arguments for a session on the box running
// command: ghlogin's flags, then ssh's options, destination and command.
// The command starts in the box's HOME (sshd starts it in the account's
// own home directory, which HOME does not change).
func (r *remoteBox) sshArgs(flags []string, command string) []string {
	args := append([]string{"ssh"}, flags...)
	args = append(args, r.sshd.ClientArgs()...)
	return append(args, r.sshd.Destination(), `cd "$HOME" && `+command)
}

// plainSSH runs command on the box with the plain ssh client: no agent.
func (r *remoteBox) plainSSH(t *testing.T, command string) (stdout, stderr string, code int) {
	t.Helper()
	argv := append(append([]string{"ssh"}, r.sshd.ClientArgs()...), r.sshd.Destination(), command)
	out, errs, code, err := sshtest.Run(context.Background(), argv, "", time.Minute)
	if err != nil {
		t.Fatalf("ssh %s: %v\n%s", command, err, errs)
	}
	return out, errs, code
}

// noToken fails when a file under dir holds token.
func noToken(t *testing.T, dir, token string) {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		n++
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), token) {
			t.Errorf("%s holds the laptop's token", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s: %d files, none holds the token", dir, n)
}

func sha(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// The done-when: through `ghlogin ssh`, git on a machine where
// nobody logged in clones and pushes with the laptop's token; ghlogin token
// (with or without --host: the lent host is the only one with accounts)
// and status there use the agent; nothing on the remote holds the token
// afterwards; a host not lent is refused with the sentence that says what
// to do; and once the session is over a new git fetch fails at once,
// saying so.
func TestSSHLendsLogin(t *testing.T) {
	forHelpers(t, testSSHLendsLogin)
}

func testSSHLendsLogin(t *testing.T, k helperKind) {
	srv := gitEmulator(t, nil)
	host := hostOf(srv)
	laptop := newGitEnv(t, true, k)
	laptop.loginAndSetup(srv, emulator.DefaultClientID)
	acct, sec := laptop.storedSecret(host)
	box := newRemoteBox(t, k)
	remoteConfig := filepath.Join(box.home, ".config", "ghlogin")

	// The remote names the emulator's plain-http loopback address as the
	// laptop does: the git helper answers http only for a loopback host
	// the configuration records as http, whatever lends the token, and
	// setup-git --host http://… records it, so setup-git is the one step
	// the remote needs (README: "ghlogin setup-git # once").
	script := strings.Join([]string{
		`echo "sock=$GHLOGIN_AGENT_SOCK"`,
		`ghlogin setup-git --host ` + srv.URL() + ` 2>&1`,
		`echo "helper=$(git config --global --get-all credential.` + srv.URL() + `.helper | tail -n1)"`,
		`ghlogin status --offline`,
		`git clone -q ` + srv.URL() + `/octocat/hello.git work`,
		`cd work`,
		`echo "lent" > lent.txt && git add lent.txt && git commit -q -m "From the remote"`,
		`git push -q origin main && echo pushed`,
		`echo "token $(ghlogin token --host ` + srv.URL() + ` | sha256sum | cut -d" " -f1)"`,
		// No --host: the only host with accounts is the lent one.
		`echo "default $(ghlogin token | sha256sum | cut -d" " -f1)"`,
		`ghlogin token --host github.com; echo "exit $?"`,
	}, " && ")
	r := laptop.run("", box.sshArgs([]string{"--allow", host}, script)...)
	t.Logf("ghlogin ssh: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("ghlogin ssh: exit %d", r.code)
	}
	// Consent before connecting; the account after.
	remoteName := "127.0.0.1"
	if want := "Lending your " + host + " login (" + acct.Login + ") to " + remoteName + " for this session\n"; !strings.HasPrefix(r.stderr, want) {
		t.Errorf("stderr does not start with %q", want)
	}
	report := regexp.MustCompile(`(?m)^127\.0\.0\.1 used your ` + regexp.QuoteMeta(host) + ` token (\S+ times|twice|once) for git and twice for token and listed your accounts (once|twice|\S+ times); 1 request for github\.com was refused$`)
	if !report.MatchString(r.stderr) {
		t.Errorf("no report line like %s", report)
	}
	m := regexp.MustCompile(`(?m)^sock=(/tmp/ghlogin-agent-[0-9a-f]+\.sock)$`).FindStringSubmatch(r.stdout)
	if m == nil {
		t.Fatal("the remote shell had no GHLOGIN_AGENT_SOCK")
	}
	sock := m[1]
	if want := "\nhelper=" + k.helperValue(true) + "\n"; !strings.Contains(r.stdout, want) {
		t.Errorf("the remote's git helper is not %q", want)
	}
	for _, want := range []string{
		"⇄ " + acct.Login + " (lent by the ghlogin agent on ",
		"\npushed\n",
		"\ntoken " + sha(sec.Token+"\n") + "\n",
		"\ndefault " + sha(sec.Token+"\n") + "\n",
		"\nexit 1\n",
	} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("remote stdout lacks %q", want)
		}
	}
	if !strings.Contains(r.stderr, " does not serve github.com; reconnect with ghlogin ssh --allow github.com …\n") {
		t.Errorf("no refusal for github.com in stderr")
	}
	// The push reached the emulator with the laptop's account.
	check := filepath.Join(laptop.dir, "check")
	laptop.mustGit(laptop.dir, "clone", "-q", srv.URL()+"/octocat/hello.git", check)
	if b, err := os.ReadFile(filepath.Join(check, "lent.txt")); err != nil || string(b) != "lent\n" {
		t.Errorf("the pushed file: %q, %v", b, err)
	}

	// Nothing on the remote holds the token: not its home (git's config,
	// the clone, ghlogin's config directory), not its runtime directory.
	if _, err := os.Stat(filepath.Join(remoteConfig, "credentials.json")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the remote has a credentials file: %v", err)
	}
	noToken(t, box.home, sec.Token)
	noToken(t, remoteConfig, sec.Token)
	noToken(t, box.run, sec.Token)
	// The session's socket and the well-known link are gone.
	for _, p := range []string{sock, filepath.Join(box.run, "ghlogin", "agent.sock")} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s outlived the session: %v", p, err)
		}
	}

	// A shell that kept the old session's variable (a tmux pane): git
	// fetch fails at once and says what to do.
	start := time.Now()
	out, errs, code := box.plainSSH(t, `cd "$HOME/work" && GHLOGIN_AGENT_SOCK=`+sock+" git fetch")
	t.Logf("git fetch after the session: exit %d in %s\n%s%s", code, time.Since(start).Round(time.Millisecond), out, errs)
	if code == 0 {
		t.Fatal("git fetch succeeded after the session")
	}
	if !strings.Contains(errs, "ghlogin: the forwarded agent is gone; reconnect or log in here (no ghlogin agent at "+sock+"; after logging in here, unset GHLOGIN_AGENT_SOCK)") {
		t.Errorf("git fetch's stderr does not say the agent is gone")
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("git fetch took %s", d)
	}
}

// A session that lends another host: git on the remote is refused the
// emulator's host with the sentence naming --allow, ghlogin token exits 1,
// and the account printed at the end says so.
func TestSSHRefusesHostNotLent(t *testing.T) {
	forHelpers(t, testSSHRefusesHostNotLent)
}

func testSSHRefusesHostNotLent(t *testing.T, k helperKind) {
	srv := gitEmulator(t, nil)
	host := hostOf(srv)
	other := strings.Replace(srv.URL(), "127.0.0.1", "localhost", 1)
	laptop := newGitEnv(t, true, k)
	for _, u := range []string{srv.URL(), other} {
		if r := laptop.run("", "login", "--host", u, "--client-id", emulator.DefaultClientID); r.code != 0 {
			t.Fatalf("login %s: exit %d\n%s", u, r.code, r.stderr)
		}
	}
	_, sec := laptop.storedSecret(host)
	box := newRemoteBox(t, k)
	// Clone first with a session that lends the host...
	r := laptop.run("", box.sshArgs([]string{"--allow", host}, `ghlogin setup-git --host `+srv.URL()+` >/dev/null 2>&1 && git clone -q `+srv.URL()+`/octocat/hello.git work`)...)
	if r.code != 0 {
		t.Fatalf("first session: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	// ... then fetch in one that lends only the other.
	otherHost := strings.TrimPrefix(other, "http://")
	r = laptop.run("", box.sshArgs([]string{"--allow", otherHost}, `cd work && git fetch; echo "fetch $?"; ghlogin token --host `+srv.URL()+`; echo "token $?"`)...)
	t.Logf("ghlogin ssh: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	if r.code != 0 {
		t.Fatalf("ghlogin ssh: exit %d", r.code)
	}
	refusal := " does not serve " + host + "; reconnect with ghlogin ssh --allow " + host + " …"
	if !strings.Contains(r.stderr, "ghlogin: the agent on ") || strings.Count(r.stderr, refusal) != 2 {
		t.Errorf("stderr should hold the refusal from git's helper and from ghlogin token: %q", refusal)
	}
	for _, want := range []string{"fetch 128\n", "token 1\n"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if !strings.Contains(r.stderr, "\n127.0.0.1 got no token; 2 requests for "+host+" were refused\n") {
		t.Error("no report of the refusals")
	}
	noToken(t, box.home, sec.Token)
}
