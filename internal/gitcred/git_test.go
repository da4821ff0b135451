package gitcred

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
)

// gitWithHelper returns a function running real git with a global config
// (GIT_CONFIG_GLOBAL in a temp dir, no system config) where setupgit has
// registered this test binary as the helper for github.com and for the
// emulator's http host, and where the test binary acts as the helper over
// the store in dir.
func gitWithHelper(t *testing.T, dir string) func(stdin string, args ...string) (string, error) {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required when CI=true: %v", err)
		}
		t.Skipf("git is not installed (%v); this test drives the helper with the real git", err)
	}
	home := t.TempDir()
	env := []string{
		"GIT_CONFIG_GLOBAL=" + filepath.Join(home, "gitconfig"),
		"GIT_CONFIG_NOSYSTEM=1",
		"HOME=" + home,
		"PATH=" + os.Getenv("PATH"),
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=",
		"SSH_ASKPASS=",
		"GITCRED_TEST_HELPER=1",
		"GITCRED_TEST_DIR=" + dir,
	}
	self, err := filepath.Abs(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []setupgit.Options{
		{Host: "github.com"},
		{Host: emuHost, Protocol: "http"},
		{Host: "ghe.example.com"},
	} {
		o.Git, o.Env = gitBin, env
		o.SelfPath = func() (string, error) { return self, nil }
		o.LookPath = func(string) (string, error) { return "", exec.ErrNotFound }
		if _, err := setupgit.Setup(context.Background(), o); err != nil {
			t.Fatal(err)
		}
	}
	return func(stdin string, args ...string) (string, error) {
		cmd := exec.Command(gitBin, args...)
		cmd.Env = env
		cmd.Stdin = strings.NewReader(stdin)
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
}

func TestRealGitFill(t *testing.T) {
	dir := t.TempDir()
	newFixtureStore(t, dir)
	git := gitWithHelper(t, dir)

	out, err := git("protocol=https\nhost=github.com\npath=o/r.git\n\n", "credential", "fill")
	if err != nil || !strings.Contains(out, "username=octocat\npassword="+tokOctocat+"\n") {
		t.Fatalf("github.com: %v\n%s", err, out)
	}
	out, err = git("url=https://hubot@github.com/o/r.git\n\n", "credential", "fill")
	if err != nil || !strings.Contains(out, "username=hubot\npassword="+tokHubot+"\n") {
		t.Fatalf("hubot: %v\n%s", err, out)
	}
	out, err = git("url=http://127.0.0.1:8787/o/r.git\n\n", "credential", "fill")
	if err != nil || !strings.Contains(out, "password="+tokEmu+"\n") {
		t.Fatalf("emulator: %v\n%s", err, out)
	}
	// git asks our helper only for the hosts set up; make it ask for every
	// host to show that the helper itself refuses the others.
	if _, err := git("", "config", "--global", "credential.helper", "!'"+os.Args[0]+"' git-credential"); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{
		"url=https://github.com.evil.io/o/r\n\n",
		"url=https://github.com@evil.io/o/r\n\n",
		"url=http://github.com/o/r\n\n",
		"url=https://github.com:8443/o/r\n\n",
		"url=https://mallory@github.com/o/r\n\n",
	} {
		out, err := git(in, "credential", "fill")
		if err == nil || strings.Contains(out, "password=") {
			t.Fatalf("%q: git got a credential (%v):\n%s", in, err, out)
		}
	}
}

// git reject → our erase: a revoked token is removed, a working one kept.
func TestRealGitReject(t *testing.T) {
	dir := t.TempDir()
	st := newFixtureStore(t, dir)
	srv, _ := apiServer(t, tokHubot)
	pointAPI(t, st, "github.com", srv)
	git := gitWithHelper(t, dir)

	if out, err := git("protocol=https\nhost=github.com\nusername=hubot\npassword="+tokHubot+"\n\n", "credential", "reject"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if _, err := st.Resolve("github.com", "hubot"); err != nil {
		t.Fatalf("a working token was erased: %v", err)
	}
	out, err := git("protocol=https\nhost=github.com\nusername=octocat\npassword="+tokOctocat+"\n\n", "credential", "reject")
	if err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if !tokenInvalidated(t, st, "github.com", "octocat") {
		t.Fatalf("a revoked token was kept:\n%s", out)
	}
	if !strings.Contains(out, "has been removed") || strings.Contains(out, tokOctocat) {
		t.Fatalf("git showed:\n%s", out)
	}
	// hubot's token is untouched and still served when git names hubot.
	out, err = git("protocol=https\nhost=github.com\nusername=hubot\n\n", "credential", "fill")
	if err != nil || !strings.Contains(out, "username=hubot\n") {
		t.Fatalf("%v\n%s", err, out)
	}
}

// git approve → our store: nothing is written.
func TestRealGitApproveStoresNothing(t *testing.T) {
	dir := t.TempDir()
	st := newFixtureStore(t, dir)
	before, _ := os.ReadFile(st.CredentialsPath())
	git := gitWithHelper(t, dir)
	if out, err := git("protocol=https\nhost=github.com\nusername=someone\npassword=foreign\n\n", "credential", "approve"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	after, _ := os.ReadFile(st.CredentialsPath())
	if !bytes.Equal(before, after) {
		t.Fatal("approve changed the credentials file")
	}
}
