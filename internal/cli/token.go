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

	Host, User, Repo string
}

func newTokenCmd(a *app, runF func(*tokenOptions) error) *cobra.Command {
	o := &tokenOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the token (refreshed first if it expires within 5 minutes)",
		Long: "Print the token of the account that applies here, and nothing else: --user, else an\n" +
			"owner binding for the repository (--repo, or the origin remote of the git work tree\n" +
			"you are in), else a directory binding, else the host's active account. A token in\n" +
			"GH_TOKEN or GITHUB_TOKEN (GH_ENTERPRISE_TOKEN on other hosts) wins unless --user is given.",
		Example: "  curl -H \"Authorization: Bearer $(ghlogin token)\" https://api.github.com/user\n" +
			"  ghlogin token --hostname ghe.example.com -u hubot",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runToken(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the account bindings choose here, else the active one)")
	cmd.Flags().StringVar(&o.Repo, "repo", "", repoFlagHelp)
	return cmd
}

// repoFlagHelp is the help of every --repo flag.
const repoFlagHelp = "repository whose owner chooses the account: OWNER/NAME or HOST/OWNER/NAME (default: the origin remote here)"

// runToken prints the token the session chooses, and nothing else.
func runToken(ctx context.Context, o *tokenOptions) error {
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host, Repo: o.Repo})
	if err != nil {
		return err
	}
	q, err := o.Session.Here(ctx, t, o.User, o.Repo)
	if err != nil {
		return err
	}
	tok, err := o.Session.Token(ctx, t, q)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(o.IO.Stdout, tok.Secret.Token)
	return err
}
