package cli

import (
	"errors"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/identity"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/internal/session/pick"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/webflow"
)

// hintedErrors are errors whose next steps name flags, commands or hosts.
func hintedErrors(host string) []error {
	noService := &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}
	kernel := store.StoreInfo{Name: "kernel", Place: "the kernel keyring", Protection: "in memory only", Lifetime: "until the machine restarts"}
	file := store.StoreInfo{Name: "file", Place: "/c/credentials.json", Protection: "plaintext at rest", Lifetime: "until you log out"}
	return []error{
		&oauth.Error{Code: "device_flow_disabled"},
		&oauth.Error{Code: "invalid_client"},
		&oauth.Error{Code: "invalid_scope"},
		&oauth.NetworkError{Endpoint: "https://" + host + "/login/device/code", Err: errors.New("http: server gave HTTP response to HTTPS client")},
		&oauth.TimeoutError{Message: "no answer from the browser", Flow: oauth.FlowWeb},
		&store.KeyringUnavailableError{Op: "read", Err: noService},
		&store.KeyringUnavailableError{Op: "write", Err: noService},
		&store.KeyringUnavailableError{Op: "write", Err: errors.New("locked")},
		noService,
		&store.KernelKeyringUnavailableError{Op: "write", Reason: "seccomp"},
		&store.SecretTooLargeError{Store: "keyring", Err: errors.New("too big")},
		&store.NotLoggedInError{Host: host},
		&store.NotLoggedInError{Host: host, Login: "octocat", Gone: true, Store: "kernel"},
		&store.CorruptSecretError{Host: host, Login: "octocat", Store: "file"},
		&deviceflow.ConfigError{Field: deviceflow.FieldClientID, Reason: "none is configured"},
		&webflow.ConfigError{Field: webflow.FieldClientID, Reason: "none is configured"},
		&githubapi.UnauthorizedError{Host: host},
		&config.ParseError{Path: "/c/config.toml", Host: host, Key: "client_id", Err: errors.New("bad")},
		&refresh.NoIDTokenError{Host: host, Login: "octocat"},
		&refresh.NeedsLoginError{Host: host, Login: "octocat", Reason: "no refresh token"},
		&oidcdisc.DocumentError{Issuer: "http://" + host, Problem: oidcdisc.IssuerMismatch},
		&oidcdisc.FetchError{Issuer: "http://" + host, URL: "http://" + host + "/.well-known/openid-configuration", Err: errors.New("404")},
		&oidcdisc.NotDiscoveredError{Host: host, Issuer: "http://" + host},
		&identity.NoIdentityError{Issuer: "http://" + host},
		&session.NoClientIDError{Host: host},
		&session.NoClientSecretError{Host: host, Scheme: "http"},
		&session.EndedTogetherError{Host: host, Login: "octocat"},
		&session.SettingError{Host: host, Key: "client_auth", Err: errors.New("must be body or basic")},
		&session.StoreUnavailableError{Host: host, Unavailable: store.StoreInfo{Name: "keyring", Place: "the OS keyring"}, Err: noService,
			Offers: []store.Offer{{StoreInfo: kernel}, {StoreInfo: file}}},
		&pick.BindingError{Binding: config.Binding{Host: host, Kind: config.BindOwner, Pattern: "my-org", Login: "alice"}, Owner: "my-org"},
	}
}

// checkFlagsNamed checks that a message names only flags that exist where
// it names them: a bare --flag must be one of the command at hand's, and
// a flag inside a command line ("ghlogin login --store kernel") one of
// that command's.
func checkFlagsNamed(t *testing.T, root, at *cobra.Command, msg string) {
	t.Helper()
	has := func(c *cobra.Command, flag string) bool {
		return c.Flags().Lookup(flag) != nil || c.InheritedFlags().Lookup(flag) != nil
	}
	var line *cobra.Command // the command of the command line being read
	tokens := strings.Fields(msg)
	for i := 0; i < len(tokens); i++ {
		tok := strings.TrimLeft(tokens[i], "(")
		if tokens[i] != tok {
			line = nil // "(…" opens an aside
		}
		word := strings.TrimRight(tok, ",;:).")
		ends := word != tok
		switch {
		case word == "ghlogin":
			// The longest run of subcommand names after it.
			c := root
			for i+1 < len(tokens) {
				next, _, err := c.Find([]string{strings.TrimRight(tokens[i+1], ",;:).")})
				if err != nil || next == c || next.Name() != strings.TrimRight(tokens[i+1], ",;:).") {
					break
				}
				c = next
				i++
				if strings.TrimRight(tokens[i], ",;:).") != tokens[i] {
					break
				}
			}
			line = c
			if c == root {
				line = nil
			}
		case strings.HasPrefix(word, "--"):
			name, _, _ := strings.Cut(strings.TrimPrefix(word, "--"), "=")
			switch {
			case line != nil && !has(line, name):
				t.Errorf("%q names %s --%s, which %s does not have:\n%s", at.CommandPath(), line.CommandPath(), name, line.CommandPath(), msg)
			case line == nil && !has(at, name):
				t.Errorf("%q's message names --%s, which it does not have:\n%s", at.CommandPath(), name, msg)
			}
		}
		if ends {
			line = nil
		}
	}
}

// Every next step, explained for any command of the tree, names only flags
// that command has (or whole command lines with their own flags), and a
// plain-http loopback host by its http:// URL: token never suggests
// --store, refresh never --client-id.
func TestHintsNameOnlyFlagsOfTheCommandAtHand(t *testing.T) {
	h := newHarness(t, emuDefaults)
	h.setHost(func(c *config.Host) { c.Protocol = "http" })
	env, _, _ := h.env("")
	a := newApp(env)
	root := a.newRoot()
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			walk(sub)
		}
		if !c.Runnable() {
			return
		}
		ctx := a.hintsFor(c)
		for _, err := range hintedErrors(h.host) {
			msg := explainIn(err, ctx)
			checkFlagsNamed(t, root, c, msg)
			if strings.Contains(msg, "--host "+h.host) {
				t.Errorf("%s: the plain-http host is named without http://:\n%s", c.CommandPath(), msg)
			}
			if strings.Contains(strings.TrimSpace(msg), "\n") {
				t.Errorf("%s: the message is more than one line:\n%s", c.CommandPath(), msg)
			}
		}
	}
	walk(root)

	// The review's cases, as people meet them.
	tok := &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}}
	r := h.run("", "token", "--host", "http://127.0.0.1:1")
	if !strings.Contains(r.stderr, "run: ghlogin login --host http://127.0.0.1:1") {
		t.Errorf("token on a fresh config: %q", r.stderr)
	}
	for _, c := range []struct {
		args []string
		err  error
		want string
	}{
		{[]string{"token"}, tok, "log in with ghlogin login --store kernel"},
		{[]string{"token", "--host", h.srv.URL}, tok, "log in with ghlogin login --host http://" + h.host + " --store kernel"},
		{[]string{"login"}, tok, "use --store kernel or set GHLOGIN_STORE=kernel"},
		{[]string{"refresh"}, &session.NoClientIDError{Host: h.host}, "give its client ID with GHLOGIN_CLIENT_ID or ghlogin config set --host http://" + h.host + " client_id ID"},
		{[]string{"login"}, &session.NoClientIDError{Host: h.host}, "give its client ID with --client-id, GHLOGIN_CLIENT_ID or ghlogin config set --host http://" + h.host + " client_id ID"},
	} {
		cmd, _, err := a.newRoot().Find(c.args[:1])
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.ParseFlags(c.args[1:]); err != nil {
			t.Fatal(err)
		}
		if got := explainIn(c.err, a.hintsFor(cmd)); !strings.Contains(got, c.want) {
			t.Errorf("%v: %q lacks %q", c.args, got, c.want)
		}
	}
}
