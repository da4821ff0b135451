package cli

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/webflow"
)

// refreshOptions are refresh's dependencies and flags.
type refreshOptions struct {
	IO      *Env
	Session *session.Session

	Host, User string
	// Scopes, AddScopes and RemoveScopes change the account's scopes (at
	// most one is given).
	Scopes, AddScopes, RemoveScopes []string
	Device, Web, NoBrowser, JSON    bool
	Timeout                         time.Duration
}

func newRefreshCmd(a *app, runF func(*refreshOptions) error) *cobra.Command {
	o := &refreshOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "refresh",
		Short: "Log in again to change an account's scopes",
		Long: "Log in again for an account, to change its scopes as gh auth refresh does:\n" +
			"-s/--add-scopes adds to them (gh auth refresh -s), -r/--remove-scopes takes some away,\n" +
			"and --scopes sets the whole new set (it says which scopes that drops before the login);\n" +
			"without any the account keeps its scopes. The device flow is the default; --web uses a\n" +
			"browser here.\n\n" +
			"The new login must be approved as the same account: another account is refused and\n" +
			"the old token kept. The new token replaces the old one in the same store, the account's\n" +
			"settings are kept, and the old token is revoked where the server allows it.",
		Example: "  ghlogin refresh -s delete_repo          # add a scope, as gh auth refresh -s\n" +
			"  ghlogin refresh -r gist                 # remove one\n" +
			"  ghlogin refresh --scopes repo,read:org  # exactly these (others are dropped)",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Scopes, o.AddScopes, o.RemoveScopes = splitScopes(o.Scopes), splitScopes(o.AddScopes), splitScopes(o.RemoveScopes)
			if runF != nil {
				return runF(o)
			}
			return runRefresh(cmd.Context(), o)
		},
	}
	f := cmd.Flags()
	a.addHostFlag(cmd, f, &o.Host, hostFlagHelp)
	a.addUserFlag(cmd, &o.User, &o.Host, "account login (default: the active account)")
	f.StringSliceVar(&o.Scopes, "scopes", nil, "the account's whole new set of scopes: any it has that are not named are dropped")
	f.StringSliceVarP(&o.AddScopes, "add-scopes", "s", nil, "scopes to add to the account's current ones (-s as in gh auth refresh)")
	f.StringSliceVarP(&o.RemoveScopes, "remove-scopes", "r", nil, "scopes to remove from the account's current ones")
	f.BoolVar(&o.Device, "device", false, "use the device flow (default)")
	f.BoolVarP(&o.Web, "web", "w", false, "use the loopback web flow in a browser on this machine")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "never open a browser; only show the URL")
	f.BoolVar(&o.JSON, "json", false, "write JSON events to standard output")
	f.DurationVar(&o.Timeout, "timeout", webflow.DefaultTimeout, "web flow: how long to wait for the browser")
	cmd.MarkFlagsMutuallyExclusive("scopes", "add-scopes", "remove-scopes")
	cmd.MarkFlagsMutuallyExclusive("device", "web")
	return cmd
}

// runRefresh plans the new scopes (session.PlanRescope), runs the login
// flow for them, and reports the scopes and what happened to the old token.
func runRefresh(ctx context.Context, o *refreshOptions) error {
	lo := &loginOptions{IO: o.IO, Session: o.Session, Host: o.Host, Device: o.Device, Web: o.Web,
		NoBrowser: o.NoBrowser, JSON: o.JSON, Timeout: o.Timeout}
	// With --json every failure is an error event, as login's are.
	t, err := o.Session.ResolveHost(session.Request{Host: o.Host})
	if err != nil {
		return failEarly(ctx, lo, o.Host, err)
	}
	if err := o.Session.Discover(ctx, t); err != nil {
		return failEarly(ctx, lo, t.Host.Name, err)
	}
	r, err := o.Session.PlanRescope(ctx, t, o.User, session.ScopeChange{Set: o.Scopes, Add: o.AddScopes, Remove: o.RemoveScopes})
	if err != nil {
		return failEarly(ctx, lo, t.Host.Name, err)
	}
	w := o.IO.Stderr
	if len(o.Scopes) > 0 {
		// --scopes names the whole new set, where gh's -s adds: say what
		// that drops before anyone approves it.
		if dropped := scopesNotIn(r.From, r.To); len(dropped) > 0 {
			fmt.Fprintf(w, "note: --scopes sets the whole new set of scopes: it drops %s", scopeList(dropped))
			if added := scopesNotIn(r.To, r.From); len(added) > 0 {
				fmt.Fprintf(w, " and adds %s", scopeList(added))
			}
			fmt.Fprintf(w, "; to keep the scopes the account has, use --add-scopes (-s) instead\n")
		}
	}
	if !o.JSON {
		fmt.Fprintf(w, "Logging in again as %s on %s with the scopes %s (now %s)\n",
			safe.Text(r.Account.Login), r.Account.Host, scopeList(r.To), scopeList(r.From))
	}
	lo.rescope = r
	_, err = runFlow(ctx, lo, t)
	if rs := lo.rescoped; rs != nil {
		printRevocation(w, o.IO.explain, rs.Revocation, false)
	}
	return err
}

// scopeList writes scopes for people: "repo, gist", or "none".
func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return "none"
	}
	return safe.Text(strings.Join(scopes, ", "))
}

// scopesNotIn returns the scopes of a that b does not hold, in a's order.
func scopesNotIn(a, b []string) []string {
	var out []string
	for _, s := range a {
		if !slices.Contains(b, s) {
			out = append(out, s)
		}
	}
	return out
}
