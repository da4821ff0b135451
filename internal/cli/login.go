package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hint"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/ui"
	"github.com/ghlogin/ghlogin/webflow"
)

// loginOptions are login's flags.
type loginOptions struct {
	host, clientID, store        string
	scopes                       []string
	device, web, noBrowser, json bool
	withToken                    bool
	timeout                      time.Duration
	overrides                    config.Host
	// forceMode, when set, overrides the UI mode (demo, git helper).
	forceMode *ui.Mode
	// tty, when set, is where the TUI runs (the git helper's /dev/tty).
	ttyIn  io.Reader
	ttyOut io.Writer
	// result receives who logged in.
	result **ui.Result
}

func (a *app) loginCmd() *cobra.Command {
	o := &loginOptions{}
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in to a host (device flow by default)",
		Long: "Log in to github.com, a GitHub Enterprise Server or another OAuth 2.0 server.\n\n" +
			"The device flow is the default: ghlogin shows a one-time code and a URL, you approve\n" +
			"it in a browser on any device. --web uses a browser on this machine instead.\n" +
			"--with-token reads a token from standard input.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			o.scopes = splitScopes(o.scopes)
			_, err := a.runLogin(cmd.Context(), o)
			return err
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.host, "host", "github.com", "host name or URL (https implied; http only for loopback)")
	f.BoolVar(&o.device, "device", false, "use the device flow (default)")
	f.BoolVar(&o.web, "web", false, "use the loopback web flow in a local browser")
	f.StringSliceVar(&o.scopes, "scopes", nil, "scopes to request (default: repo,read:org,gist)")
	f.StringVar(&o.clientID, "client-id", "", "OAuth app client ID (default: the host's client_id setting or GHLOGIN_CLIENT_ID)")
	f.BoolVar(&o.noBrowser, "no-browser", false, "never open a browser; only show the URL")
	f.BoolVar(&o.json, "json", false, "write JSON events to standard output")
	f.StringVar(&o.store, "store", "", "where to keep the token: keyring or file (default: keyring, or GHLOGIN_STORE)")
	f.BoolVar(&o.withToken, "with-token", false, "read a token from standard input instead of logging in")
	f.DurationVar(&o.timeout, "timeout", webflow.DefaultTimeout, "web flow: how long to wait for the browser")
	f.StringVar(&o.overrides.DeviceCodeURL, "device-code-url", "", "generic server: device authorization endpoint")
	f.StringVar(&o.overrides.AuthorizeURL, "authorize-url", "", "generic server: authorization endpoint")
	f.StringVar(&o.overrides.TokenURL, "token-url", "", "generic server: token endpoint")
	f.StringVar(&o.overrides.APIURL, "api-url", "", "API root (GitHub: https://api.github.com or https://HOST/api/v3)")
	f.StringVar(&o.overrides.UserInfoURL, "userinfo-url", "", "generic server: URL that tells who the token belongs to")
	f.StringVar(&o.overrides.LoginField, "login-field", "", "generic server: JSON field of the userinfo reply holding the login")
	f.StringVar(&o.overrides.ClientAuth, "client-auth", "", "client authentication at the token endpoint: body or basic")
	cmd.MarkFlagsMutuallyExclusive("device", "web", "with-token")
	return cmd
}

// runLogin runs the login command and returns who logged in.
func (a *app) runLogin(ctx context.Context, o *loginOptions) (*ui.Result, error) {
	if o.withToken {
		return nil, a.login(ctx, o)
	}
	var res *ui.Result
	o.result = &res
	err := a.login(ctx, o)
	return res, err
}

// login runs the login command.
func (a *app) login(ctx context.Context, o *loginOptions) error {
	hs, err := a.settings(o.host, o.clientID, o.scopes, o.store)
	if err != nil {
		return err
	}
	if err := a.applyOverrides(hs, &o.overrides); err != nil {
		return err
	}
	if _, name := a.envToken(hs.host); name != "" {
		fmt.Fprintf(a.env.Stderr, "warning: %s is set; it takes precedence over the token this login stores for %s\n", name, hs.host.Name)
	}
	if o.withToken {
		return a.loginWithToken(ctx, hs)
	}
	if err := hs.requireClientID(); err != nil {
		return a.failEarly(ctx, o, hs, err)
	}
	if err := a.checkBackend(ctx, hs, o.json || o.ttyIn != nil); err != nil {
		return a.failEarly(ctx, o, hs, err)
	}

	mode := ui.Plain
	switch {
	case o.forceMode != nil:
		mode = *o.forceMode
	case o.json:
		mode = ui.JSON
	case a.env.StdinTTY && a.env.StdoutTTY:
		mode = ui.TUI
	}
	headless, reason := opener.Headless(a.getenv)
	useWeb := o.web
	if useWeb && headless && !o.noBrowser {
		msg := fmt.Sprintf("%s, so a browser cannot be opened here; the device flow (ghlogin login --device) lets you approve from any device.", upperFirst(reason))
		if mode == ui.TUI && a.env.StderrTTY {
			ok, err := ui.Confirm(a.env.Stdin, a.env.Stderr, msg+" Use the device flow instead?")
			if err == nil && ok {
				useWeb = false
			}
		} else {
			fmt.Fprintln(a.env.Stderr, "note: "+msg)
		}
	}

	uo := ui.Options{
		Mode:           mode,
		Host:           hs.host.Name,
		Flow:           "device",
		In:             a.env.Stdin,
		Out:            a.env.Stdout,
		Err:            a.env.Stderr,
		Headless:       headless,
		HeadlessReason: reason,
		NoColor:        a.getenv("NO_COLOR") != "",
	}
	if o.ttyIn != nil {
		uo.In, uo.Out = o.ttyIn, o.ttyOut
	}
	if !o.noBrowser && !headless {
		uo.Opener = a.env.Opener
	}
	var task ui.Task
	if useWeb {
		uo.Flow = "web"
		task = a.webTask(hs, o, uo.Opener, mode)
	} else {
		task = a.deviceTask(hs, o)
	}
	res, err := ui.Run(ctx, uo, task)
	if err != nil {
		// The UI has shown the error (error screen, plain line or JSON event).
		return &reportedError{code: exitStatus(err), err: err}
	}
	if o.result != nil {
		*o.result = res
	}
	return nil
}

// failEarly reports an error found before the flow started: with --json as
// an error event on stdout (scripts read only that), otherwise as usual.
func (a *app) failEarly(ctx context.Context, o *loginOptions, hs *hostSettings, err error) error {
	if !o.json {
		return err
	}
	_, _ = ui.Run(ctx, ui.Options{Mode: ui.JSON, Host: hs.host.Name, Out: a.env.Stdout, Err: a.env.Stderr},
		func(context.Context, func(any)) (*ui.Result, error) { return nil, err })
	return &reportedError{code: exitStatus(err), err: err}
}

// applyOverrides applies login's endpoint flags to hs.
func (a *app) applyOverrides(hs *hostSettings, o *config.Host) error {
	merged := config.Host{}
	if hs.cfg != nil {
		merged = *hs.cfg
	}
	for _, p := range []struct {
		dst *string
		v   string
	}{
		{&merged.DeviceCodeURL, o.DeviceCodeURL}, {&merged.AuthorizeURL, o.AuthorizeURL},
		{&merged.TokenURL, o.TokenURL}, {&merged.APIURL, o.APIURL},
		{&merged.UserInfoURL, o.UserInfoURL}, {&merged.LoginField, o.LoginField},
	} {
		if p.v != "" {
			if err := config.ValidateURL(p.v); err != nil && p.dst != &merged.LoginField {
				return &usageError{err}
			}
			*p.dst = p.v
		}
	}
	if o.ClientAuth != "" {
		style, err := oauth.ParseAuthStyle(o.ClientAuth)
		if err != nil {
			return &usageError{err}
		}
		hs.creds.Style = style
	}
	hs.endpoints = merged.Endpoints(hs.host)
	return nil
}

// checkBackend makes sure the chosen backend can take the token before the
// person spends time approving a login. When the keyring is unavailable it
// asks (on a terminal) whether to use the file store instead, and otherwise
// fails with a message naming --store file and GHLOGIN_STORE=file; it never
// falls back silently.
func (a *app) checkBackend(ctx context.Context, hs *hostSettings, noPrompt bool) error {
	if hs.backend != store.BackendKeyring {
		return nil
	}
	st, err := a.store()
	if err != nil {
		return err
	}
	perr := st.Probe(ctx, store.BackendKeyring)
	if perr == nil {
		return nil
	}
	var ku *store.KeyringUnavailableError
	if !errors.As(perr, &ku) {
		return perr
	}
	if noPrompt || !a.env.StdinTTY || !a.env.StderrTTY {
		return perr
	}
	q := fmt.Sprintf("The OS keyring is not available (%v).\nKeep the token in %s instead (a file readable only by you)?", ku.Err, st.CredentialsPath())
	if ku.Timeout {
		q = fmt.Sprintf("The OS keyring did not answer in time.\nKeep the token in %s instead (a file readable only by you)?", st.CredentialsPath())
	}
	ok, err := ui.Confirm(a.env.Stdin, a.env.Stderr, q)
	if err != nil || !ok {
		return perr
	}
	hs.backend = store.BackendFile
	return nil
}

// deviceTask runs the device flow and stores the token.
func (a *app) deviceTask(hs *hostSettings, o *loginOptions) ui.Task {
	return func(ctx context.Context, emit func(any)) (*ui.Result, error) {
		df := &deviceflow.Config{
			Client:        a.oauthClient(),
			Credentials:   hs.creds,
			DeviceCodeURL: hs.endpoints.DeviceCodeURL,
			TokenURL:      hs.endpoints.TokenURL,
			Scopes:        hs.scopes,
			Clock:         a.env.Clock,
			OnEvent: func(e deviceflow.Event) {
				e.Err = hint.Wrap(e.Err)
				emit(e)
			},
		}
		tok, err := df.Login(ctx)
		if err != nil {
			return nil, hint.Wrap(explainClientError(hs, err))
		}
		res, err := a.finishLogin(ctx, hs, o, tok, emit)
		return res, hint.Wrap(err)
	}
}

// webTask runs the loopback web flow and stores the token.
func (a *app) webTask(hs *hostSettings, o *loginOptions, op opener.Opener, mode ui.Mode) ui.Task {
	return func(ctx context.Context, emit func(any)) (*ui.Result, error) {
		wf := &webflow.Config{
			Client:       a.oauthClient(),
			Credentials:  hs.creds,
			AuthorizeURL: hs.endpoints.AuthorizeURL,
			TokenURL:     hs.endpoints.TokenURL,
			Scopes:       hs.scopes,
			Timeout:      o.timeout,
			Opener:       op,
			OnEvent: func(e webflow.Event) {
				e.Err = hint.Wrap(e.Err)
				emit(e)
			},
		}
		if hs.cfg != nil {
			wf.DisablePKCE = hs.cfg.PKCE != nil && !*hs.cfg.PKCE
			wf.Port = hs.cfg.CallbackPort
		}
		tok, err := wf.Login(ctx)
		if err != nil {
			return nil, hint.Wrap(explainClientError(hs, err))
		}
		res, err := a.finishLogin(ctx, hs, o, tok, emit)
		return res, hint.Wrap(err)
	}
}

// explainClientError names the client ID when the server refused it, so the
// person knows which setting to fix; the OAuth error stays reachable with
// errors.As (JSON events keep its code).
func explainClientError(hs *hostSettings, err error) error {
	var oe *oauth.Error
	if errors.As(err, &oe) {
		switch oe.Code {
		case "invalid_client", "incorrect_client_credentials", "unauthorized_client":
			return fmt.Errorf("%s refused the client ID %q: %w", hs.host.Name, hs.creds.ClientID, err)
		}
	}
	return err
}

// finishLogin asks the API who the token belongs to and stores it.
func (a *app) finishLogin(ctx context.Context, hs *hostSettings, o *loginOptions, tok *oauth.Token, emit func(any)) (*ui.Result, error) {
	emit(ui.Status("Checking the token with " + hs.host.Name))
	u, err := a.lookupUser(ctx, hs, tok.AccessToken)
	if err != nil {
		return nil, err
	}
	scopes := tok.Scopes()
	if u.ScopesKnown {
		scopes = u.Scopes
	}
	st, err := a.store()
	if err != nil {
		return nil, err
	}
	sec := store.NewSecret(tok, scopes, nil, a.now())
	if err := st.SaveWith(ctx, hs.host.Name, u.Login, hs.backend, sec, rememberHost(hs, &o.overrides)); err != nil {
		return nil, fmt.Errorf("storing the token: %w", err)
	}
	return &ui.Result{Host: hs.host.Name, Login: u.Login, Store: hs.backend, Scopes: scopes}, nil
}

func (a *app) now() time.Time {
	if a.env.Clock != nil {
		return a.env.Clock.Now()
	}
	return time.Now()
}

// loginWithToken reads a token from stdin, checks it and stores it.
func (a *app) loginWithToken(ctx context.Context, hs *hostSettings) error {
	if a.env.StdinTTY {
		fmt.Fprintln(a.env.Stderr, "Paste a token and press Enter (it is not shown):")
	}
	r := bufio.NewReader(io.LimitReader(a.env.Stdin, 64<<10))
	line, err := r.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return fmt.Errorf("reading the token from standard input: %w", err)
	}
	tok := strings.TrimSpace(line)
	if tok == "" {
		return usagef("no token on standard input; try: ghlogin login --with-token < token.txt")
	}
	if strings.ContainsAny(tok, " \t\r\n\x00") || len(tok) > 4096 {
		return usagef("the token on standard input is malformed (it holds spaces or control characters, or is too long)")
	}
	if err := a.checkBackend(ctx, hs, !a.env.StdinTTY); err != nil {
		return err
	}
	u, err := a.apiClient(15*time.Second).GetUser(ctx, hs.endpoints.UserInfoURL, hs.endpoints.LoginField, tok)
	if err != nil {
		return fmt.Errorf("checking the token with %s: %w", hs.host.Name, err)
	}
	st, err := a.store()
	if err != nil {
		return err
	}
	sec := &store.Secret{Token: tok, TokenType: "bearer", Scopes: u.Scopes}
	if err := st.SaveWith(ctx, hs.host.Name, u.Login, hs.backend, sec, rememberHost(hs, nil)); err != nil {
		return fmt.Errorf("storing the token: %w", err)
	}
	fmt.Fprintf(a.env.Stderr, "Logged in to %s as %s (token kept in the %s store)\n", hs.host.Name, u.Login, hs.backend)
	return nil
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
