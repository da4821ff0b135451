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
			"--user from your configuration (hosts and their logins).\n\n" +
			"Where to put the script so that every new shell loads it:\n" +
			"  bash        ~/.local/share/bash-completion/completions/ghlogin (create the directory if\n" +
			"              needed; the bash-completion package loads it)\n" +
			"  zsh         a file named _ghlogin in a directory listed in $fpath (compinit loads it)\n" +
			"  fish        ~/.config/fish/completions/ghlogin.fish\n" +
			"  powershell  your profile ($PROFILE): add the Invoke-Expression line below to it",
		Example: "  ghlogin completion bash > ~/.local/share/bash-completion/completions/ghlogin\n" +
			"  source <(ghlogin completion bash)          # bash, this shell only\n" +
			"  ghlogin completion zsh > \"${fpath[1]}/_ghlogin\"\n" +
			"  ghlogin completion fish > ~/.config/fish/completions/ghlogin.fish\n" +
			"  ghlogin completion powershell | Out-String | Invoke-Expression   # in $PROFILE",
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

// fixedFlagValues are the values of flags that take one of a fixed set,
// by flag name (whichever command defines it) or by "COMMAND PATH --flag"
// where commands differ.
var fixedFlagValues = map[string][]cobra.Completion{
	"store": {
		cobra.CompletionWithDesc("keyring", "the OS keyring"),
		cobra.CompletionWithDesc("kernel", "the Linux kernel keyring: in memory, never on disk"),
		cobra.CompletionWithDesc("file", "credentials.json, plaintext at rest"),
	},
	"client-auth": {
		cobra.CompletionWithDesc("body", "client_id (and secret) in the request body"),
		cobra.CompletionWithDesc("basic", "HTTP Basic authentication"),
	},
	"source": {
		cobra.CompletionWithDesc("auto", "GitHub Actions, then the metadata server"),
		cobra.CompletionWithDesc("github-actions", "the job's OIDC token"),
		cobra.CompletionWithDesc("gce", "the Google metadata server"),
	},
	"ghlogin oidc cred-config --format": {"text", "json"},
	"ghlogin oidc token --format":       {"standard", "full"},
}

// completeFixed registers completions the commands do not register
// themselves, over the whole tree below root: the values of flags that take
// a fixed set (fixedFlagValues), the setting keys of `config get|set|unset`
// and the values of keys that take a fixed set, git-credential's actions,
// and the bound owners for `bind --remove --owner`.
func (a *app) completeFixed(root *cobra.Command) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		c.LocalFlags().VisitAll(func(f *pflag.Flag) {
			vals, ok := fixedFlagValues[c.CommandPath()+" --"+f.Name]
			if !ok {
				vals, ok = fixedFlagValues[f.Name]
			}
			if ok {
				if _, exists := c.GetFlagCompletionFunc(f.Name); !exists {
					_ = c.RegisterFlagCompletionFunc(f.Name, cobra.FixedCompletions(vals, cobra.ShellCompDirectiveNoFileComp))
				}
			}
		})
		path := c.CommandPath()
		switch {
		case c.ValidArgsFunction != nil || len(c.ValidArgs) > 0:
		case path == "ghlogin config get":
			c.ValidArgsFunction = completeKeys(false)
		case path == "ghlogin config set":
			c.ValidArgsFunction = completeKeys(true)
		case path == "ghlogin git-credential":
			c.ValidArgsFunction = cobra.FixedCompletions([]cobra.Completion{"get", "store", "erase"}, cobra.ShellCompDirectiveNoFileComp)
		}
		if path == "ghlogin bind" && c.Flags().Lookup("owner") != nil {
			if _, exists := c.GetFlagCompletionFunc("owner"); !exists {
				_ = c.RegisterFlagCompletionFunc("owner", a.completeOwners)
			}
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completeKeys completes a setting key, described by its help, and (with
// values) a fixed-set key's values as the second argument.
func completeKeys(values bool) cobra.CompletionFunc {
	return func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
		switch {
		case len(args) == 0:
			var out []cobra.Completion
			for _, k := range config.Keys() {
				out = append(out, cobra.CompletionWithDesc(k.Name, k.Help))
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		case len(args) == 1 && values:
			k, err := config.LookupKey(args[0])
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			// The setting's flag describes the same values.
			if vals, ok := fixedFlagValues[strings.ReplaceAll(k.Name, "_", "-")]; ok {
				return vals, cobra.ShellCompDirectiveNoFileComp
			}
			return k.Values, cobra.ShellCompDirectiveNoFileComp
		}
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
}

// completeOwners offers the owner globs already bound on the host the
// command acts on (its --host, else the default host), for bind --remove
// --owner; each described by its account.
func (a *app) completeOwners(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	f := a.completionConfig()
	if f == nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	host := ""
	if fl := cmd.Flags().Lookup("host"); fl != nil {
		host = fl.Value.String()
	}
	h, _, err := a.sess.ParseHost(host, f)
	if err != nil {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []cobra.Completion
	for _, b := range f.Bindings(h.Name) {
		if b.Kind == config.BindOwner {
			out = append(out, cobra.CompletionWithDesc(safe.Text(b.Pattern), safe.Text(b.Login+" on "+b.Host)))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
