package cli

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/ui"
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
			return runConfig(cmd.Context(), o)
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
		Use:   "get KEY",
		Short: "Print the value of a setting in force (as config list shows it, a secret masked)",
		Long: "Print the value of a setting in force, as config list shows it. A secret (client_secret)\n" +
			"is masked: " + config.Mask + " when it is set, an empty line when it is not; it is never printed.",
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
		Short: "Print every setting of a host as it is in force, and where each comes from",
		Long: "Print every setting of a host as key=value, secrets masked: the value a command uses,\n" +
			"followed by where it comes from when that is not the config file: \"(default)\" (for\n" +
			"example the endpoints derived from the host name), \"(discovery)\" (an OpenID Connect\n" +
			"host's endpoints, read from its issuer's discovery document), \"(from GHLOGIN_STORE)\" and the\n" +
			"like, or \"(not set)\". `config get KEY` prints the same value. The host's bindings\n" +
			"follow, as owner_bindings.GLOB=LOGIN and dir_bindings.PATH=LOGIN (change them with\n" +
			"ghlogin bind).",
		Args: noArgs,
		RunE: run("list"),
	}
	cmd.AddCommand(get, set, list)
	return cmd
}

// runConfig reads or changes a setting through the session.
func runConfig(ctx context.Context, o *configOptions) error {
	if o.Action == "set" {
		if k, err := config.LookupKey(o.Key); err == nil && k.Secret && o.Value != "" {
			if o.Value != "-" {
				host := ""
				if o.Host != "" {
					host = "--host " + o.Host + " "
				}
				return usagef("%s is not taken on the command line (shell history and ps would keep it); run: ghlogin config set %s%s - and type it, or pipe it in", k.Name, host, k.Name)
			}
			v, err := readSecret(ctx, o.IO, k.Name)
			if err != nil {
				return err
			}
			o.Value = v
		}
		return o.Session.SetSetting(o.Host, o.Key, o.Value)
	}
	if o.Action == "get" {
		if _, err := config.LookupKey(o.Key); err != nil {
			return err
		}
	}
	name, rows, err := o.Session.EffectiveSettings(o.Host)
	if err != nil {
		return err
	}
	w := o.IO.Stdout
	for _, r := range rows {
		if o.Action == "get" {
			if r.Key != o.Key {
				continue
			}
			// The value in force, as a script wants it (a secret masked,
			// as list shows it: whether it is set, never its value);
			// where it comes from, for a person at a terminal.
			v := r.Value
			if r.Secret && v != "" {
				v = config.Mask
			}
			fmt.Fprintln(w, v)
			if o.IO.StderrTTY {
				if note := settingSource(r); note != "" {
					fmt.Fprintf(o.IO.Stderr, "%s for %s: %s\n", r.Key, name, strings.Trim(note, "()"))
				}
			}
			return nil
		}
		v := r.Value
		if r.Secret && v != "" {
			v = config.Mask
		}
		line := r.Key + "=" + v
		if note := settingSource(r); note != "" {
			line += " " + note
		}
		fmt.Fprintln(w, line)
	}
	// Bindings, as config.toml names them; ghlogin bind changes them.
	f, _, err := o.Session.Settings(o.Host)
	if err != nil {
		return err
	}
	for _, b := range f.Bindings(name) {
		fmt.Fprintf(w, "%s_bindings.%s=%s\n", b.Kind, b.Pattern, b.Login)
	}
	return nil
}

// settingSource says where a setting's value comes from, as config list
// shows it: "(default)", "(from GHLOGIN_STORE)", "(not set)"; nothing for
// a value the config file sets.
func settingSource(r session.Effective) string {
	switch r.Source {
	case session.SourceConfig:
		return ""
	case session.SourceDefault:
		return "(default)"
	case session.SourceDiscovery:
		return "(discovery)"
	case session.SourceDiscoveryDefault:
		return "(default, as the discovery document allows)"
	case "":
		return "(not set)"
	}
	if r.Shadowed != "" {
		shadowed := r.Shadowed
		if r.Secret {
			shadowed = config.Mask
		}
		return "(from " + r.Source + ", over the config file's " + shadowed + ")"
	}
	return "(from " + r.Source + ")"
}

// maxSecretBytes bounds a secret read from standard input.
const maxSecretBytes = 4 << 10

// readSecret reads the value of the secret setting key from standard input:
// without echo on a terminal (golang.org/x/term), else its first line.
func readSecret(ctx context.Context, e *Env, key string) (string, error) {
	var v string
	if f, ok := e.Stdin.(*os.File); ok && e.StdinTTY {
		line, err := ui.ReadHidden(ctx, int(f.Fd()), e.Stderr, fmt.Sprintf("Paste the %s and press Enter (it is not shown): ", key))
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case err != nil:
			return "", fmt.Errorf("reading the %s from the terminal: %w", key, err)
		}
		v = line
	} else {
		line, err := ui.ReadLine(ctx, e.Stdin, maxSecretBytes)
		switch {
		case ctx.Err() != nil:
			return "", ctx.Err()
		case err != nil:
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
