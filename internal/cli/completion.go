package cli

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/safe"
)

// hostFlagHelp is the help of every --host flag naming one host.
const hostFlagHelp = "host name or URL; default: GHLOGIN_HOST, GH_HOST, the one host with accounts, else github.com"

// addHostFlag defines --host on fs (a command's flags or persistent flags)
// and --hostname, the GitHub CLI's name for it, as a hidden alias; the two
// exclude each other. Both complete the hosts of the configuration file.
func (a *app) addHostFlag(cmd *cobra.Command, fs *pflag.FlagSet, p *string, usage string) {
	fs.StringVar(p, "host", "", "(or --hostname) "+usage)
	fs.StringVar(p, "hostname", "", "alias of --host, as in the GitHub CLI")
	_ = fs.MarkHidden("hostname")
	cmd.MarkFlagsMutuallyExclusive("host", "hostname")
	_ = cmd.RegisterFlagCompletionFunc("host", a.completeHosts)
	_ = cmd.RegisterFlagCompletionFunc("hostname", a.completeHosts)
}

// addUserFlag defines -u/--user (as in the GitHub CLI), completing the
// logins of the host *host names (the default host while it is empty).
func (a *app) addUserFlag(cmd *cobra.Command, p *string, host *string, usage string) {
	cmd.Flags().StringVarP(p, "user", "u", "", usage)
	_ = cmd.RegisterFlagCompletionFunc("user", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
		return a.logins(*host), cobra.ShellCompDirectiveNoFileComp
	})
}

// completionConfig reads the configuration file for a completion, without
// creating the config directory or opening the token store; nil when there
// is none or it cannot be read (a completion has nowhere to say why).
func (a *app) completionConfig() *config.File {
	dir, err := a.sess.ConfigDir()
	if err != nil {
		return nil
	}
	f, err := config.Load(dir)
	if err != nil {
		return nil
	}
	return f
}

// completeHosts completes --host with the configuration's hosts, each
// described by its accounts; an http host is offered as its URL, the value
// that names it.
func (a *app) completeHosts(_ *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	f := a.completionConfig()
	if f == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, name := range f.HostNames() {
		hc := f.Hosts[name]
		value := name
		if hc.Protocol == "http" {
			value = "http://" + name
		}
		desc := "no accounts"
		if logins := hc.Logins(); len(logins) > 0 {
			desc = strings.Join(logins, ", ")
		}
		out = append(out, cobra.CompletionWithDesc(safe.Text(value), safe.Text(desc)))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// logins returns the logins of host (a --host value; "" is the default
// host), the active one described so.
func (a *app) logins(host string) []cobra.Completion {
	f := a.completionConfig()
	if f == nil {
		return nil
	}
	h, _, err := a.sess.ParseHost(host, f)
	if err != nil {
		return nil
	}
	hc := f.Host(h.Name)
	var out []cobra.Completion
	for _, l := range hc.Logins() {
		desc := h.Name
		if l == hc.Active {
			desc += " (active)"
		}
		out = append(out, cobra.CompletionWithDesc(safe.Text(l), safe.Text(desc)))
	}
	return out
}

// completionShells are the shells `ghlogin completion` writes scripts for.
var completionShells = []string{"bash", "zsh", "fish", "powershell"}

// newCompletionCmd is `ghlogin completion SHELL`: cobra's scripts (which
// call back into ghlogin for flag values, so hosts and logins come from the
// configuration as it is when Tab is pressed). It replaces cobra's default
// command, which printed its help for an unknown shell and exited 0.
func newCompletionCmd(a *app) *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script for bash, zsh, fish or powershell",
		Long: "Print a script that completes ghlogin's commands and flags, and --host, --hostname and\n" +
			"--user from your configuration (hosts and their logins).",
		Example: "  source <(ghlogin completion bash)          # bash, this shell\n" +
			"  ghlogin completion zsh > \"${fpath[1]}/_ghlogin\"\n" +
			"  ghlogin completion fish > ~/.config/fish/completions/ghlogin.fish\n" +
			"  ghlogin completion powershell | Out-String | Invoke-Expression",
		Annotations: map[string]string{annotationArgs: "a shell: " + orList(completionShells)},
		ValidArgs:   completionShells,
		Args:        exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			root, w := cmd.Root(), a.env.Stdout
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(w, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(w)
				}
				return root.GenZshCompletion(w)
			case "fish":
				return root.GenFishCompletion(w, !noDesc)
			case "powershell":
				if noDesc {
					return root.GenPowerShellCompletion(w)
				}
				return root.GenPowerShellCompletionWithDesc(w)
			}
			return usagef("no completion for %q: use %s", args[0], orList(completionShells))
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "leave out the descriptions of completions")
	return cmd
}
