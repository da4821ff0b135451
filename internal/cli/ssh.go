package cli

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
)

// sshOptions are ssh's dependencies, flags and ssh arguments.
type sshOptions struct {
	IO      *Env
	Session *session.Session

	// Allow are the hosts lent (--allow); none means the default host.
	Allow []string
	// User is the account lent to requests that name none (--user).
	User string
	// Args are ssh's own arguments: options, the destination, a command.
	Args []string
	// Program is the ssh program; "" means ssh on PATH.
	Program string
}

func newSSHCmd(a *app, runF func(*sshOptions) error) *cobra.Command {
	o := &sshOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "ssh [--allow HOST[,HOST...]] [-u/--user L] [ssh options] DESTINATION [COMMAND...]",
		Short: "SSH to a machine and lend it your login for that session, writing no token there",
		Long: "Run the system's ssh with your arguments and lend the remote machine your login for as\n" +
			"long as the session lasts, the way ssh -A lends SSH keys: git, ghlogin token and ghlogin\n" +
			"exec there ask this machine for a token whenever they need one (ghlogin setup-git\n" +
			"there, or the one-line helper in docs/agent.md on a machine without ghlogin), and no\n" +
			"token is written on the remote. The remote needs nothing configured: no AcceptEnv, no\n" +
			"ghlogin login.\n\n" +
			"Only the hosts in --allow are lent (default: the default host), with the account\n" +
			"--user names or else the host's active account; what is lent, and to whom, is shown\n" +
			"before connecting, and what the remote asked for when the session ends. Tokens are\n" +
			"refreshed here, so a refresh token never leaves this machine. ghlogin's own flags come\n" +
			"first; everything from the first other argument on is ssh's. ghlogin exits with ssh's\n" +
			"status. While the session is open, anyone who can act as you on the remote (root\n" +
			"included) can use the lent login: lend it only to machines you would forward your SSH\n" +
			"agent to. See docs/agent.md.\n\n" +
			"  ghlogin ssh build-1\n" +
			"  ghlogin ssh --allow github.com,ghe.example.com -p 2222 me@build-1\n" +
			"  ghlogin ssh build-1 git -C src pull",
		// ssh's options are not ghlogin's: ghlogin's own flags are read
		// from the front of the arguments by splitSSHArgs.
		DisableFlagParsing:    true,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			own, rest := splitSSHArgs(args)
			if err := cmd.Flags().Parse(own); err != nil {
				return syntaxError(&usageError{err: err})
			}
			if help, _ := cmd.Flags().GetBool("help"); help {
				return cmd.Help()
			}
			if len(rest) == 0 {
				return syntaxf("ssh needs a destination: ghlogin ssh [--allow HOST] [-u/--user L] [ssh options] DESTINATION [COMMAND...]")
			}
			o.Args = rest
			if runF != nil {
				return runF(o)
			}
			return runSSH(cmd.Context(), o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Allow, "allow", nil, "hosts to lend, comma separated (default: the default host)")
	a.addUserFlag(cmd, &o.User, new(string), "account lent to requests that name none (default: each host's active account)")
	cmd.Flags().BoolP("help", "h", false, "help for ssh")
	return cmd
}

// splitSSHArgs splits ghlogin ssh's arguments into its own flags (--allow,
// --user, --help, at the front) and ssh's. "--" ends ghlogin's flags.
func splitSSHArgs(args []string) (own, rest []string) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			return own, args[i+1:]
		case a == "--allow" || a == "--user" || a == "-u":
			own = append(own, a)
			if i+1 < len(args) {
				own = append(own, args[i+1])
				i++
			}
		case strings.HasPrefix(a, "--allow=") || strings.HasPrefix(a, "--user=") || strings.HasPrefix(a, "-u") && !strings.HasPrefix(a, "--") || a == "--help" || a == "-h":
			// ssh has no -u option, so -uL and -u=L are ghlogin's.
			own = append(own, a)
		default:
			return own, args[i:]
		}
	}
	return own, nil
}

// runSSH lends the session's hosts through an agent of its own, runs ssh,
// and says what the remote asked for. ssh's exit status is ghlogin's.
func runSSH(ctx context.Context, o *sshOptions) error {
	if err := agent.CheckSSHArgs(o.Args); err != nil {
		var ae *agent.SSHArgsError
		if errors.As(err, &ae) {
			if name, _, _ := strings.Cut(ae.Arg, "="); name == "--allow" || name == "--user" || name == "-u" {
				return syntaxf("%s must come before ssh's options and the destination: ghlogin ssh %s ... [ssh options] DESTINATION [COMMAND...]", name, name)
			}
		}
		return &usageError{err: err, syntax: true}
	}
	lent, err := o.Session.Lending(o.Allow, o.User)
	if err != nil {
		return err
	}
	dir, err := agent.RuntimeDir(o.IO.getenv)
	if err != nil {
		return err
	}
	sock, err := agent.Listen(dir)
	if err != nil {
		return err
	}
	defer sock.Close()
	plan, err := agent.BuildSSH(agent.SSHRequest{Args: o.Args, LocalSocket: sock.Path, Nonce: agent.NewNonce(), Terminal: o.IO.StdinTTY, Program: o.Program})
	if err != nil {
		var ae *agent.SSHArgsError
		if errors.As(err, &ae) {
			return &usageError{err: err, syntax: true}
		}
		return err
	}
	log := &agentLog{w: o.IO.Stderr, quiet: true, explain: o.IO.explain}
	srv := &agent.Server{
		Name:    machineName(),
		Allowed: lentHosts(lent),
		Source:  &session.AgentSource{Session: o.Session, User: o.User},
		Clock:   o.IO.Clock,
		Log:     log.event,
	}
	// The agent lives exactly as long as ssh: an interrupt goes to ssh
	// (runChild), and the agent stops once ssh has exited.
	serveCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
	served := make(chan error, 1)
	go func() { served <- srv.Serve(serveCtx, sock) }()
	remote := plan.RemoteName
	if remote == "" {
		remote = "the remote"
	}
	fmt.Fprintf(o.IO.Stderr, "Lending %s to %s for this session\n", lendingPhrase(lent), safe.Text(remote))

	cmd := exec.Command(plan.Argv[0], plan.Argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = o.IO.Stdin, o.IO.Stdout, o.IO.Stderr
	code, runErr := runChild(cmd)
	stop()
	serveErr := <-served

	if runErr != nil {
		return &sshStartError{Program: plan.Argv[0], Err: runErr}
	}
	fmt.Fprintln(o.IO.Stderr, agent.Report(plan.RemoteName, srv.Counts()))
	for _, p := range log.collected() {
		fmt.Fprintf(o.IO.Stderr, "warning: the agent %s\n", p)
	}
	if serveErr != nil {
		fmt.Fprintf(o.IO.Stderr, "warning: the agent stopped early: %s\n", o.IO.explain(serveErr))
	}
	if code != 0 {
		return &reportedError{code: code, err: fmt.Errorf("ssh exited with status %d", code)}
	}
	return nil
}

// sshStartError is an ssh program that could not be started.
type sshStartError struct {
	Program string
	Err     error
}

// Error says what could not run, and how to get it.
func (e *sshStartError) Error() string {
	if errors.Is(e.Err, exec.ErrNotFound) {
		return fmt.Sprintf("cannot run %s: it is not installed or not on PATH (install OpenSSH's client, e.g. apt install openssh-client)", e.Program)
	}
	return fmt.Sprintf("cannot run %s: %v", e.Program, e.Err)
}

// Unwrap returns the system's error.
func (e *sshStartError) Unwrap() error { return e.Err }
