package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestReleaseIsReproducible builds the whole release of HEAD twice, in two
// fresh clones at different paths, the second with an empty Go build cache,
// another time zone and SOURCE_DATE_EPOCH unset, and expects byte-identical
// files: the same checksum file.
//
// It takes minutes, so it runs when GHLOGIN_RELEASE_REPRO=1, as .ci/run
// sets it. GHLOGIN_RELEASE_REPRO_AGAINST names a release directory already
// built from HEAD (.ci/run passes its dist/), which then stands for the
// first build. GHLOGIN_RELEASE_REPRO_TARGETS (a -targets list) narrows the
// builds for a quicker local check.
func TestReleaseIsReproducible(t *testing.T) {
	if os.Getenv("GHLOGIN_RELEASE_REPRO") != "1" {
		t.Skip("builds the release twice (minutes); .ci/run runs it with GHLOGIN_RELEASE_REPRO=1")
	}
	src, err := readSource(".")
	if err != nil {
		t.Fatal(err)
	}
	if src.Dirty {
		t.Logf("the tree has uncommitted changes; this builds HEAD (%s) as committed", src.Commit[:12])
	}
	var sums [2][]byte
	var lists [2]string
	against := os.Getenv("GHLOGIN_RELEASE_REPRO_AGAINST")
	for i := range sums {
		if i == 0 && against != "" {
			matches, err := filepath.Glob(filepath.Join(against, "*_checksums.txt"))
			if err != nil || len(matches) != 1 {
				t.Fatalf("GHLOGIN_RELEASE_REPRO_AGAINST=%s holds no single checksum file: %v %v", against, matches, err)
			}
			if sums[0], err = os.ReadFile(matches[0]); err != nil {
				t.Fatal(err)
			}
			continue
		}
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("checkout-%d", i))
		for _, args := range [][]string{
			{"clone", "--quiet", "--no-checkout", src.Root, dir},
			{"-C", dir, "checkout", "--quiet", "--detach", src.Commit},
		} {
			if out, err := exec.Command("git", args...).CombinedOutput(); err != nil {
				t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
		args := []string{"run", "./tools/release", "-out", filepath.Join(dir, "dist")}
		if ts := os.Getenv("GHLOGIN_RELEASE_REPRO_TARGETS"); ts != "" {
			args = append(args, "-targets", ts)
		}
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		cmd.Env = withoutEnv(os.Environ(), "SOURCE_DATE_EPOCH")
		if i == 1 {
			cmd.Env = append(withoutEnv(cmd.Env, "GOCACHE", "TZ"), "GOCACHE="+t.TempDir(), "TZ=Pacific/Chatham")
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil {
			t.Fatalf("build %d: go %s: %v\n%s", i+1, strings.Join(args, " "), err, stderr.String())
		}
		lists[i] = stderr.String()
		matches, err := filepath.Glob(filepath.Join(dir, "dist", "*_checksums.txt"))
		if err != nil || len(matches) != 1 {
			t.Fatalf("build %d wrote no single checksum file: %v %v", i+1, matches, err)
		}
		if strings.Contains(matches[0], "+dirty") {
			t.Fatalf("build %d of a clean clone calls itself dirty: %s", i+1, matches[0])
		}
		if sums[i], err = os.ReadFile(matches[0]); err != nil {
			t.Fatal(err)
		}
	}
	if !bytes.Equal(sums[0], sums[1]) {
		a, b := strings.Split(string(sums[0]), "\n"), strings.Split(string(sums[1]), "\n")
		var diff []string
		for i := 0; i < len(a) || i < len(b); i++ {
			if i >= len(a) || i >= len(b) || a[i] != b[i] {
				diff = append(diff, fmt.Sprintf("first:  %s\nsecond: %s", at(a, i), at(b, i)))
			}
		}
		t.Fatalf("two builds of %s differ:\n%s", src.Commit[:12], strings.Join(diff, "\n"))
	}
	t.Logf("two builds of %s are identical:\n%s", src.Commit[:12], sums[0])
	t.Logf("second build:\n%s", lists[1])
}

func at(lines []string, i int) string {
	if i < len(lines) {
		return lines[i]
	}
	return "(none)"
}

// withoutEnv returns env without the variables named.
func withoutEnv(env []string, names ...string) []string {
	var out []string
	for _, kv := range env {
		k, _, _ := strings.Cut(kv, "=")
		drop := false
		for _, n := range names {
			drop = drop || k == n
		}
		if !drop {
			out = append(out, kv)
		}
	}
	return out
}
