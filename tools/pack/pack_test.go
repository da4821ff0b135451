package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/blakesmith/ar"
)

func TestVersionSpellings(t *testing.T) {
	for _, tc := range []struct{ in, deb, arch string }{
		{"v1.2.3", "1.2.3", "1.2.3"},
		{"v1.0.0-rc.1", "1.0.0~rc.1", "1.0.0rc.1"},
		{"v0.0.0-20261130095026-c4c7812059cc", "0.0.0~20261130095026.c4c7812059cc", "0.0.0pre20261130095026.c4c7812059cc"},
		{"v1.2.4-0.20261130095026-c4c7812059cc+dirty", "1.2.4~0.20261130095026.c4c7812059cc+dirty", "1.2.4pre0.20261130095026.c4c7812059cc.dirty"},
	} {
		v, err := splitVersion(tc.in)
		if err != nil {
			t.Fatalf("%s: %v", tc.in, err)
		}
		if v.deb() != tc.deb || v.arch() != tc.arch {
			t.Errorf("%s: deb %q arch %q, want %q %q", tc.in, v.deb(), v.arch(), tc.deb, tc.arch)
		}
	}
	if _, err := splitVersion("main"); err == nil {
		t.Error("splitVersion accepted main")
	}
}

// fixture writes a stage like the one tools/release writes and returns a
// manifest for it.
func fixture(t *testing.T, bins ...string) Manifest {
	t.Helper()
	dir := t.TempDir()
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(dir, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		// A later time than the manifest's: packages must not carry it.
		if err := os.Chtimes(p, time.Now(), time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.MkdirAll(filepath.Join(dir, "bin"), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, b := range bins {
		write("bin/"+b, "#!/bin/sh\necho "+b+"\n", 0o700)
	}
	write("completions/ghlogin.bash", "complete -F __start_ghlogin ghlogin\n", 0o600)
	write("completions/_ghlogin", "#compdef ghlogin\n", 0o600)
	write("completions/ghlogin.fish", "complete -c ghlogin\n", 0o600)
	write("man/ghlogin.1", ".TH \"GHLOGIN\" \"1\"\n", 0o600)
	write("man/ghlogin-login.1", ".TH \"GHLOGIN\" \"1\"\n", 0o600)
	write("LICENSE", "MIT License\n", 0o600)
	return Manifest{
		Version:        "v0.0.0-20261130095026-c4c7812059cc",
		Arch:           "amd64",
		MTime:          time.Date(2026, 11, 30, 9, 50, 26, 0, time.UTC),
		BinDir:         filepath.Join(dir, "bin"),
		CompletionsDir: filepath.Join(dir, "completions"),
		ManDir:         filepath.Join(dir, "man"),
		License:        filepath.Join(dir, "LICENSE"),
		Maintainer:     "The ghlogin authors <ghlogin@example.org>",
		Changelog: []Release{{
			Version: "v0.0.0-20261130095026-c4c7812059cc",
			Date:    time.Date(2026, 11, 30, 9, 50, 26, 0, time.UTC),
			Changes: []Change{{Commit: "c4c7812059cc2044bd57e7c14cdef484be8df9ce", Note: "internal/safe: one sanitiser"}},
		}},
		OutDir: filepath.Join(dir, "out"),
	}
}

func TestBuildAllFormatsReproducibly(t *testing.T) {
	m := fixture(t, "ghlogin")
	first, err := Build(m)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, p := range first {
		names = append(names, filepath.Base(p))
	}
	want := []string{
		"ghlogin_0.0.0~20261130095026.c4c7812059cc_amd64.deb",
		"ghlogin-0.0.0~20261130095026.c4c7812059cc-1.x86_64.rpm",
		"ghlogin-0.0.0pre20261130095026.c4c7812059cc-1-x86_64.pkg.tar.zst",
	}
	if strings.Join(names, " ") != strings.Join(want, " ") {
		t.Fatalf("Build wrote %q, want %q", names, want)
	}
	// The same inputs, touched again and packaged elsewhere.
	for _, dir := range []string{m.BinDir, m.CompletionsDir, m.ManDir} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			old := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC)
			if err := os.Chtimes(filepath.Join(dir, e.Name()), old, old); err != nil {
				t.Fatal(err)
			}
		}
	}
	m.OutDir = filepath.Join(t.TempDir(), "again")
	second, err := Build(m)
	if err != nil {
		t.Fatal(err)
	}
	for i := range first {
		a, _ := os.ReadFile(first[i])
		b, _ := os.ReadFile(second[i])
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same inputs", filepath.Base(first[i]))
		}
	}
}

// debFiles lists the data.tar.gz members of a .deb: path → mode, and the
// control file.
func debFiles(t *testing.T, path string) (map[string]int64, map[string]time.Time, string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	modes, times := map[string]int64{}, map[string]time.Time{}
	var control string
	r := ar.NewReader(f)
	for {
		h, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Name != "data.tar.gz" && h.Name != "control.tar.gz" {
			continue
		}
		zr, err := gzip.NewReader(r)
		if err != nil {
			t.Fatal(err)
		}
		tr := tar.NewReader(zr)
		for {
			th, err := tr.Next()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if h.Name == "control.tar.gz" {
				if th.Name == "./control" {
					b, _ := io.ReadAll(tr)
					control = string(b)
				}
				continue
			}
			modes[strings.TrimPrefix(th.Name, ".")] = th.Mode
			times[strings.TrimPrefix(th.Name, ".")] = th.ModTime
		}
	}
	return modes, times, control
}

func TestDebLayout(t *testing.T) {
	m := fixture(t, "ghlogin", "git-credential-ghlogin")
	m.Formats = []string{"deb"}
	written, err := Build(m)
	if err != nil {
		t.Fatal(err)
	}
	modes, times, control := debFiles(t, written[0])
	for path, mode := range map[string]int64{
		"/usr/bin/ghlogin":                                  0o755,
		"/usr/bin/git-credential-ghlogin":                   0o755,
		"/usr/share/bash-completion/completions/ghlogin":    0o644,
		"/usr/share/zsh/vendor-completions/_ghlogin":        0o644,
		"/usr/share/fish/vendor_completions.d/ghlogin.fish": 0o644,
		"/usr/share/man/man1/ghlogin.1.gz":                  0o644,
		"/usr/share/man/man1/ghlogin-login.1.gz":            0o644,
		"/usr/share/doc/ghlogin/copyright":                  0o644,
		"/usr/share/doc/ghlogin/changelog.gz":               0o644,
	} {
		got, ok := modes[path]
		if !ok {
			t.Errorf("the .deb has no %s", path)
		} else if got&0o7777 != mode {
			t.Errorf("%s has mode %o, want %o", path, got&0o7777, mode)
		}
	}
	for path := range modes {
		if strings.Contains(path, "site-functions") || strings.Contains(path, "/licenses/") {
			t.Errorf("the .deb carries another format's file %s", path)
		}
	}
	for path, mt := range times {
		if !mt.Equal(m.MTime) {
			t.Errorf("%s has mtime %s, want the commit time %s", path, mt, m.MTime)
		}
	}
	if !strings.Contains(control, "Version: 0.0.0~20261130095026.c4c7812059cc\n") || !strings.Contains(control, "Package: ghlogin\n") {
		t.Errorf("control:\n%s", control)
	}

	if _, err := exec.LookPath("dpkg-deb"); err == nil {
		out, err := exec.Command("dpkg-deb", "--field", written[0], "Version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "0.0.0~20261130095026.c4c7812059cc" {
			t.Errorf("dpkg-deb --field Version: %s %v", out, err)
		}
	}
}

func TestDebianChangelog(t *testing.T) {
	m := fixture(t, "ghlogin")
	gz, err := m.debianChangelog()
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	text, _ := io.ReadAll(zr)
	want := "ghlogin (0.0.0~20261130095026.c4c7812059cc) unstable; urgency=low\n" +
		"  * internal/safe: one sanitiser\n\n" +
		" -- The ghlogin authors <ghlogin@example.org>  Mon, 30 Nov 2026 09:50:26 +0000\n"
	if string(text) != want {
		t.Fatalf("changelog:\n%s\nwant\n%s", text, want)
	}
	if _, err := exec.LookPath("dpkg-parsechangelog"); err == nil {
		f := filepath.Join(t.TempDir(), "changelog")
		os.WriteFile(f, text, 0o644)
		out, err := exec.Command("dpkg-parsechangelog", "-l", f, "-S", "Version").CombinedOutput()
		if err != nil || strings.TrimSpace(string(out)) != "0.0.0~20261130095026.c4c7812059cc" {
			t.Errorf("dpkg-parsechangelog: %s %v", out, err)
		}
	}
}

func TestManifestChecks(t *testing.T) {
	m := fixture(t, "ghlogin")
	m.Maintainer, m.Arch = "", ""
	if _, err := Build(m); err == nil || !strings.Contains(err.Error(), "arch, maintainer") {
		t.Fatalf("Build without arch and maintainer: %v", err)
	}
	m = fixture(t)
	if _, err := Build(m); err == nil || !strings.Contains(err.Error(), "no binary") {
		t.Fatalf("Build without binaries: %v", err)
	}
	m = fixture(t, "ghlogin")
	m.Formats = []string{"msi"}
	if _, err := Build(m); err == nil {
		t.Fatal("Build accepted format msi")
	}
}

func TestRegularFilesSorted(t *testing.T) {
	dir := t.TempDir()
	for _, n := range []string{"b.1", "a.1", "c.txt"} {
		os.WriteFile(filepath.Join(dir, n), nil, 0o644)
	}
	os.Mkdir(filepath.Join(dir, "d.1"), 0o755)
	got, err := regularFiles(dir, ".1")
	if err != nil || !sort.StringsAreSorted(got) || strings.Join(got, ",") != "a.1,b.1" {
		t.Fatalf("regularFiles = %q, %v", got, err)
	}
}
