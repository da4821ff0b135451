package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
)

// bindOptions are bind's dependencies and flags.
type bindOptions struct {
	IO      *Env
	Session *session.Session

	Host, User, Owner, Dir string
	List, Remove, JSON     bool
}

func newBindCmd(a *app, runF func(*bindOptions) error) *cobra.Command {
	o := &bindOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "bind [--host H] --user L (--owner GLOB | --dir PATH)",
		Short: "Use an account for an owner's repositories or for work under a directory",
		Long: "Bind an account to the repositories of an owner (a user or an organisation; a glob such\n" +
			"as my-org-* matches several, ignoring case) or to the work under a directory (symbolic\n" +
			"links resolved). Every command and git then choose the account in this order: --user\n" +
			"(or the user name in the remote URL), an owner binding, a directory binding (the\n" +
			"longest), the host's active account.\n\n" +
			"  ghlogin bind --user alice-work --owner my-org\n" +
			"  ghlogin bind --user alice-work --dir ~/work\n" +
			"  ghlogin bind --list [--json]\n" +
			"  ghlogin bind --remove --owner my-org\n\n" +
			"git sees the repository's owner when credential.useHttpPath is set for the host, as\n" +
			"ghlogin setup-git does.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkBindFlags(o); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			return runBind(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	a.addHostFlag(cmd, f, &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login to bind (it must be logged in on the host)")
	f.StringVar(&o.Owner, "owner", "", "repository owner, or a glob of owners (path.Match syntax, any case)")
	f.StringVar(&o.Dir, "dir", "", "directory: work under it uses the account")
	f.BoolVar(&o.List, "list", false, "list the bindings (of every host, or of --host)")
	f.BoolVar(&o.Remove, "remove", false, "remove the binding of --owner or --dir")
	f.BoolVar(&o.JSON, "json", false, "with --list: print one JSON document")
	cmd.MarkFlagsMutuallyExclusive("owner", "dir")
	cmd.MarkFlagsMutuallyExclusive("list", "remove")
	for _, other := range []string{"user", "owner", "dir"} {
		cmd.MarkFlagsMutuallyExclusive("list", other)
	}
	cmd.MarkFlagsMutuallyExclusive("remove", "user")
	return cmd
}

// checkBindFlags checks what cobra's flag groups cannot say.
func checkBindFlags(o *bindOptions) error {
	switch {
	// Each is a mistake in the command line's shape: the message is
	// followed by the pointer to bind's help, as for other commands.
	case o.JSON && !o.List:
		return syntaxf("--json goes with --list")
	case o.List:
		return nil
	case o.Remove && o.Owner == "" && o.Dir == "":
		return syntaxf("--remove needs --owner GLOB or --dir PATH")
	case o.Remove:
		return nil
	case o.User == "" || (o.Owner == "" && o.Dir == ""):
		return syntaxf("bind needs --user and one of --owner or --dir (or --list, or --remove)")
	}
	return nil
}

// kindPattern returns the binding's kind and pattern from --owner or --dir.
func (o *bindOptions) kindPattern() (string, string) {
	if o.Dir != "" {
		return config.BindDir, o.Dir
	}
	return config.BindOwner, o.Owner
}

// runBind adds, removes or lists bindings.
func runBind(ctx context.Context, o *bindOptions) error {
	if o.List {
		return listBindings(o)
	}
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return err
	}
	kind, pattern := o.kindPattern()
	w := o.IO.Stderr
	if o.Remove {
		b, err := o.Session.Unbind(t, kind, pattern)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "Removed the binding of %s on %s (it chose %s)\n", bindingWhat(b), b.Host, safe.Text(b.Login))
		return nil
	}
	b, prev, err := o.Session.Bind(t, kind, pattern, o.User)
	if err != nil {
		return err
	}
	switch {
	case prev == b.Login:
		fmt.Fprintf(w, "%s on %s was already bound to %s\n", bindingWhat(b), b.Host, b.Login)
	case prev != "":
		fmt.Fprintf(w, "Bound %s on %s to %s (instead of %s)\n", bindingWhat(b), b.Host, b.Login, safe.Text(prev))
	default:
		fmt.Fprintf(w, "Bound %s on %s to %s\n", bindingWhat(b), b.Host, b.Login)
	}
	// git sends the owner only where useHttpPath is set (setup-git sets
	// it): say so where it is not.
	if kind == config.BindOwner && !setupgit.PathIsSet(ctx, setupgit.Options{Host: t.Host.Name, Protocol: t.Host.Scheme}) {
		fmt.Fprintf(w, "git applies owner bindings where credential.%s://%s.useHttpPath is set; ghlogin setup-git%s sets it\n",
			t.Host.Scheme, t.Host.Name, hostFlagFor(t.Host))
	}
	return nil
}

// bindingsDoc is `bind --list --json`.
type bindingsDoc struct {
	Bindings []session.BindingInfo `json:"bindings"`
}

// listBindings prints the bindings, grouped by host.
func listBindings(o *bindOptions) error {
	list, err := o.Session.Bindings(o.Host)
	if err != nil {
		return err
	}
	if o.JSON {
		return writeJSON(o.IO.Stdout, bindingsDoc{Bindings: list})
	}
	if len(list) == 0 {
		fmt.Fprintln(o.IO.Stderr, "No bindings. Add one with: ghlogin bind --user LOGIN --owner OWNER (or --dir PATH)")
		return nil
	}
	w := o.IO.Stdout
	host := ""
	for _, b := range list {
		if b.Host != host {
			if host != "" {
				fmt.Fprintln(w)
			}
			host = b.Host
			fmt.Fprintln(w, safe.Text(host))
		}
		fmt.Fprintf(w, "  %s\n", bindingLine(b))
	}
	return nil
}

// bindingWhat names a binding's pattern: "owner my-org", "directory /w"
// (through safe.Text: it may come from the config file).
func bindingWhat(b config.Binding) string {
	if b.Kind == config.BindDir {
		return "directory " + safe.Text(b.Pattern)
	}
	return "owner " + safe.Text(b.Pattern)
}

// removeArgs are the flags of the bind --remove that removes b, its host
// named as c names it (hint.Context.HostValue).
func removeArgs(b config.Binding, c hint.Context) string {
	flag := ""
	if b.Host != hosts.GitHub {
		flag = " --host " + c.HostValue(b.Host)
	}
	if b.Kind == config.BindDir {
		return "--dir " + setupgit.ShellQuote(b.Pattern) + flag
	}
	return "--owner " + setupgit.ShellQuote(b.Pattern) + flag
}

// hostFlagFor is " --host H" for a host other than github.com, "" for it.
func hostFlagFor(h hosts.Host) string {
	if h.Name == hosts.GitHub {
		return ""
	}
	return " --host " + h.Arg()
}
