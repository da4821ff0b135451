package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
	"github.com/ghlogin/ghlogin/internal/gitcred/setupgit"
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
			// The main app, as --client-id, --client-secret and --app
			// made it.
			main := srv.Clients()[0]
			kind := "OAuth app"
			if main.App {
				kind = "GitHub App"
			}
			idLabel := "Client ID (" + kind + ", device flow):"
			fmt.Fprintf(a.env.Stdout, "GitHub emulator listening on %s\n", srv.URL())
			fmt.Fprintf(a.env.Stdout, "%s %s\n", idLabel, main.ID)
			fmt.Fprintf(a.env.Stdout, "%-*s %s\n", len(idLabel), "Client secret (web flow only):", main.Secret)
			fmt.Fprintf(a.env.Stdout, "Log in:   ghlogin login --host %s --client-id %s\n", srv.URL(), main.ID)
			fmt.Fprintf(a.env.Stdout, "Web flow: GHLOGIN_CLIENT_SECRET=%s ghlogin login --web --host %s --client-id %s\n",
				setupgit.ShellQuote(main.Secret), srv.URL(), main.ID)
			w := srv.Workload()
			fmt.Fprintln(a.env.Stdout, "Workload identity fakes (ghlogin oidc): to use them, run")
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
