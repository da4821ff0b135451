package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/revoke"
	"github.com/ghlogin/ghlogin/internal/session"
)

// logoutOptions are logout's dependencies and flags.
type logoutOptions struct {
	IO      *Env
	Session *session.Session

	Host, User string
	Local      bool
}

func newLogoutCmd(a *app, runF func(*logoutOptions) error) *cobra.Command {
	o := &logoutOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "logout",
		Short: "Revoke an account's token on the server and remove the account",
		Long: "Revoke the account's token on the server where the server allows it, then remove the\n" +
			"account and its secret. GitHub revokes a token only for the OAuth app's client secret\n" +
			"(the host's client_secret setting); an OpenID Connect server at its revocation endpoint.\n" +
			"Where the token cannot be revoked, logout says so and names the page to revoke it on.\n" +
			"The account is removed in every case; --local only removes it.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runLogout(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the active account)")
	cmd.Flags().BoolVar(&o.Local, "local", false, "only remove the account here; do not revoke the token")
	return cmd
}

// runLogout revokes and removes the account, says what happened to the
// token on the server, which account is active now, and whether an
// environment token still applies to the host.
func runLogout(ctx context.Context, o *logoutOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	res, err := o.Session.Logout(ctx, t, o.User, session.LogoutOptions{Local: o.Local})
	if err != nil {
		return err
	}
	w := o.IO.Stderr
	ac := res.Removed
	printRevocation(w, o.IO.explain, res.Revocation, o.Local)
	fmt.Fprintf(w, "Logged out of %s as %s\n", ac.Host, ac.Login)
	if res.NowActive != "" && ac.Active {
		fmt.Fprintf(w, "The active account for %s is now %s\n", ac.Host, res.NowActive)
	}
	if bs, err := o.Session.BindingsTo(ac.Host, ac.Login); err == nil && len(bs) > 0 {
		fmt.Fprintf(w, "note: these bindings still name %s and now fail until you log in as %s again or remove them:\n", ac.Login, ac.Login)
		for _, b := range bs {
			fmt.Fprintf(w, "  %s   (ghlogin bind --remove %s)\n", bindingLine(session.BindingInfo{Binding: b}), removeArgs(b, o.IO.hints))
		}
	}
	if _, name := o.Session.EnvToken(t); name != "" {
		fmt.Fprintf(w, "note: %s is still set and is still used for %s\n", name, t.Host.Name)
	}
	return nil
}

// printRevocation says what happened to a token on its server (logout, and
// refresh for the token it replaced). local: the person asked not to
// revoke it.
func printRevocation(w io.Writer, explain func(error) string, r session.Revocation, local bool) {
	switch {
	case local:
		fmt.Fprintln(w, "The token was not revoked (--local): it stays valid on the server until it expires or is revoked.")
	case r.Skipped:
	case r.Err == nil && r.Result != nil && r.Result.AlreadyGone:
		fmt.Fprintln(w, "The token had already been revoked on the server.")
	case r.Err == nil && r.Result != nil:
		fmt.Fprintf(w, "Revoked the %s on the server.\n", revokedWhat(r.Result.Revoked))
	default:
		if r.Result != nil && len(r.Result.Revoked) > 0 {
			fmt.Fprintf(w, "Revoked the %s on the server.\n", revokedWhat(r.Result.Revoked))
		}
		msg := explain(r.Err)
		if _, ok := r.CannotRevoke(); ok {
			// Nothing was sent: the message says why and where to go.
			fmt.Fprintln(w, upperFirst(msg))
			return
		}
		if revokePage(r.Err) == "" {
			msg += "; the token stays valid until it expires or is revoked"
		}
		fmt.Fprintln(w, "warning: "+msg)
	}
}

// revokedWhat names the tokens a server ended: "token", "refresh token and
// token".
func revokedWhat(hints []string) string {
	var out []string
	for _, h := range hints {
		if h == "refresh_token" {
			out = append(out, "refresh token")
		} else {
			out = append(out, "token")
		}
	}
	if len(out) == 0 {
		return "token"
	}
	return strings.Join(out, " and ")
}

// revokePage is the page a failed revocation names, where the person can
// revoke the token by hand ("" when none).
func revokePage(err error) string {
	var fe *revoke.FailedError
	if errors.As(err, &fe) {
		return fe.Page
	}
	return ""
}
