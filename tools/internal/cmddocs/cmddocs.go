// Package cmddocs writes what is generated from ghlogin's command tree
// (cli.NewRootCmd) with cobra's generators: the markdown command reference,
// man pages and shell completions. tools/gendocs writes the reference and
// man pages kept in docs/; tools/release writes all three into releases.
//
// Everything written here is a function of the command tree alone: the tree
// is built with an empty environment (so no default shows this machine's
// values), cobra's "Auto generated on DATE" footers are off, and man pages
// carry the date they are given.
package cmddocs

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"

	"github.com/ghlogin/ghlogin/internal/cli"
)

// Name is the command the tree documents.
const Name = "ghlogin"

// ReferenceDate is the date on the man pages kept in docs/man. It is a
// constant so that a commit never makes its own man pages stale; release
// builds put the commit's date on theirs instead.
var ReferenceDate = time.Date(2026, time.November, 30, 0, 0, 0, 0, time.UTC)

// Tree returns the command tree as a person meets it and as it is
// documented: built with an empty environment, with the commands and flags
// cobra adds when it runs (completion, help, --help, --version), and with
// cobra's dated footers switched off on every command.
func Tree() *cobra.Command {
	var discard bytes.Buffer
	root := cli.NewRootCmd(&cli.Env{
		Stdin:  strings.NewReader(""),
		Stdout: &discard,
		Stderr: &discard,
		Getenv: func(string) string { return "" },
	})
	// What cobra adds when the tree runs: --help and --version, and the
	// help and completion commands.
	root.InitDefaultHelpFlag()
	root.InitDefaultVersionFlag()
	root.InitDefaultHelpCmd()
	root.InitDefaultCompletionCmd()
	var walk func(*cobra.Command)
	walk = func(c *cobra.Command) {
		c.DisableAutoGenTag = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	return root
}

// Reference writes the reference kept in the repository: markdown into
// docsDir/reference and man pages dated ReferenceDate into docsDir/man.
// Files of an earlier tree that the current one no longer has are removed.
func Reference(docsDir string) error {
	for _, sub := range []string{"reference", "man"} {
		if err := clean(filepath.Join(docsDir, sub)); err != nil {
			return err
		}
	}
	if err := Markdown(filepath.Join(docsDir, "reference")); err != nil {
		return err
	}
	return Man(filepath.Join(docsDir, "man"), ReferenceDate, Name)
}

// clean empties dir of generated files (*.md, *.1), creating it if needed.
func clean(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); !e.IsDir() && (ext == ".md" || ext == ".1") {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return nil
}

// generatedNote heads every markdown page.
const generatedNote = "<!-- Generated from the command tree by `go run ./tools/gendocs`: do not edit. -->\n\n"

// Markdown writes one markdown page per command into dir (ghlogin.md,
// ghlogin_login.md, …), linked to each other by relative links.
func Markdown(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	prepend := func(string) string { return generatedNote }
	link := func(name string) string { return name }
	if err := doc.GenMarkdownTreeCustom(Tree(), dir, prepend, link); err != nil {
		return err
	}
	return doc.GenMarkdownTreeCustom(leanCommand(), dir, prepend, link)
}

// leanCommand describes cmd/git-credential-ghlogin for its man page and
// reference: that binary links no cobra (it must start fast), so its
// page is written from this description.
func leanCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "git-credential-ghlogin get|store|erase|capability",
		Short: "ghlogin's lean git credential helper",
		Long: `git-credential-ghlogin answers git's credential requests (see git help
credential) from what ghlogin keeps: a login lent by a ghlogin agent, GH_TOKEN and
the other token variables, the file store and the kernel keyring. It applies
ghlogin's rules for choosing the account (username=, owner and directory
bindings, the active account) and links only what answering needs, so git
pays little more than starting a process.

Everything rarer it hands to the full binary, ghlogin git-credential, found
beside it or on PATH: a token due for refresh, an interactive login, erase,
and accounts kept in the OS keyring. The answers are the same either way.

ghlogin setup-git configures git to run it when it is installed beside
ghlogin; ghlogin setup-git --unset removes it. store does nothing: ghlogin's
tokens are already kept, and tokens from elsewhere are never stored. Unknown
actions are ignored, as git asks of helpers.

--version prints its version; --help a short usage.`,
		Example: `  printf 'protocol=https\nhost=github.com\n\n' | git credential fill
  ghlogin setup-git --host github.com`,
		Run: func(*cobra.Command, []string) {},
	}
	c.DisableAutoGenTag = true
	return c
}

// Man writes one man page (section 1) per command into dir (ghlogin.1,
// ghlogin-login.1, …), dated date, with source (for example "ghlogin
// v1.2.3") in the footer.
func Man(dir string, date time.Time, source string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	date = date.UTC()
	header := func(title string) *doc.GenManHeader {
		return &doc.GenManHeader{Title: strings.ToUpper(title), Section: "1", Date: &date, Source: source, Manual: "ghlogin manual"}
	}
	if err := doc.GenManTree(Tree(), header(Name), dir); err != nil {
		return err
	}
	return doc.GenManTree(leanCommand(), header("git-credential-ghlogin"), dir)
}

// Completion files, by shell, under the names each shell's completion
// directory expects.
var completionFiles = []struct {
	Shell, File string
	gen         func(*cobra.Command, *bytes.Buffer) error
}{
	{"bash", Name + ".bash", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenBashCompletionV2(b, true) }},
	{"zsh", "_" + Name, func(c *cobra.Command, b *bytes.Buffer) error { return c.GenZshCompletion(b) }},
	{"fish", Name + ".fish", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenFishCompletion(b, true) }},
	{"powershell", Name + ".ps1", func(c *cobra.Command, b *bytes.Buffer) error { return c.GenPowerShellCompletionWithDesc(b) }},
}

// CompletionFile returns the name Completions gives the script for shell
// (bash, zsh, fish or powershell).
func CompletionFile(shell string) (string, error) {
	for _, f := range completionFiles {
		if f.Shell == shell {
			return f.File, nil
		}
	}
	return "", fmt.Errorf("no completion for shell %q", shell)
}

// Completions writes the completion scripts for bash, zsh, fish and
// PowerShell into dir, the same scripts `ghlogin completion SHELL` prints.
// They complete commands and flags by asking ghlogin itself
// (`ghlogin __complete …`), so they stay right when the tree changes.
func Completions(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for _, f := range completionFiles {
		var b bytes.Buffer
		if err := f.gen(Tree(), &b); err != nil {
			return fmt.Errorf("%s completion: %w", f.Shell, err)
		}
		if err := os.WriteFile(filepath.Join(dir, f.File), b.Bytes(), 0o644); err != nil {
			return err
		}
	}
	return nil
}
