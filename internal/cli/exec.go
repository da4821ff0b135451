package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/session"
)

// Exit statuses of exec when the command cannot run, as shells use them.
const (
	// ExitCannotExecute: the command exists but cannot be run.
	ExitCannotExecute = 126
	// ExitNotFound: there is no such command.
	ExitNotFound = 127
)

// execOptions are exec's dependencies, flags and command.
type execOptions struct {
	IO      *Env
	Session *session.Session

	Host, User, Repo string
	// Args are the command and its arguments.
	Args []string
}

func newExecCmd(a *app, runF func(*execOptions) error) *cobra.Command {
	o := &execOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "exec [--host H] [--user L] [--repo OWNER/NAME] -- CMD [ARG...]",
		Short: "Run a command with the account's token in its environment",
		Long: "Run CMD with the token of the account that applies here (as for ghlogin token: --user,\n" +
			"an owner binding for --repo or the origin remote, a directory binding, the active\n" +
			"account), refreshed first when due, in GH_TOKEN and GITHUB_TOKEN; for a host other\n" +
			"than github.com also in GH_ENTERPRISE_TOKEN and GITHUB_ENTERPRISE_TOKEN, with GH_HOST\n" +
			"naming the host. Those variables replace any already set. The token is never printed\n" +
			"and is in no argument. SIGINT, SIGTERM, SIGHUP and SIGQUIT go on to CMD (a Ctrl-C\n" +
			"typed at the terminal reaches CMD once, from the terminal), and ghlogin exits with\n" +
			"CMD's status (128+N when a signal N ended it).\n\n" +
			"  ghlogin exec -- gh pr list\n" +
			"  ghlogin exec --user alice-work -- terraform apply",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usagef("exec needs a command to run: ghlogin exec [flags] -- CMD [ARG...]")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Args = args
			if runF != nil {
				return runF(o)
			}
			return runExec(cmd.Context(), o)
		},
	}
	// Flags end at the command: `ghlogin exec gh pr list --json x` hands
	// --json to gh.
	cmd.Flags().SetInterspersed(false)
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the account bindings choose here, else the active one)")
	cmd.Flags().StringVar(&o.Repo, "repo", "", repoFlagHelp)
	return cmd
}

// runExec resolves the account and its token, then runs the command with
// the token in its environment and returns its exit status.
func runExec(ctx context.Context, o *execOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host, Repo: o.Repo})
	if err != nil {
		return err
	}
	q, err := o.Session.Here(ctx, t, o.User, o.Repo)
	if err != nil {
		return err
	}
	tok, err := o.Session.TokenWith(ctx, t, q, session.TokenOptions{Purpose: agent.PurposeExec})
	if err != nil {
		return err
	}
	if tok.Env != "" {
		// The environment's token wins over stored accounts; say so when
		// a binding would have chosen one here.
		if c, err := o.Session.Account(t.Host.Name, q); err == nil && (c.Reason == session.ReasonOwner || c.Reason == session.ReasonDir) {
			fmt.Fprintf(o.IO.Stderr, "warning: %s is set, so its token is used, not %s's (%s); pass --user %s to use that account\n",
				tok.Env, c.Login, c.Why(), c.Login)
		}
	}
	name := o.Args[0]
	path, err := exec.LookPath(name)
	if err != nil {
		code := ExitNotFound
		msg := "command not found"
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, exec.ErrDot) {
			code, msg = ExitCannotExecute, err.Error()
		}
		fmt.Fprintf(o.IO.Stderr, "error: %s: %s\n", name, msg)
		return &reportedError{code: code, err: err}
	}
	cmd := exec.Command(path, o.Args[1:]...)
	cmd.Args[0] = name
	cmd.Env = session.ExecEnv(o.IO.environ(), t.Host.Name, tok.Secret.Token)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.IO.Stdin, o.IO.Stdout, o.IO.Stderr
	code, err := runChild(cmd)
	if err != nil {
		fmt.Fprintf(o.IO.Stderr, "error: %s: %v\n", name, err)
		return &reportedError{code: ExitCannotExecute, err: err}
	}
	if code != 0 {
		return &reportedError{code: code, err: fmt.Errorf("%s exited with status %d", name, code)}
	}
	return nil
}
