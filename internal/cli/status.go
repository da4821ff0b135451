package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
)

// statusOptions are status's dependencies and flags.
type statusOptions struct {
	IO      *Env
	Session *session.Session

	Host, Repo    string
	JSON, Offline bool
}

func newStatusCmd(a *app, runF func(*statusOptions) error) *cobra.Command {
	o := &statusOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Show every host and account, and whether the API still accepts each token",
		Long: "Show every host and account, and whether the API still accepts each token.\n\n" +
			"Exit status: 4 when nothing is logged in, or when what is wrong is only accounts that\n" +
			"need a new login (a token the server rejects, a kernel keyring login gone after a\n" +
			"restart); 1 when anything else is wrong (a store that cannot be used, a binding that\n" +
			"names an account that is not logged in), even if an account needs a login too; else 0.\n" +
			"--offline asks no server, but still looks up a login kept in the kernel keyring and\n" +
			"reads the file store (a credentials.json others can read or write is said as online).",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runStatus(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, "only this host, by name or URL")
	cmd.Flags().BoolVar(&o.JSON, "json", false, "print one JSON document")
	cmd.Flags().BoolVar(&o.Offline, "offline", false, "do not check the tokens with the API (kernel keyring and file store logins are still looked up)")
	cmd.Flags().StringVar(&o.Repo, "repo", "", repoFlagHelp)
	return cmd
}

// runStatus prints the session's status report, with the account that
// applies here on each host. It exits 4 when there is nothing to show or
// when what is wrong is only accounts that need a new login (a token the
// server rejects, a kernel keyring login gone after a restart), and 1 when
// anything else is wrong (a store that cannot be used, a binding that
// names an account that is not logged in), whether or not an account
// needs a login too.
func runStatus(ctx context.Context, o *statusOptions) error {
	rep, err := o.Session.Status(ctx, o.Host, o.Offline)
	if err != nil {
		return err
	}
	place, err := o.Session.Place(ctx, o.Repo)
	if err != nil {
		return err
	}
	if err := o.Session.AddHere(rep, place); err != nil {
		return err
	}
	if o.JSON {
		if err := writeJSON(o.IO.Stdout, rep); err != nil {
			return err
		}
	} else {
		printStatus(o.IO, rep)
	}
	switch {
	case len(rep.Hosts) == 0:
		where, login := "any host", "ghlogin login"
		if rep.Filter != "" {
			where, login = rep.Filter, "ghlogin login --host "+o.Host
		}
		if !o.JSON {
			// An error exit: the one error line every command writes.
			fmt.Fprintf(o.IO.Stderr, "error: not logged in to %s; run: %s%s\n", where, login, o.IO.ignoredEnvNote(rep.Filter))
		}
		return &reportedError{code: ExitAuth, err: &store.NotLoggedInError{Host: where}}
	case len(rep.Problems) > 0:
		return &reportedError{code: ExitFailure, err: errors.New("a store that holds tokens cannot be used")}
	case len(rep.MissingBindings()) > 0:
		return &reportedError{code: ExitFailure, err: errors.New("a binding names an account that is not logged in")}
	case rep.NeedsLogin():
		// Only a new login is needed: authentication needed, as token and
		// git say for the same account.
		return &reportedError{code: ExitAuth, err: errors.New("an account needs a new login")}
	}
	return nil
}

// stateMarks are the marks status shows before each account.
var stateMarks = map[string]string{
	session.StateValid:       "✓",
	session.StateInvalid:     "✗",
	session.StateUnreachable: "?",
	session.StateRefused:     "?",
	session.StateExpired:     "~",
	session.StateUnreadable:  "!",
	session.StateUnchecked:   "-",
	session.StateSSORequired: "!",
}

// printStatus renders a status report for people. What came from a server
// or the config file (logins, scopes, messages) goes through safe.Text.
func printStatus(e *Env, rep *session.StatusReport) {
	w := e.Stdout
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "! %s\n\n", p)
	}
	if rep.Agent != nil && rep.Agent.Error != "" {
		fmt.Fprintf(w, "! %s\n\n", safe.Text(rep.Agent.Error))
	}
	for i, h := range rep.Hosts {
		if i > 0 {
			fmt.Fprintln(w)
		}
		fmt.Fprintln(w, safe.Text(h.Host))
		printEndpoints(w, h)
		printForwarded(w, rep.Agent, h)
		if h.EnvToken != nil {
			fmt.Fprintf(w, "  ! %s is set: it is used instead of any stored token\n", *h.EnvToken)
		}
		for _, ac := range h.Accounts {
			active := ""
			if ac.Active {
				active = " (active)"
			}
			name := ""
			if ac.DisplayName != "" {
				name = " (" + safe.Text(ac.DisplayName) + ")"
			}
			fmt.Fprintf(w, "  %s %s%s%s\n", stateMarks[ac.State], safe.Text(ac.Login), name, active)
			fmt.Fprintf(w, "      store: %s\n", storeLine(ac))
			if ac.RequestedScopes != nil {
				// The server granted other scopes than the login asked for.
				fmt.Fprintf(w, "      scopes: %s (requested: %s)\n", scopeList(ac.Scopes), scopeList(ac.RequestedScopes))
			} else {
				fmt.Fprintf(w, "      scopes: %s\n", scopeList(ac.Scopes))
			}
			if ac.ExpiresAt != nil {
				fmt.Fprintf(w, "      expires: %s\n", ac.ExpiresAt.Local().Format(time.RFC3339))
			}
			state := ac.State
			if ac.Error != "" {
				state += ": " + safe.Text(ac.Error)
			}
			fmt.Fprintf(w, "      token: %s\n", state)
		}
		if len(h.Bindings) > 0 {
			fmt.Fprintln(w, "  bindings:")
			for _, b := range h.Bindings {
				fmt.Fprintf(w, "    %s\n", bindingLine(b))
			}
		}
		if h.Here != nil {
			fmt.Fprintf(w, "  %s\n", hereLine(h.Here))
		}
	}
}

// bindingLine shows one binding: "owner my-org → alice-work". Patterns
// and logins come from the config file: they go through safe.Text.
func bindingLine(b session.BindingInfo) string {
	what := "owner " + safe.Text(b.Pattern)
	if b.Kind == config.BindDir {
		what = "dir   " + safe.Text(b.Pattern)
	}
	login := safe.Text(b.Login)
	line := what + " → " + login
	if b.Missing {
		line += " (not logged in: log in as " + login + " or remove the binding)"
	}
	return line
}

// hereLine is status's line for the account used in the current
// directory: "here: alice-work (owner my-org)".
func hereLine(h *session.HereStatus) string {
	switch {
	case h.Login != "":
		return fmt.Sprintf("here: %s (%s)", safe.Text(h.Login), safe.Text(h.Short))
	case h.EnvToken != "":
		return fmt.Sprintf("here: the token in %s", h.EnvToken)
	}
	return "here: no account (" + safe.Text(h.Error) + ")"
}

// printEndpoints lists a host's endpoints with where each came from, for
// hosts that are not plain GitHub hosts (an OpenID Connect or other OAuth
// 2.0 server, or a GitHub host with an endpoint set by hand): a GitHub
// host's derived endpoints are what everyone expects.
func printEndpoints(w io.Writer, h *session.HostStatus) {
	plain := h.Kind == config.KindGitHub.String()
	for _, ep := range h.Endpoints {
		if ep.Source != oidcdisc.SourceDefault && ep.URL != "" {
			plain = false
		}
	}
	if plain {
		return
	}
	for _, ep := range h.Endpoints {
		if ep.URL == "" {
			continue
		}
		fmt.Fprintf(w, "  %s: %s (%s)\n", ep.Key, safe.Text(ep.URL), ep.Source)
	}
}

// printForwarded renders the accounts a forwarded agent lends for h:
// "⇄ octocat (lent by the ghlogin agent on laptop)". The agent does not
// say whether ghlogin ssh started it, so neither does this.
func printForwarded(w io.Writer, ag *session.AgentStatus, h *session.HostStatus) {
	if len(h.Forwarded) == 0 || ag == nil {
		return
	}
	from := "the agent's machine"
	if ag.Agent != "" {
		from = safe.Text(ag.Agent)
	}
	for _, fa := range h.Forwarded {
		when := ""
		if !fa.Active {
			when = "; used when named"
		}
		fmt.Fprintf(w, "  ⇄ %s (lent by the ghlogin agent on %s%s)\n", safe.Text(fa.Login), from, when)
		if fa.ExpiresAt != nil {
			fmt.Fprintf(w, "      expires: %s (refreshed on %s)\n", fa.ExpiresAt.Local().Format(time.RFC3339), from)
		}
	}
	if len(h.Accounts) > 0 || h.EnvToken != nil {
		fmt.Fprintf(w, "  ! the agent on %s is asked first; what follows is used only for what it does not lend\n", from)
	}
}

// storeLine is an account's store as status shows it: the name, and what
// a person should know about it: that the file store is plaintext at rest
// (and where), that the kernel keyring forgets the token on its own.
func storeLine(ac session.AccountStatus) string {
	line := safe.Text(ac.Store)
	switch {
	case ac.PlaintextAtRest:
		line += " (plaintext at rest in " + safe.Text(ac.Place) + ")"
	case ac.KeptUntil != "":
		line += " (in memory only; kept " + safe.Text(ac.KeptUntil) + ")"
	}
	return line
}
