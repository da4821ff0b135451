package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The annotations cobra's MarkFlags* functions put on flags. cobra's own
// checks word their errors for programmers ("if any flags in the group
// [device web] are set none of the others can be"); checkFlags reads the
// same annotations and writes sentences for people.
const (
	annotationExclusive = "cobra_annotation_mutually_exclusive"
	annotationTogether  = "cobra_annotation_required_if_others_set"
	annotationOneOf     = "cobra_annotation_one_required"
)

// checkFlags checks cmd's required flags and flag groups (declared with
// cobra's MarkFlagRequired and MarkFlags* functions) and returns a syntax
// error that a person can read: "--device and --web cannot be used
// together", "--provider is required".
func checkFlags(cmd *cobra.Command) error {
	fs := cmd.Flags()
	var missing []string
	groups := map[string][]string{} // annotation → groups, in the order first met
	seen := map[string]bool{}
	fs.VisitAll(func(f *pflag.Flag) {
		if req := f.Annotations[cobra.BashCompOneRequiredFlag]; len(req) > 0 && req[0] == "true" && !f.Changed {
			missing = append(missing, "--"+f.Name)
		}
		for _, kind := range []string{annotationExclusive, annotationTogether, annotationOneOf} {
			for _, g := range f.Annotations[kind] {
				if !seen[kind+g] {
					seen[kind+g] = true
					groups[kind] = append(groups[kind], g)
				}
			}
		}
	})
	if len(missing) > 0 {
		verb := "is"
		if len(missing) > 1 {
			verb = "are"
		}
		return syntaxf("%s %s required", andList(missing), verb)
	}
	for _, kind := range []string{annotationExclusive, annotationTogether, annotationOneOf} {
		for _, g := range groups[kind] {
			var set, unset []string
			defined := true
			for _, name := range strings.Fields(g) {
				f := fs.Lookup(name)
				switch {
				case f == nil:
					defined = false
				case f.Changed:
					set = append(set, "--"+name)
				default:
					unset = append(unset, "--"+name)
				}
			}
			if !defined {
				continue
			}
			switch {
			case kind == annotationExclusive && len(set) > 1:
				return syntaxf("%s cannot be used together", andList(set))
			case kind == annotationTogether && len(set) > 0 && len(unset) > 0:
				return syntaxf("%s also needs %s", andList(set), andList(unset))
			case kind == annotationOneOf && len(set) == 0:
				return syntaxf("give %s", orList(unset))
			}
		}
	}
	return nil
}

// andList writes "a", "a and b", "a, b and c".
func andList(v []string) string { return joinLast(v, " and ") }

// orList writes "a", "a or b", "a, b or c".
func orList(v []string) string { return joinLast(v, " or ") }

func joinLast(v []string, last string) string {
	if len(v) < 2 {
		return strings.Join(v, "")
	}
	return strings.Join(v[:len(v)-1], ", ") + last + v[len(v)-1]
}

// exactArgs is cobra.ExactArgs with a sentence naming the arguments the
// command takes (annotationArgs, or its Use line after the command's name)
// and, when the command has examples, the first one.
func exactArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == n {
			return nil
		}
		msg := fmt.Sprintf("%s needs %s", cmd.CommandPath(), argsOf(cmd))
		switch {
		case len(args) > n:
			msg = fmt.Sprintf("%s takes only %s (got %q)", cmd.CommandPath(), argsOf(cmd), strings.Join(args, " "))
		case len(args) > 0:
			msg += fmt.Sprintf(" (got only %q)", strings.Join(args, " "))
		}
		if ex := firstExample(cmd); ex != "" {
			msg += "; for example: " + ex
		}
		return syntaxf("%s", msg)
	}
}

// firstExample is the first line of cmd's examples as a command alone,
// without the padded "# ..." comment an example line may end with.
func firstExample(cmd *cobra.Command) string {
	ex, _, _ := strings.Cut(strings.TrimSpace(cmd.Example), "\n")
	if i := strings.Index(ex, "  #"); i >= 0 {
		ex = ex[:i]
	}
	return strings.TrimSpace(ex)
}

// argsOf describes the arguments in cmd's Use line: "KEY and VALUE", "an
// action: get, store or erase".
func argsOf(cmd *cobra.Command) string {
	if a, ok := cmd.Annotations[annotationArgs]; ok {
		return a
	}
	fields := strings.Fields(cmd.Use)
	if len(fields) < 2 {
		return "no arguments"
	}
	return andList(fields[1:])
}

// annotationArgs, on a command, describes its arguments for exactArgs
// when its Use line does not say it well enough.
const annotationArgs = "ghlogin_args"

// noArgs refuses arguments, naming them; a command with subcommands names
// those instead (cobra's own message for an unknown subcommand is shown
// only at the root).
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	if cmd.HasAvailableSubCommands() {
		var names []string
		for _, c := range cmd.Commands() {
			if c.IsAvailableCommand() {
				names = append(names, c.Name())
			}
		}
		return syntaxf("unknown command %q for %q; use %s", args[0], cmd.CommandPath(), orList(names))
	}
	return syntaxf("%s takes no arguments (got %q)", cmd.CommandPath(), strings.Join(args, " "))
}

// parentRun is the RunE of a command that only groups others (config,
// oidc): with no argument it prints its help; noArgs refuses an unknown
// subcommand.
func parentRun(cmd *cobra.Command, args []string) error {
	return cmd.Help()
}
