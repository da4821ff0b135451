// Command git-credential-ghlogin is ghlogin's lean git credential helper:
// setup-git configures it when it is installed beside ghlogin. It answers
// get from a forwarded agent (ghlogin ssh), the environment or the token
// store (the file store and the kernel keyring), by the same rule and in
// the same order as ghlogin itself (pick.Find), with only what that needs
// linked in, so that answering git costs little more than starting a
// process. An agent's failure, or its refusal of a host this machine has
// nothing for either, it explains itself, in the words ghlogin uses.
// Everything rarer — a token due for refresh, an interactive login,
// erase's check with the API, the OS keyring, a sentence explaining any
// other refusal — it hands to the full ghlogin binary (`ghlogin
// git-credential ACTION`, found beside this one, else on PATH) with git's
// request, and that answers exactly as it does when git runs it directly.
//
// The OS keyring is handed off rather than read here: go-keyring and its
// D-Bus client add about 1.1 MB to this binary and about 0.1 ms to every
// start (measured with tools/bench/gitcred), which every user of the file
// store and the kernel keyring would pay, while a keyring read costs
// several D-Bus round trips anyway.
package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"

	"github.com/ghlogin/ghlogin/internal/gitcred/fast"
	"github.com/ghlogin/ghlogin/internal/hint/core"
	"github.com/ghlogin/ghlogin/store"
)

// fullName is the full binary's name.
const fullName = "ghlogin"

// version is set by a release build (-ldflags "-X main.version=v1.2.3");
// left empty, --version reads the module version the go command embeds.
var version string

// usage is what --help prints: git runs this program, people rarely do.
const usage = `usage: git-credential-ghlogin get|store|erase|capability

ghlogin's lean git credential helper (see git help credential). git runs
it with a request on standard input; ghlogin setup-git configures that.
It answers from ghlogin's token store and hands everything else to
ghlogin git-credential. Try: ghlogin git-credential --help
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// run performs one helper action and returns the exit status.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) != 1 {
		return handOff(args, nil, stdin, stdout, stderr)
	}
	switch args[0] {
	case "capability":
		_, _ = io.WriteString(stdout, fast.Capability)
		return 0
	case "get", "store":
	case "erase":
		return handOff(args, nil, stdin, stdout, stderr)
	case "--version", "version":
		fmt.Fprintf(stdout, "git-credential-ghlogin %s\n", buildVersion())
		return 0
	case "--help", "-h", "help":
		_, _ = io.WriteString(stdout, usage)
		return 0
	default:
		return 0 // unknown actions are ignored, as git asks of helpers
	}
	// The request is kept as read, to hand it on unchanged.
	var seen bytes.Buffer
	req, err := fast.Parse(io.TeeReader(stdin, &seen))
	if err != nil {
		return handOff(args, seen.Bytes(), stdin, stdout, stderr)
	}
	if args[0] == "store" {
		// ghlogin's tokens are already stored, and tokens from other
		// sources are never stored by this helper.
		return 0
	}
	st, err := store.Open(store.Options{})
	if err != nil {
		return handOff(args, seen.Bytes(), stdin, stdout, stderr)
	}
	r := fast.Get(context.Background(), fast.Env{Store: st}, req)
	switch r.Outcome {
	case fast.Answered:
		if err := fast.WriteCredential(stdout, r.Credential); err != nil {
			return 1
		}
		return 0
	case fast.Nothing:
		return 0
	case fast.Failed:
		// A forwarded agent failed, or refused the host and nothing here
		// answers either: the full binary would say the same after asking
		// the agent again, which the agent would count and log twice.
		// A step names the host as the request did (http:// for a
		// plain-http loopback host), as ghlogin's own steps do.
		c := core.Context{HostArg: func(name string) string {
			if name == r.Target.Name && r.Target.URL != "" {
				return r.Target.URL
			}
			return name
		}}
		fmt.Fprintf(stderr, "ghlogin: %s\n", core.Explain(r.Err, c.Agent))
		return 0
	}
	return handOff(args, seen.Bytes(), stdin, stdout, stderr)
}

// buildVersion is the release's version, else the module's.
func buildVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// handOff runs `ghlogin git-credential ARGS...` with what was read of git's
// request followed by the rest of stdin, and returns its exit status. While
// it runs, SIGINT and SIGQUIT (sent by the terminal to the whole process
// group) are left to it, as a shell leaves them to the command it waits
// for.
func handOff(args []string, read []byte, stdin io.Reader, stdout, stderr io.Writer) int {
	full, err := findFull()
	if err != nil {
		fmt.Fprintf(stderr, "ghlogin: %v\n", err)
		return 0 // git expects 0: the helper has no answer
	}
	cmd := exec.Command(full, append([]string{"git-credential"}, args...)...)
	cmd.Stdin = io.MultiReader(bytes.NewReader(read), stdin)
	cmd.Stdout, cmd.Stderr = stdout, stderr
	signal.Ignore(syscall.SIGINT, syscall.SIGQUIT)
	err = cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee):
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return 128 + int(ws.Signal())
		}
		return ee.ExitCode()
	}
	fmt.Fprintf(stderr, "ghlogin: running %s: %v\n", full, err)
	return 0
}

// findFull finds the full ghlogin binary: beside this one (as installed
// together), else on PATH.
func findFull() (string, error) {
	if self, err := os.Executable(); err == nil {
		if r, err := filepath.EvalSymlinks(self); err == nil {
			self = r
		}
		next := filepath.Join(filepath.Dir(self), fullName)
		if fi, err := os.Stat(next); err == nil && fi.Mode().IsRegular() && fi.Mode().Perm()&0o111 != 0 {
			return next, nil
		}
	}
	p, err := exec.LookPath(fullName)
	if err != nil {
		return "", fmt.Errorf("git-credential-ghlogin needs the ghlogin binary (beside it or on PATH) for this request: %w", err)
	}
	if !filepath.IsAbs(p) {
		if p, err = filepath.Abs(p); err != nil {
			return "", err
		}
	}
	return p, nil
}
