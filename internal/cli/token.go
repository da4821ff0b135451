package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
)

// tokenOptions are token's dependencies and flags.
type tokenOptions struct {
	IO      *Env
	Session *session.Session

	Host, User, Repo string
	// IDToken prints the account's OpenID Connect ID token instead.
	IDToken bool
}

func newTokenCmd(a *app, runF func(*tokenOptions) error) *cobra.Command {
	o := &tokenOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "token",
		Short: "Print the token (refreshed first when it is about to expire)",
		Long: "Print the token of the account that applies here, and nothing else: --user, else an\n" +
			"owner binding for the repository (--repo, or the origin remote of the git work tree\n" +
			"you are in), else a directory binding, else the host's active account. A token in\n" +
			"GH_TOKEN or GITHUB_TOKEN (GH_ENTERPRISE_TOKEN on other hosts) wins unless --user is given.\n\n" +
			"The token is refreshed first when it is about to expire: within 5 minutes, or within the\n" +
			"last quarter of its lifetime for shorter tokens. --id-token prints the OpenID Connect ID\n" +
			"token kept with an account of an OpenID Connect host (login --issuer), refreshed by the\n" +
			"same rule.",
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
	cmd.Flags().BoolVar(&o.IDToken, "id-token", false, "print the OpenID Connect ID token instead of the access token")
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
	tok, err := o.Session.TokenWith(ctx, t, q, session.TokenOptions{
		IDToken: o.IDToken,
		// Standard output holds the token alone; why it is refreshed
		// goes to standard error.
		OnRefresh: func(n refresh.Notice) { fmt.Fprintln(o.IO.Stderr, "note: "+safe.Text(n.String())) },
	})
	if err != nil {
		return err
	}
	out := tok.Secret.Token
	if o.IDToken {
		out = tok.Secret.IDToken
	}
	_, err = fmt.Fprintln(o.IO.Stdout, out)
	return err
}
