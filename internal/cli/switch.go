package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/session"
)

// switchOptions are switch's dependencies and flags.
type switchOptions struct {
	IO      *Env
	Session *session.Session

	Host, User string
}

func newSwitchCmd(a *app, runF func(*switchOptions) error) *cobra.Command {
	o := &switchOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "switch",
		Short: "Make another stored account the active one",
		Long: "Make another stored account the host's active one: the default, used wherever no\n" +
			"binding applies (see ghlogin bind). When a binding chooses another account in the\n" +
			"current directory or repository, switch says so.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runSwitch(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the next account)")
	return cmd
}

// runSwitch makes the account active, says so only when it was not, and
// says when a binding overrides it here.
func runSwitch(ctx context.Context, o *switchOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	before, err := o.Session.Account(t.Host.Name, session.Query{})
	if err != nil {
		return err
	}
	ac, err := o.Session.Switch(t, o.User)
	if err != nil {
		return err
	}
	w := o.IO.Stderr
	switch {
	case ac.Login != before.Login:
		fmt.Fprintf(w, "Switched the active account for %s from %s to %s\n", ac.Host, before.Login, ac.Login)
	case o.User == "":
		fmt.Fprintf(w, "%s is the only account for %s, and it is active; log in to another with: ghlogin login --host %s\n", ac.Login, ac.Host, t.Host.Arg())
	default:
		fmt.Fprintf(w, "%s is already the active account for %s; nothing changed\n", ac.Login, ac.Host)
	}
	q, err := o.Session.Here(ctx, t, "", "")
	if err != nil {
		return nil // the switch is done; the note is a courtesy
	}
	c, err := o.Session.Account(t.Host.Name, q)
	var be *session.BindingError
	switch {
	case errors.As(err, &be):
		fmt.Fprintf(w, "note: here, %s\n", o.IO.explain(err))
	case err == nil && c.Reason != session.ReasonActive && c.Login != ac.Login:
		fmt.Fprintf(w, "note: here, %s, so %s is still used in this directory (ghlogin bind --list)\n", c.Why(), c.Login)
	}
	return nil
}
