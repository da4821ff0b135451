package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"golang.org/x/term"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/safe"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/ui"
	"github.com/ghlogin/ghlogin/webflow"
)

// loginOptions are login's dependencies and flags.
type loginOptions struct {
	IO      *Env
	Session *session.Session

	Host, ClientID, Store        string
	Scopes                       []string
	Device, Web, NoBrowser, JSON bool
	WithToken, QR                bool
	Timeout                      time.Duration
	// Clipboard copies the code as soon as it arrives (-c).
	Clipboard bool
	// InsecureStorage is the GitHub CLI's --store file.
	InsecureStorage bool
	// GitProtocol is the GitHub CLI's -p: https or ssh; ghlogin serves
	// git over https only.
	GitProtocol string
	// Wait keeps the device flow asking for new codes until it has passed
	// (--wait); waitSet says --wait was given.
	Wait    time.Duration
	waitSet bool
	// Overrides are the endpoint flags (--issuer, --token-url and the
	// like).
	Overrides config.Host

	// Mode, when set, overrides the UI mode (demo, git helper).
	Mode *ui.Mode
	// Intro is text shown before the login (the demo's banner; see
	// ui.Options.Intro).
	Intro string
	// NoQR hides the QR code at first (the demo: its URL is on loopback).
	NoQR bool
	// TTYIn and TTYOut, when set, are where the TUI runs (the git helper's
	// /dev/tty).
	TTYIn  io.Reader
	TTYOut io.Writer
	// NeedToken is set by the git helper, which needs a token rather than
	// a new login: once this process may run the login, a usable token
	// stored meanwhile is used instead (session.LoginWait.Recheck).
	NeedToken bool

	// rescope, when set, makes the flow a new login for an existing
	// account (ghlogin refresh): its token replaces the account's, and
	// rescoped is what that did.
	rescope  *session.Rescope
	rescoped *session.Rescoped
	// started is when the command found it needed a login (runLogin).
	started time.Time
}

func newLoginCmd(a *app, runF func(*loginOptions) error) *cobra.Command {
	o := &loginOptions{IO: a.env, Session: a.sess}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a host (device flow by default)",
		Long: "Log in to github.com, a GitHub Enterprise Server, an OpenID Connect server (--issuer)\n" +
			"or another OAuth 2.0 server.\n\n" +
			"The device flow is the default: ghlogin shows a one-time code and a URL, you approve\n" +
			"it in a browser on any device (--qr adds a QR code; --wait keeps asking for new codes).\n" +
			"--web uses a browser on this machine instead; where none can be opened (SSH, no\n" +
			"display, --no-browser) open the URL on any device and paste back the address that\n" +
			"browser ended on. --with-token reads a token from standard input.\n\n" +
			"One login runs per host at a time: a login started meanwhile (by git, a script) says\n" +
			"on stderr whose login it waits for, then reports that login's outcome as its own.\n" +
			"Where the store in force is unavailable (no desktop keyring), ghlogin asks on a\n" +
			"terminal which to use instead (--store kernel or file) and fails without one.",
		Example: "  ghlogin login                                   # github.com, device flow\n" +
			"  ghlogin login --hostname ghe.example.com -s repo,workflow\n" +
			"  ghlogin login -w                                # a browser on this machine\n" +
			"  ghlogin login --with-token < token.txt\n" +
			"  ghlogin login --json | jq .                     # for scripts: one event a line\n" +
			"  ghlogin login --store kernel --qr --wait 2h     # a server: in memory, waits for you",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.Scopes = splitScopes(o.Scopes)
			o.waitSet = cmd.Flags().Changed("wait")
			if err := checkFlowFlags(cmd.Flags()); err != nil {
				return err
			}
			if err := o.check(); err != nil {
				return err
			}
			if runF != nil {
				return runF(o)
			}
			_, err := runLogin(cmd.Context(), o)
			return err
		},
	}
	f := cmd.Flags()
	a.addHostFlag(cmd, f, &o.Host, hostFlagHelp)
	f.BoolVar(&o.Device, "device", false, "use the device flow (default)")
	f.BoolVarP(&o.Web, "web", "w", false, "use the loopback web flow in a browser on this machine")
	f.StringSliceVarP(&o.Scopes, "scopes", "s", nil, "scopes to request, comma separated (default: the host's scopes setting, else repo,read:org,gist on GitHub hosts and openid,profile,email,offline_access on OpenID Connect hosts)")
	f.StringVar(&o.ClientID, "client-id", "", "OAuth app client ID (default: the host's client_id setting or GHLOGIN_CLIENT_ID)")
	f.BoolVar(&o.NoBrowser, "no-browser", false, "never open a browser; show the URL (with --web, then paste back the address the browser ended on)")
	f.BoolVarP(&o.Clipboard, "clipboard", "c", false, "copy the one-time code to the clipboard as soon as it arrives")
	f.BoolVar(&o.QR, "qr", false, "also show the URL as a QR code (on stderr in plain and JSON modes)")
	f.DurationVar(&o.Wait, "wait", 0, "device flow: when a code expires unapproved, ask for a new one until this long has passed (e.g. 2h)")
	f.BoolVar(&o.JSON, "json", false, "write JSON events to standard output")
	f.StringVar(&o.Store, "store", "", "where to keep the token: keyring, kernel (Linux) or file (default: GHLOGIN_STORE, the host's store setting, else keyring)")
	f.BoolVar(&o.InsecureStorage, "insecure-storage", false, "keep the token in a file readable only by you (the same as --store file; the GitHub CLI's name)")
	f.BoolVar(&o.WithToken, "with-token", false, "read a token from standard input instead of logging in")
	f.StringVarP(&o.GitProtocol, "git-protocol", "p", "", "accepted for the GitHub CLI's sake: ghlogin serves git over https only (see setup-git)")
	f.DurationVar(&o.Timeout, "timeout", webflow.DefaultTimeout, "web flow: how long to wait for the browser")
	f.StringVar(&o.Overrides.Issuer, "issuer", "", "OpenID Connect issuer URL: every endpoint comes from its discovery document, and the host is the issuer's")
	f.StringVar(&o.Overrides.DeviceCodeURL, "device-code-url", "", "generic server: device authorization endpoint")
	f.StringVar(&o.Overrides.AuthorizeURL, "authorize-url", "", "generic server: authorization endpoint")
	f.StringVar(&o.Overrides.TokenURL, "token-url", "", "generic server: token endpoint")
	f.StringVar(&o.Overrides.APIURL, "api-url", "", "API root (GitHub: https://api.github.com or https://HOST/api/v3)")
	f.StringVar(&o.Overrides.UserInfoURL, "userinfo-url", "", "generic server: URL that tells who the token belongs to")
	f.StringVar(&o.Overrides.LoginField, "login-field", "", "generic server: JSON field of the userinfo reply holding the login")
	f.StringVar(&o.Overrides.ClientAuth, "client-auth", "", "client authentication at the token endpoint: body or basic")
	cmd.MarkFlagsMutuallyExclusive("store", "insecure-storage")
	cmd.MarkFlagsMutuallyExclusive("device", "web", "with-token")
	return cmd
}

// check refuses flag values that cannot be used and folds the GitHub CLI's
// names into ghlogin's.
func (o *loginOptions) check() error {
	if o.Timeout <= 0 {
		return usagef("--timeout %s: give a duration above zero, such as 90s or 5m", o.Timeout)
	}
	if o.waitSet && o.Wait <= 0 {
		return usagef("--wait %s: give a duration above zero, such as 30m or 2h", o.Wait)
	}
	if o.InsecureStorage {
		o.Store = store.BackendFile
	}
	for _, s := range o.Scopes {
		if !oauth.IsScopeToken(s) {
			return usagef("--scopes: %q is not a scope (RFC 6749 §3.3: printable characters without spaces, quotes or backslashes)", safe.Short(s, 60))
		}
	}
	switch strings.ToLower(o.GitProtocol) {
	case "", "https", "ssh":
		o.GitProtocol = strings.ToLower(o.GitProtocol)
	default:
		return usagef("--git-protocol %q: use https or ssh", o.GitProtocol)
	}
	return nil
}

// flowFlags are login's flags that mean something only in some flows:
// each pair is a flow's flag and a flag that does nothing in it, with why.
// Given together they are refused (exit 2), as --device and --web are,
// rather than one of them being silently ignored.
var flowFlags = []struct{ flow, flag, why string }{
	{"web", "wait", "--wait asks for new device codes, and the web flow has none"},
	{"with-token", "wait", "--wait asks for new device codes, and a token read from standard input needs none"},
	{"with-token", "qr", "--qr shows the URL to approve a login, and a token read from standard input needs no approval"},
	{"with-token", "clipboard", "-c copies the device code, and a token read from standard input needs none"},
	{"with-token", "scopes", "a token read from standard input keeps the scopes it was given (change them with ghlogin refresh)"},
	{"with-token", "no-browser", "a token read from standard input opens no browser"},
	{"with-token", "timeout", "--timeout bounds the wait for the browser, and a token read from standard input needs none"},
}

// checkFlowFlags refuses a flag given with a flow it does nothing in.
func checkFlowFlags(fs *pflag.FlagSet) error {
	for _, p := range flowFlags {
		if fs.Changed(p.flow) && fs.Changed(p.flag) {
			return syntaxf("--%s and --%s cannot be used together: %s", p.flow, p.flag, p.why)
		}
	}
	// The device flow is the default: --timeout there would be ignored
	// (a device code ends when it expires, or --wait ends).
	// (A value that is no duration above zero gets its own sentence.)
	if d, err := fs.GetDuration("timeout"); err == nil && d > 0 && fs.Changed("timeout") && !fs.Changed("web") && !fs.Changed("with-token") {
		return syntaxf("--timeout applies to the web flow (--web): the device flow waits until the code expires, or until --wait ends")
	}
	return nil
}

// splitScopes reads --scopes "a,b" or "a b".
func splitScopes(v []string) []string {
	var out []string
	for _, s := range v {
		out = append(out, oauth.SplitScopes(s)...)
	}
	return out
}

// runLogin logs in and returns who logged in (nil for --with-token, which
// reports by itself). One login runs per host at a time across processes
// (session.BeginLogin): a login that finds another one running waits for
// it, saying whose it is on stderr, and reports its outcome as its own.
func runLogin(ctx context.Context, o *loginOptions) (*ui.Result, error) {
	e := o.IO
	o.started = e.now()
	t, err := o.Session.ResolveHost(session.Request{
		Host: o.Host, ClientID: o.ClientID, Scopes: o.Scopes, Store: o.Store, Overrides: o.Overrides,
	})
	if err != nil {
		return nil, failEarly(ctx, o, o.Host, err)
	}
	if err := o.Session.Discover(ctx, t); err != nil {
		return nil, failEarly(ctx, o, t.Host.Name, err)
	}
	if _, name := o.Session.EnvToken(t); name != "" {
		fmt.Fprintf(e.Stderr, "warning: %s is set; it takes precedence over the token this login stores for %s\n", name, t.Host.Name)
	}
	if o.GitProtocol == "ssh" {
		fmt.Fprintln(e.Stderr, "note: ghlogin serves git over https only (ghlogin setup-git makes git use this login); --git-protocol ssh changes nothing and adds no SSH key")
	}
	if o.WithToken {
		return nil, loginWithToken(ctx, o, t)
	}
	return runFlow(ctx, o, t)
}

// runFlow runs the device or web flow for t and saves its token: as a new
// login, or for o.rescope as the account's new token.
func runFlow(ctx context.Context, o *loginOptions, t *session.Target) (*ui.Result, error) {
	e := o.IO
	if err := t.RequireClientID(); err != nil {
		return nil, failEarly(ctx, o, t.Host.Name, err)
	}
	if o.Web {
		if err := t.RequireClientSecret(); err != nil {
			return nil, failEarly(ctx, o, t.Host.Name, err)
		}
	}
	uo := o.uiOptions(t)
	since := o.started
	if since.IsZero() {
		since = e.now()
	}

	// A new login for an existing account's scopes (refresh) runs on its
	// own: a login waiting for it would report the wrong outcome.
	var lease *store.LoginLease
	if o.rescope == nil {
		waitCtx, cancel := context.WithTimeout(ctx, o.waitLimit())
		var waited *session.Login
		var err error
		lease, waited, err = o.Session.BeginLogin(waitCtx, t, session.LoginWait{
			Since:   since,
			Recheck: o.NeedToken,
			OnWait: func(owner store.LoginOwner) {
				fmt.Fprintf(uo.Err, "Waiting for the login to %s that %s is running…\n", t.Host.Name, safe.Text(owner.String()))
			},
		})
		cancel()
		var we *session.WaitedLoginError
		switch {
		case errors.As(err, &we):
			return nil, o.report(ctx, uo, nil, err)
		case err != nil:
			return nil, failEarly(ctx, o, t.Host.Name, err)
		case waited != nil:
			res := resultOf(waited, t.Host.Arg(), e.now())
			return res, o.report(ctx, uo, res, nil)
		}
		if err := o.Session.CheckStore(ctx, t, o.chooser(ctx)); err != nil {
			// Nothing is published: a waiter asks for itself (it may have
			// a terminal where this process had none).
			o.Session.EndLogin(lease, nil, nil, 0)
			return nil, failEarly(ctx, o, t.Host.Name, err)
		}
	}

	var task ui.Task
	if o.Web {
		uo.Flow = ui.FlowWeb
		var paste webflow.PasteFunc
		if uo.Opener == nil {
			// No browser can be opened here (SSH, no display,
			// --no-browser): the page is opened on another device, whose
			// browser ends on a 127.0.0.1 page that cannot be reached
			// there; the person pastes its address back. The loopback
			// listener still serves a browser on this machine.
			uo.Paste = ui.NewPasteInput()
			paste = uo.Paste.Read
		}
		task = webTask(o, t, uo.Opener, paste)
	} else {
		task = deviceTask(o, t)
	}
	res, err := ui.Run(ctx, uo, task)
	if err != nil {
		// The UI has shown the error (error screen, plain line or JSON event).
		code := exitStatus(err)
		o.Session.EndLogin(lease, nil, err, code)
		return nil, &reportedError{code: code, err: err}
	}
	o.Session.EndLogin(lease, &session.Login{Host: res.Host, Login: res.Login, Store: res.Store}, nil, 0)
	return res, nil
}

// uiOptions are the UI's options for a login to t: the mode (the TUI on a
// terminal, JSON with --json, plain lines otherwise), the streams (the git
// helper's terminal), whether a browser can be opened here.
func (o *loginOptions) uiOptions(t *session.Target) ui.Options {
	e := o.IO
	mode := ui.Plain
	switch {
	case o.Mode != nil:
		mode = *o.Mode
	case o.JSON:
		mode = ui.JSON
	case e.StdinTTY && e.StdoutTTY:
		mode = ui.TUI
	}
	if mode == ui.TUI && e.getenv("TERM") == "dumb" {
		// A dumb terminal cannot move the cursor: the full-screen UI
		// would print each redraw below the last. Lines work everywhere.
		mode = ui.Plain
	}
	headless, reason := opener.Headless(e.getenv)
	if o.NoBrowser {
		// What the person asked for is the reason, whatever the display.
		reason = "--no-browser was given"
	}
	uo := ui.Options{
		Mode:           mode,
		Host:           t.Host.Name,
		Flow:           ui.FlowDevice,
		In:             e.Stdin,
		Out:            e.Stdout,
		Err:            e.Stderr,
		Headless:       headless,
		HeadlessReason: reason,
		QR:             o.QR,
		NoColor:        e.getenv("NO_COLOR") != "",
		Clock:          e.Clock,
		CopyCode:       o.Clipboard,
		Intro:          o.Intro,
		NoQR:           o.NoQR,
		NoBrowser:      o.NoBrowser,
		Getenv:         e.getenv,
		Hints:          e.hints,
	}
	if o.TTYIn != nil {
		uo.In, uo.Out = o.TTYIn, o.TTYOut
		if mode == ui.Plain {
			uo.Err = o.TTYOut // the person reads the terminal, not git's stderr
		}
	}
	if !o.NoBrowser && !headless && !browserDisabled(e.getenv) {
		uo.Opener = e.Opener
	}
	return uo
}

// Waiting for another process's login ends after loginWaitLimit (a device
// code lives 15 minutes on GitHub), or longer under --wait or --timeout.
const loginWaitLimit = 20 * time.Minute

// waitLimit bounds the wait for another process's login.
func (o *loginOptions) waitLimit() time.Duration {
	return max(loginWaitLimit, o.Timeout+time.Minute, o.Wait+loginWaitLimit)
}

// report shows the outcome of the login this one waited for, as the UI
// shows its own in every mode but the TUI's, which would flash for an
// instant: plain lines there.
func (o *loginOptions) report(ctx context.Context, uo ui.Options, res *ui.Result, err error) error {
	if uo.Mode == ui.TUI {
		uo.Mode = ui.Plain
	}
	err = o.IO.wrap(err)
	_, err = ui.Run(ctx, uo, func(context.Context, func(any)) (*ui.Result, error) { return res, err })
	if err != nil {
		code := ExitFailure
		var we *session.WaitedLoginError
		if errors.As(err, &we) {
			code = we.ExitCode()
		}
		return &reportedError{code: code, err: err}
	}
	return nil
}

// resultOf is what the UI reports for a login saved by the session; host
// is the --host value that logs in to it again (hosts.Host.Arg).
func resultOf(l *session.Login, host string, now time.Time) *ui.Result {
	r := &ui.Result{Host: l.Host, Login: l.Login, Store: l.Store, Scopes: l.Scopes, Kept: keptText(l, host, now)}
	if l.Kept.PlaintextAtRest {
		r.StorePath = l.Kept.Place
	}
	return r
}

// keptText is the sentence that ends a login whose token lives somewhere
// other than a desktop keyring, or expires: where it is kept, what
// protects it, for how long it works there (store.Describe), and what
// happens when it expires: a refresh when it is used, or, when the server
// gave no refresh token, a new login. It is "" for a token that does not
// expire, in the OS keyring. host is the --host value of the login command
// it names.
func keptText(l *session.Login, host string, now time.Time) string {
	k := l.Kept
	if k.Place == "" {
		return ""
	}
	again := "ghlogin login --host " + host
	var b strings.Builder
	switch {
	case k.Volatile:
		fmt.Fprintf(&b, "The token is kept in %s %s: %s. Then log in again: %s.", k.Place, k.Lifetime, k.Protection, again)
	case k.PlaintextAtRest:
		fmt.Fprintf(&b, "The token is kept in %s %s: %s.", k.Place, k.Lifetime, k.Protection)
	case l.ExpiresAt.IsZero():
		return ""
	default:
		fmt.Fprintf(&b, "The token is kept in %s.", k.Place)
	}
	if left := l.ExpiresAt.Sub(now); !l.ExpiresAt.IsZero() && left > 0 {
		switch {
		case !l.Refreshable && k.Volatile:
			fmt.Fprintf(&b, " It expires in %s and cannot be refreshed (the server gave no refresh token), so log in again then too.", roughly(left))
		case !l.Refreshable:
			fmt.Fprintf(&b, " It expires in %s and cannot be refreshed (the server gave no refresh token); then log in again: %s.", roughly(left), again)
		case l.RefreshExpiresAt.IsZero():
			fmt.Fprintf(&b, " It expires in %s and is refreshed when used.", roughly(left))
		default:
			fmt.Fprintf(&b, " It expires in %s and is refreshed when used, until %s (when its refresh token expires).", roughly(left), l.RefreshExpiresAt.Local().Format("2 January 2006"))
		}
	}
	return b.String()
}

// chooser returns how to ask where to keep the token when the store in
// force is unavailable: on the git helper's terminal, or on stdin and
// stderr when both are terminals; nil (nobody to ask) with --json. The
// question ends when ctx does (Ctrl-C).
func (o *loginOptions) chooser(ctx context.Context) session.Chooser {
	switch {
	case o.JSON:
		return nil
	case o.TTYIn != nil:
		return storeChooser(ctx, o.TTYIn, o.TTYOut, o.IO.hints)
	case o.IO.StdinTTY && o.IO.StderrTTY:
		return storeChooser(ctx, o.IO.Stdin, o.IO.Stderr, o.IO.hints)
	}
	return nil
}

// storeChooser asks on a terminal which store to keep a token in, when the
// one in force cannot be used: the stores usable here in the session's
// order, each with what it protects against and how long it keeps the
// token, then cancel; a store not offered says why first. Ctrl-C (ctx
// ending) stops the question with ctx.Err(). The command it suggests names
// the host as c does (as the error does with nobody to ask: --host
// http://127.0.0.1:8787 for a plain-http one).
func storeChooser(ctx context.Context, in io.Reader, out io.Writer, c hint.Context) session.Chooser {
	return func(q session.StoreQuestion) (int, error) {
		question := fmt.Sprintf("Cannot keep the token for %s in %s: %v\n", q.Host, q.Unavailable.Place, q.Err)
		for _, o := range q.NotOffered {
			question += fmt.Sprintf("Not offered: %v\n", o.Err)
		}
		question += fmt.Sprintf("Where should ghlogin keep it instead? (remembered for %s; change it with: ghlogin config set --host %s store NAME)", q.Host, c.HostValue(q.Host))
		options := make([]string, 0, len(q.Offers)+1)
		for _, o := range q.Offers {
			options = append(options, o.StoreInfo.String())
		}
		options = append(options, "cancel")
		return ui.Choose(ctx, in, out, question, options, true)
	}
}

// failEarly reports an error found before the flow started (host is the
// host it was for, as far as it is known): with --json as an error event
// on stdout (scripts read only that), otherwise as usual.
func failEarly(ctx context.Context, o *loginOptions, host string, err error) error {
	if !o.JSON {
		return err
	}
	err = o.IO.wrap(err)
	_, _ = ui.Run(ctx, ui.Options{Mode: ui.JSON, Host: host, Out: o.IO.Stdout, Err: o.IO.Stderr},
		func(context.Context, func(any)) (*ui.Result, error) { return nil, err })
	return &reportedError{code: exitStatus(err), err: err}
}

// deviceTask runs the device flow (RFC 8628) and saves the token.
func deviceTask(o *loginOptions, t *session.Target) ui.Task {
	return func(ctx context.Context, emit func(any)) (*ui.Result, error) {
		df := &deviceflow.Config{
			Wait:          o.Wait,
			Client:        &oauth.Client{HTTPClient: o.IO.HTTPClient, UserAgent: o.Session.UserAgent},
			Credentials:   t.Credentials,
			DeviceCodeURL: t.Endpoints.DeviceCodeURL,
			TokenURL:      t.Endpoints.TokenURL,
			Scopes:        t.Scopes,
			Clock:         o.IO.Clock,
			OnEvent: func(e deviceflow.Event) {
				e.Err = o.IO.wrap(e.Err)
				emit(e)
			},
		}
		tok, err := df.Login(ctx)
		if err != nil {
			return nil, o.IO.wrap(explainClientError(t, err))
		}
		res, err := saveLogin(ctx, o, t, tok, emit)
		return res, o.IO.wrap(err)
	}
}

// webTask runs the loopback web flow (RFC 8252) and saves the token.
func webTask(o *loginOptions, t *session.Target, op opener.Opener, paste webflow.PasteFunc) ui.Task {
	return func(ctx context.Context, emit func(any)) (*ui.Result, error) {
		wf := &webflow.Config{
			Client:       &oauth.Client{HTTPClient: o.IO.HTTPClient, UserAgent: o.Session.UserAgent},
			Credentials:  t.Credentials,
			AuthorizeURL: t.Endpoints.AuthorizeURL,
			TokenURL:     t.Endpoints.TokenURL,
			Scopes:       t.Scopes,
			Timeout:      o.Timeout,
			Opener:       op,
			Paste:        paste,
			OnEvent: func(e webflow.Event) {
				e.Err = o.IO.wrap(e.Err)
				emit(e)
			},
		}
		wf.DisablePKCE = !t.PKCE()
		if hc := t.Settings; hc != nil {
			wf.Port = hc.CallbackPort
		}
		params, err := o.Session.WebParams(t)
		if err != nil {
			return nil, o.IO.wrap(err)
		}
		wf.ExtraParams = params
		tok, err := wf.Login(ctx)
		if err != nil {
			return nil, o.IO.wrap(explainClientError(t, err))
		}
		res, err := saveLogin(ctx, o, t, tok, emit)
		return res, o.IO.wrap(err)
	}
}

// explainClientError names the client ID when the server refused it, so the
// person knows which setting to fix; the OAuth error stays reachable with
// errors.As (JSON events keep its code).
func explainClientError(t *session.Target, err error) error {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		switch oe.Code {
		case "invalid_client", "incorrect_client_credentials", "unauthorized_client":
			return fmt.Errorf("%s refused the client ID %q: %w", t.Host.Name, t.Credentials.ClientID, err)
		}
	}
	return err
}

// saveLogin has the session identify and save the token, and reports who
// logged in.
func saveLogin(ctx context.Context, o *loginOptions, t *session.Target, tok *oauth.Token, emit func(any)) (*ui.Result, error) {
	emit(ui.Status("Checking the token with " + t.Host.Name))
	var l *session.Login
	if o.rescope != nil {
		r, err := o.Session.SaveRescope(ctx, t, o.rescope, tok)
		if r != nil {
			o.rescoped = r
		}
		if err != nil {
			return nil, err
		}
		l = r.Login
	} else {
		var err error
		if l, err = o.Session.SaveLogin(ctx, t, tok); err != nil {
			return nil, err
		}
	}
	return resultOf(l, t.Host.Arg(), o.IO.now()), nil
}

// maxTokenBytes bounds a token read by --with-token.
const maxTokenBytes = 4096

// loginWithToken reads a token from stdin and has the session check and
// save it, then says who logged in: on stderr, or with --json as the
// success event (or the error event) on stdout and nothing else there.
func loginWithToken(ctx context.Context, o *loginOptions, t *session.Target) error {
	e := o.IO
	if o.JSON {
		uo := ui.Options{Mode: ui.JSON, Host: t.Host.Name, Out: e.Stdout, Err: e.Stderr, Clock: e.Clock}
		_, err := ui.Run(ctx, uo, func(ctx context.Context, _ func(any)) (*ui.Result, error) {
			l, err := saveGivenToken(ctx, o, t)
			if err != nil {
				return nil, e.wrap(err)
			}
			return resultOf(l, t.Host.Arg(), e.now()), nil
		})
		if err != nil {
			return &reportedError{code: exitStatus(err), err: err}
		}
		return nil
	}
	l, err := saveGivenToken(ctx, o, t)
	if err != nil {
		return err
	}
	if kept := keptText(l, t.Host.Arg(), e.now()); kept != "" {
		fmt.Fprintf(e.Stderr, "Logged in to %s as %s.\n", safe.Text(l.Host), safe.Text(l.Login))
		return ui.PrintWrapped(e.Stderr, safe.Text(kept))
	}
	fmt.Fprintf(e.Stderr, "Logged in to %s as %s (token kept in the %s store)\n", safe.Text(l.Host), safe.Text(l.Login), l.Store)
	return nil
}

// saveGivenToken reads the token of login --with-token (hidden on a
// terminal), asks where to keep it when the store in force cannot be used
// and a person can answer, and has the session check and save it.
func saveGivenToken(ctx context.Context, o *loginOptions, t *session.Target) (*session.Login, error) {
	e := o.IO
	var (
		tok string
		err error
	)
	if fd, ok := terminalFd(e.Stdin); ok && e.StdinTTY {
		tok, err = readHiddenToken(ctx, fd, e.Stderr)
	} else {
		tok, err = readToken(ctx, e.Stdin)
	}
	if err != nil {
		return nil, err
	}
	if err := o.Session.CheckStore(ctx, t, o.chooser(ctx)); err != nil {
		return nil, err
	}
	l, err := o.Session.SaveToken(ctx, t, tok)
	if githubapi.IsUnauthorized(err) {
		// A token just pasted was most likely cut short, mistyped or made
		// for another host, rather than revoked.
		return nil, hint.WithMessage(err, fmt.Sprintf("%s did not accept the token (HTTP 401); nothing was stored. Check that it was copied whole and that it is a token for %s", t.Host.Name, t.Host.Name))
	}
	return l, err
}

// terminalFd returns r's file descriptor when r is a terminal.
func terminalFd(r io.Reader) (int, bool) {
	f, ok := r.(interface{ Fd() uintptr })
	if !ok {
		return 0, false
	}
	fd := int(f.Fd())
	return fd, term.IsTerminal(fd)
}

// readHiddenToken asks for a token on the terminal fd and reads it with
// echo off (ui.ReadHidden), so it never shows on the screen; Ctrl-C ends
// it with ctx.Err() and the terminal restored.
func readHiddenToken(ctx context.Context, fd int, prompt io.Writer) (string, error) {
	line, err := ui.ReadHidden(ctx, fd, prompt, "Paste your token and press Enter (it is not shown): ")
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return "", fmt.Errorf("reading the token from the terminal: %w", err)
	}
	return checkToken(line)
}

// readToken reads one token, the first line of r; Ctrl-C (ctx) ends the
// wait for it.
func readToken(ctx context.Context, r io.Reader) (string, error) {
	line, err := ui.ReadLine(ctx, r, 64<<10)
	switch {
	case ctx.Err() != nil:
		return "", ctx.Err()
	case err != nil:
		return "", fmt.Errorf("reading the token from standard input: %w", err)
	}
	return checkToken(line)
}

// checkToken trims a token read from the person and refuses what cannot
// be one.
func checkToken(line string) (string, error) {
	tok := strings.TrimSpace(line)
	if tok == "" {
		return "", usagef("no token on standard input; try: ghlogin login --with-token < token.txt")
	}
	if strings.ContainsAny(tok, " \t\r\n\x00") || len(tok) > maxTokenBytes {
		return "", usagef("the token on standard input is malformed (it holds spaces or control characters, or is too long)")
	}
	return tok, nil
}

// browserDisabled reports whether the configured browser is "none"
// (GHLOGIN_BROWSER, else BROWSER), so that opening one does nothing.
func browserDisabled(getenv func(string) string) bool {
	for _, k := range []string{"GHLOGIN_BROWSER", "BROWSER"} {
		if v := strings.TrimSpace(getenv(k)); v != "" {
			return strings.EqualFold(v, "none")
		}
	}
	return false
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// roughly says d in hours, minutes under two hours, or seconds under a
// minute (never "0 minutes"): "8 hours", "12 seconds".
func roughly(d time.Duration) string {
	if d >= 2*time.Hour {
		return fmt.Sprintf("%d hours", int((d+30*time.Minute)/time.Hour))
	}
	if d < time.Minute {
		switch s := int((d + time.Second - 1) / time.Second); {
		case s <= 1:
			return "1 second"
		default:
			return fmt.Sprintf("%d seconds", s)
		}
	}
	m := int((d + 30*time.Second) / time.Minute)
	if m == 1 {
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", m)
}
