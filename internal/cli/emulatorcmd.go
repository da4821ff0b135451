package cli

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/ui"
)

func (a *app) emulatorCmd() *cobra.Command {
	cfg := emulator.Config{}
	addr := "127.0.0.1:8787"
	cmd := &cobra.Command{
		Use:   "emulator",
		Short: "Run the built-in GitHub OAuth emulator",
		Long: "Run a GitHub-faithful OAuth server on a loopback address: the device flow, the web\n" +
			"flow, GitHub App tokens with refresh, the /user API and (with --git-repos) git over HTTP.\n" +
			"Log in to it with: ghlogin login --host http://ADDR --client-id " + emulator.DefaultClientID + "\n\n" +
			"It also serves fakes for workload identity (ghlogin oidc): the GitHub Actions OIDC token\n" +
			"endpoint, the Google metadata server, STS and IAM Credentials; it prints the environment\n" +
			"that points ghlogin at them.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if !isLoopbackAddr(addr) {
				return usagef("--addr %q: the emulator listens only on loopback addresses (127.0.0.1 or [::1])", addr)
			}
			cfg.Logf = func(format string, args ...any) {
				fmt.Fprintf(a.env.Stderr, time.Now().Format("15:04:05 ")+format+"\n", args...)
			}
			cfg.Workload = &workload.Config{}
			srv, err := emulator.Start(cmd.Context(), addr, cfg)
			if err != nil {
				return err
			}
			defer srv.Close()
			fmt.Fprintf(a.env.Stdout, "GitHub emulator listening on %s\n", srv.URL())
			fmt.Fprintf(a.env.Stdout, "Client ID (OAuth app, device flow): %s\n", emulator.DefaultClientID)
			fmt.Fprintf(a.env.Stdout, "Log in:   ghlogin login --host %s --client-id %s\n", srv.URL(), emulator.DefaultClientID)
			w := srv.Workload()
			fmt.Fprintln(a.env.Stdout, "Workload identity fakes (ghlogin oidc): set")
			for _, kv := range append(w.ActionsEnv(),
				"GCE_METADATA_HOST="+w.MetadataHost(),
				envSTSURL+"="+w.URL()+"/v1/token",
				envIAMCredentialsURL+"="+w.URL(),
				envIAMURL+"="+w.URL(),
				envGoogleAccessToken+"="+workload.DefaultAdminToken) {
				fmt.Fprintf(a.env.Stdout, "  export %s\n", setupgit.ShellQuote(kv))
			}
			fmt.Fprintf(a.env.Stdout, "then:    ghlogin oidc exchange --provider %s --service-account %s\n",
				workload.DefaultProvider, workload.DefaultServiceAccount)
			fmt.Fprintf(a.env.Stdout, "or:      ghlogin oidc doctor --provider %s\n", workload.DefaultProvider)
			fmt.Fprintln(a.env.Stdout, "Press Ctrl-C to stop.")
			<-cmd.Context().Done()
			return nil
		},
	}
	cmd.Flags().StringVar(&addr, "addr", addr, "loopback address to listen on (port 0 picks a free one)")
	emulator.RegisterFlags(cmd.Flags(), &cfg)
	return cmd
}

func isLoopbackAddr(addr string) bool {
	host := addr
	if i := strings.LastIndex(addr, ":"); i >= 0 {
		host = addr[:i]
	}
	host = strings.Trim(host, "[]")
	return host == "127.0.0.1" || host == "::1" || host == "localhost"
}

func (a *app) demoCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "Log in through the device flow against the built-in emulator, in one command",
		Long: "Start the GitHub emulator in this process, use a temporary config directory and the\n" +
			"file store, and run the whole device-flow login against it. On a terminal you approve\n" +
			"the code in the emulator's page (Enter opens it); with no terminal it approves itself.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.demo(cmd.Context())
		},
	}
}

func (a *app) demo(ctx context.Context) error {
	dir, err := os.MkdirTemp("", "ghlogin-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	interactive := a.env.StdinTTY && a.env.StdoutTTY
	headless, _ := opener.Headless(a.getenv)
	cfg := emulator.Config{Interval: 2 * time.Second}
	if !interactive || headless {
		// Nobody can click Approve: the emulator approves after two polls.
		cfg.AutoApproveAfter = 2
	}
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer srv.Close()

	env := *a.env
	parent := a.getenv
	env.Getenv = func(k string) string {
		switch k {
		case "GHLOGIN_CONFIG_DIR":
			return dir
		case "GHLOGIN_STORE":
			return store.BackendFile
		case "GHLOGIN_BROWSER", "BROWSER":
			if headless {
				return "none"
			}
		}
		return parent(k)
	}
	sub := &app{env: &env, ran: true}
	w := a.env.Stderr
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
	o := &loginOptions{host: srv.URL(), clientID: emulator.DefaultClientID, store: store.BackendFile, scopes: DefaultScopes}
	if !interactive {
		m := ui.Plain
		o.forceMode = &m
	}
	if _, err := sub.runLogin(ctx, o); err != nil {
		return err
	}
	hs, err := sub.settings(srv.URL(), "", nil, "")
	if err != nil {
		return err
	}
	tok, err := sub.currentToken(ctx, hs, "")
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\n`ghlogin token` now prints the stored token (%s…, %d characters); the demo does not show it.\n", tok[:4], len(tok))
	fmt.Fprintln(w, "`ghlogin status` says:")
	env.Stdout = a.env.Stderr
	return sub.status(ctx, srv.URL(), false, false)
}
