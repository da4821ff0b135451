//go:build !windows

package hostile

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// writeConfig writes a private config directory with config.toml holding
// toml and a credentials.json holding nothing.
func writeConfig(t *testing.T, s *sandbox, toml string) {
	t.Helper()
	if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.configDir(), "config.toml"), []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.configDir(), "credentials.json"), []byte("{}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

// refused runs commands that read the config and checks each is refused
// with the fix on stderr, and that the git helper answers nothing.
func refused(t *testing.T, s *sandbox, fix string) {
	t.Helper()
	for _, args := range [][]string{{"status", "--offline"}, {"token"}, {"config", "list"}} {
		r := s.run(s.env, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "run: "+fix) {
			t.Errorf("%v: exit %d, stderr %q; want a refusal ending with the fix %q", args, r.code, r.stderr, fix)
		}
	}
	r := s.run(s.with("GIT_TERMINAL_PROMPT=0"), "protocol=https\nhost=github.com\n\n", "git-credential", "get")
	if r.stdout != "" || !strings.Contains(r.stderr, fix) {
		t.Errorf("git-credential get: stdout %q, stderr %q", r.stdout, r.stderr)
	}
}

func TestConfigTrustGroupWritableFile(t *testing.T) {
	s := newSandbox(t)
	writeConfig(t, s, "")
	path := filepath.Join(s.configDir(), "config.toml")
	os.Chmod(path, 0o620)
	refused(t, s, "chmod go-w "+path)
}

func TestConfigTrustWorldWritableDir(t *testing.T) {
	s := newSandbox(t)
	writeConfig(t, s, "")
	os.Chmod(s.configDir(), 0o777)
	refused(t, s, "chmod go-w "+s.configDir())
	// Nothing is written into it either.
	r := s.run(s.env, "gho_x\n", "login", "--with-token")
	if r.code == 0 || !strings.Contains(r.stderr, "chmod go-w "+s.configDir()) {
		t.Errorf("login --with-token: exit %d, stderr %q", r.code, r.stderr)
	}
}

func TestConfigTrustOtherOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("CI runs as root; this test chowns files to another user")
		}
		t.Skip("needs root to chown a file to another user")
	}
	nobody, err := user.Lookup("nobody")
	if err != nil {
		t.Skipf("no user nobody: %v", err)
	}
	uid, _ := strconv.Atoi(nobody.Uid)
	me, _ := user.Current()
	for _, name := range []string{"config.toml", "credentials.json", ""} {
		s := newSandbox(t)
		writeConfig(t, s, "[hosts.\"github.com\"]\nactive = \"octocat\"\n\n[hosts.\"github.com\".accounts.octocat]\nstore = \"file\"\n")
		path := filepath.Join(s.configDir(), name)
		if err := os.Chown(path, uid, -1); err != nil {
			t.Fatal(err)
		}
		path = strings.TrimSuffix(path, "/")
		if name == "credentials.json" {
			// Only reading the secret touches it.
			r := s.run(s.env, "", "token")
			if r.code == 0 || !strings.Contains(r.stderr, "belongs to user nobody") || !strings.Contains(r.stderr, "run: chown "+me.Username+" "+path) {
				t.Errorf("token with %s owned by nobody: exit %d, stderr %q", name, r.code, r.stderr)
			}
			continue
		}
		refused(t, s, "chown "+me.Username+" "+path)
	}
}

// Endpoint URLs in config.toml obey the rules flags obey: an http token
// endpoint off loopback would receive the device code and the client
// secret, so the file is refused at load, naming the file and the key.
func TestConfigBadURLInFile(t *testing.T) {
	s := newSandbox(t)
	writeConfig(t, s, "[hosts.\"ghe.example.com\"]\nclient_id = \"Iv1.x\"\ntoken_url = \"http://collector.example/token\"\n")
	path := filepath.Join(s.configDir(), "config.toml")
	for _, args := range [][]string{{"login", "--host", "ghe.example.com"}, {"status"}, {"token", "--host", "ghe.example.com"}} {
		r := s.run(s.env, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "the config file "+path+" cannot be read: [hosts.\"ghe.example.com\"] invalid value \"http://collector.example/token\" for token_url: http:// is allowed only for loopback") {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestClientSecretFromStdin: a client secret is never a command-line
// value; "-" reads it from standard input.
func TestClientSecretFromStdin(t *testing.T) {
	const secret = "CLIENTSECRETCANARY0123456789abcdef012345"
	s := newSandbox(t)
	r := s.run(s.env, "", "config", "set", "client_secret", secret)
	if r.code != 2 || !strings.Contains(r.stderr, "client_secret is not taken on the command line") || !strings.Contains(r.stderr, "client_secret - and type it, or pipe it in") {
		t.Errorf("config set client_secret VALUE: exit %d, stderr %q", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, secret) {
		t.Error("the refusal repeats the secret")
	}
	if g := s.run(s.env, "", "config", "get", "client_secret"); strings.TrimSpace(g.stdout) != "" {
		t.Errorf("the refused secret was stored: %q", g.stdout)
	}
	r = s.run(s.env, secret+"\n", "config", "set", "client_secret", "-")
	if r.code != 0 || strings.Contains(r.stdout+r.stderr, secret) {
		t.Fatalf("config set client_secret -: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	secretStored(t, s, secret)
	if r := s.run(s.env, "", "config", "set", "client_secret", "-"); r.code != 2 || !strings.Contains(r.stderr, "no client_secret on standard input") {
		t.Errorf("empty stdin: exit %d, stderr %q", r.code, r.stderr)
	}
	// An empty value still unsets it.
	if r := s.run(s.env, "", "config", "set", "client_secret", ""); r.code != 0 {
		t.Errorf("unset: exit %d, stderr %q", r.code, r.stderr)
	}
}

// secretStored checks that config.toml holds secret and that config get
// shows it masked, as config list does.
func secretStored(t *testing.T, s *sandbox, secret string) {
	t.Helper()
	if g := s.run(s.env, "", "config", "get", "client_secret"); g.stdout != "********\n" {
		t.Errorf("config get client_secret = %q, want it masked", g.stdout)
	}
	if b, _ := os.ReadFile(filepath.Join(s.configDir(), "config.toml")); !strings.Contains(string(b), secret) {
		t.Errorf("config.toml does not hold the secret:\n%s", b)
	}
}

// TestClientSecretHiddenOnATerminal types the secret into a terminal (a
// tmux pane): it is stored, and the terminal never shows it.
func TestClientSecretHiddenOnATerminal(t *testing.T) {
	tm, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("tmux is required in CI (apt-get install tmux)")
		}
		t.Skip("tmux is not installed (apt-get install tmux)")
	}
	const secret = "TYPEDSECRETCANARY0123456789"
	s := newSandbox(t)
	sock, exitFile := filepath.Join(s.dir, "tmux.sock"), filepath.Join(s.dir, "exit-status")
	var script strings.Builder
	script.WriteString("#!/bin/sh\n")
	for _, kv := range s.env {
		k, v, _ := strings.Cut(kv, "=")
		fmt.Fprintf(&script, "export %s='%s'\n", k, strings.ReplaceAll(v, "'", `'\''`))
	}
	fmt.Fprintf(&script, "'%s' config set client_secret -\necho $? > '%s.tmp' && mv '%s.tmp' '%s'\nsleep 600\n", bin, exitFile, exitFile, exitFile)
	runSh := filepath.Join(s.dir, "run.sh")
	if err := os.WriteFile(runSh, []byte(script.String()), 0o700); err != nil {
		t.Fatal(err)
	}
	start := exec.Command(tm, "-S", sock, "-f", "/dev/null", "new-session", "-d", "-s", "g", "-x", "160", "-y", "20", runSh)
	start.Env = []string{"HOME=" + s.dir, "PATH=" + os.Getenv("PATH"), "TERM=xterm-256color"}
	if out, err := start.CombinedOutput(); err != nil {
		t.Fatalf("tmux: %v\n%s", err, out)
	}
	t.Cleanup(func() { _ = exec.Command(tm, "-S", sock, "kill-server").Run() })
	screen := func() string {
		out, _ := exec.Command(tm, "-S", sock, "capture-pane", "-p", "-J", "-t", "g").Output()
		return string(out)
	}
	waitFor := func(what func() bool, desc string) {
		deadline := time.Now().Add(20 * time.Second)
		for !what() {
			if time.Now().After(deadline) {
				t.Fatalf("%s; the terminal shows:\n%s", desc, screen())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	waitFor(func() bool { return strings.Contains(screen(), "it is not shown") }, "no prompt for the secret")
	if out, err := exec.Command(tm, "-S", sock, "send-keys", "-t", "g", "-l", secret).CombinedOutput(); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	if out, err := exec.Command(tm, "-S", sock, "send-keys", "-t", "g", "Enter").CombinedOutput(); err != nil {
		t.Fatalf("send-keys: %v\n%s", err, out)
	}
	waitFor(func() bool { _, err := os.Stat(exitFile); return err == nil }, "ghlogin did not finish")
	if b, _ := os.ReadFile(exitFile); strings.TrimSpace(string(b)) != "0" {
		t.Errorf("exit status %s", b)
	}
	if sc := screen(); strings.Contains(sc, secret) || strings.Contains(sc, secret[:8]) {
		t.Errorf("the terminal shows the secret:\n%s", sc)
	}
	secretStored(t, s, secret)
}

// TestClientSecretFileIsPrivate: config.toml says that it holds a client
// secret, is written 0600, and is refused with the chmod to run when others
// can read it while it holds one (as credentials.json is).
func TestClientSecretFileIsPrivate(t *testing.T) {
	const secret = "CLIENTSECRETCANARY0123456789abcdef012345"
	s := newSandbox(t)
	if r := s.run(s.env, secret+"\n", "config", "set", "client_secret", "-"); r.code != 0 {
		t.Fatalf("config set client_secret -: exit %d, stderr %q", r.code, r.stderr)
	}
	path := filepath.Join(s.configDir(), "config.toml")
	data, _ := os.ReadFile(path)
	if strings.Contains(string(data), "no secrets") || !strings.Contains(strings.SplitN(string(data), "\n[", 2)[0], "client_secret") {
		t.Errorf("the header does not say the file holds a client_secret:\n%s", data)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config.toml mode %v (%v), want 0600", fi.Mode(), err)
	}
	os.Chmod(path, 0o644)
	for _, args := range [][]string{{"status", "--offline"}, {"token"}, {"config", "list"}, {"config", "get", "client_secret"}} {
		r := s.run(s.env, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "other users can read it (mode 0644)") || !strings.Contains(r.stderr, "run: chmod 600 "+path) {
			t.Errorf("%v with a readable config.toml holding a client_secret: exit %d, stderr %q", args, r.code, r.stderr)
		}
		if strings.Contains(r.stdout+r.stderr, secret) {
			t.Errorf("%v shows the secret", args)
		}
	}
	// Without a client_secret, a readable config.toml is fine.
	os.Chmod(path, 0o600)
	if r := s.run(s.env, "", "config", "set", "client_secret", ""); r.code != 0 {
		t.Fatalf("unset: exit %d, stderr %q", r.code, r.stderr)
	}
	os.Chmod(path, 0o644)
	if r := s.run(s.env, "", "config", "list"); r.code != 0 {
		t.Errorf("config list with a readable config.toml and no secret: exit %d, stderr %q", r.code, r.stderr)
	}
}
