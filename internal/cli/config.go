package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

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
		Args: noArgs,
		RunE: parentRun,
	}
	a.addHostFlag(cmd, cmd.PersistentFlags(), &o.Host, hostFlagHelp)
	get := &cobra.Command{
		Use:         "get KEY",
		Short:       "Print a setting",
		Annotations: map[string]string{annotationArgs: "a KEY (" + strings.Join(config.KeyNames(), ", ") + ")"},
		Args:        exactArgs(1),
		RunE:        run("get"),
	}
	set := &cobra.Command{
		Use:   "set KEY VALUE",
		Short: "Change a setting",
		Long: "Change a setting; an empty VALUE removes it. A secret (client_secret) is never taken\n" +
			"on the command line, where shell history and ps would keep it: give - as the VALUE and\n" +
			"type it (it is not shown) or pipe it in, e.g. ghlogin config set client_secret - < secret.txt",
		Annotations: map[string]string{annotationArgs: "a KEY and a VALUE"},
		Example: "  ghlogin config set --host ghe.example.com client_id Iv1.0123456789abcdef\n" +
			"  ghlogin config set scopes repo,read:org,workflow\n" +
			"  ghlogin config set --host ghe.example.com scopes \"\"   (an empty value removes the setting)\n" +
			"  ghlogin config set --host ghe.example.com client_secret - < secret.txt",
		Args: exactArgs(2),
		RunE: run("set"),
	}
	list := &cobra.Command{
		Use:   "list",
		Short: "Print every setting of a host (secrets masked, defaults marked)",
		Long: "Print every setting of a host as key=value, secrets masked. A setting that is not\n" +
			"set shows the value that applies instead, followed by \"(default)\": for example the\n" +
			"endpoints derived from the host name. `config get` prints only what is set. The host's\n" +
			"bindings follow, as owner_bindings.GLOB=LOGIN and dir_bindings.PATH=LOGIN (change\n" +
			"them with ghlogin bind).",
		Args: noArgs,
		RunE: run("list"),
	}
	cmd.AddCommand(get, set, list)
	return cmd
}

// runConfig reads or changes a setting through the session.
func runConfig(o *configOptions) error {
	if o.Action == "set" {
		if k, err := config.LookupKey(o.Key); err == nil && k.Secret && o.Value != "" {
			if o.Value != "-" {
				host := ""
				if o.Host != "" {
					host = "--host " + o.Host + " "
				}
				return usagef("%s is not taken on the command line (shell history and ps would keep it); run: ghlogin config set %s%s - and type it, or pipe it in", k.Name, host, k.Name)
			}
			v, err := readSecret(o.IO, k.Name)
			if err != nil {
				return err
			}
			o.Value = v
		}
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
			return err
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
	// Bindings, as config.toml names them; ghlogin bind changes them.
	for _, b := range f.Bindings(name) {
		fmt.Fprintf(w, "%s_bindings.%s=%s\n", b.Kind, b.Pattern, b.Login)
	}
	return nil
}

// maxSecretBytes bounds a secret read from standard input.
const maxSecretBytes = 4 << 10

// readSecret reads the value of the secret setting key from standard input:
// without echo on a terminal (golang.org/x/term), else its first line.
func readSecret(e *Env, key string) (string, error) {
	var v string
	if f, ok := e.Stdin.(*os.File); ok && e.StdinTTY {
		fmt.Fprintf(e.Stderr, "Paste the %s and press Enter (it is not shown): ", key)
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.Stderr)
		if err != nil {
			return "", fmt.Errorf("reading the %s from the terminal: %w", key, err)
		}
		v = string(b)
	} else {
		line, err := bufio.NewReader(io.LimitReader(e.Stdin, maxSecretBytes)).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("reading the %s from standard input: %w", key, err)
		}
		v = line
	}
	v = strings.TrimSpace(v)
	if v == "" {
		return "", usagef("no %s on standard input; type it, or pipe it in, e.g. ghlogin config set %s - < secret.txt", key, key)
	}
	return v, nil
}
