package cli

import (
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
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runSwitch(o)
		},
	}
	cmd.Flags().StringVar(&o.Host, "host", "", hostFlagHelp)
	cmd.Flags().StringVar(&o.User, "user", "", "account login (default: the next account)")
	return cmd
}

// runSwitch makes the account active.
func runSwitch(o *switchOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	ac, err := o.Session.Switch(t, o.User)
	if err != nil {
		return err
	}
	fmt.Fprintf(o.IO.Stderr, "Switched %s to %s\n", ac.Host, ac.Login)
	return nil
}
