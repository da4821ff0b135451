package cli

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/ui"
)

// demoOptions are demo's dependencies.
type demoOptions struct {
	IO *Env
}

func newDemoCmd(a *app, runF func(*demoOptions) error) *cobra.Command {
	o := &demoOptions{IO: a.env}
	return &cobra.Command{
		Use:   "demo",
		Short: "Log in through the device flow against the built-in emulator, in one command",
		Long: "Start the GitHub emulator in this process, use a temporary config directory and the\n" +
			"file store, and run the whole device-flow login against it. On a terminal you approve\n" +
			"the code in the emulator's page (Enter opens it); with no terminal it approves itself.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runDemo(cmd.Context(), o)
		},
	}
}

// runDemo starts the emulator, logs in to it with the file store in a
// temporary config directory, then shows token and status, as a person
// would run them.
func runDemo(ctx context.Context, o *demoOptions) error {
	dir, err := os.MkdirTemp("", "ghlogin-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	interactive := o.IO.StdinTTY && o.IO.StdoutTTY
	headless, _ := opener.Headless(o.IO.getenv)
	cfg := emulator.Config{Interval: 2 * time.Second, Clock: o.IO.Clock}
	if !interactive || headless {
		// Nobody can click Approve: the emulator approves after two polls.
		cfg.AutoApproveAfter = 2
	}
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer srv.Close()

	env := *o.IO
	parent := o.IO.getenv
	env.Getenv = func(k string) string {
		switch k {
		case config.EnvDir:
			return dir
		case session.EnvStore:
			return store.BackendFile
		case "GHLOGIN_BROWSER", "BROWSER":
			if headless {
				return "none"
			}
		}
		return parent(k)
	}
	sess := newSession(&env, env.Getenv)
	w := o.IO.Stderr
	fmt.Fprintf(w, "ghlogin demo: a GitHub emulator is running at %s (nothing leaves this machine).\n", srv.URL())
	switch {
	case cfg.AutoApproveAfter > 0 && !interactive:
		fmt.Fprintln(w, "No terminal: the emulator approves the code by itself after two polls.")
	case cfg.AutoApproveAfter > 0:
		fmt.Fprintln(w, "No display here: the emulator approves the code by itself after two polls.")
	default:
		fmt.Fprintln(w, "Press Enter to open the emulator's page, enter the code and approve it as any user.")
	}
	fmt.Fprintln(w)
	lo := &loginOptions{IO: &env, Session: sess, Host: srv.URL(), ClientID: emulator.DefaultClientID, Store: store.BackendFile, Scopes: config.DefaultScopes}
	if !interactive {
		m := ui.Plain
		lo.Mode = &m
	}
	if _, err := runLogin(ctx, lo); err != nil {
		return err
	}
	t, err := sess.ResolveHost(session.Request{Host: srv.URL()})
	if err != nil {
		return err
	}
	tok, err := sess.Token(ctx, t, session.Query{})
	if err != nil {
		return err
	}
	v := tok.Secret.Token
	fmt.Fprintf(w, "\n`ghlogin token` now prints the stored token (%s…, %d characters); the demo does not show it.\n", v[:4], len(v))
	fmt.Fprintln(w, "`ghlogin status` says:")
	out := env
	out.Stdout = o.IO.Stderr
	return runStatus(ctx, &statusOptions{IO: &out, Session: sess, Host: srv.URL()})
}
