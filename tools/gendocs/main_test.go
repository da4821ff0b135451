package main

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/tools/internal/cmddocs"
)

// TestDocsAreCurrent regenerates the reference into a temporary directory
// and compares it with docs/: a command, flag or help text changed without
// `go run ./tools/gendocs` fails here.
func TestDocsAreCurrent(t *testing.T) {
	fresh := t.TempDir()
	if err := cmddocs.Reference(fresh); err != nil {
		t.Fatal(err)
	}
	committed := filepath.Join("..", "..", "docs")
	var problems []string
	for _, sub := range []string{"reference", "man"} {
		want := readGenerated(t, filepath.Join(fresh, sub))
		have := readGenerated(t, filepath.Join(committed, sub))
		for _, name := range sortedKeys(want) {
			path := "docs/" + sub + "/" + name
			got, ok := have[name]
			switch {
			case !ok:
				problems = append(problems, path+" is missing")
			case !bytes.Equal(got, want[name]):
				problems = append(problems, path+" differs: "+firstDifference(got, want[name]))
			}
		}
		for _, name := range sortedKeys(have) {
			if _, ok := want[name]; !ok {
				problems = append(problems, "docs/"+sub+"/"+name+" documents a command that no longer exists")
			}
		}
	}
	if len(problems) > 0 {
		t.Fatalf("the command reference in docs/ is stale; regenerate it from the repository root with\n\n"+
			"\tgo run ./tools/gendocs\n\nand commit the result.\n\n%s", strings.Join(problems, "\n"))
	}
}

// TestGenerationIsDeterministic generates twice, with SOURCE_DATE_EPOCH set
// the second time, and expects the same bytes.
func TestGenerationIsDeterministic(t *testing.T) {
	a, b := t.TempDir(), t.TempDir()
	if err := cmddocs.Reference(a); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SOURCE_DATE_EPOCH", "1")
	if err := cmddocs.Reference(b); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"reference", "man"} {
		x, y := readGenerated(t, filepath.Join(a, sub)), readGenerated(t, filepath.Join(b, sub))
		if len(x) != len(y) {
			t.Fatalf("%s: %d files, then %d", sub, len(x), len(y))
		}
		for name := range x {
			if !bytes.Equal(x[name], y[name]) {
				t.Errorf("%s/%s differs between two runs: %s", sub, name, firstDifference(x[name], y[name]))
			}
		}
	}
}

func TestReferenceHasNoAutogenFooter(t *testing.T) {
	dir := t.TempDir()
	if err := cmddocs.Reference(dir); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"reference", "man"} {
		for name, data := range readGenerated(t, filepath.Join(dir, sub)) {
			if bytes.Contains(data, []byte("Auto generated")) {
				t.Errorf("%s/%s carries cobra's dated footer", sub, name)
			}
		}
	}
	man := readGenerated(t, filepath.Join(dir, "man"))
	if !bytes.Contains(man["ghlogin.1"], []byte(`"Nov 2026"`)) {
		t.Errorf("ghlogin.1 is not dated with cmddocs.ReferenceDate:\n%.300s", man["ghlogin.1"])
	}
}

func TestCompletions(t *testing.T) {
	dir := t.TempDir()
	if err := cmddocs.Completions(dir); err != nil {
		t.Fatal(err)
	}
	for shell, marker := range map[string]string{
		"bash":       "complete -o default -F __start_ghlogin ghlogin",
		"zsh":        "#compdef ghlogin",
		"fish":       "complete -c ghlogin",
		"powershell": "Register-ArgumentCompleter",
	} {
		name, err := cmddocs.CompletionFile(shell)
		if err != nil {
			t.Fatal(err)
		}
		data, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(data, []byte(marker)) {
			t.Errorf("%s completion (%s) lacks %q", shell, name, marker)
		}
	}
}

// readGenerated reads the generated files (*.md, *.1) of dir by name.
func readGenerated(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	files := map[string][]byte{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); e.IsDir() || (ext != ".md" && ext != ".1") {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		files[e.Name()] = data
	}
	return files
}

func sortedKeys(m map[string][]byte) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// firstDifference describes the first line where have and want part.
func firstDifference(have, want []byte) string {
	h, w := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(h) || i < len(w); i++ {
		var hl, wl string
		if i < len(h) {
			hl = h[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if hl != wl {
			return fmt.Sprintf("line %d: has %s, the tree gives %s", i+1, quote(hl), quote(wl))
		}
	}
	return "same lines, different bytes"
}

func quote(s string) string {
	if len(s) > 120 {
		s = s[:120] + "…"
	}
	return strconv.Quote(s)
}

func TestTreeIsWhatAPersonMeets(t *testing.T) {
	root := cmddocs.Tree()
	for _, path := range [][]string{{"login"}, {"version"}, {"completion"}, {"oidc", "token"}, {"git-credential"}} {
		c, _, err := root.Find(path)
		if err != nil || c.Name() != path[len(path)-1] {
			t.Errorf("the documented tree has no %q", strings.Join(path, " "))
		}
	}
	if c, _, err := root.Find([]string{"completion"}); err == nil && strings.Join(c.ValidArgs, " ") != "bash zsh fish powershell" {
		t.Errorf("completion takes %q, want bash zsh fish powershell", c.ValidArgs)
	}
	if root.Flags().Lookup("version") == nil || root.Flags().Lookup("help") == nil {
		t.Error("the documented tree has no --version or --help flag")
	}
}
