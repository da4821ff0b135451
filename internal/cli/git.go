package cli

import (
	"context"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/gitcred"
	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/ui"
)

func (a *app) gitCredentialCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "git credential helper (see: git help credential)",
		Long: "Answer git's credential requests from the token store. Configure git to use it with\n" +
			"ghlogin setup-git. get prints username= and password= for a host that has an\n" +
			"account; store does nothing for ghlogin's own tokens; erase removes a token only\n" +
			"when the API confirms it is no longer valid.",
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.store()
			if err != nil {
				// git expects exit 0 and no answer when a helper cannot help.
				fmt.Fprintf(a.env.Stderr, "ghlogin: %s\n", hint.Explain(err))
				return nil
			}
			h := &gitcred.Helper{
				Store:   st,
				Refresh: gitcred.StoreRefresher(st, a.oauthClient(), a.env.Clock, a.getenv),
				Prompt:  a.gitPrompt,
				Check:   gitcred.APIChecker(st, a.apiClient(gitcred.CheckTimeout)),
				Getenv:  a.getenv,
				Stderr:  a.env.Stderr,
				Clock:   a.env.Clock,
			}
			if a.env.OpenTTY == nil {
				h.TerminalAvailable = func() bool { return false }
			}
			return h.Run(cmd.Context(), args[0], a.env.Stdin, a.env.Stdout)
		},
	}
}

// gitPrompt runs a device-flow login in the TUI on /dev/tty, for the git
// helper when it has no token and a person is at the terminal.
func (a *app) gitPrompt(ctx context.Context, host string) (string, error) {
	if a.env.OpenTTY == nil {
		return "", errNoTTY
	}
	tty, err := a.env.OpenTTY()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoTTY, err)
	}
	defer tty.Close()
	st, err := a.store()
	if err != nil {
		return "", err
	}
	cfg, err := st.Config()
	if err != nil {
		return "", err
	}
	h, _, _, err := cfg.Lookup(host)
	if err != nil {
		return "", err
	}
	hostFlag := h.URL()
	mode := ui.TUI
	o := &loginOptions{host: hostFlag, forceMode: &mode, ttyIn: tty, ttyOut: tty, timeout: 5 * time.Minute}
	res, err := a.runLogin(ctx, o)
	if err != nil {
		return "", err
	}
	return res.Login, nil
}

func (a *app) setupGitCmd() *cobra.Command {
	var hostFlag string
	var unset bool
	cmd := &cobra.Command{
		Use:   "setup-git",
		Short: "Configure git to use ghlogin as the credential helper for a host",
		Long: "Write credential.https://HOST.helper in the global git config: an empty entry first\n" +
			"(so other helpers do not also store ghlogin's tokens), then '!ghlogin git-credential'.\n" +
			"--unset removes exactly those entries. Running it twice changes nothing.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.store()
			if err != nil {
				return err
			}
			cfg, err := st.Config()
			if err != nil {
				return err
			}
			h, _, err := a.parseHost(hostFlag, cfg)
			if err != nil {
				return err
			}
			res, err := setupgit.Setup(cmd.Context(), setupgit.Options{Host: h.Name, Protocol: h.Scheme, Unset: unset})
			if err != nil {
				return err
			}
			switch {
			case !res.Changed && unset:
				fmt.Fprintf(a.env.Stderr, "git was not set up to use ghlogin for %s; nothing to remove\n", h.Name)
			case !res.Changed:
				fmt.Fprintf(a.env.Stderr, "git already uses ghlogin for %s (%s)\n", h.Name, res.Key)
			case unset:
				fmt.Fprintf(a.env.Stderr, "Removed ghlogin from %s\n", res.Key)
			default:
				fmt.Fprintf(a.env.Stderr, "git now asks ghlogin for %s credentials (%s = %s)\n", h.Name, res.Key, res.Helper)
				if _, err := st.Resolve(h.Name, ""); err != nil {
					fmt.Fprintf(a.env.Stderr, "You are not logged in to %s yet: run ghlogin login --host %s\n", h.Name, hostFlag)
				}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&hostFlag, "host", "github.com", "host name or URL")
	cmd.Flags().BoolVar(&unset, "unset", false, "remove the configuration instead")
	return cmd
}
