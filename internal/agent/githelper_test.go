package agent

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// gitHelperLine is the one-line git helper from docs/agent.md, as a reader
// would copy it.
func gitHelperLine(t *testing.T) string {
	t.Helper()
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "agent.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(doc), "<!-- git-helper -->\n```sh\n")
	if !ok {
		t.Fatal("docs/agent.md has no git-helper block")
	}
	line, _, _ := strings.Cut(after, "\n")
	if !strings.HasPrefix(line, "git config --global credential.https://github.com.helper '!f()") {
		t.Fatalf("unexpected helper line %q", line)
	}
	return line
}

// The documented git helper, with real git and socat, against a real agent.
func TestDocumentedGitHelper(t *testing.T) {
	requireTool(t, "git")
	requireTool(t, "socat")
	line := gitHelperLine(t)
	src := newFakeSource()
	s := &Server{Name: "laptop", Allowed: []string{"github.com"}, Source: src}
	sock := serve(t, s)

	home := t.TempDir()
	baseEnv := []string{
		"HOME=" + home, "PATH=" + os.Getenv("PATH"), "GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1", "GIT_TERMINAL_PROMPT=0", "GIT_ASKPASS=", "SSH_ASKPASS=",
	}
	run := func(env []string, stdin string, name string, args ...string) (string, string, error) {
		cmd := exec.CommandContext(context.Background(), name, args...)
		cmd.Env = append(append([]string(nil), baseEnv...), env...)
		cmd.Dir = home
		cmd.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	// Install it as documented, and the same helper for a host the agent
	// does not serve and, unscoped, for every URL.
	other := strings.Replace(line, "credential.https://github.com.helper", "credential.https://ghe.example.com.helper", 1)
	for _, l := range []string{line, other} {
		if _, stderr, err := run(nil, "", "sh", "-c", l); err != nil {
			t.Fatalf("%v: %s", err, stderr)
		}
	}
	agentEnv := []string{EnvSock + "=" + sock}

	out, stderr, err := run(agentEnv, "protocol=https\nhost=github.com\npath=octo/repo.git\n\n", "git", "credential", "fill")
	if err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	want := "protocol=https\nhost=github.com\nusername=octocat\npassword=" + canary + "\n"
	if out != want {
		t.Fatalf("got %q\nwant %q", out, want)
	}

	// A host the agent does not serve: its reason on stderr, no password.
	out, stderr, err = run(agentEnv, "protocol=https\nhost=ghe.example.com\n\n", "git", "credential", "fill")
	if err == nil || strings.Contains(out, "password=") || !strings.Contains(stderr, "ghlogin agent: this agent serves github.com only") {
		t.Fatalf("not allowed: %v %q %q", err, out, stderr)
	}

	// No agent: the helper steps aside quietly.
	out, stderr, err = run([]string{EnvSock + "=" + filepath.Join(home, "gone.sock")}, "protocol=https\nhost=github.com\n\n", "git", "credential", "fill")
	if err == nil || strings.Contains(out, "password=") || strings.Contains(stderr, "ghlogin agent") {
		t.Fatalf("no agent: %v %q %q", err, out, stderr)
	}

	// A host name that would add fields to the request is never sent.
	unscoped := strings.Replace(line, "credential.https://github.com.helper", "credential.helper", 1)
	if _, stderr, err := run(nil, "", "sh", "-c", unscoped); err != nil {
		t.Fatalf("%v: %s", err, stderr)
	}
	before := src.calls.Load()
	for _, host := range []string{`evil.example.com","host":"github.com`, `evil.example.com\u0022`, "a b"} {
		out, _, _ = run(agentEnv, "protocol=https\nhost="+host+"\n\n", "git", "credential", "fill")
		if strings.Contains(out, "password=") {
			t.Fatalf("%q: got %q", host, out)
		}
	}
	if got := s.Counts(); src.calls.Load() != before || len(got) != 2 {
		t.Fatalf("the crafted hosts reached the agent: %+v", got)
	}
}
