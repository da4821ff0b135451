package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/session"
)

// configOptions are the config commands' dependencies, flags and arguments.
type configOptions struct {
	IO      *Env
	Session *session.Session

	Host string
	// Action is "get", "set" or "list".
	Action     string
	Key, Value string
}

func newConfigCmd(a *app, runF func(*configOptions) error) *cobra.Command {
	o := &configOptions{IO: a.env, Session: a.sess}
	run := func(action string) func(cmd *cobra.Command, args []string) error {
		return func(cmd *cobra.Command, args []string) error {
			o.Action = action
			if len(args) > 0 {
				o.Key = args[0]
			}
			if len(args) > 1 {
				o.Value = args[1]
			}
			if runF != nil {
				return runF(o)
			}
			return runConfig(o)
		}
	}
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change per-host settings (client_id, scopes, endpoints, store, ...)",
		Long: "Read and change settings so nobody has to open the config file.\n\n" +
			"Per-host keys: " + strings.Join(config.HostKeys(), ", ") + "\nGlobal keys: " + strings.Join(config.GlobalKeys(), ", "),
	}
	cmd.PersistentFlags().StringVar(&o.Host, "host", "", hostFlagHelp)
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a setting",
		Args:  exactArgs(1),
		RunE:  run("get"),
	}
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a setting",
		Args:  exactArgs(2),
		RunE:  run("set"),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every setting of a host (secrets masked, defaults marked)",
		Long: "Print every setting of a host as key=value, secrets masked. A setting that is not\n" +
			"set shows the value that applies instead, followed by \"(default)\": for example the\n" +
			"endpoints derived from the host name. `config get` prints only what is set.",
		Args: noArgs,
		RunE: run("list"),
	}
	cmd.AddCommand(get, set, list)
	return cmd
}

// runConfig reads or changes a setting through the session.
func runConfig(o *configOptions) error {
	if o.Action == "set" {
		return o.Session.SetSetting(o.Host, o.Key, o.Value)
	}
	f, name, err := o.Session.Settings(o.Host)
	if err != nil {
		return err
	}
	w := o.IO.Stdout
	if o.Action == "get" {
		v, err := f.Get(name, o.Key)
		if err != nil {
			return &usageError{err}
		}
		fmt.Fprintln(w, v)
		return nil
	}
	for _, kv := range f.List(name) {
		if !kv.IsSet && kv.Default != "" {
			fmt.Fprintf(w, "%s=%s (default)\n", kv.Key, kv.Default)
			continue
		}
		fmt.Fprintf(w, "%s=%s\n", kv.Key, kv.Value)
	}
	return nil
}
