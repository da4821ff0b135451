package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// Exit statuses, as SPEC.md defines them.
const (
	ExitOK        = 0
	ExitFailure   = 1
	ExitUsage     = 2
	ExitAuth      = 4
	ExitCancelled = 130
)

// usageError is a mistake in the command line (exit 2).
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{fmt.Errorf(format, args...)}
}

// reportedError carries an exit status for an error already shown to the
// person (for example by the UI's error screen or a JSON error event).
type reportedError struct {
	code int
	err  error
}

func (e *reportedError) Error() string { return e.err.Error() }
func (e *reportedError) Unwrap() error { return e.err }

// exitStatus maps an error to SPEC.md's exit statuses.
func exitStatus(err error) int {
	var ue *usageError
	var nl *store.NotLoggedInError
	var re *reportedError
	var nle *refresh.NeedsLoginError
	switch {
	case err == nil:
		return ExitOK
	case errors.As(err, &nle):
		return ExitAuth
	case errors.As(err, &re):
		return re.code
	case errors.As(err, &ue):
		return ExitUsage
	case errors.Is(err, context.Canceled):
		return ExitCancelled
	case errors.As(err, &nl):
		return ExitAuth
	}
	return ExitFailure
}

// Main runs ghlogin with args and returns the exit status.
func Main(ctx context.Context, args []string, env *Env) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	a := &app{env: env}
	root := a.rootFor(args)
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	err := root.ExecuteContext(ctx)
	if err != nil && !a.ran {
		// cobra failed before a command ran: unknown command or flag, bad arguments.
		err = &usageError{err}
	}
	code := exitStatus(err)
	var re *reportedError
	if err != nil && !errors.As(err, &re) {
		msg := hint.Explain(err)
		if code == ExitCancelled {
			msg = "cancelled"
		}
		fmt.Fprintf(env.Stderr, "ghlogin: %s\n", msg)
		if code == ExitUsage {
			fmt.Fprintln(env.Stderr, "Run 'ghlogin --help' for usage.")
		}
	}
	return code
}

// app holds what every command shares.
type app struct {
	env *Env
	ran bool
	st  *store.Store
}

func (a *app) newRoot() *cobra.Command {
	root := a.bareRoot()
	root.AddCommand(
		a.loginCmd(),
		a.statusCmd(),
		a.tokenCmd(),
		a.logoutCmd(),
		a.switchCmd(),
		a.gitCredentialCmd(),
		a.setupGitCmd(),
		a.configCmd(),
		a.emulatorCmd(),
		a.oidcCmd(),
		a.demoCmd(),
	)
	return root
}

// rootFor returns the command tree for args. git starts "ghlogin
// git-credential" for every fetch and push, so that command gets a root
// holding only itself: building every other command and its flags costs
// more than answering git (see tools/bench/README.md).
func (a *app) rootFor(args []string) *cobra.Command {
	if len(args) > 0 && args[0] == "git-credential" {
		root := a.bareRoot()
		root.CompletionOptions.DisableDefaultCmd = true
		root.AddCommand(a.gitCredentialCmd())
		return root
	}
	return a.newRoot()
}

// bareRoot is the root command with its settings and no subcommands.
func (a *app) bareRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "ghlogin",
		Short: "Log in to GitHub and keep your tokens safe",
		Long: "ghlogin logs people and machines in to GitHub (github.com, GitHub Enterprise Server,\n" +
			"or any OAuth 2.0 server with the same flows) and keeps the token safe for people,\n" +
			"scripts and git.\n\nTry it with no network at all: ghlogin demo",
		Version:       Version,
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRun: func(cmd *cobra.Command, args []string) {
			a.ran = true
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return &usageError{err}
	})
	return root
}

// getenv reads the environment through Env.
func (a *app) getenv(k string) string {
	if a.env.Getenv == nil {
		return os.Getenv(k)
	}
	return a.env.Getenv(k)
}

// exactArgs is cobra.ExactArgs with a usage error.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments (got %q)", cmd.CommandPath(), strings.Join(args, " "))
	}
	return nil
}
