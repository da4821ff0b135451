package setupgit

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// gitEnv finds git and returns an environment whose global config is a temp
// file and which reads no system config.
func gitEnv(t *testing.T) (gitBin string, env []string, cfgPath string) {
	t.Helper()
	gitBin, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required when CI=true: %v", err)
		}
		t.Skipf("git is not installed (%v); these tests run the real git binary", err)
	}
	dir := t.TempDir()
	cfgPath = filepath.Join(dir, "gitconfig")
	env = []string{
		"GIT_CONFIG_GLOBAL=" + cfgPath,
		"GIT_CONFIG_NOSYSTEM=1",
		"HOME=" + dir,
		"PATH=" + os.Getenv("PATH"),
		"LC_ALL=C",
	}
	return gitBin, env, cfgPath
}

func notOnPath(string) (string, error) { return "", exec.ErrNotFound }

func opts(gitBin string, env []string, self string) Options {
	return Options{
		Host:     "github.com",
		Git:      gitBin,
		Env:      env,
		SelfPath: func() (string, error) { return self, nil },
		LookPath: notOnPath,
	}
}

func getAll(t *testing.T, gitBin string, env []string, key string) []string {
	t.Helper()
	g := &gitRunner{opts: Options{Env: env}, bin: gitBin}
	v, err := g.getAll(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func gitConfig(t *testing.T, gitBin string, env []string, args ...string) {
	t.Helper()
	cmd := exec.Command(gitBin, append([]string{"config", "--global"}, args...)...)
	cmd.Env = env
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git config %v: %v\n%s", args, err, out)
	}
}

func TestSetupWritesTwoEntriesAndIsIdempotent(t *testing.T) {
	gitBin, env, cfg := gitEnv(t)
	self := "/opt/ghlogin/bin/ghlogin"
	ctx := context.Background()
	res, err := Setup(ctx, opts(gitBin, env, self))
	if err != nil {
		t.Fatal(err)
	}
	if !res.Changed || res.Key != "credential.https://github.com.helper" {
		t.Fatalf("result %+v", res)
	}
	want := []string{"", "!/opt/ghlogin/bin/ghlogin git-credential"}
	if got := getAll(t, gitBin, env, res.Key); !slices.Equal(got, want) {
		t.Fatalf("values %q, want %q", got, want)
	}
	before, _ := os.ReadFile(cfg)
	res, err = Setup(ctx, opts(gitBin, env, self))
	if err != nil {
		t.Fatal(err)
	}
	after, _ := os.ReadFile(cfg)
	if res.Changed || string(before) != string(after) {
		t.Fatalf("second run changed the config:\n%s\n---\n%s", before, after)
	}
}

func TestSetupUsesBareNameWhenOnPath(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	dir := t.TempDir()
	self := filepath.Join(dir, "ghlogin")
	if err := os.WriteFile(self, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	o := opts(gitBin, env, self)
	o.LookPath = func(name string) (string, error) {
		if name == "ghlogin" {
			return self, nil
		}
		return exec.LookPath(name)
	}
	res, err := Setup(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, res.Key); !slices.Equal(got, []string{"", "!ghlogin git-credential"}) {
		t.Fatalf("values %q", got)
	}
	// Another ghlogin on PATH is not this binary: the absolute path is used.
	other := filepath.Join(t.TempDir(), "ghlogin")
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	o.LookPath = func(string) (string, error) { return other, nil }
	res, err = Setup(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, res.Key); !slices.Equal(got, []string{"", "!" + self + " git-credential"}) {
		t.Fatalf("values %q (the bare entry must be replaced, not duplicated)", got)
	}
}

func TestUnsetRemovesOnlyOurs(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	ctx := context.Background()
	key := "credential.https://github.com.helper"
	gitConfig(t, gitBin, env, "--add", "credential.helper", "cache --timeout=60")
	gitConfig(t, gitBin, env, "--add", key, "")
	gitConfig(t, gitBin, env, "--add", key, "store")
	gitConfig(t, gitBin, env, "--add", "credential.https://example.com.helper", "!ghlogin git-credential")
	self := "/usr/local/bin/ghlogin"
	if _, err := Setup(ctx, opts(gitBin, env, self)); err != nil {
		t.Fatal(err)
	}
	want := []string{"", "store", "", "!/usr/local/bin/ghlogin git-credential"}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, want) {
		t.Fatalf("after setup %q, want %q", got, want)
	}
	o := opts(gitBin, env, self)
	o.Unset = true
	res, err := Setup(ctx, o)
	if err != nil || !res.Changed {
		t.Fatalf("unset: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"", "store"}) {
		t.Fatalf("after unset %q, want the user's own entries", got)
	}
	if got := getAll(t, gitBin, env, "credential.helper"); !slices.Equal(got, []string{"cache --timeout=60"}) {
		t.Fatalf("credential.helper %q", got)
	}
	if got := getAll(t, gitBin, env, "credential.https://example.com.helper"); len(got) != 1 {
		t.Fatalf("another host's entry was touched: %q", got)
	}
	res, err = Setup(ctx, o)
	if err != nil || res.Changed {
		t.Fatalf("second unset: %+v %v", res, err)
	}
}

func TestUnsetWithNothingWritten(t *testing.T) {
	gitBin, env, cfg := gitEnv(t)
	o := opts(gitBin, env, "/bin/ghlogin")
	o.Unset = true
	res, err := Setup(context.Background(), o)
	if err != nil || res.Changed {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := os.Stat(cfg); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("unset created the config file: %v", err)
	}
}

func TestSetupLoopbackHTTPHost(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	o := opts(gitBin, env, "/bin/ghlogin")
	o.Host, o.Protocol = "127.0.0.1:8787", "http"
	res, err := Setup(context.Background(), o)
	if err != nil {
		t.Fatal(err)
	}
	if res.Key != "credential.http://127.0.0.1:8787.helper" {
		t.Fatalf("key %q", res.Key)
	}
	o.Host = "example.com"
	_, err = Setup(context.Background(), o)
	if err == nil || !strings.Contains(err.Error(), "loopback") {
		t.Fatalf("http for a non-loopback host: %v", err)
	}
	o.Host, o.Protocol = "evil host", "https"
	if _, err := Setup(context.Background(), o); err == nil {
		t.Fatal("an invalid host was accepted")
	}
}

// A path with a space and a single quote is quoted so that git's shell runs
// exactly that binary.
func TestQuotedPathRunsWithRealGit(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	dir := filepath.Join(t.TempDir(), "dir with space", "it's $HOME `x`")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "ghlogin")
	script := "#!/bin/sh\n[ \"$1\" = git-credential ] && [ \"$2\" = get ] && printf 'username=quoted\\npassword=ok-%s\\n' \"$#\"\n"
	if err := os.WriteFile(self, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Setup(context.Background(), opts(gitBin, env, self))
	if err != nil {
		t.Fatal(err)
	}
	wantHelper := "!'" + strings.ReplaceAll(self, "'", `'\''`) + "' git-credential"
	if res.Helper != wantHelper {
		t.Fatalf("helper %q, want %q", res.Helper, wantHelper)
	}
	cmd := exec.Command(gitBin, "credential", "fill")
	cmd.Env = append(env, "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=github.com\n\n")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("git credential fill: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "username=quoted\npassword=ok-2\n") {
		t.Fatalf("git did not run the quoted helper:\n%s", out)
	}
	// And it is recognised as ours for --unset.
	o := opts(gitBin, env, "/elsewhere/ghlogin")
	o.Unset = true
	if res, err := Setup(context.Background(), o); err != nil || !res.Changed || len(res.Values) != 0 {
		t.Fatalf("unset of a quoted entry written by another location: %+v %v", res, err)
	}
}

func TestShellQuote(t *testing.T) {
	for in, want := range map[string]string{
		"/usr/bin/ghlogin":    "/usr/bin/ghlogin",
		"/a b/ghlogin":        "'/a b/ghlogin'",
		"/it's/ghlogin":       `'/it'\''s/ghlogin'`,
		"/x/$(rm -rf)/g":      "'/x/$(rm -rf)/g'",
		"":                    "''",
		"/semi;colon/ghlogin": "'/semi;colon/ghlogin'",
	} {
		if got := ShellQuote(in); got != want {
			t.Errorf("ShellQuote(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsOurs(t *testing.T) {
	for v, want := range map[string]bool{
		"!ghlogin git-credential":                    true,
		"!/usr/bin/ghlogin git-credential":           true,
		"!'/a b/it'\\''s/ghlogin' git-credential":    true,
		"!gh auth git-credential":                    false,
		"store":                                      false,
		"":                                           false,
		"!ghlogin git-credential; rm -rf /":          false,
		"!/usr/bin/ghlogin-other git-credential":     true,
		"!/usr/bin/notghlogin/x git-credential":      false,
		"!/usr/bin/ghlogin git-credential --foo":     false,
		"!/home/u/go/bin/ghlogin.exe git-credential": true,
	} {
		if got := IsOurs(v, ""); got != want {
			t.Errorf("IsOurs(%q) = %v, want %v", v, got, want)
		}
	}
}

// setup-git sets credential.<url>.useHttpPath, so git sends the repository's
// path to the helper; --unset removes it.
func TestSetupUseHTTPPathWithRealGit(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	dir := t.TempDir()
	self := filepath.Join(dir, "ghlogin")
	seen := filepath.Join(dir, "request.txt")
	// The helper records the request git sends and answers it.
	script := "#!/bin/sh\ncat > '" + seen + "'\nprintf 'username=u\\npassword=p\\n'\n"
	if err := os.WriteFile(self, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	fill := func() string {
		t.Helper()
		cmd := exec.Command(gitBin, "credential", "fill")
		cmd.Env = append(env, "GIT_TERMINAL_PROMPT=0")
		cmd.Stdin = strings.NewReader("url=https://github.com/my-org/x.git\n\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git credential fill: %v\n%s", err, out)
		}
		b, err := os.ReadFile(seen)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	ctx := context.Background()
	res, err := Setup(ctx, opts(gitBin, env, self))
	if err != nil {
		t.Fatal(err)
	}
	if res.PathKey != "credential.https://github.com.useHttpPath" || !res.PathChanged {
		t.Fatalf("result %+v", res)
	}
	if got := getAll(t, gitBin, env, res.PathKey); !slices.Equal(got, []string{"true"}) {
		t.Fatalf("useHttpPath = %q", got)
	}
	if req := fill(); !strings.Contains(req, "path=my-org/x.git\n") {
		t.Errorf("git did not send the path with useHttpPath set:\n%s", req)
	}
	// Idempotent.
	if res, err := Setup(ctx, opts(gitBin, env, self)); err != nil || res.Changed || res.PathChanged {
		t.Fatalf("second setup: %+v %v", res, err)
	}
	if !res.PathOwned {
		t.Fatalf("setup that wrote useHttpPath does not own it: %+v", res)
	}
	// Idempotent; ownership carries over from the caller's record.
	o := opts(gitBin, env, self)
	o.PathOwned = true
	if res, err := Setup(ctx, o); err != nil || res.Changed || res.PathChanged || !res.PathOwned {
		t.Fatalf("second setup: %+v %v", res, err)
	}
	// --unset removes it when setup-git set it.
	o.Unset = true
	if res, err := Setup(ctx, o); err != nil || !res.PathChanged || res.PathOwned || res.PathLeft {
		t.Fatalf("unset: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, res.PathKey); len(got) != 0 {
		t.Fatalf("useHttpPath after --unset = %q", got)
	}
}

// A useHttpPath the person wrote is theirs: setup leaves a false alone
// (and says so in PathKept), and --unset removes neither a false nor a
// true that setup did not set.
func TestSetupKeepsThePersonsUseHTTPPath(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	self := filepath.Join(t.TempDir(), "ghlogin")
	ctx := context.Background()
	key := PathKey("https", "github.com")

	gitConfig(t, gitBin, env, "--add", key, "false")
	res, err := Setup(ctx, opts(gitBin, env, self))
	if err != nil || res.PathChanged || res.PathOwned || res.PathKept != "false" || !res.Changed {
		t.Fatalf("setup over false: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"false"}) {
		t.Fatalf("useHttpPath = %q, want the person's false kept", got)
	}
	o := opts(gitBin, env, self)
	o.Unset = true
	if res, err := Setup(ctx, o); err != nil || res.PathChanged || res.PathLeft {
		t.Fatalf("unset with useHttpPath=false: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"false"}) {
		t.Fatalf("useHttpPath = %q after --unset, want the person's false kept", got)
	}

	// A true the person wrote: setup keeps it without owning it, and
	// --unset leaves it (and says so).
	gitConfig(t, gitBin, env, "--replace-all", key, "yes")
	if res, err := Setup(ctx, opts(gitBin, env, self)); err != nil || res.PathChanged || res.PathOwned || res.PathKept != "" {
		t.Fatalf("setup over yes: %+v %v", res, err)
	}
	if res, err := Setup(ctx, o); err != nil || res.PathChanged || !res.PathLeft {
		t.Fatalf("unset with the person's true: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"yes"}) {
		t.Fatalf("useHttpPath = %q after --unset, want the person's yes kept", got)
	}
	// Even with the record, --unset leaves a value that is no longer
	// all true (the person changed it since).
	gitConfig(t, gitBin, env, "--replace-all", key, "false")
	o.PathOwned = true
	if res, err := Setup(ctx, o); err != nil || res.PathChanged {
		t.Fatalf("unset with the record and false: %+v %v", res, err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"false"}) {
		t.Fatalf("useHttpPath = %q", got)
	}
	if PathIsSet(ctx, Options{Host: "github.com", Git: gitBin, Env: env}) {
		t.Error("PathIsSet with false")
	}
	gitConfig(t, gitBin, env, "--replace-all", key, "true")
	if !PathIsSet(ctx, Options{Host: "github.com", Git: gitBin, Env: env}) {
		t.Error("PathIsSet with true")
	}
}

// With git-credential-ghlogin installed beside ghlogin (or on PATH),
// setup-git writes the lean helper's absolute path; --unset removes it, and
// the name form "ghlogin", and the full binary's entry is replaced.
func TestSetupLeanHelper(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	dir := t.TempDir()
	self := filepath.Join(dir, "ghlogin")
	lean := filepath.Join(dir, LeanName)
	for _, p := range []string{self, lean} {
		if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	o := opts(gitBin, env, self)
	key := Key("https", "github.com")
	if _, err := Setup(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"", lean}) {
		t.Fatalf("values %q, want the lean helper's path", got)
	}
	// Only on PATH (not beside this ghlogin): its path too.
	other := filepath.Join(t.TempDir(), LeanName)
	os.WriteFile(other, []byte("#!/bin/sh\n"), 0o755)
	os.Remove(lean)
	o.LookPath = func(name string) (string, error) {
		if name == LeanName {
			return other, nil
		}
		return "", exec.ErrNotFound
	}
	if _, err := Setup(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"", other}) {
		t.Fatalf("values %q, want [\"\" %q]", got, other)
	}
	// Without the lean helper, the full binary's entry replaces it.
	o.NoLean = true
	if _, err := Setup(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, key); !slices.Equal(got, []string{"", "!" + self + " git-credential"}) {
		t.Fatalf("values %q", got)
	}
	// --unset removes the name form as well.
	gitConfig(t, gitBin, env, "--add", key, LeanHelper)
	o.Unset = true
	if _, err := Setup(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if got := getAll(t, gitBin, env, key); len(got) != 0 {
		t.Fatalf("values after --unset %q", got)
	}
	for _, v := range []string{LeanHelper, lean, "'/a b/" + LeanName + "'"} {
		if !IsOurs(v, self) {
			t.Errorf("IsOurs(%q) = false", v)
		}
	}
	for _, v := range []string{"store", "/usr/bin/git-credential-other", "ghlogin-x"} {
		if IsOurs(v, self) {
			t.Errorf("IsOurs(%q) = true", v)
		}
	}
}

// The lean helper installed in a directory whose path needs quoting (a
// space, a quote, a $) is written as a shell snippet, which real git runs;
// a bare quoted path would not be an absolute path to git, which would run
// "git credential-'…'" instead. --unset recognises the entry.
func TestLeanHelperInAQuotedPathRunsWithRealGit(t *testing.T) {
	gitBin, env, _ := gitEnv(t)
	dir := filepath.Join(t.TempDir(), "sp ace", "it's $HOME")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	self := filepath.Join(dir, "ghlogin")
	lean := filepath.Join(dir, LeanName)
	os.WriteFile(self, []byte("#!/bin/sh\nexit 1\n"), 0o755)
	script := "#!/bin/sh\n[ \"$1\" = get ] && printf 'username=lean\\npassword=ok-%s\\n' \"$#\"\n"
	if err := os.WriteFile(lean, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := Setup(context.Background(), opts(gitBin, env, self))
	if err != nil {
		t.Fatal(err)
	}
	if want := "!" + ShellQuote(lean); res.Helper != want {
		t.Fatalf("helper %q, want %q", res.Helper, want)
	}
	cmd := exec.Command(gitBin, "credential", "fill")
	cmd.Env = append(env, "GIT_TERMINAL_PROMPT=0")
	cmd.Stdin = strings.NewReader("protocol=https\nhost=github.com\n\n")
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "username=lean\npassword=ok-1\n") {
		t.Fatalf("git did not run the lean helper: %v\n%s", err, out)
	}
	o := opts(gitBin, env, "/elsewhere/ghlogin")
	o.Unset = true
	if res, err := Setup(context.Background(), o); err != nil || !res.Changed || len(res.Values) != 0 {
		t.Fatalf("unset of the quoted lean entry: %+v %v", res, err)
	}
}
