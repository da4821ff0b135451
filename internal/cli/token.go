package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/session"
)

// tokenOptions are token's dependencies and flags.
type tokenOptions struct {
	IO      *Env
	Session *session.Session

	Host, User string
}

func newTokenCmd(a *app, runF func(*tokenOptions) error) *cobra.Command {
	o := &tokenOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the token (refreshed first if it expires within 5 minutes)",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runToken(cmd.Context(), o)
		},
	}
	cmd.Flags().StringVar(&o.Host, "host", "", hostFlagHelp)
	cmd.Flags().StringVar(&o.User, "user", "", "account login (default: the active account)")
	return cmd
}

// runToken prints the token the session chooses, and nothing else.
func runToken(ctx context.Context, o *tokenOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	tok, err := o.Session.Token(ctx, t, o.User)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.IO.Stdout, tok.Secret.Token)
	return err
}
