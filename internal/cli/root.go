package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe/safehttp"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/ui"
)

// Main runs ghlogin with args and returns the exit status. Errors are
// printed here, once, and mapped to exit statuses by exitStatus.
func Main(ctx context.Context, args []string, env *Env) int {
	// A hangup (the terminal or SSH session went away) cancels like Ctrl-C:
	// a login under --json still ends with its cancelled event.
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	a := newApp(env)
	return a.execute(ctx, a.rootFor(args), args)
}

// execute runs root with args, prints the error if any, and returns the
// exit status. Every command's error is printed here, in one shape:
// "error: " and the message; a mistake in the command line's shape is
// followed by a pointer to the help of the command it was made in.
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) int {
	env := a.env
	root.SetArgs(args)
	root.SetIn(env.Stdin)
	root.SetOut(env.Stdout)
	root.SetErr(env.Stderr)
	cmd, err := root.ExecuteContextC(ctx)
	if err != nil && !a.ran {
		// cobra failed before a command ran: unknown command or flag, bad arguments.
		err = syntaxError(err)
	}
	code := exitStatus(err)
	var re *reportedError
	if err != nil && !errors.As(err, &re) {
		msg := env.explain(err)
		if code == ExitCancelled {
			msg = "cancelled"
		}
		if writesEvents(cmd, args) {
			// Every login --json ends with one success or error event,
			// a command line that could not start it included; the event
			// is the whole report, as for every other failure under --json.
			_, _ = ui.Run(ctx, ui.Options{Mode: ui.JSON, Out: env.Stdout, Err: io.Discard},
				func(context.Context, func(any)) (*ui.Result, error) { return nil, env.wrap(err) })
			return code
		}
		fmt.Fprintf(env.Stderr, "error: %s\n", msg)
		var ue *usageError
		if errors.As(err, &ue) && ue.syntax {
			if cmd == nil {
				cmd = root
			}
			fmt.Fprintf(env.Stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		}
	}
	return code
}

// writesEvents reports whether cmd writes JSON events to stdout (login and
// refresh with --json). The command line may have failed before --json was
// parsed (an unknown flag before it), so the arguments are read too.
func writesEvents(cmd *cobra.Command, args []string) bool {
	if cmd == nil || (cmd.Name() != "login" && cmd.Name() != "refresh") || cmd.Parent() == nil || cmd.Parent().Parent() != nil {
		return false
	}
	if f := cmd.Flags().Lookup("json"); f != nil && f.Changed {
		return f.Value.String() == "true"
	}
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "--json" || a == "--json=true" {
			return true
		}
	}
	return false
}

// NewRootCmd returns ghlogin's whole command tree on env (for the tests
// and the documentation generator); nil means an empty Env, enough to read
// the commands and flags.
func NewRootCmd(env *Env) *cobra.Command {
	if env == nil {
		env = &Env{}
	}
	return newApp(env).newRoot()
}

// app is what every command shares: the process's environment and the
// session (the application layer) built on it.
type app struct {
	env  *Env
	sess *session.Session
	// ran is set once a command's own code starts; errors before that are
	// cobra's (unknown command or flag): usage errors.
	ran bool
}

func newApp(env *Env) *app {
	a := &app{env: env}
	a.sess = newSession(env, a.getenv)
	return a
}

// newSession builds the application layer on env, reading the environment
// through getenv.
func newSession(env *Env, getenv func(string) string) *session.Session {
	s := &session.Session{
		Getenv:     getenv,
		HTTPClient: safehttp.HTTPClient(env.HTTPClient, 60*time.Second),
		Clock:      env.Clock,
		UserAgent:  "ghlogin/" + currentBuild().Version,
		Keyring:    env.Keyring,
		Backends:   env.Backends,
		Describe:   env.explain,
		Getwd:      env.getwd,
	}
	return s
}

func (a *app) newRoot() *cobra.Command {
	root := a.bareRoot()
	root.AddCommand(
		newLoginCmd(a, nil),
		newStatusCmd(a, nil),
		newTokenCmd(a, nil),
		newRefreshCmd(a, nil),
		newLogoutCmd(a, nil),
		newSwitchCmd(a, nil),
		newBindCmd(a, nil),
		newExecCmd(a, nil),
		newGitCredentialCmd(a, nil),
		newSetupGitCmd(a, nil),
		newAgentCmd(a, nil),
		newSSHCmd(a, nil),
		newConfigCmd(a, nil),
		a.emulatorCmd(),
		a.oidcCmd(),
		newDemoCmd(a, nil),
		newCompletionCmd(a),
		newVersionCmd(a, nil),
	)
	root.SetHelpCommand(newHelpCmd())
	a.completeFixed(root)
	return root
}

// alone are the commands that get a root holding only themselves (see
// rootFor): git starts "ghlogin git-credential" for every fetch and push,
// and scripts run "ghlogin token" (GH_TOKEN=$(ghlogin token)) as often.
var alone = map[string]func(a *app) *cobra.Command{
	"git-credential": func(a *app) *cobra.Command { return newGitCredentialCmd(a, nil) },
	"token":          func(a *app) *cobra.Command { return newTokenCmd(a, nil) },
}

// rootFor returns the command tree for args. A command in alone gets a
// root holding only itself: building every other command and its flags
// costs a good part of answering (see tools/bench/README.md). Its flags,
// help and errors are the same, since it is the same command on the same
// root.
func (a *app) rootFor(args []string) *cobra.Command {
	if len(args) > 0 {
		if cmd, ok := alone[args[0]]; ok {
			root := a.bareRoot()
			root.AddCommand(cmd(a))
			return root
		}
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
			"scripts and git.\n\nTry it with no network at all: ghlogin demo\n\n" +
			"Exit status: 0 success, 1 failure, 2 usage error, 4 not logged in (or the token is\n" +
			"no longer accepted), 130 cancelled.",
		SilenceErrors: true,
		SilenceUsage:  true,
		// newCompletionCmd is ghlogin's own.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			// cobra checks required flags and flags that exclude each
			// other after this hook; check them first so that they are
			// usage errors too.
			if err := checkFlags(cmd); err != nil {
				return err
			}
			a.env.hints = a.hintsFor(cmd)
			a.env.otherHosts = a.otherHostsFor(cmd)
			a.ran = true
			return nil
		},
	}
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return syntaxError(err)
	})
	setVersion(root)
	return root
}

// hintsFor is what the next steps in error messages may name while cmd
// runs: cmd's flags, and hosts by their --host values as the session
// knows them (Session.HostArg), the --host cmd was given first.
func (a *app) hintsFor(cmd *cobra.Command) hint.Context {
	given := ""
	if f := cmd.Flags().Lookup("host"); f != nil {
		given = f.Value.String()
	}
	c := hint.Context{
		Flags: func(name string) bool {
			return cmd.Flags().Lookup(name) != nil || cmd.InheritedFlags().Lookup(name) != nil
		},
		HostArg: func(name string) string { return a.sess.HostArg(name, given) },
	}
	if given != "" {
		if h, err := hosts.Parse(given); err == nil {
			c.Host = a.sess.HostArg(h.Name, given)
		}
	}
	return c
}

// otherHostsFor returns, for a command run without --host, GHLOGIN_HOST
// or GH_HOST, a function listing the hosts that have accounts (read when an
// error needs them, never before); nil when a host was named.
func (a *app) otherHostsFor(cmd *cobra.Command) func() []string {
	if f := cmd.Flags().Lookup("host"); f == nil || f.Value.String() != "" || a.getenv("GHLOGIN_HOST") != "" || a.getenv("GH_HOST") != "" {
		return nil
	}
	return func() []string {
		_, cfg, err := a.sess.Config()
		if err != nil {
			return nil
		}
		var out []string
		for _, name := range cfg.HostNames() {
			if len(cfg.Hosts[name].Accounts) > 0 {
				out = append(out, a.sess.HostArg(name, ""))
			}
		}
		return out
	}
}

// getenv reads the environment through Env.
func (a *app) getenv(k string) string { return a.env.getenv(k) }

// now reads Env's clock.
func (a *app) now() time.Time { return a.env.now() }
