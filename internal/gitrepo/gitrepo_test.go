package gitrepo

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestParseRemote(t *testing.T) {
	cases := []struct {
		in   string
		want Ref
	}{
		{"https://github.com/my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x"}},
		{"https://github.com/my-org/x", Ref{Host: "github.com", Owner: "my-org", Name: "x"}},
		{"https://github.com/my-org/x/", Ref{Host: "github.com", Owner: "my-org", Name: "x"}},
		{"https://GitHub.com:443/My-Org/X.git", Ref{Host: "github.com", Owner: "My-Org", Name: "X"}},
		{"https://alice-work@github.com/my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", User: "alice-work"}},
		{"https://alice:secret@github.com/my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", User: "alice"}},
		{"http://127.0.0.1:8787/octocat/hello.git", Ref{Host: "127.0.0.1:8787", Owner: "octocat", Name: "hello"}},
		{"https://ghe.example.com:8443/team/app", Ref{Host: "ghe.example.com:8443", Owner: "team", Name: "app"}},
		{"git@github.com:my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", SSH: true}},
		{"github.com:my-org/x", Ref{Host: "github.com", Owner: "my-org", Name: "x", SSH: true}},
		{"ssh://git@github.com/my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", SSH: true}},
		{"ssh://git@ghe.example.com:2222/team/app.git", Ref{Host: "ghe.example.com", Owner: "team", Name: "app", SSH: true}},
		{"git://github.com/my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", SSH: true}},
	}
	for _, c := range cases {
		got, err := ParseRemote(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRemote(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "/srv/git/x.git", "../x", "file:///srv/x.git", "https://github.com/", "https://github.com/only",
		"https://github.com/a b/x", "git@:x/y", "ftp://h/a/b", "https://bad host/a/b", "C:/repo"} {
		var e *Error
		if _, err := ParseRemote(bad); !errors.As(err, &e) {
			t.Errorf("ParseRemote(%q) = %v, want *Error", bad, err)
		}
	}
}

func TestParseRepo(t *testing.T) {
	cases := []struct {
		in   string
		want Ref
	}{
		{"my-org/x", Ref{Owner: "my-org", Name: "x"}},
		{"github.com/my-org/x", Ref{Host: "github.com", Owner: "my-org", Name: "x"}},
		{"GHE.example.com/team/app", Ref{Host: "ghe.example.com", Owner: "team", Name: "app"}},
		{"https://github.com/my-org/x", Ref{Host: "github.com", Owner: "my-org", Name: "x"}},
		{"git@github.com:my-org/x.git", Ref{Host: "github.com", Owner: "my-org", Name: "x", SSH: true}},
	}
	for _, c := range cases {
		got, err := ParseRepo(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseRepo(%q) = %+v, %v; want %+v", c.in, got, err, c.want)
		}
	}
	for _, bad := range []string{"", "x", "a/b/c/d", "a b/x", "bad host!/a/b", "../x"} {
		var e *Error
		if _, err := ParseRepo(bad); !errors.As(err, &e) {
			t.Errorf("ParseRepo(%q) = %v, want *Error", bad, err)
		}
	}
}

func TestOwnerOfPath(t *testing.T) {
	for in, want := range map[string]string{
		"my-org/x.git": "my-org",
		"My-Org/x":     "My-Org",
		"/my-org/x/":   "my-org",
		"x.git":        "",
		"":             "",
		"a b/x":        "",
	} {
		if got := OwnerOfPath(in); got != want {
			t.Errorf("OwnerOfPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// requireGit skips when git is missing, except under CI=true.
func requireGit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required when CI=true: %v", err)
		}
		t.Skipf("git is not installed (%v); Origin runs the real git", err)
	}
	return p
}

func TestOriginWithRealGit(t *testing.T) {
	gitBin := requireGit(t)
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	dir := t.TempDir()
	work := filepath.Join(dir, "work")
	for _, args := range [][]string{
		{"init", "-q", work},
		{"-C", work, "remote", "add", "origin", "https://github.com/my-org/x.git"},
	} {
		if out, err := exec.Command(gitBin, args...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	sub := filepath.Join(work, "a", "b")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, d := range []string{work, sub} {
		if got, err := Origin(context.Background(), d); err != nil || got != "https://github.com/my-org/x.git" {
			t.Errorf("Origin(%s) = %q, %v", d, got, err)
		}
	}
	// Outside a work tree, or without an origin: nothing, and no error.
	if got, err := Origin(context.Background(), dir); err != nil || got != "" {
		t.Errorf("Origin outside a work tree = %q, %v", got, err)
	}
	bare := filepath.Join(dir, "noorigin")
	if out, err := exec.Command(gitBin, "init", "-q", bare).CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	if got, err := Origin(context.Background(), bare); err != nil || got != "" {
		t.Errorf("Origin without a remote = %q, %v", got, err)
	}
}

func TestOriginWithoutGit(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	if got, err := Origin(context.Background(), t.TempDir()); !errors.Is(err, ErrNoGit) || got != "" {
		t.Errorf("Origin with no git = %q, %v; want ErrNoGit", got, err)
	}
}
