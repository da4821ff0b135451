package emulator

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/ghlogin/ghlogin/internal/emulator/internal/emuhttp"
)

// RegisterFlags adds the `ghlogin emulator` flags to fs, bound to cfg:
// --interval, --expires-in, --auto-approve, --auto-approve-web, --users,
// --client-id, --client-secret, --app, --device-flow-disabled-client,
// --callback-url, --token-lifetime, --refresh-lifetime, --omit-scope,
// --git-repos, --private-repos and --org.
// The client flags edit cfg.Clients, starting from DefaultClients(); the
// first client is the one --client-id, --client-secret and --app change.
func RegisterFlags(fs *pflag.FlagSet, cfg *Config) {
	if cfg.Interval <= 0 {
		cfg.Interval = DefaultInterval
	}
	if cfg.ExpiresIn <= 0 {
		cfg.ExpiresIn = DefaultExpiresIn
	}
	if len(cfg.Users) == 0 {
		cfg.Users = DefaultUsers()
	}
	fs.DurationVar(&cfg.Interval, "interval", cfg.Interval, "device flow polling interval the emulator asks for")
	fs.DurationVar(&cfg.ExpiresIn, "expires-in", cfg.ExpiresIn, "device code lifetime")
	fs.IntVar(&cfg.AutoApproveAfter, "auto-approve", cfg.AutoApproveAfter, "approve each device code as the first user at its N-th poll (0: a person approves at /login/device)")
	fs.IntSliceVar(&cfg.SlowDownPolls, "slow-down-polls", cfg.SlowDownPolls, "answer slow_down to these poll numbers even when on time (as a throttling GitHub would)")
	fs.BoolVar(&cfg.AutoApproveWeb, "auto-approve-web", cfg.AutoApproveWeb, "approve web flow requests at once, without the authorization page")
	fs.StringSliceVar(&cfg.Users, "users", cfg.Users, "logins a person can approve as")
	fs.StringVar(&cfg.GitRepos, "git-repos", cfg.GitRepos, "directory of bare repositories (OWNER/NAME.git) to serve over git smart HTTP")
	fs.BoolVar(&cfg.PrivateRepos, "private-repos", cfg.PrivateRepos, "serve a repository only to its owner's token or an --org member's (others get 404)")
	fs.Var(&orgFlag{cfg: cfg}, "org", "organisation and its members, as ORG=LOGIN[,LOGIN...] (repeatable)")

	fs.Var(&clientFlag{cfg: cfg, set: func(c *Client, v string) error { c.ID = v; return nil }, get: func(c *Client) string { return c.ID }},
		"client-id", "client ID of the main app")
	fs.Var(&clientFlag{cfg: cfg, set: func(c *Client, v string) error { c.Secret = v; return nil }, get: func(c *Client) string { return c.Secret }},
		"client-secret", "client secret of the main app")
	app := fs.VarPF(&clientFlag{cfg: cfg, typ: "bool", set: func(c *Client, v string) error {
		b, err := strconv.ParseBool(v)
		c.App = b
		return err
	}, get: func(c *Client) string { return strconv.FormatBool(c.App) }},
		"app", "", "make the main app a GitHub App issuing expiring ghu_ tokens with ghr_ refresh tokens")
	app.NoOptDefVal = "true"
	fs.Var(&clientFlag{cfg: cfg, disabled: true, set: func(c *Client, v string) error { c.ID = v; return nil }, get: func(c *Client) string { return c.ID }},
		"device-flow-disabled-client", "client ID of an app whose device flow is disabled")
	fs.Var(&clientFlag{cfg: cfg, all: true, set: func(c *Client, v string) error { c.CallbackURL = v; return nil }, get: func(*Client) string { return DefaultCallbackURL }},
		"callback-url", "registered callback URL of every app")
	fs.Var(&clientFlag{cfg: cfg, all: true, typ: "duration", set: durationSetter(func(c *Client, d time.Duration) { c.TokenLifetime = d }),
		get: func(*Client) string { return DefaultTokenLifetime.String() }},
		"token-lifetime", "lifetime of GitHub App access tokens")
	fs.Var(&clientFlag{cfg: cfg, all: true, typ: "duration", set: durationSetter(func(c *Client, d time.Duration) { c.RefreshLifetime = d }),
		get: func(*Client) string { return DefaultRefreshLifetime.String() }},
		"refresh-lifetime", "lifetime of GitHub App refresh tokens")
	omit := fs.VarPF(&clientFlag{cfg: cfg, all: true, typ: "bool", set: func(c *Client, v string) error {
		b, err := strconv.ParseBool(v)
		c.OmitScope = b
		return err
	}, get: func(*Client) string { return "false" }},
		"omit-scope", "", "leave scope out of token replies (RFC 6749 §5.1: the scopes granted are those requested)")
	omit.NoOptDefVal = "true"
}

func durationSetter(f func(*Client, time.Duration)) func(*Client, string) error {
	return func(c *Client, v string) error {
		d, err := time.ParseDuration(v)
		if err != nil {
			return err
		}
		if d <= 0 {
			return fmt.Errorf("%s: must be positive", v)
		}
		f(c, d)
		return nil
	}
}

// clientFlag is a pflag.Value that edits one field of cfg.Clients: the
// first client, the one with the device flow disabled, or all of them.
type clientFlag struct {
	cfg      *Config
	disabled bool
	all      bool
	typ      string
	set      func(*Client, string) error
	get      func(*Client) string
}

func (f *clientFlag) targets() []*Client {
	if len(f.cfg.Clients) == 0 {
		f.cfg.Clients = DefaultClients()
	}
	var out []*Client
	for i := range f.cfg.Clients {
		c := &f.cfg.Clients[i]
		switch {
		case f.all, f.disabled && c.DeviceFlowDisabled, !f.disabled && i == 0:
			out = append(out, c)
		}
		if !f.all && len(out) > 0 {
			break
		}
	}
	return out
}

func (f *clientFlag) String() string {
	if f.cfg == nil {
		return ""
	}
	clients := f.cfg.Clients
	if len(clients) == 0 {
		clients = DefaultClients()
	}
	for i := range clients {
		if f.all || (f.disabled && clients[i].DeviceFlowDisabled) || (!f.disabled && i == 0) {
			return f.get(&clients[i])
		}
	}
	return ""
}

func (f *clientFlag) Set(v string) error {
	for _, c := range f.targets() {
		if err := f.set(c, v); err != nil {
			return err
		}
	}
	return nil
}

func (f *clientFlag) Type() string {
	if f.typ != "" {
		return f.typ
	}
	return "string"
}

// orgFlag is --org ORG=LOGIN[,LOGIN...], adding to cfg.Orgs.
type orgFlag struct{ cfg *Config }

func (f *orgFlag) String() string {
	if f.cfg == nil || len(f.cfg.Orgs) == 0 {
		return ""
	}
	var parts []string
	for _, org := range slices.Sorted(maps.Keys(f.cfg.Orgs)) {
		parts = append(parts, org+"="+strings.Join(f.cfg.Orgs[org], ","))
	}
	return strings.Join(parts, " ")
}

func (f *orgFlag) Set(v string) error {
	org, members, ok := strings.Cut(v, "=")
	if !ok || !emuhttp.ValidName(org) {
		return fmt.Errorf("%q: use ORG=LOGIN[,LOGIN...]", v)
	}
	if f.cfg.Orgs == nil {
		f.cfg.Orgs = map[string][]string{}
	}
	for _, m := range strings.Split(members, ",") {
		if m = strings.TrimSpace(m); m != "" {
			f.cfg.Orgs[org] = append(f.cfg.Orgs[org], m)
		}
	}
	return nil
}

func (f *orgFlag) Type() string { return "ORG=LOGINS" }
