package cli

import (
	"context"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/ui"
	"github.com/ghlogin/ghlogin/webflow"
)

// demoOptions are demo's dependencies.
type demoOptions struct {
	IO *Env
	// Manual leaves the approval to the person even where nobody could
	// click in a browser here (no display, SSH).
	Manual bool
}

func newDemoCmd(a *app, runF func(*demoOptions) error) *cobra.Command {
	o := &demoOptions{IO: a.env}
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Log in through the device flow against the built-in emulator, in one command",
		Long: "Start the GitHub emulator in this process, use a temporary config directory and the\n" +
			"file store, and run the whole device-flow login against it. On a terminal with a display\n" +
			"you approve the code in the emulator's page (Enter opens it). With no terminal, or no\n" +
			"display (over SSH), the emulator approves the code by itself after two polls; --manual\n" +
			"leaves it to you (over SSH, open the page through a tunnel: the demo prints the command).\n" +
			"Nothing is kept: the temporary directory is removed when the demo ends.",
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runDemo(cmd.Context(), o)
		},
	}
	cmd.Flags().BoolVar(&o.Manual, "manual", false, "approve the code yourself, even with no display (never approve it automatically)")
	return cmd
}

// runDemo starts the emulator, logs in to it with the file store in a
// temporary config directory, then shows token and status, as a person
// would run them.
func runDemo(ctx context.Context, o *demoOptions) error {
	dir, err := os.MkdirTemp("", "ghlogin-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	interactive := o.IO.StdinTTY && o.IO.StdoutTTY
	headless, _ := opener.Headless(o.IO.getenv)
	cfg := emulator.Config{Interval: 2 * time.Second, Clock: o.IO.Clock}
	if !o.Manual && (!interactive || headless) {
		// Nobody can click Approve: the emulator approves after two polls.
		cfg.AutoApproveAfter = 2
	}
	srv, err := emulator.Start(ctx, "127.0.0.1:0", cfg)
	if err != nil {
		return fmt.Errorf("starting the emulator: %w", err)
	}
	defer srv.Close()

	env := *o.IO
	parent := o.IO.getenv
	env.Getenv = func(k string) string {
		switch k {
		case config.EnvDir:
			return dir
		case session.EnvStore:
			return store.BackendFile
		case session.EnvGhloginHost, session.EnvHost:
			return ""
		case "GHLOGIN_BROWSER", "BROWSER":
			if headless {
				return "none"
			}
		}
		return parent(k)
	}
	sess := newSession(&env, env.Getenv)
	intro := fmt.Sprintf("ghlogin demo: a GitHub emulator is running at %s (nothing leaves this machine).\n", srv.URL())
	page := srv.URL() + "/login/device"
	switch {
	case cfg.AutoApproveAfter > 0 && !interactive:
		intro += "No terminal: the emulator approves the code by itself after two polls (ghlogin demo --manual leaves it to you)."
	case cfg.AutoApproveAfter > 0:
		intro += "No display here: the emulator approves the code by itself after two polls (ghlogin demo --manual leaves it to you)."
	case headless:
		_, port, _ := strings.Cut(strings.TrimPrefix(srv.URL(), "http://"), ":")
		intro += "Approve the code yourself in the emulator's page, " + page + ". No browser can open here: " +
			"from your own machine, run " + sshForward(o.IO.getenv, port) + ", then open that URL in your browser; " +
			"or use a text browser here (w3m, lynx)."
	case !interactive:
		intro += "Approve the code yourself in the emulator's page, " + page + ", in a browser on this machine."
	default:
		intro += "Press Enter to open the emulator's page, enter the code and approve it as any user."
	}
	lo := &loginOptions{IO: &env, Session: sess, Host: srv.URL(), ClientID: emulator.DefaultClientID, Store: store.BackendFile,
		Scopes: config.DefaultScopes, Timeout: webflow.DefaultTimeout, Intro: intro,
		// The emulator's page is on this machine's loopback address: a
		// phone scanning a QR code could not open it, and the QR code
		// would take the room the instructions need.
		NoQR: true}
	if !interactive {
		m := ui.Plain
		lo.Mode = &m
	}
	if _, err := runLogin(ctx, lo); err != nil {
		return err
	}
	t, err := sess.ResolveHost(session.Request{Host: srv.URL()})
	if err != nil {
		return err
	}
	tok, err := sess.Token(ctx, t, session.Query{})
	if err != nil {
		return err
	}
	v := tok.Secret.Token
	w := o.IO.Stderr
	fmt.Fprintln(w)
	if err := ui.PrintWrapped(w, fmt.Sprintf("While the demo runs, `ghlogin token` prints the stored token (%s…, %d characters; not shown here), and `ghlogin status` says:", v[:4], len(v))); err != nil {
		return err
	}
	out := env
	out.Stdout = o.IO.Stderr
	if err := runStatus(ctx, &statusOptions{IO: &out, Session: sess, Host: srv.URL()}); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return ui.PrintWrapped(w, "The demo kept its configuration and token in a temporary directory, now removed: nothing was saved, "+
		"and ghlogin token will not find this login. To log in for real: ghlogin login (see ghlogin login --help).")
}

// sshForward is the ssh command that brings this machine's loopback port to
// the person's own machine. Over SSH, SSH_CONNECTION names the address
// (and port) the person reached this machine at, and USER the login; what
// is not known is a placeholder, said as one.
func sshForward(getenv func(string) string, port string) string {
	user := getenv("USER")
	if user == "" || strings.ContainsAny(user, " \t'\"$`\\@") {
		user = "USER"
	}
	cmd := "ssh -L " + port + ":127.0.0.1:" + port
	// "client_ip client_port server_ip server_port"
	if f := strings.Fields(getenv("SSH_CONNECTION")); len(f) == 4 && net.ParseIP(f[2]) != nil && validPort(f[3]) {
		if f[3] != "22" {
			cmd += " -p " + f[3]
		}
		cmd += " " + user + "@" + f[2]
		if user == "USER" {
			cmd += " (USER: your user name here)"
		}
		return cmd
	}
	cmd += " " + user + "@THIS-HOST"
	if user == "USER" {
		return cmd + " (USER@THIS-HOST: your user name here and this machine's address)"
	}
	return cmd + " (THIS-HOST: this machine's address)"
}

// validPort reports whether p is a TCP port number.
func validPort(p string) bool {
	n, err := strconv.Atoi(p)
	return err == nil && n > 0 && n < 65536
}
