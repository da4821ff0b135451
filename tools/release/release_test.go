package main

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var commitTime = time.Date(2026, 11, 30, 9, 50, 26, 0, time.UTC)

func testMembers() []member {
	return []member{
		{Name: "ghlogin_v1_linux_amd64/man/man1/ghlogin.1", Mode: 0o644, Data: []byte(".TH GHLOGIN 1\n")},
		{Name: "ghlogin_v1_linux_amd64/ghlogin", Mode: 0o755, Data: []byte("\x7fELF")},
		{Name: "ghlogin_v1_linux_amd64/README.md", Mode: 0o644, Data: []byte("# ghlogin\n")},
	}
}

func reversed(ms []member) []member {
	out := make([]member, len(ms))
	for i, m := range ms {
		out[len(ms)-1-i] = m
	}
	return out
}

func TestTarGzIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeTarGz(&a, testMembers(), commitTime); err != nil {
		t.Fatal(err)
	}
	if err := writeTarGz(&b, reversed(testMembers()), commitTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same members in another order give another archive")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	if zr.Header.Name != "" || !zr.Header.ModTime.IsZero() {
		t.Errorf("gzip header carries name %q, time %v", zr.Header.Name, zr.Header.ModTime)
	}
	tr := tar.NewReader(zr)
	var names []string
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, h.Name)
		if !h.ModTime.Equal(commitTime) || h.Uid != 0 || h.Gid != 0 || h.Uname != "root" || h.Gname != "root" {
			t.Errorf("%s: mtime %v uid %d gid %d %s/%s", h.Name, h.ModTime, h.Uid, h.Gid, h.Uname, h.Gname)
		}
		want := int64(0o644)
		if h.Typeflag == tar.TypeDir || strings.HasSuffix(h.Name, "/ghlogin") {
			want = 0o755
		}
		if h.Mode != want {
			t.Errorf("%s: mode %o, want %o", h.Name, h.Mode, want)
		}
	}
	wantNames := []string{
		"ghlogin_v1_linux_amd64/",
		"ghlogin_v1_linux_amd64/README.md",
		"ghlogin_v1_linux_amd64/ghlogin",
		"ghlogin_v1_linux_amd64/man/",
		"ghlogin_v1_linux_amd64/man/man1/",
		"ghlogin_v1_linux_amd64/man/man1/ghlogin.1",
	}
	if strings.Join(names, "\n") != strings.Join(wantNames, "\n") {
		t.Errorf("entries:\n%s\nwant\n%s", strings.Join(names, "\n"), strings.Join(wantNames, "\n"))
	}
}

func TestZipIsDeterministic(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeZip(&a, testMembers(), commitTime); err != nil {
		t.Fatal(err)
	}
	if err := writeZip(&b, reversed(testMembers()), commitTime); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("the same members in another order give another archive")
	}
	zr, err := zip.NewReader(bytes.NewReader(a.Bytes()), int64(a.Len()))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range zr.File {
		if !f.Modified.Equal(commitTime) {
			t.Errorf("%s: modified %v", f.Name, f.Modified)
		}
		if strings.HasSuffix(f.Name, "/ghlogin") && f.Mode().Perm() != 0o755 {
			t.Errorf("%s: mode %v", f.Name, f.Mode())
		}
	}
}

func TestChecksums(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "b.zip"), []byte("b"), 0o644)
	os.WriteFile(filepath.Join(dir, "a.tar.gz"), []byte("a"), 0o644)
	os.Mkdir(filepath.Join(dir, "sub"), 0o755)
	got, err := checksums(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb  a.tar.gz\n" +
		"3e23e8160039594a33894f6564e1b1348bbd7a0088d42c4acb73eeaed59c009d  b.zip\n"
	if string(got) != want {
		t.Fatalf("checksums:\n%s\nwant\n%s", got, want)
	}
}

// gitRepo makes a repository with one commit at a fixed time.
func gitRepo(t *testing.T) (string, func(args ...string) string) {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil && os.Getenv("CI") != "true" {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	when := commitTime
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", append([]string{"-C", dir}, args...)...)
		cmd.Env = append(os.Environ(),
			"GIT_AUTHOR_NAME=a", "GIT_AUTHOR_EMAIL=a@example.org", "GIT_COMMITTER_NAME=a", "GIT_COMMITTER_EMAIL=a@example.org",
			"GIT_AUTHOR_DATE="+when.Format(time.RFC3339), "GIT_COMMITTER_DATE="+when.Format(time.RFC3339),
			"GIT_CONFIG_GLOBAL=/dev/null", "GIT_CONFIG_NOSYSTEM=1")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		if args[0] == "commit" {
			when = when.Add(time.Hour)
		}
		return strings.TrimSpace(string(out))
	}
	run("init", "-q", "-b", "main")
	os.WriteFile(filepath.Join(dir, "f"), []byte("1"), 0o644)
	run("add", "f")
	run("commit", "-q", "-m", "first")
	return dir, run
}

func TestVersionFromGit(t *testing.T) {
	dir, run := gitRepo(t)
	src, err := readSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	head := run("rev-parse", "HEAD")
	if want := "v0.0.0-20261130095026-" + head[:12]; src.Version != want || src.Tag != "" || src.Dirty || !src.Time.Equal(commitTime) {
		t.Fatalf("untagged: %+v, want version %s", src, want)
	}

	run("tag", "v1.2.3")
	run("tag", "not-a-version")
	if src, err = readSource(dir); err != nil || src.Version != "v1.2.3" || src.Tag != "v1.2.3" {
		t.Fatalf("tagged: %+v %v", src, err)
	}

	os.WriteFile(filepath.Join(dir, "f"), []byte("2"), 0o644)
	if src, err = readSource(dir); err != nil || src.Version != "v1.2.3+dirty" || !src.Dirty {
		t.Fatalf("modified: %+v %v", src, err)
	}
	run("commit", "-q", "-am", "second")
	src, err = readSource(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^v1\.2\.4-0\.\d{14}-[0-9a-f]{12}$`).MatchString(src.Version) {
		t.Fatalf("after the tag: version %s", src.Version)
	}

	log, err := changelog(src)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Version != src.Version || log[1].Version != "v1.2.3" ||
		len(log[0].Changes) != 1 || log[0].Changes[0].Note != "second" ||
		len(log[1].Changes) != 1 || log[1].Changes[0].Note != "first" || !log[1].Date.Equal(commitTime) {
		b, _ := json.MarshalIndent(log, "", "  ")
		t.Fatalf("changelog:\n%s", b)
	}
}

func TestSBOMFromBuildInfo(t *testing.T) {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	src := &source{Commit: strings.Repeat("ab", 20), Time: commitTime, Version: "v1.2.3"}
	bins := []builtBinary{{Target: target{"linux", "amd64"}, Name: "release.test", Path: exe}}
	var a, b bytes.Buffer
	if err := writeSBOM(&a, src, bins); err != nil {
		t.Fatal(err)
	}
	if err := writeSBOM(&b, src, bins); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("two SBOMs of the same binaries differ")
	}
	var bom struct {
		BOMFormat, SpecVersion, SerialNumber string
		Metadata                             struct {
			Timestamp string
			Component struct{ Name, Version, Purl string }
		}
		Components []struct {
			Name, Version, Purl string
			Properties          []struct{ Name, Value string }
		}
	}
	if err := json.Unmarshal(a.Bytes(), &bom); err != nil {
		t.Fatal(err)
	}
	if bom.BOMFormat != "CycloneDX" || bom.SpecVersion != "1.6" || bom.Metadata.Timestamp != "2026-11-30T09:50:26Z" ||
		bom.Metadata.Component.Purl != "pkg:golang/github.com/ghlogin/ghlogin@v1.2.3" ||
		!regexp.MustCompile(`^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`).MatchString(bom.SerialNumber) {
		t.Fatalf("BOM header: %+v", bom)
	}
	found := map[string]bool{}
	for _, c := range bom.Components {
		found[c.Name] = true
		if c.Name == "github.com/CycloneDX/cyclonedx-go" &&
			(c.Purl != "pkg:golang/github.com/CycloneDX/cyclonedx-go@"+c.Version || len(c.Properties) != 1 || c.Properties[0].Value != "linux/amd64") {
			t.Errorf("cyclonedx-go component: %+v", c)
		}
	}
	if !found["std"] || !found["github.com/CycloneDX/cyclonedx-go"] {
		t.Errorf("the BOM lacks std or cyclonedx-go: %v", found)
	}
}

func TestParseTargets(t *testing.T) {
	if ts, err := parseTargets(""); err != nil || len(ts) != 6 {
		t.Fatalf("default targets: %v %v", ts, err)
	}
	if ts, err := parseTargets("linux/amd64, windows/arm64"); err != nil || len(ts) != 2 || ts[1] != (target{"windows", "arm64"}) {
		t.Fatalf("parseTargets: %v %v", ts, err)
	}
	if _, err := parseTargets("linux"); err == nil {
		t.Fatal("parseTargets accepted linux")
	}
}

func TestResetDirRefusesASourceTree(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module x\n"), 0o644)
	if err := resetDir(dir); err == nil {
		t.Fatal("resetDir would empty a directory holding go.mod")
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatal("go.mod is gone")
	}
}
