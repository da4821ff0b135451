package session

import (
	"errors"
	"reflect"
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/oauth"
)

func TestParseHost(t *testing.T) {
	f := newFixture(t)
	f.configure(func(c *config.File) {
		c.Hosts["127.0.0.1:8787"] = &config.Host{Protocol: "http"}
		c.Hosts["ghe.example.com"] = &config.Host{}
	})
	cfg := f.cfg()
	for _, tc := range []struct {
		in     string
		want   hosts.Host
		origin Origin
	}{
		{"", hosts.Host{Name: "github.com", Scheme: "https"}, OriginDefault},
		{"  ", hosts.Host{Name: "github.com", Scheme: "https"}, OriginDefault},
		{"GitHub.com", hosts.Host{Name: "github.com", Scheme: "https"}, OriginFlag},
		{"https://ghe.example.com:443/", hosts.Host{Name: "ghe.example.com", Scheme: "https"}, OriginFlag},
		{"http://127.0.0.1:8787", hosts.Host{Name: "127.0.0.1:8787", Scheme: "http"}, OriginFlag},
		// A bare loopback name takes the stored protocol ...
		{"127.0.0.1:8787", hosts.Host{Name: "127.0.0.1:8787", Scheme: "http"}, OriginFlag},
		// ... and only a stored one.
		{"127.0.0.1:9999", hosts.Host{Name: "127.0.0.1:9999", Scheme: "https"}, OriginFlag},
		// A URL's scheme wins over the stored protocol.
		{"https://127.0.0.1:8787", hosts.Host{Name: "127.0.0.1:8787", Scheme: "https"}, OriginFlag},
	} {
		h, origin, err := f.sess.ParseHost(tc.in, cfg)
		if err != nil || h != tc.want || origin != tc.origin {
			t.Errorf("ParseHost(%q) = %+v, %v, %v; want %+v, %v", tc.in, h, origin, err, tc.want, tc.origin)
		}
	}
	for _, in := range []string{"http://example.com", "https://user@github.com", "https://github.com/path", "exa mple.com"} {
		_, _, err := f.sess.ParseHost(in, cfg)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != "host" {
			t.Errorf("ParseHost(%q): %T %v, want an *InputError for host", in, err, err)
		}
	}
}

func TestResolveHostPrecedence(t *testing.T) {
	f := newFixture(t, EnvClientID, "Iv1.env", EnvClientSecret, "envsecret")
	f.configure(func(c *config.File) {
		c.Hosts["ghe.example.com"] = &config.Host{
			ClientID: "Iv1.ghes", ClientSecret: "s", ClientAuth: "basic",
			Scopes: []string{"read:user"}, Store: "file", APIURL: "https://api.ghe.example.com",
		}
	})
	cfg := f.cfg()
	resolve := func(req Request) *Target {
		t.Helper()
		tg, err := f.sess.ResolveHostIn(cfg, req)
		if err != nil {
			t.Fatalf("%+v: %v", req, err)
		}
		return tg
	}

	// github.com: nothing configured: the environment and the defaults.
	gh := resolve(Request{})
	if gh.Credentials != (oauth.Credentials{ClientID: "Iv1.env", ClientSecret: "envsecret"}) {
		t.Errorf("github.com credentials %+v", gh.Credentials)
	}
	if !reflect.DeepEqual(gh.Scopes, config.DefaultScopes) || gh.Store != "keyring" || gh.Known() {
		t.Errorf("github.com: scopes %v store %q known %v", gh.Scopes, gh.Store, gh.Known())
	}
	if gh.Endpoints.TokenURL != "https://github.com/login/oauth/access_token" || gh.Endpoints.APIURL != "https://api.github.com" {
		t.Errorf("github.com endpoints %+v", gh.Endpoints)
	}

	// The host's settings win over the environment ...
	ghe := resolve(Request{Host: "ghe.example.com"})
	want := oauth.Credentials{ClientID: "Iv1.ghes", ClientSecret: "s", Style: oauth.AuthBasic}
	if ghe.Credentials != want || !reflect.DeepEqual(ghe.Scopes, []string{"read:user"}) || ghe.Store != "file" || !ghe.Known() {
		t.Errorf("ghe: %+v scopes %v store %q", ghe.Credentials, ghe.Scopes, ghe.Store)
	}
	if ghe.Endpoints.UserInfoURL != "https://api.ghe.example.com/user" || ghe.Endpoints.DeviceCodeURL != "https://ghe.example.com/login/device/code" {
		t.Errorf("ghe endpoints %+v", ghe.Endpoints)
	}
	// ... and flags win over both.
	flags := resolve(Request{Host: "ghe.example.com", ClientID: "Iv1.flag", Scopes: []string{"repo"}, Store: "keyring",
		Overrides: config.Host{TokenURL: "https://idp.example.com/token", ClientAuth: "body"}})
	if flags.Credentials.ClientID != "Iv1.flag" || flags.Credentials.ClientSecret != "s" || flags.Credentials.Style != oauth.AuthInBody {
		t.Errorf("flag credentials %+v", flags.Credentials)
	}
	if !reflect.DeepEqual(flags.Scopes, []string{"repo"}) || flags.Store != "keyring" || flags.Endpoints.TokenURL != "https://idp.example.com/token" {
		t.Errorf("flags: scopes %v store %q endpoints %+v", flags.Scopes, flags.Store, flags.Endpoints)
	}
	// GHLOGIN_STORE sits between --store and the host's setting.
	f.env[EnvStore] = "keyring"
	if tg := resolve(Request{Host: "ghe.example.com"}); tg.Store != "keyring" {
		t.Errorf("GHLOGIN_STORE=keyring: store %q", tg.Store)
	}
	if tg := resolve(Request{Host: "ghe.example.com", Store: "file"}); tg.Store != "file" {
		t.Errorf("--store file over GHLOGIN_STORE: store %q", tg.Store)
	}
	// Blank values do not count.
	f.env[EnvStore] = "  "
	f.env[EnvClientID] = " "
	if tg := resolve(Request{}); tg.Store != "keyring" || tg.Credentials.ClientID != "" {
		t.Errorf("blank environment: store %q client %q", tg.Store, tg.Credentials.ClientID)
	}
}

func TestResolveHostErrors(t *testing.T) {
	f := newFixture(t)
	f.configure(func(c *config.File) {
		c.Hosts["bad.example.com"] = &config.Host{}
	})
	// A bad client_auth cannot be written with config set; edit the struct.
	cfg := f.cfg()
	cfg.Hosts["bad.example.com"].ClientAuth = "digest"
	for _, tc := range []struct {
		req   Request
		field string
	}{
		{Request{Host: "http://ghe.example.com"}, "host"},
		{Request{Store: "vault"}, "store"},
		{Request{Overrides: config.Host{TokenURL: "http://idp.example.com/token"}}, "token_url"},
		{Request{Overrides: config.Host{DeviceCodeURL: "/relative"}}, "device_code_url"},
		{Request{Overrides: config.Host{ClientAuth: "digest"}}, "client_auth"},
	} {
		_, err := f.sess.ResolveHostIn(cfg, tc.req)
		var ie *InputError
		if !errors.As(err, &ie) || ie.Field != tc.field {
			t.Errorf("%+v: %T %v, want an *InputError for %s", tc.req, err, err, tc.field)
		}
	}
	_, err := f.sess.ResolveHostIn(cfg, Request{Host: "bad.example.com"})
	var se *SettingError
	if !errors.As(err, &se) || se.Key != "client_auth" || se.Host != "bad.example.com" {
		t.Errorf("bad client_auth setting: %T %v", err, err)
	}
	// A login field is not a URL.
	if _, err := f.sess.ResolveHostIn(cfg, Request{Overrides: config.Host{LoginField: "sub"}}); err != nil {
		t.Errorf("login field: %v", err)
	}
}

func TestRequireClientID(t *testing.T) {
	f := newFixture(t)
	tg, err := f.sess.ResolveHost(Request{Host: "ghe.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var nc *NoClientIDError
	if err := tg.RequireClientID(); !errors.As(err, &nc) || nc.Host != "ghe.example.com" {
		t.Fatalf("%T %v", err, err)
	}
	f.env[EnvClientID] = "Iv1.env"
	if tg, _ = f.sess.ResolveHost(Request{Host: "ghe.example.com"}); tg.RequireClientID() != nil {
		t.Fatal("GHLOGIN_CLIENT_ID does not count")
	}
}

// The refresh of a stored account takes its token endpoint and OAuth app
// from the same resolution as a command (this was refresh.OptionsFor).
func TestRefreshOptions(t *testing.T) {
	f := newFixture(t, EnvClientID, "Iv1.env", EnvClientSecret, "envsecret")
	f.configure(func(c *config.File) {
		c.Hosts["ghe.example.com"] = &config.Host{ClientID: "Iv1.ghes", ClientSecret: "s", ClientAuth: "basic"}
		c.Hosts["127.0.0.1:8787"] = &config.Host{Protocol: "http"}
		c.Hosts["sso.example.com"] = &config.Host{TokenURL: "https://idp.example.com/oauth2/token", ClientID: "c"}
	})
	cfg := f.cfg()
	for host, want := range map[string]struct {
		url   string
		creds oauth.Credentials
	}{
		"github.com":      {"https://github.com/login/oauth/access_token", oauth.Credentials{ClientID: "Iv1.env", ClientSecret: "envsecret"}},
		"ghe.example.com": {"https://ghe.example.com/login/oauth/access_token", oauth.Credentials{ClientID: "Iv1.ghes", ClientSecret: "s", Style: oauth.AuthBasic}},
		"127.0.0.1:8787":  {"http://127.0.0.1:8787/login/oauth/access_token", oauth.Credentials{ClientID: "Iv1.env", ClientSecret: "envsecret"}},
		"sso.example.com": {"https://idp.example.com/oauth2/token", oauth.Credentials{ClientID: "c", ClientSecret: "envsecret"}},
	} {
		tg, err := f.sess.storedTarget(cfg, host)
		if err != nil {
			t.Fatal(err)
		}
		got := f.sess.RefreshOptions(tg)
		if got.TokenURL != want.url || got.Credentials != want.creds || got.Clock != f.clk || got.Client == nil || got.Client.UserAgent != "ghlogin/test" {
			t.Errorf("%s: %+v", host, got)
		}
	}
}

// One rule picks the default host, and every command without --host goes
// through it: GHLOGIN_HOST, GH_HOST, the only host with accounts, github.com.
func TestDefaultHost(t *testing.T) {
	f := newFixture(t)
	check := func(name, want string, origin Origin) {
		t.Helper()
		if got := f.sess.DefaultHost(f.cfg()); got != want {
			t.Errorf("%s: DefaultHost = %q, want %q", name, got, want)
		}
		tg, err := f.sess.ResolveHost(Request{})
		if err != nil || tg.Host.Name != hostsName(want) || tg.Origin != origin {
			t.Errorf("%s: %+v %v", name, tg, err)
		}
	}
	check("nothing", "github.com", OriginDefault)
	// A host with settings but no account does not count.
	f.configure(func(c *config.File) { c.Hosts["ghe.example.com"] = &config.Host{ClientID: "Iv1.x"} })
	check("settings only", "github.com", OriginDefault)
	f.configure(func(c *config.File) {
		c.Hosts["127.0.0.1:8787"] = &config.Host{Protocol: "http", Active: "octocat", Accounts: map[string]*config.Account{"octocat": {Store: "file"}}}
	})
	check("the only host with accounts", "127.0.0.1:8787", OriginDefault)
	if tg, _ := f.sess.ResolveHost(Request{}); tg.Host.Scheme != "http" {
		t.Errorf("the default loopback host lost its recorded scheme: %+v", tg.Host)
	}
	f.configure(func(c *config.File) {
		c.Hosts["ghe.example.com"].Active = "hubot"
		c.Hosts["ghe.example.com"].Accounts = map[string]*config.Account{"hubot": {Store: "file"}}
	})
	check("two hosts with accounts", "github.com", OriginDefault)
	f.env[EnvHost] = "ghe.example.com"
	check("GH_HOST", "ghe.example.com", OriginDefault)
	f.env[EnvGhloginHost] = "https://GHE2.example.com/"
	check("GHLOGIN_HOST before GH_HOST", "https://GHE2.example.com/", OriginDefault)
	// A bad value names its variable.
	f.env[EnvGhloginHost] = "http://example.com"
	_, err := f.sess.ResolveHost(Request{})
	var ie *InputError
	if !errors.As(err, &ie) || ie.Field != EnvGhloginHost {
		t.Errorf("bad GHLOGIN_HOST: %T %v", err, err)
	}
	delete(f.env, EnvGhloginHost)
	f.env[EnvHost] = "exa mple.com"
	if _, err := f.sess.ResolveHost(Request{}); !errors.As(err, &ie) || ie.Field != EnvHost {
		t.Errorf("bad GH_HOST: %T %v", err, err)
	}
	// --host wins over all of them.
	if tg, err := f.sess.ResolveHost(Request{Host: "github.com"}); err != nil || tg.Host.Name != "github.com" || tg.Origin != OriginFlag {
		t.Errorf("--host: %+v %v", tg, err)
	}
}

// hostsName is the name hosts.Parse gives v.
func hostsName(v string) string {
	h, err := hosts.Parse(v)
	if err != nil {
		return v
	}
	return h.Name
}

// HostArg names a plain-http loopback host by its URL wherever ghlogin
// learnt that it speaks http: the command line's --host, the default
// host's variable, or the configuration; every other host by its name.
func TestHostArg(t *testing.T) {
	f := newFixture(t)
	const lo = "127.0.0.1:8787"
	for _, tc := range []struct{ name, given, want string }{
		{"github.com", "", "github.com"},
		{lo, "", lo}, // nothing says http: https is implied
		{lo, "http://" + lo, "http://" + lo},
		{lo, "https://" + lo, lo},
		{lo, "github.com", lo},
		{"ghe.example.com", "http://" + lo, "ghe.example.com"},
	} {
		if got := f.sess.HostArg(tc.name, tc.given); got != tc.want {
			t.Errorf("HostArg(%q, %q) = %q, want %q", tc.name, tc.given, got, tc.want)
		}
	}
	f.env[EnvGhloginHost] = "http://" + lo
	if got := f.sess.HostArg(lo, ""); got != "http://"+lo {
		t.Errorf("HostArg with GHLOGIN_HOST=http://%s: %q", lo, got)
	}
	delete(f.env, EnvGhloginHost)
	f.configure(func(c *config.File) { c.Hosts = map[string]*config.Host{lo: {Protocol: "http"}} })
	if got := f.sess.HostArg(lo, ""); got != "http://"+lo {
		t.Errorf("HostArg with protocol http in the config: %q", got)
	}
}
