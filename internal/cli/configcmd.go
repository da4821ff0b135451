package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

func (a *app) configCmd() *cobra.Command {
	var hostFlag string
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Read and change per-host settings (client_id, scopes, endpoints, store, ...)",
		Long: "Read and change settings so nobody has to open the config file.\n\n" +
			"Per-host keys: " + joinKeys(config.HostKeys()) + "\nGlobal keys: " + joinKeys(config.GlobalKeys()),
	}
	cmd.PersistentFlags().StringVar(&hostFlag, "host", "github.com", "host name or URL")
	get := &cobra.Command{
		Use:   "get KEY",
		Short: "Print a setting",
		Args:  exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, name, err := a.configHost(hostFlag)
			if err != nil {
				return err
			}
			v, err := f.Get(name, args[0])
			if err != nil {
				return &usageError{err}
			}
			fmt.Fprintln(a.env.Stdout, v)
			return nil
		},
	}
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a setting",
		Args:  exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, name, err := a.configHost(hostFlag)
			if err != nil {
				return err
			}
			st, _ := a.store()
			var setErr error
			err = st.UpdateConfig(func(f *config.File) error {
				setErr = f.Set(name, args[0], args[1])
				if setErr != nil {
					return setErr
				}
				// --host http://127.0.0.1:PORT means that host speaks http:
				// record it, as a login there would, unless set explicitly.
				if h, perr := hosts.Parse(hostFlag); perr == nil && h.Scheme == "http" && args[0] != "protocol" {
					if hc := f.Hosts[name]; hc != nil && hc.Protocol == "" {
						hc.Protocol = "http"
					}
				}
				return nil
			})
			if setErr != nil {
				return &usageError{setErr}
			}
			return err
		},
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every setting of a host (secrets masked, defaults marked)",
		Long: "Print every setting of a host as key=value, secrets masked. A setting that is not\n" +
			"set shows the value that applies instead, followed by \"(default)\": for example the\n" +
			"endpoints derived from the host name. `config get` prints only what is set.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			f, name, err := a.configHost(hostFlag)
			if err != nil {
				return err
			}
			for _, kv := range f.List(name) {
				if !kv.IsSet && kv.Default != "" {
					fmt.Fprintf(a.env.Stdout, "%s=%s (default)\n", kv.Key, kv.Default)
					continue
				}
				fmt.Fprintf(a.env.Stdout, "%s=%s\n", kv.Key, kv.Value)
			}
			return nil
		},
	}
	cmd.AddCommand(get, set, list)
	return cmd
}

// configHost loads the config and normalizes --host. A URL given as --host
// with http:// on a loopback address also records protocol=http on set.
func (a *app) configHost(hostFlag string) (*config.File, string, error) {
	st, err := a.store()
	if err != nil {
		return nil, "", err
	}
	f, err := st.Config()
	if err != nil {
		return nil, "", err
	}
	h, _, err := a.parseHost(hostFlag, f)
	if err != nil {
		return nil, "", err
	}
	return f, h.Name, nil
}

func joinKeys(keys []string) string {
	s := ""
	for i, k := range keys {
		if i > 0 {
			s += ", "
		}
		s += k
	}
	return s
}
