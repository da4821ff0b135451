package cli

import (
	"bytes"
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/ui"
)

func TestLoginFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want *loginOptions // nil: a usage error
	}{
		{"defaults", nil, &loginOptions{Timeout: 5 * time.Minute}},
		{"device", []string{"--device"}, &loginOptions{Device: true, Timeout: 5 * time.Minute}},
		{"web", []string{"--web", "--no-browser", "--timeout", "90s"}, &loginOptions{Web: true, NoBrowser: true, Timeout: 90 * time.Second}},
		{"everything", []string{"--host", "ghe.example.com", "--client-id", "Iv1.x", "--store", "file", "--json",
			"--scopes", "repo,read:org", "--scopes", "gist workflow", "--token-url", "https://idp/t", "--device-code-url", "https://idp/d",
			"--authorize-url", "https://idp/a", "--api-url", "https://idp/api", "--userinfo-url", "https://idp/u",
			"--login-field", "sub", "--client-auth", "basic"},
			&loginOptions{Host: "ghe.example.com", ClientID: "Iv1.x", Store: "file", JSON: true,
				Scopes: []string{"repo", "read:org", "gist", "workflow"}, Timeout: 5 * time.Minute,
				Overrides: config.Host{TokenURL: "https://idp/t", DeviceCodeURL: "https://idp/d", AuthorizeURL: "https://idp/a",
					APIURL: "https://idp/api", UserInfoURL: "https://idp/u", LoginField: "sub", ClientAuth: "basic"}}},
		{"with-token", []string{"--with-token", "--host", "http://127.0.0.1:8787"}, &loginOptions{WithToken: true, Host: "http://127.0.0.1:8787", Timeout: 5 * time.Minute}},
		// The GitHub CLI's names.
		{"gh short flags", []string{"-w", "-s", "repo,gist", "-c", "-p", "SSH", "--hostname", "ghe.example.com"},
			&loginOptions{Web: true, Scopes: []string{"repo", "gist"}, Clipboard: true, GitProtocol: "ssh", Host: "ghe.example.com", Timeout: 5 * time.Minute}},
		{"insecure storage", []string{"--insecure-storage"}, &loginOptions{InsecureStorage: true, Store: "file", Timeout: 5 * time.Minute}},
		{"store and insecure storage", []string{"--insecure-storage", "--store", "keyring"}, nil},
		{"host and hostname", []string{"--host", "a.example.com", "--hostname", "b.example.com"}, nil},
		{"negative timeout", []string{"--timeout", "-1s"}, nil},
		{"wait", []string{"--wait", "2h"}, &loginOptions{Wait: 2 * time.Hour, waitSet: true, Timeout: 5 * time.Minute}},
		{"negative wait", []string{"--wait=-5m"}, nil},
		{"zero wait", []string{"--wait", "0s"}, nil},
		{"unknown git protocol", []string{"-p", "ftp"}, nil},
		{"device and web", []string{"--device", "--web"}, nil},
		{"web and with-token", []string{"--web", "--with-token"}, nil},
		{"an argument", []string{"github.com"}, nil},
		{"unknown flag", []string{"--hostname-x", "x"}, nil},
		{"bad duration", []string{"--timeout", "soon"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, emuDefaults)
			env, _, _ := h.env("")
			a := newApp(env)
			var got *loginOptions
			code := runCmd(t, a, newLoginCmd(a, func(o *loginOptions) error { got = o; return nil }), tc.args...)
			if tc.want == nil {
				if code != ExitUsage || got != nil {
					t.Fatalf("exit %d, ran %v; want a usage error", code, got != nil)
				}
				return
			}
			if code != 0 || got == nil {
				t.Fatalf("exit %d", code)
			}
			if got.IO != env || got.Session != a.sess {
				t.Error("the options do not hold the app's dependencies")
			}
			got.IO, got.Session = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestAccountCommandFlags(t *testing.T) {
	type hostUser struct{ host, user string }
	cmds := map[string]func(a *app, got *hostUser) *cobra.Command{
		"token": func(a *app, got *hostUser) *cobra.Command {
			return newTokenCmd(a, func(o *tokenOptions) error { *got = hostUser{o.Host, o.User}; return nil })
		},
		"logout": func(a *app, got *hostUser) *cobra.Command {
			return newLogoutCmd(a, func(o *logoutOptions) error { *got = hostUser{o.Host, o.User}; return nil })
		},
		"switch": func(a *app, got *hostUser) *cobra.Command {
			return newSwitchCmd(a, func(o *switchOptions) error { *got = hostUser{o.Host, o.User}; return nil })
		},
	}
	for name, build := range cmds {
		for _, tc := range []struct {
			args []string
			want *hostUser
		}{
			{nil, &hostUser{}},
			{[]string{"--host", "ghe.example.com", "--user", "alice"}, &hostUser{"ghe.example.com", "alice"}},
			{[]string{"alice"}, nil},
			{[]string{"--login", "alice"}, nil},
		} {
			h := newHarness(t, emuDefaults)
			env, _, _ := h.env("")
			a := newApp(env)
			got := &hostUser{"unset", "unset"}
			code := runCmd(t, a, build(a, got), tc.args...)
			switch {
			case tc.want == nil && code != ExitUsage:
				t.Errorf("%s %v: exit %d, want 2", name, tc.args, code)
			case tc.want != nil && (code != 0 || *got != *tc.want):
				t.Errorf("%s %v: exit %d, got %+v", name, tc.args, code, got)
			}
		}
	}
}

func TestStatusFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *statusOptions
	}{
		{nil, &statusOptions{}},
		{[]string{"--host", "ghe.example.com", "--json", "--offline"}, &statusOptions{Host: "ghe.example.com", JSON: true, Offline: true}},
		{[]string{"extra"}, nil},
	} {
		h := newHarness(t, emuDefaults)
		env, _, _ := h.env("")
		a := newApp(env)
		var got *statusOptions
		code := runCmd(t, a, newStatusCmd(a, func(o *statusOptions) error { got = o; return nil }), tc.args...)
		if tc.want == nil {
			if code != ExitUsage {
				t.Errorf("%v: exit %d", tc.args, code)
			}
			continue
		}
		got.IO, got.Session = nil, nil
		if code != 0 || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: exit %d, %+v", tc.args, code, got)
		}
	}
}

func TestConfigFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want *configOptions
	}{
		{[]string{"get", "client_id"}, &configOptions{Action: "get", Key: "client_id"}},
		{[]string{"set", "--host", "ghe.example.com", "scopes", "repo,gist"}, &configOptions{Host: "ghe.example.com", Action: "set", Key: "scopes", Value: "repo,gist"}},
		{[]string{"--host", "http://127.0.0.1:8787", "list"}, &configOptions{Host: "http://127.0.0.1:8787", Action: "list"}},
		{[]string{"get"}, nil},
		{[]string{"get", "a", "b"}, nil},
		{[]string{"set", "client_id"}, nil},
		{[]string{"list", "x"}, nil},
	} {
		h := newHarness(t, emuDefaults)
		env, _, _ := h.env("")
		a := newApp(env)
		var got *configOptions
		code := runCmd(t, a, newConfigCmd(a, func(o *configOptions) error { got = o; return nil }), tc.args...)
		if tc.want == nil {
			if code != ExitUsage || got != nil {
				t.Errorf("%v: exit %d", tc.args, code)
			}
			continue
		}
		if got == nil {
			t.Fatalf("%v: exit %d, not run", tc.args, code)
		}
		got.IO, got.Session = nil, nil
		if code != 0 || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: exit %d, %+v", tc.args, code, got)
		}
	}
}

func TestGitCommandFlags(t *testing.T) {
	h := newHarness(t, emuDefaults)
	env, _, _ := h.env("")
	a := newApp(env)
	var action string
	if code := runCmd(t, a, newGitCredentialCmd(a, func(o *gitCredentialOptions) error { action = o.Action; return nil }), "get"); code != 0 || action != "get" {
		t.Errorf("git-credential get: exit %d, action %q", code, action)
	}
	for _, args := range [][]string{nil, {"get", "store"}} {
		if code := runCmd(t, a, newGitCredentialCmd(a, func(*gitCredentialOptions) error { return nil }), args...); code != ExitUsage {
			t.Errorf("git-credential %v: exit %d", args, code)
		}
	}
	var sg *setupGitOptions
	if code := runCmd(t, a, newSetupGitCmd(a, func(o *setupGitOptions) error { sg = o; return nil }), "--host", "ghe.example.com", "--unset"); code != 0 || sg.Host != "ghe.example.com" || !sg.Unset {
		t.Errorf("setup-git: exit %d, %+v", code, sg)
	}
	if code := runCmd(t, a, newSetupGitCmd(a, func(*setupGitOptions) error { return nil }), "x"); code != ExitUsage {
		t.Errorf("setup-git x: exit %d", code)
	}
	ran := false
	if code := runCmd(t, a, newDemoCmd(a, func(*demoOptions) error { ran = true; return nil })); code != 0 || !ran {
		t.Errorf("demo: exit %d", code)
	}
	if code := runCmd(t, a, newDemoCmd(a, func(*demoOptions) error { return nil }), "now"); code != ExitUsage {
		t.Errorf("demo now: exit %d", code)
	}
}

// The whole tree, as the documentation generator reads it; the git
// helper's fast path holds only its command.
func TestNewRootCmd(t *testing.T) {
	var names []string
	want := []string{"agent", "bind", "completion", "config", "demo", "emulator", "exec", "git-credential", "help", "login", "logout", "oidc", "refresh", "setup-git", "ssh", "status", "switch", "token", "version"}
	root := NewRootCmd(nil)
	root.InitDefaultCompletionCmd()
	root.InitDefaultHelpCmd()
	for _, c := range root.Commands() {
		names = append(names, c.Name())
	}
	if !reflect.DeepEqual(names, want) {
		t.Errorf("commands %v", names)
	}
	// The terminal UI keeps these commands' command lines whole.
	if !reflect.DeepEqual(ui.CommandNames, names) {
		t.Errorf("ui.CommandNames is %v; the commands are %v", ui.CommandNames, names)
	}
	for name := range alone {
		fast := newApp(&Env{}).rootFor([]string{name})
		if cs := fast.Commands(); len(cs) != 1 || cs[0].Name() != name {
			t.Errorf("%s: fast path %v", name, cs)
		}
	}
}

// A command built alone (rootFor) says the same as in the whole tree: its
// help, and the errors of a command line it does not take.
func TestAloneSameAsWhole(t *testing.T) {
	for name := range alone {
		for _, args := range [][]string{{"--help"}, {"-h"}, {"--bogus"}, {"extra", "args"}, {"--host"}} {
			argv := append([]string{name}, args...)
			var outs [2]string
			var codes [2]int
			for i, whole := range []bool{true, false} {
				var out, errb bytes.Buffer
				a := newApp(&Env{Stdin: strings.NewReader(""), Stdout: &out, Stderr: &errb})
				root := a.rootFor(argv)
				if whole {
					root = a.newRoot()
				}
				codes[i] = a.execute(context.Background(), root, argv)
				outs[i] = out.String() + "\n--- stderr:\n" + errb.String()
			}
			if codes[0] != codes[1] || outs[0] != outs[1] {
				t.Errorf("%v: alone exit %d:\n%s\nwhole tree exit %d:\n%s", argv, codes[1], outs[1], codes[0], outs[0])
			}
		}
	}
}

// refresh's flags: one way to change the scopes, a flow, the account.
func TestRefreshFlags(t *testing.T) {
	web := 5 * time.Minute
	for _, tc := range []struct {
		name string
		args []string
		want *refreshOptions // nil: a usage error
	}{
		{"defaults", nil, &refreshOptions{Timeout: web}},
		{"add", []string{"--host", "ghe.example.com", "--user", "alice", "--add-scopes", "workflow", "--add-scopes", "gist write:packages"},
			&refreshOptions{Host: "ghe.example.com", User: "alice", AddScopes: []string{"workflow", "gist", "write:packages"}, Timeout: web}},
		{"set", []string{"--scopes", "repo,read:org", "--web", "--no-browser", "--timeout", "1m"},
			&refreshOptions{Scopes: []string{"repo", "read:org"}, Web: true, NoBrowser: true, Timeout: time.Minute}},
		{"remove", []string{"--remove-scopes", "gist", "--device", "--json"}, &refreshOptions{RemoveScopes: []string{"gist"}, Device: true, JSON: true, Timeout: web}},
		{"set and add", []string{"--scopes", "repo", "--add-scopes", "gist"}, nil},
		{"add and remove", []string{"--add-scopes", "repo", "--remove-scopes", "gist"}, nil},
		{"device and web", []string{"--device", "--web"}, nil},
		{"an argument", []string{"alice"}, nil},
		// The flags every account command has, as in the GitHub CLI.
		{"-u and --hostname", []string{"-u", "octocat", "--hostname", "127.0.0.1:18787", "--scopes", "repo"},
			&refreshOptions{User: "octocat", Host: "127.0.0.1:18787", Scopes: []string{"repo"}, Timeout: web}},
		{"-w", []string{"-w"}, &refreshOptions{Web: true, Timeout: web}},
		// gh auth refresh -s adds scopes, -r removes them.
		{"-s adds", []string{"-s", "delete_repo"}, &refreshOptions{AddScopes: []string{"delete_repo"}, Timeout: web}},
		{"-r removes", []string{"-r", "gist,workflow"}, &refreshOptions{RemoveScopes: []string{"gist", "workflow"}, Timeout: web}},
		{"-s and -r", []string{"-s", "repo", "-r", "gist"}, nil},
		{"-s and --scopes", []string{"-s", "repo", "--scopes", "gist"}, nil},
		{"host and hostname", []string{"--host", "a.example.com", "--hostname", "b.example.com"}, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, emuDefaults)
			env, _, _ := h.env("")
			a := newApp(env)
			var got *refreshOptions
			code := runCmd(t, a, newRefreshCmd(a, func(o *refreshOptions) error { got = o; return nil }), tc.args...)
			if tc.want == nil {
				if code != ExitUsage || got != nil {
					t.Fatalf("exit %d, ran %v; want a usage error", code, got != nil)
				}
				return
			}
			if code != 0 || got == nil {
				t.Fatalf("exit %d", code)
			}
			got.IO, got.Session = nil, nil
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// logout --local and token --id-token.
func TestLogoutAndTokenFlags(t *testing.T) {
	h := newHarness(t, emuDefaults)
	env, _, _ := h.env("")
	a := newApp(env)
	var lo *logoutOptions
	if code := runCmd(t, a, newLogoutCmd(a, func(o *logoutOptions) error { lo = o; return nil }), "--local", "--user", "alice"); code != 0 || !lo.Local || lo.User != "alice" {
		t.Errorf("logout --local: exit %d, %+v", code, lo)
	}
	lo = nil
	if code := runCmd(t, a, newLogoutCmd(a, func(o *logoutOptions) error { lo = o; return nil })); code != 0 || lo.Local {
		t.Errorf("logout: exit %d, %+v", code, lo)
	}
	var to *tokenOptions
	if code := runCmd(t, a, newTokenCmd(a, func(o *tokenOptions) error { to = o; return nil }), "--id-token", "--host", "sso.example.com"); code != 0 || !to.IDToken || to.Host != "sso.example.com" {
		t.Errorf("token --id-token: exit %d, %+v", code, to)
	}
	if code := runCmd(t, a, newTokenCmd(a, func(*tokenOptions) error { return nil }), "--id-token=maybe"); code != ExitUsage {
		t.Errorf("token --id-token=maybe: exit %d", code)
	}
	var li *loginOptions
	if code := runCmd(t, a, newLoginCmd(a, func(o *loginOptions) error { li = o; return nil }), "--issuer", "https://sso.example.com/dex"); code != 0 || li.Overrides.Issuer != "https://sso.example.com/dex" {
		t.Errorf("login --issuer: exit %d, %+v", code, li)
	}
}

// Every command that acts on a host takes --host and its GitHub CLI alias
// --hostname (hidden, excluding each other), and every command that acts
// on an account takes -u/--user, the same everywhere. A command left out
// of either says why here; a new command must be placed in one list or
// the other.
func TestHostAndUserFlagsEverywhere(t *testing.T) {
	noHost := map[string]string{
		"ghlogin":                  "the root runs no command",
		"ghlogin git-credential":   "git names the host in its request",
		"ghlogin agent":            "--allow lists the hosts it serves",
		"ghlogin ssh":              "--allow lists the hosts it lends",
		"ghlogin emulator":         "it is a server (--addr)",
		"ghlogin demo":             "it runs its own emulator",
		"ghlogin completion":       "no host",
		"ghlogin version":          "no host",
		"ghlogin oidc":             "workload identity has no login host",
		"ghlogin oidc token":       "workload identity has no login host",
		"ghlogin oidc exchange":    "workload identity has no login host",
		"ghlogin oidc cred-config": "workload identity has no login host",
		"ghlogin oidc doctor":      "workload identity has no login host",
	}
	withUser := map[string]bool{
		"ghlogin token": true, "ghlogin exec": true, "ghlogin refresh": true, "ghlogin logout": true,
		"ghlogin switch": true, "ghlogin bind": true, "ghlogin agent": true, "ghlogin ssh": true,
	}
	seen := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := c.CommandPath()
		seen[path] = true
		for _, sub := range c.Commands() {
			walk(sub)
		}
		lookup := func(name string) *pflag.Flag {
			if f := c.LocalFlags().Lookup(name); f != nil {
				return f
			}
			return c.InheritedFlags().Lookup(name)
		}
		host, hostname := lookup("host"), lookup("hostname")
		_, exempt := noHost[path]
		switch {
		case exempt && (host != nil || hostname != nil):
			t.Errorf("%s has --host but is listed as having none (%s)", path, noHost[path])
		case !exempt && host == nil:
			t.Errorf("%s has no --host", path)
		case !exempt && hostname == nil:
			t.Errorf("%s has --host but not its alias --hostname", path)
		case !exempt && !hostname.Hidden:
			t.Errorf("%s shows --hostname in its help; it is a hidden alias of --host", path)
		case !exempt && host.Shorthand != "":
			t.Errorf("%s: --host has the shorthand -%s; it has none anywhere", path, host.Shorthand)
		}
		if !exempt && host != nil && hostname != nil {
			// The alias sets the same value, and the two exclude each
			// other (each on a tree of its own: subcommands share their
			// parent's persistent flags).
			fresh := func(args ...string) (*cobra.Command, error) {
				cmd, _, err := NewRootCmd(nil).Find(strings.Fields(path)[1:])
				if err != nil {
					t.Fatalf("%s: %v", path, err)
				}
				if err := cmd.ParseFlags(args); err != nil {
					return cmd, err
				}
				return cmd, cmd.ValidateFlagGroups()
			}
			if cmd, err := fresh("--hostname", "ghe.example.com"); err != nil || cmd.Flag("host").Value.String() != "ghe.example.com" {
				t.Errorf("%s: --hostname does not set --host (%v)", path, err)
			}
			if _, err := fresh("--host", "a.example.com", "--hostname", "b.example.com"); err == nil {
				t.Errorf("%s accepts --host together with --hostname", path)
			}
		}
		user := lookup("user")
		switch {
		case withUser[path] && user == nil:
			t.Errorf("%s acts on an account but has no --user", path)
		case withUser[path] && user.Shorthand != "u":
			t.Errorf("%s: --user has shorthand %q, want -u as everywhere else", path, user.Shorthand)
		case !withUser[path] && user != nil:
			t.Errorf("%s has --user but is not listed as acting on an account", path)
		}
	}
	walk(NewRootCmd(nil))
	for path := range noHost {
		if !seen[path] {
			t.Errorf("%s is listed but is not a command", path)
		}
	}
	for path := range withUser {
		if !seen[path] {
			t.Errorf("%s is listed but is not a command", path)
		}
	}
}

// A login flag that does nothing in the chosen flow is refused (exit 2)
// with a sentence naming both flags, as --device with --web is, and a
// pointer to login's help; nothing runs.
func TestLoginFlagsForAnotherFlow(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--web", "--wait", "1h"}, "error: --web and --wait cannot be used together: --wait asks for new device codes, and the web flow has none\n"},
		{[]string{"-w", "--wait", "1h"}, "error: --web and --wait cannot be used together"},
		{[]string{"--with-token", "--wait", "1h"}, "error: --with-token and --wait cannot be used together"},
		{[]string{"--with-token", "--qr"}, "error: --with-token and --qr cannot be used together"},
		{[]string{"--with-token", "--scopes", "x"}, "error: --with-token and --scopes cannot be used together: a token read from standard input keeps the scopes it was given (change them with ghlogin refresh)\n"},
		{[]string{"--with-token", "-s", "x"}, "error: --with-token and --scopes cannot be used together"},
		{[]string{"--with-token", "-c"}, "error: --with-token and --clipboard cannot be used together"},
		{[]string{"--with-token", "--no-browser"}, "error: --with-token and --no-browser cannot be used together"},
		{[]string{"--with-token", "--timeout", "1m"}, "error: --with-token and --timeout cannot be used together"},
		{[]string{"--timeout", "2s"}, "error: --timeout applies to the web flow (--web): the device flow waits until the code expires, or until --wait ends\n"},
		{[]string{"--device", "--timeout", "2s"}, "error: --timeout applies to the web flow (--web)"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			h := newHarness(t, emuDefaults)
			env, _, errb := h.env("")
			a := newApp(env)
			ran := false
			code := runCmd(t, a, newLoginCmd(a, func(o *loginOptions) error { ran = true; return nil }), tc.args...)
			if code != ExitUsage || ran {
				t.Fatalf("exit %d, ran %v; want a usage error", code, ran)
			}
			if !strings.HasPrefix(errb.String(), tc.want) || !strings.HasSuffix(errb.String(), "Run 'ghlogin login --help' for usage.\n") {
				t.Errorf("stderr %q", errb.String())
			}
		})
	}
	// The flags still go with the flows they belong to.
	for _, args := range [][]string{
		{"--device", "--wait", "1h", "--qr", "-c", "--scopes", "repo"},
		{"--web", "--timeout", "1m", "--no-browser", "--scopes", "repo"},
		{"--with-token", "--json", "--store", "file"},
	} {
		h := newHarness(t, emuDefaults)
		env, _, errb := h.env("")
		a := newApp(env)
		if code := runCmd(t, a, newLoginCmd(a, func(o *loginOptions) error { return nil }), args...); code != 0 {
			t.Errorf("%v: exit %d %q", args, code, errb.String())
		}
	}
}
