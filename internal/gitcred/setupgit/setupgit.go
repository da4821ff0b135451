// Package setupgit configures git to use ghlogin as the credential helper of
// one host. It writes to the global git config (`git config --global`, which
// honours GIT_CONFIG_GLOBAL), under credential.https://HOST.helper:
//
//	[credential "https://github.com"]
//		helper =
//		helper = /usr/bin/git-credential-ghlogin
//		useHttpPath = true
//
// The helper entry is the lean helper git-credential-ghlogin, by its
// absolute path, when it is installed beside ghlogin or on PATH; otherwise
// it runs the full binary: "!ghlogin git-credential". (The entry "ghlogin"
// would run the lean helper too, through an extra git process.)
//
// The empty entry first resets the list of helpers for that URL, so other
// helpers (credential.helper=store, a keychain) neither answer for the host
// nor store ghlogin's tokens. credential.<url>.useHttpPath makes git send
// the repository's path (path=my-org/x.git) with each request, so the
// helper can apply owner bindings; git then also treats each repository as
// its own credential, for every helper it asks about that URL.
//
// Setup is idempotent. Unset removes exactly the two helper entries it
// wrote, keeping every other helper. useHttpPath is the person's as much as
// ghlogin's: Setup sets it only where it is not set, leaves a value the
// person wrote (false) alone and says so (Result.PathKept), and Unset
// removes it only when the caller's record says Setup set it
// (Options.PathOwned; ghlogin keeps that record in its own config, see
// Result.PathOwned).
package setupgit

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

// Command is the helper subcommand git runs.
const Command = "git-credential"

// LeanName is the lean helper binary (cmd/git-credential-ghlogin): git runs
// it for the helper value LeanHelper, finding it on PATH.
const LeanName = "git-credential-ghlogin"

// LeanHelper is the helper value that makes git run git-credential-ghlogin
// (git prepends "git-credential-" to a helper name that is not a path).
const LeanHelper = "ghlogin"

// DefaultTimeout bounds each git invocation.
const DefaultTimeout = 30 * time.Second

// Options configure Setup.
type Options struct {
	// Host is the host name as git names it ("github.com", "127.0.0.1:8787").
	Host string
	// Protocol is "https" (default) or "http" (loopback hosts only).
	Protocol string
	// Git is the git binary; empty means "git" found on PATH.
	Git string
	// Env is git's environment; nil means this process's environment.
	Env []string
	// Unset removes the entries instead of writing them.
	Unset bool
	// SelfPath returns the path of the ghlogin binary; nil means os.Executable.
	SelfPath func() (string, error)
	// LookPath finds a program on PATH; nil means exec.LookPath.
	LookPath func(string) (string, error)
	// NoLean writes the full binary's helper even where the lean one is
	// installed.
	NoLean bool
	// Timeout bounds each git invocation; zero means DefaultTimeout.
	Timeout time.Duration
	// PathOwned says an earlier Setup set useHttpPath for the host (the
	// caller's record of Result.PathOwned): only then does Unset remove it.
	PathOwned bool
}

// Result says what Setup did.
type Result struct {
	// Key is the git config key, e.g. credential.https://github.com.helper.
	Key string
	// Helper is the helper value ghlogin writes (or removed).
	Helper string
	// Changed is false when the config already was as asked.
	Changed bool
	// Values are the key's values in the global config afterwards.
	Values []string
	// PathKey is the useHttpPath key, e.g.
	// credential.https://github.com.useHttpPath.
	PathKey string
	// PathChanged is set when Setup wrote or removed PathKey.
	PathChanged bool
	// PathOwned says that useHttpPath is set by ghlogin afterwards: Setup
	// wrote it now, or it was owned before (Options.PathOwned) and is still
	// true. The caller records it for a later Unset.
	PathOwned bool
	// PathKept is a value of useHttpPath that Setup found and left alone
	// because it is not true (the person's choice), so git sends no path
	// and owner bindings do not apply; "" otherwise.
	PathKept string
	// PathLeft is set when Unset left a true useHttpPath in place because
	// ghlogin did not set it (the person did, or a setup-git older than the
	// record did).
	PathLeft bool
}

// GitError is a git invocation that failed.
type GitError struct {
	Args     []string
	ExitCode int
	Stderr   string
	Err      error
}

func (e *GitError) Error() string {
	msg := fmt.Sprintf("git %s failed", strings.Join(e.Args, " "))
	if e.ExitCode > 0 {
		msg += fmt.Sprintf(" (exit status %d)", e.ExitCode)
	}
	if s := strings.TrimSpace(e.Stderr); s != "" {
		msg += ": " + s
	} else if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *GitError) Unwrap() error { return e.Err }

// Key returns the git config key for host's helper list.
func Key(protocol, host string) string {
	return "credential." + protocol + "://" + host + ".helper"
}

// PathKey returns the git config key that makes git send the repository's
// path to host's credential helpers.
func PathKey(protocol, host string) string {
	return "credential." + protocol + "://" + host + ".useHttpPath"
}

// HelperValue returns the helper entry for the ghlogin binary at self:
// "!ghlogin git-credential" when onPath is true (the ghlogin found on PATH
// is that binary), else "!'/abs/path/ghlogin' git-credential", quoted for
// the shell git runs helpers with.
func HelperValue(self string, onPath bool) string {
	if onPath {
		return "!ghlogin " + Command
	}
	return "!" + ShellQuote(self) + " " + Command
}

// ShellQuote quotes s for a POSIX shell: unchanged when it only holds safe
// characters, otherwise inside single quotes, each single quote in s written
// as a closing quote, an escaped quote and an opening quote.
func ShellQuote(s string) string {
	if s != "" && safeShell().MatchString(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// safeShell and ours are compiled on first use, not at every ghlogin start
// (ghlogin starts once per git credential request).
var safeShell = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_./:@%+=,-]+$`) })

// ours matches helper values ghlogin writes, for any path to the binary:
// the full binary's command, or the lean helper by name or by path.
var ours = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^!(ghlogin|'(?:[^']|'\\'')*/ghlogin[^/']*'|/[^\s']*/ghlogin[^/\s']*) ` + Command + `$` +
		`|^(` + LeanHelper + `|!?'(?:[^']|'\\'')*/` + LeanName + `'|/[^\s']*/` + LeanName + `)$`)
})

// IsOurs reports whether a helper value is one ghlogin wrote (for this or
// another location of the binary, full or lean).
func IsOurs(v string, self string) bool {
	if ours().MatchString(v) {
		return true
	}
	return self != "" && v == HelperValue(self, false)
}

// Setup writes (or, with Unset, removes) ghlogin's helper entries for the
// host in the global git config.
func Setup(ctx context.Context, opts Options) (*Result, error) {
	proto := strings.ToLower(opts.Protocol)
	if proto == "" {
		proto = "https"
	}
	if proto != "https" && proto != "http" {
		return nil, fmt.Errorf("protocol %q: use https (or http for a loopback address)", opts.Protocol)
	}
	name := hosts.Normalize(opts.Host, proto)
	if name == "" {
		return nil, &hosts.Error{Input: opts.Host, Reason: "not a valid host name"}
	}
	if proto == "http" && !hosts.IsLoopback(name) {
		return nil, &hosts.Error{Input: opts.Host, Reason: "http:// is allowed only for loopback addresses; use https://"}
	}
	self, onPath, err := locateSelf(opts)
	if err != nil {
		return nil, err
	}
	g := &gitRunner{opts: opts}
	if g.bin, err = findGit(opts); err != nil {
		return nil, err
	}
	res := &Result{Key: Key(proto, name), Helper: HelperValue(self, onPath), PathKey: PathKey(proto, name)}
	if lean, ok := leanHelper(self, opts); ok {
		res.Helper = lean
	}
	cur, err := g.getAll(ctx, res.Key)
	if err != nil {
		return nil, err
	}
	want := removeOurs(cur, self)
	if !opts.Unset {
		want = append(want, "", res.Helper)
	}
	res.Values = want
	if !slices.Equal(cur, want) {
		res.Changed = true
		if err := g.replace(ctx, res.Key, len(cur) > 0, want); err != nil {
			return nil, err
		}
	}
	if err := g.setPath(ctx, res, opts); err != nil {
		return nil, err
	}
	res.Changed = res.Changed || res.PathChanged
	return res, nil
}

// replace sets key's values to want, removing the present ones first.
func (g *gitRunner) replace(ctx context.Context, key string, present bool, want []string) error {
	if present {
		if err := g.run(ctx, "config", "--global", "--unset-all", key); err != nil {
			return err
		}
	}
	for _, v := range want {
		if err := g.run(ctx, "config", "--global", "--add", key, v); err != nil {
			return err
		}
	}
	return nil
}

// setPath sets useHttpPath (res.PathKey) to true where it is not set,
// leaving a value the person wrote alone (res.PathKept), or with Unset
// removes it when it is true and ghlogin set it (opts.PathOwned). It fills
// in res's Path fields.
func (g *gitRunner) setPath(ctx context.Context, res *Result, opts Options) error {
	key := res.PathKey
	cur, err := g.getAll(ctx, key)
	if err != nil {
		return err
	}
	allTrue := len(cur) > 0
	for _, v := range cur {
		if !gitTrue(v) {
			allTrue = false
		}
	}
	// git uses the last value.
	on := len(cur) > 0 && gitTrue(cur[len(cur)-1])
	switch {
	case opts.Unset && allTrue && opts.PathOwned:
		res.PathChanged = true
		return g.run(ctx, "config", "--global", "--unset-all", key)
	case opts.Unset:
		res.PathLeft = on
	case len(cur) == 0:
		res.PathChanged, res.PathOwned = true, true
		return g.run(ctx, "config", "--global", "--add", key, "true")
	case on:
		res.PathOwned = opts.PathOwned
	default:
		res.PathKept = cur[len(cur)-1]
	}
	return nil
}

// PathIsSet reports whether git sends the repository's path to host's
// helpers: credential.PROTOCOL://HOST.useHttpPath is true in the global
// config (as setup-git leaves it). It is false when git cannot be run.
func PathIsSet(ctx context.Context, opts Options) bool {
	proto := strings.ToLower(opts.Protocol)
	if proto == "" {
		proto = "https"
	}
	bin, err := findGit(opts)
	if err != nil {
		return false
	}
	g := &gitRunner{opts: opts, bin: bin}
	cur, err := g.getAll(ctx, PathKey(proto, opts.Host))
	if err != nil || len(cur) == 0 {
		return false
	}
	return gitTrue(cur[len(cur)-1])
}

// gitTrue reads a boolean as git does (git help config, "Values").
func gitTrue(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "true", "yes", "on", "1":
		return true
	}
	return false
}

// removeOurs drops ghlogin's entries and the empty entry written just
// before each of them.
func removeOurs(vals []string, self string) []string {
	drop := make([]bool, len(vals))
	for i, v := range vals {
		if IsOurs(v, self) {
			drop[i] = true
			if i > 0 && vals[i-1] == "" && !drop[i-1] {
				drop[i-1] = true
			}
		}
	}
	var out []string
	for i, v := range vals {
		if !drop[i] {
			out = append(out, v)
		}
	}
	return out
}

// locateSelf finds ghlogin's absolute path and whether "ghlogin" on PATH is
// the same binary.
func locateSelf(opts Options) (string, bool, error) {
	selfFn := opts.SelfPath
	if selfFn == nil {
		selfFn = os.Executable
	}
	self, err := selfFn()
	if err != nil {
		return "", false, fmt.Errorf("finding the ghlogin binary: %w", err)
	}
	if !filepath.IsAbs(self) {
		if self, err = filepath.Abs(self); err != nil {
			return "", false, fmt.Errorf("finding the ghlogin binary: %w", err)
		}
	}
	if r, err := filepath.EvalSymlinks(self); err == nil {
		self = r
	}
	look := opts.LookPath
	if look == nil {
		look = exec.LookPath
	}
	onPath := false
	if p, err := look("ghlogin"); err == nil {
		a, err1 := os.Stat(p)
		b, err2 := os.Stat(self)
		onPath = err1 == nil && err2 == nil && os.SameFile(a, b)
	}
	return self, onPath, nil
}

// leanHelper returns the helper value for the lean helper when it is
// installed beside ghlogin or on PATH: its absolute path (quoted for the
// shell), which git runs as it is. The name form LeanHelper works too but
// costs a whole extra git process on every request (git runs "git
// credential-ghlogin", which looks the binary up on PATH and waits for
// it): `git credential fill` took 6.23 ms that way against 5.09 ms by path
// in one interleaved run of tools/bench/gitcred, so setup-git writes the
// path; Unset removes either form.
func leanHelper(self string, opts Options) (string, bool) {
	if opts.NoLean {
		return "", false
	}
	look := opts.LookPath
	if look == nil {
		look = exec.LookPath
	}
	next := filepath.Join(filepath.Dir(self), LeanName)
	if fi, err := os.Stat(next); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
		return leanValue(next), true
	}
	if p, err := look(LeanName); err == nil && filepath.Base(p) == LeanName {
		if abs, err := filepath.Abs(p); err == nil {
			if r, err := filepath.EvalSymlinks(abs); err == nil {
				abs = r
			}
			return leanValue(abs), true
		}
	}
	return "", false
}

// leanValue is the helper value that runs the lean helper at path. git runs
// a value that is an absolute path through the shell as it is, so a path
// that needs quoting (a space, say) must be written as a shell snippet
// ("!'/opt/my tools/git-credential-ghlogin'"): a value that starts with a
// quote is not an absolute path to git, which would run
// "git credential-'/opt/…'" instead.
func leanValue(path string) string {
	if q := ShellQuote(path); q != path {
		return "!" + q
	}
	return path
}

func findGit(opts Options) (string, error) {
	if opts.Git != "" {
		return opts.Git, nil
	}
	look := opts.LookPath
	if look == nil {
		look = exec.LookPath
	}
	p, err := look("git")
	if err != nil {
		return "", fmt.Errorf("git was not found on PATH; install git first: %w", err)
	}
	return p, nil
}

type gitRunner struct {
	opts Options
	bin  string
}

func (g *gitRunner) command(ctx context.Context, args ...string) (*exec.Cmd, context.CancelFunc) {
	t := g.opts.Timeout
	if t <= 0 {
		t = DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, t)
	cmd := exec.CommandContext(ctx, g.bin, args...)
	if g.opts.Env != nil {
		cmd.Env = g.opts.Env
	}
	return cmd, cancel
}

func (g *gitRunner) run(ctx context.Context, args ...string) error {
	cmd, cancel := g.command(ctx, args...)
	defer cancel()
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return gitErr(args, &stderr, err)
	}
	return nil
}

// getAll returns the key's values in the global config (none: empty).
func (g *gitRunner) getAll(ctx context.Context, key string) ([]string, error) {
	args := []string{"config", "--global", "--null", "--get-all", key}
	cmd, cancel := g.command(ctx, args...)
	defer cancel()
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 1 && stderr.Len() == 0 {
			return nil, nil // the key is not set
		}
		return nil, gitErr(args, &stderr, err)
	}
	out := strings.TrimSuffix(stdout.String(), "\x00")
	return strings.Split(out, "\x00"), nil
}

func gitErr(args []string, stderr *bytes.Buffer, err error) error {
	ge := &GitError{Args: args, Stderr: stderr.String(), Err: err, ExitCode: -1}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		ge.ExitCode = ee.ExitCode()
	}
	return ge
}
