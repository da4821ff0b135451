package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
)

// agentOptions are agent's dependencies and flags.
type agentOptions struct {
	IO      *Env
	Session *session.Session

	// Allow are the hosts served (--allow); none means the default host.
	Allow []string
	// User is the account lent to requests that name none (--user).
	User string
	// Socket is the socket's path (--socket); "" means a new socket in
	// the runtime directory (agent.RuntimeDir).
	Socket string
	// PrintSocket prints the socket's path on stdout once it listens.
	PrintSocket bool
	// Name is how the clients' messages name this machine (--name).
	Name    string
	Verbose bool
}

func newAgentCmd(a *app, runF func(*agentOptions) error) *cobra.Command {
	o := &agentOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "agent [--allow HOST[,HOST...]] [-u/--user L] [--socket PATH] [--print-socket]",
		Short: "Lend this machine's logins to other processes on a socket, until stopped",
		Long: "Serve this machine's accounts on a Unix-domain socket, the way ssh-agent serves SSH keys,\n" +
			"until interrupted (Ctrl-C, SIGTERM). It runs in the foreground and never forks itself:\n" +
			"start it with & or from your service manager. ghlogin ssh runs one of its own for each\n" +
			"session; run this one to forward the socket yourself (ssh -R, a container's volume).\n\n" +
			"Only the hosts in --allow are served (default: the default host), only to processes of\n" +
			"your own user, and only tokens from this machine's store: never GH_TOKEN and the like,\n" +
			"and never a token this machine borrowed from another agent. Tokens are refreshed here,\n" +
			"under the same lock as every other ghlogin process. The socket (mode 0600) is in\n" +
			"$XDG_RUNTIME_DIR/ghlogin (else the config directory's agent/), in a directory only you\n" +
			"can enter; --socket puts it at a path of your choice. Clients find it through\n" +
			"GHLOGIN_AGENT_SOCK; docs/agent.md has the protocol. --print-socket writes the path as\n" +
			"the first line on stdout, for a script that starts the agent and reads it.\n\n" +
			"  ghlogin agent --allow github.com --socket ~/.cache/ghlogin-agent/agent.sock &\n" +
			"  ssh -R /tmp/octo-agent.sock:$HOME/.cache/ghlogin-agent/agent.sock build-1\n" +
			"  build-1$ GHLOGIN_AGENT_SOCK=/tmp/octo-agent.sock git fetch",
		Args:                  noArgs,
		DisableFlagsInUseLine: true,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runAgent(cmd.Context(), o)
		},
	}
	cmd.Flags().StringSliceVar(&o.Allow, "allow", nil, "hosts to serve, comma separated (default: the default host)")
	a.addUserFlag(cmd, &o.User, new(string), "account lent to requests that name none (default: each host's active account)")
	cmd.Flags().StringVar(&o.Socket, "socket", "", "listen on this path (its directory must be yours and closed to others; created 0700 when missing)")
	cmd.Flags().BoolVar(&o.PrintSocket, "print-socket", false, "print the socket's path on stdout once it listens, for scripts")
	cmd.Flags().StringVar(&o.Name, "name", "", "how the clients' messages name this machine (default: its host name)")
	cmd.Flags().BoolVarP(&o.Verbose, "verbose", "v", false, "one line on stderr for every request")
	return cmd
}

// runAgent serves until ctx ends, then prints what was served.
func runAgent(ctx context.Context, o *agentOptions) error {
	lent, err := o.Session.Lending(o.Allow, o.User)
	if err != nil {
		return err
	}
	var sock *agent.Socket
	if o.Socket != "" {
		sock, err = agent.ListenPath(o.Socket)
	} else {
		var dir string
		if dir, err = agent.RuntimeDir(o.IO.getenv); err == nil {
			sock, err = agent.Listen(dir)
		}
	}
	if err != nil {
		return err
	}
	defer sock.Close()
	name := o.Name
	if name == "" {
		name = machineName()
	}
	log := &agentLog{w: o.IO.Stderr, verbose: o.Verbose, explain: o.IO.explain}
	srv := &agent.Server{
		Name:    safe.Short(name, 64),
		Allowed: lentHosts(lent),
		Source:  &session.AgentSource{Session: o.Session, User: o.User},
		Clock:   o.IO.Clock,
		Log:     log.event,
	}
	fmt.Fprintf(o.IO.Stderr, "Lending %s on %s until stopped (Ctrl-C)\n", lendingPhrase(lent), sock.Path)
	fmt.Fprintf(o.IO.Stderr, "Clients find it with %s=%s\n", agent.EnvSock, sock.Path)
	if o.PrintSocket {
		if _, err := fmt.Fprintln(o.IO.Stdout, sock.Path); err != nil {
			return err
		}
	}
	err = srv.Serve(ctx, sock)
	fmt.Fprintln(o.IO.Stderr, agent.Report("the agent's clients", srv.Counts()))
	return err
}

// agentLog writes an agent's events on stderr: every request with
// --verbose, and always what failed on this side (the client only learns
// that it failed, and is told to look here).
type agentLog struct {
	mu      sync.Mutex
	w       io.Writer
	verbose bool
	// explain turns an error into its message (Env.explain).
	explain func(error) string
	// seen keeps each failure from being said twice.
	seen map[string]bool
	// quiet collects failures instead of writing them (ghlogin ssh, whose
	// terminal belongs to the remote shell until the session ends).
	quiet    bool
	problems []string
}

// event is an agent.Server's Log.
func (l *agentLog) event(e agent.Event) {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch e.Kind {
	case agent.EventError:
		what := "could not serve a request"
		if e.Host != "" {
			what = "could not serve " + e.Host
		}
		msg := what + ": " + l.explain(e.Err)
		if l.seen == nil {
			l.seen = map[string]bool{}
		}
		if l.seen[msg] {
			return
		}
		l.seen[msg] = true
		if l.quiet {
			l.problems = append(l.problems, msg)
			return
		}
		fmt.Fprintf(l.w, "ghlogin agent: %s\n", msg)
	case agent.EventPeerRefused:
		if !l.quiet {
			fmt.Fprintf(l.w, "ghlogin agent: refused a process of another user (uid %d)\n", e.UID)
		}
	case agent.EventServed:
		if l.verbose && !l.quiet {
			if e.Op == agent.OpList {
				fmt.Fprintln(l.w, "ghlogin agent: listed the accounts")
				return
			}
			fmt.Fprintf(l.w, "ghlogin agent: lent %s's %s token for %s\n", safe.Text(e.Login), e.Host, e.Purpose)
		}
	case agent.EventRefused:
		if l.verbose && !l.quiet {
			host := e.Host
			if host == "" {
				host = "a request"
			}
			fmt.Fprintf(l.w, "ghlogin agent: refused %s (%s): %s\n", host, e.Code, safe.Text(e.Reason))
		}
	}
}

// collected returns the failures a quiet log kept.
func (l *agentLog) collected() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.problems...)
}

// machineName is this machine's name as an agent gives it: the host name
// without its domain.
func machineName() string {
	h, err := os.Hostname()
	if err != nil {
		return ""
	}
	h, _, _ = strings.Cut(h, ".")
	return safe.Short(h, 64)
}

// lentHosts are the hosts an agent serves.
func lentHosts(lent []session.Lent) []string {
	out := make([]string, len(lent))
	for i, l := range lent {
		out[i] = l.Host
	}
	return out
}

// lendingPhrase says what an agent lends: "your github.com login
// (octocat)", "your github.com logins (octocat; alice-work when named) and
// your ghe.example.com login (mona)".
func lendingPhrase(lent []session.Lent) string {
	parts := make([]string, len(lent))
	for i, l := range lent {
		if len(l.Others) == 0 {
			parts[i] = fmt.Sprintf("your %s login (%s)", l.Host, safe.Text(l.Login))
			continue
		}
		others := make([]string, len(l.Others))
		for j, o := range l.Others {
			others[j] = safe.Text(o)
		}
		parts[i] = fmt.Sprintf("your %s logins (%s; %s when named)", l.Host, safe.Text(l.Login), strings.Join(others, ", "))
	}
	if len(parts) <= 1 {
		return strings.Join(parts, "")
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}
