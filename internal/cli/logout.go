package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/session"
)

// logoutOptions are logout's dependencies and flags.
type logoutOptions struct {
	IO      *Env
	Session *session.Session

	Host, User string
}

func newLogoutCmd(a *app, runF func(*logoutOptions) error) *cobra.Command {
	o := &logoutOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Remove an account and its secret",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runLogout(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the active account)")
	return cmd
}

// runLogout removes the account and says which account is active now, and
// whether an environment token still applies to the host.
func runLogout(ctx context.Context, o *logoutOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	ac, next, err := o.Session.Logout(ctx, t, o.User)
	if err != nil {
		return err
	}
	w := o.IO.Stderr
	fmt.Fprintf(w, "Logged out of %s as %s\n", ac.Host, ac.Login)
	if next != "" && ac.Active {
		fmt.Fprintf(w, "The active account for %s is now %s\n", ac.Host, next)
	}
	if bs, err := o.Session.BindingsTo(ac.Host, ac.Login); err == nil && len(bs) > 0 {
		fmt.Fprintf(w, "note: these bindings still name %s and now fail until you log in as %s again or remove them:\n", ac.Login, ac.Login)
		for _, b := range bs {
			fmt.Fprintf(w, "  %s   (ghlogin bind --remove %s)\n", bindingLine(session.BindingInfo{Binding: b}), removeArgs(b))
		}
	}
	if _, name := o.Session.EnvToken(t); name != "" {
		fmt.Fprintf(w, "note: %s is still set and is still used for %s\n", name, t.Host.Name)
	}
	return nil
}
