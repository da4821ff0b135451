package cli

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/gitcred"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/ui"
)

// gitCredentialOptions are git-credential's dependencies and argument.
type gitCredentialOptions struct {
	IO      *Env
	Session *session.Session

	// Action is git's: get, store, erase (or capability).
	Action string
}

func newGitCredentialCmd(a *app, runF func(*gitCredentialOptions) error) *cobra.Command {
	o := &gitCredentialOptions{IO: a.env, Session: a.sess}
	return &cobra.Command{
		Use:   "git-credential get|store|erase",
		Short: "git credential helper (see: git help credential)",
		Long: "Answer git's credential requests from the token store. Configure git to use it with\n" +
			"ghlogin setup-git. get prints username= and password= for a host that has an\n" +
			"account; store does nothing for ghlogin's own tokens; erase removes a token only\n" +
			"when the API confirms it is no longer valid.",
		Annotations: map[string]string{annotationArgs: "git's action: get, store or erase (git runs it so once ghlogin setup-git has set it up)"},
		Args:        exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Action = args[0]
			if runF != nil {
				return runF(o)
			}
			return runGitCredential(cmd.Context(), o)
		},
	}
}

// runGitCredential answers one git request with gitcred, its refresh and
// check coming from the session.
func runGitCredential(ctx context.Context, o *gitCredentialOptions) error {
	e := o.IO
	st, err := o.Session.Store()
	if err != nil {
		// git expects exit 0 and no answer when a helper cannot help.
		fmt.Fprintf(e.Stderr, "ghlogin: %s\n", e.explain(err))
		return nil
	}
	h := &gitcred.Helper{
		Store:           st,
		Refresh:         o.Session.Refresh,
		Prompt:          func(ctx context.Context, host string) (string, error) { return gitPrompt(ctx, o, host) },
		Check:           o.Session.CheckToken,
		RefreshRejected: o.Session.RefreshRejected,
		Getenv:          e.getenv,
		Stderr:          e.Stderr,
		Clock:           e.Clock,
		Getwd:           e.getwd,
		Explain:         e.explain,
	}
	if e.OpenTTY == nil {
		h.TerminalAvailable = func() bool { return false }
	}
	return h.Run(ctx, o.Action, e.Stdin, e.Stdout)
}

// errNoTTY is returned when an interactive answer is needed and there is no terminal.
var errNoTTY = errors.New("no terminal to ask on")

// gitPrompt runs a device-flow login in the TUI on /dev/tty, for the git
// helper when it has no token and a person is at the terminal. host is a
// configuration key; its recorded scheme applies.
func gitPrompt(ctx context.Context, o *gitCredentialOptions, host string) (string, error) {
	if o.IO.OpenTTY == nil {
		return "", errNoTTY
	}
	tty, err := o.IO.OpenTTY()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errNoTTY, err)
	}
	defer tty.Close()
	mode := ui.TUI
	lo := &loginOptions{IO: o.IO, Session: o.Session, Host: host, Mode: &mode, TTYIn: tty, TTYOut: tty, Timeout: 5 * time.Minute, NeedToken: true}
	res, err := runLogin(ctx, lo)
	if err != nil {
		return "", err
	}
	return res.Login, nil
}
