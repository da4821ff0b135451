package cli

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
)

// setupGitOptions are setup-git's dependencies and flags.
type setupGitOptions struct {
	IO      *Env
	Session *session.Session

	Host  string
	Unset bool
}

func newSetupGitCmd(a *app, runF func(*setupGitOptions) error) *cobra.Command {
	o := &setupGitOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "setup-git",
		Short: "Configure git to use ghlogin as the credential helper for a host",
		Long: "Write credential.https://HOST.helper in the global git config: an empty entry first\n" +
			"(so other helpers do not also store ghlogin's tokens), then the lean helper's path when\n" +
			"git-credential-ghlogin is installed beside ghlogin or on PATH, else '!ghlogin git-credential';\n" +
			"and credential.https://HOST.useHttpPath = true, so git sends the repository's path and\n" +
			"owner bindings apply (see ghlogin bind). A useHttpPath you set yourself is left as it is\n" +
			"(a false one means owner bindings do not apply; setup-git says so). --unset removes\n" +
			"exactly the entries setup-git wrote: useHttpPath only when setup-git set it.\n" +
			"For a plain-http loopback host (--host http://127.0.0.1:8787) it also records the host's\n" +
			"protocol setting as http, as a login there does, so git's http requests are answered on a\n" +
			"machine that borrows its login and never logs in. Running it twice changes nothing.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runSetupGit(cmd.Context(), o)
		},
	}
	a.addHostFlag(cmd, cmd.Flags(), &o.Host, hostFlagHelp)
	cmd.Flags().BoolVar(&o.Unset, "unset", false, "remove the configuration instead")
	return cmd
}

// runSetupGit writes (or removes) git's helper configuration for the host.
func runSetupGit(ctx context.Context, o *setupGitOptions) error {
	_, cfg, err := o.Session.Config()
	if err != nil {
		return err
	}
	h, _, err := o.Session.ParseHost(o.Host, cfg)
	if err != nil {
		return err
	}
	// Whether an earlier setup-git set useHttpPath: --unset removes only
	// a setting it made, never one the person wrote.
	owned, err := o.Session.GitPathSet(h.Name)
	if err != nil {
		return err
	}
	res, err := setupgit.Setup(ctx, setupgit.Options{Host: h.Name, Protocol: h.Scheme, Unset: o.Unset, PathOwned: owned})
	if err != nil {
		return err
	}
	if res.PathOwned != owned {
		if err := o.Session.RecordGitPath(h.Name, res.PathOwned); err != nil {
			return err
		}
	}
	recorded := false
	if !o.Unset {
		// git asks for an http:// host with protocol=http, which the
		// helper answers only for a host recorded as http.
		if recorded, err = o.Session.RecordScheme(o.Host); err != nil {
			return err
		}
	}
	w := o.IO.Stderr
	defer func() {
		switch {
		case res.PathKept != "":
			fmt.Fprintf(w, "note: left %s = %s as you set it, so git sends ghlogin no repository path for %s and owner bindings do not apply there (directory bindings and the active account do); to use them: git config --global %s true\n",
				res.PathKey, safe.Text(res.PathKept), h.Name, res.PathKey)
		case res.PathLeft:
			fmt.Fprintf(w, "Left %s = true as it is: ghlogin setup-git did not set it (remove it with: git config --global --unset-all %s)\n", res.PathKey, res.PathKey)
		}
	}()
	switch {
	case !res.Changed && o.Unset:
		fmt.Fprintf(w, "git was not set up to use ghlogin for %s; nothing to remove\n", h.Name)
	case !res.Changed && recorded:
		fmt.Fprintf(w, "git already uses ghlogin for %s (%s); recorded that %s speaks plain http (protocol http)\n", h.Name, res.Key, h.Name)
	case !res.Changed:
		fmt.Fprintf(w, "git already uses ghlogin for %s (%s)\n", h.Name, res.Key)
	case o.Unset:
		fmt.Fprintf(w, "Removed ghlogin from %s\n", res.Key)
		if res.PathChanged {
			fmt.Fprintf(w, "Removed %s\n", res.PathKey)
		}
	default:
		fmt.Fprintf(w, "git now asks ghlogin for %s credentials (%s = %s)\n", h.Name, res.Key, res.Helper)
		if res.PathChanged {
			fmt.Fprintf(w, "git now sends the repository's path, so owner bindings apply (%s = true)\n", res.PathKey)
		}
		if recorded {
			fmt.Fprintf(w, "Recorded that %s speaks plain http (protocol http), so ghlogin answers git's requests for %s\n", h.Name, h.URL())
		}
		if _, err := o.Session.Account(h.Name, session.Query{}); err != nil {
			if from, login, ok := o.Session.Lends(ctx, h.Name); ok {
				fmt.Fprintf(w, "The ghlogin agent on %s lends %s for %s while it runs and its socket is reachable here; nothing is stored here\n", safe.Text(from), safe.Text(login), h.Name)
			} else {
				fmt.Fprintf(w, "You are not logged in to %s yet: run ghlogin login --host %s\n", h.Name, h.Arg())
			}
		}
	}
	return nil
}
