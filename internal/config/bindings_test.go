package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
)

func TestNormalizeOwnerGlob(t *testing.T) {
	ok := map[string]string{
		"my-org":     "my-org",
		"My-Org":     "my-org",
		" my-org-* ": "my-org-*",
		"*":          "*",
		"acme-?":     "acme-?",
		"[ab]corp":   "[ab]corp",
		`x\*y`:       `x\*y`,
		"my-org/*":   "my-org",
		"My-*/*":     "my-*",
	}
	for in, want := range ok {
		got, err := NormalizeOwnerGlob(in)
		if err != nil || got != want {
			t.Errorf("NormalizeOwnerGlob(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"", "  ", "/*", "my-org/repo", "a/*/*", "[ab", "a b", "x\ty", strings.Repeat("a", 101)} {
		_, err := NormalizeOwnerGlob(bad)
		var ge *OwnerGlobError
		if !errors.As(err, &ge) {
			t.Errorf("NormalizeOwnerGlob(%q) = %v, want *OwnerGlobError", bad, err)
		}
	}
}

func TestMatchOwner(t *testing.T) {
	cases := []struct {
		glob, owner string
		want        bool
	}{
		{"my-org", "my-org", true},
		{"my-org", "MY-ORG", true},
		{"my-org", "my-org2", false},
		{"my-*", "My-Other", true},
		{"my-*", "other", false},
		{"*", "anyone", true},
		{"*", "", false},
		{"acme-?", "acme-1", true},
		{"acme-?", "acme-12", false},
	}
	for _, c := range cases {
		if got := MatchOwner(c.glob, c.owner); got != c.want {
			t.Errorf("MatchOwner(%q, %q) = %v, want %v", c.glob, c.owner, got, c.want)
		}
	}
}

func TestCleanDirResolvesSymlinks(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "real", "work")
	if err := os.MkdirAll(real, 0o755); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(base, "link")
	if err := os.Symlink(filepath.Join(base, "real"), link); err != nil {
		t.Skipf("symbolic links are not available here: %v", err)
	}
	want, err := filepath.EvalSymlinks(real)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{real, filepath.Join(link, "work"), filepath.Join(link, "work", "..", "work") + string(filepath.Separator)} {
		got, err := CleanDir(in)
		if err != nil || got != want {
			t.Errorf("CleanDir(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	// Relative paths are taken from the working directory.
	t.Chdir(filepath.Join(base, "real"))
	if got, err := CleanDir("work"); err != nil || got != want {
		t.Errorf("CleanDir(work) = %q, %v; want %q", got, err, want)
	}
	if _, err := CleanDir(filepath.Join(base, "missing")); err == nil {
		t.Error("CleanDir accepted a directory that does not exist")
	}
	if _, err := CleanDir(""); err == nil {
		t.Error("CleanDir accepted an empty path")
	}
}

func TestDirContains(t *testing.T) {
	sep := string(filepath.Separator)
	root := filepath.Join(sep, "home", "alice")
	cases := []struct {
		dir, p string
		want   bool
	}{
		{root, root, true},
		{root, filepath.Join(root, "work"), true},
		{root, filepath.Join(root, "work", "x"), true},
		{filepath.Join(root, "work"), filepath.Join(root, "workshop"), false},
		{filepath.Join(root, "work"), root, false},
		{sep, filepath.Join(root, "work"), true},
	}
	for _, c := range cases {
		if got := DirContains(c.dir, c.p); got != c.want {
			t.Errorf("DirContains(%q, %q) = %v, want %v", c.dir, c.p, got, c.want)
		}
	}
	caseless := runtime.GOOS == "darwin" || runtime.GOOS == "windows"
	if got := DirContains(filepath.Join(root, "Work"), filepath.Join(root, "work", "x")); got != caseless {
		t.Errorf("DirContains with another case = %v on %s", got, runtime.GOOS)
	}
}

func TestParseBindings(t *testing.T) {
	abs := filepath.Join(string(filepath.Separator), "home", "alice", "work")
	data := `
[hosts."github.com"]
active = "octocat"
[hosts."github.com".accounts.octocat]
store = "file"
[hosts."github.com".owner_bindings]
"My-Org" = "alice-work"
"acme-*" = "alice-work"
[hosts."github.com".dir_bindings]
"` + strings.ReplaceAll(abs, `\`, `\\`) + string(filepath.Separator) + string(filepath.Separator) + `" = "alice-work"
`
	if runtime.GOOS == "windows" {
		t.Skip("the TOML above spells a POSIX path")
	}
	f, err := Parse("config.toml", []byte(data))
	if err != nil {
		t.Fatal(err)
	}
	h := f.Hosts["github.com"]
	if want := map[string]string{"my-org": "alice-work", "acme-*": "alice-work"}; !reflect.DeepEqual(h.OwnerBindings, want) {
		t.Errorf("owner bindings %v, want %v", h.OwnerBindings, want)
	}
	if want := map[string]string{abs: "alice-work"}; !reflect.DeepEqual(h.DirBindings, want) {
		t.Errorf("dir bindings %v, want %v", h.DirBindings, want)
	}
	got := f.Bindings("")
	want := []Binding{
		{Host: "github.com", Kind: BindOwner, Pattern: "acme-*", Login: "alice-work"},
		{Host: "github.com", Kind: BindOwner, Pattern: "my-org", Login: "alice-work"},
		{Host: "github.com", Kind: BindDir, Pattern: abs, Login: "alice-work"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Bindings = %+v\nwant %+v", got, want)
	}
	if b := f.Bindings("ghe.example.com"); len(b) != 0 {
		t.Errorf("Bindings of an unknown host = %v", b)
	}

	// They survive a write and a read.
	enc, err := f.Encode()
	if err != nil {
		t.Fatal(err)
	}
	again, err := Parse("config.toml", enc)
	if err != nil {
		t.Fatalf("%v\n%s", err, enc)
	}
	if !reflect.DeepEqual(again.Bindings(""), want) {
		t.Errorf("after a round trip: %+v", again.Bindings(""))
	}
}

func TestParseBindingsRefused(t *testing.T) {
	for name, data := range map[string]string{
		"relative dir":   "[hosts.\"github.com\".dir_bindings]\n\"work\" = \"alice\"\n",
		"bad glob":       "[hosts.\"github.com\".owner_bindings]\n\"[ab\" = \"alice\"\n",
		"owner slash":    "[hosts.\"github.com\".owner_bindings]\n\"a/b\" = \"alice\"\n",
		"empty login":    "[hosts.\"github.com\".owner_bindings]\n\"a\" = \"\"\n",
		"case conflict":  "[hosts.\"github.com\".owner_bindings]\n\"a\" = \"alice\"\n\"A\" = \"bob\"\n",
		"empty dir user": "[hosts.\"github.com\".dir_bindings]\n\"/w\" = \" \"\n",
	} {
		_, err := Parse("config.toml", []byte(data))
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("%s: Parse = %v, want *ParseError", name, err)
		}
	}
}

func TestBindingsKeepTheHost(t *testing.T) {
	f := New()
	h, err := f.EnsureHost("github.com")
	if err != nil {
		t.Fatal(err)
	}
	h.OwnerBindings = map[string]string{"my-org": "alice"}
	if h.IsEmpty() || !h.HasBindings() {
		t.Fatal("a host with a binding counts as empty")
	}
	// Unsetting the last setting keeps a host that still has bindings.
	if err := f.Set("github.com", "client_id", "abc"); err != nil {
		t.Fatal(err)
	}
	if err := f.Unset("github.com", "client_id"); err != nil {
		t.Fatal(err)
	}
	if f.Hosts["github.com"] == nil {
		t.Error("unsetting a setting dropped a host that has bindings")
	}
	var nilHost *Host
	if !nilHost.IsEmpty() || nilHost.HasBindings() {
		t.Error("a nil host is not empty")
	}
}
