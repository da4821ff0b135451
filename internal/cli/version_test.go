package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
)

func TestResolveBuildFromBuildInfo(t *testing.T) {
	bi := &debug.BuildInfo{
		GoVersion: "go1.26.8",
		Main:      debug.Module{Path: "github.com/ghlogin/ghlogin", Version: "v0.0.0-20261130095026-c4c7812059cc"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "c4c7812059cc2044bd57e7c14cdef484be8df9ce"},
			{Key: "vcs.time", Value: "2026-11-30T09:50:26Z"},
			{Key: "vcs.modified", Value: "true"},
		},
	}
	b := resolveBuild(bi, "dev", "", "", "")
	if b.Version != "v0.0.0-20261130095026-c4c7812059cc" || *b.Revision != "c4c7812059cc2044bd57e7c14cdef484be8df9ce" ||
		*b.Date != "2026-11-30T09:50:26Z" || !b.Modified || b.Go != "go1.26.8" {
		t.Fatalf("resolveBuild = %+v", b)
	}
	want := "ghlogin version v0.0.0-20261130095026-c4c7812059cc\n" +
		"commit c4c7812059cc2044bd57e7c14cdef484be8df9ce, 2026-11-30T09:50:26Z, modified\n" +
		"built with go1.26.8 for " + runtime.GOOS + "/" + runtime.GOARCH + "\n"
	if got := b.String(); got != want {
		t.Fatalf("String() =\n%s\nwant\n%s", got, want)
	}
}

func TestResolveBuildLinkerValuesWin(t *testing.T) {
	bi := &debug.BuildInfo{
		Main:     debug.Module{Path: "github.com/ghlogin/ghlogin", Version: "(devel)"},
		Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}},
	}
	b := resolveBuild(bi, "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-01-02T03:04:05Z", "false")
	if b.Version != "v1.2.3" || *b.Revision != "0123456789abcdef0123456789abcdef01234567" || *b.Date != "2026-01-02T03:04:05Z" || b.Modified {
		t.Fatalf("resolveBuild = %+v", b)
	}
}

func TestResolveBuildWithoutInformation(t *testing.T) {
	b := resolveBuild(nil, "dev", "", "", "")
	if b.Version != "(devel)" || b.Revision != nil || b.Date != nil || b.Modified || b.Go != runtime.Version() {
		t.Fatalf("resolveBuild = %+v", b)
	}
	if got := b.String(); strings.Contains(got, "commit") {
		t.Fatalf("String() names a commit it does not know:\n%s", got)
	}
}

// runMain runs ghlogin in-process with args and returns its exit status and output.
func runMain(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	env := &Env{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := Main(context.Background(), args, env)
	return code, stdout.String(), stderr.String()
}

func TestVersionFlagAndCommandAgree(t *testing.T) {
	code, flagOut, _ := runMain(t, "--version")
	if code != ExitOK {
		t.Fatalf("--version exit %d", code)
	}
	code, cmdOut, _ := runMain(t, "version")
	if code != ExitOK {
		t.Fatalf("version exit %d", code)
	}
	if flagOut != cmdOut || flagOut != currentBuild().String() {
		t.Fatalf("--version printed\n%s\nversion printed\n%s", flagOut, cmdOut)
	}
	if !strings.HasPrefix(flagOut, "ghlogin version ") || !strings.Contains(flagOut, runtime.GOOS+"/"+runtime.GOARCH) {
		t.Fatalf("--version printed\n%s", flagOut)
	}
}

func TestVersionJSON(t *testing.T) {
	code, out, _ := runMain(t, "version", "--json")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"module", "version", "revision", "date", "modified", "go", "os", "arch"} {
		if _, ok := got[k]; !ok {
			t.Errorf("version --json has no %q: %s", k, out)
		}
	}
	if got["os"] != runtime.GOOS || got["arch"] != runtime.GOARCH || got["go"] != runtime.Version() {
		t.Errorf("version --json = %s", out)
	}
}

func TestVersionTakesNoArguments(t *testing.T) {
	if code, _, _ := runMain(t, "version", "extra"); code != ExitUsage {
		t.Fatalf("version extra: exit %d, want %d", code, ExitUsage)
	}
}

func TestVersionFlags(t *testing.T) {
	var got *versionOptions
	a := newApp(&Env{Getenv: func(string) string { return "" }})
	cmd := newVersionCmd(a, func(o *versionOptions) error { got = o; return nil })
	cmd.SetArgs([]string{"--json"})
	if err := cmd.Execute(); err != nil {
		t.Fatal(err)
	}
	if got == nil || !got.JSON || got.Build != currentBuild() {
		t.Fatalf("version --json gave options %+v", got)
	}
}

func TestRootHasVersion(t *testing.T) {
	root := NewRootCmd(nil)
	if c, _, err := root.Find([]string{"version"}); err != nil || c.Name() != "version" {
		t.Fatal("the command tree has no version command")
	}
	if root.Version != currentBuild().Version {
		t.Fatalf("root.Version = %q, want %q", root.Version, currentBuild().Version)
	}
}
