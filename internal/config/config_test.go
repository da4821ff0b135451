package config

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/hosts"
)

func TestDir(t *testing.T) {
	d := t.TempDir()
	t.Setenv(EnvDir, d)
	got, err := Dir()
	if err != nil || got != d {
		t.Fatalf("Dir() = %q, %v; want %q", got, err, d)
	}
	if runtime.GOOS == "linux" {
		t.Setenv(EnvDir, "")
		t.Setenv("XDG_CONFIG_HOME", "/x/cfg")
		got, err = Dir()
		if err != nil || got != "/x/cfg/ghlogin" {
			t.Fatalf("Dir() with XDG_CONFIG_HOME = %q, %v", got, err)
		}
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	f, err := Load(filepath.Join(t.TempDir(), "nope"))
	if err != nil {
		t.Fatal(err)
	}
	if f.Hosts == nil || len(f.Hosts) != 0 || f.KeyringTimeout != 0 {
		t.Fatalf("want empty file, got %+v", f)
	}
	if f.Timeout() != 3*time.Second {
		t.Fatalf("default timeout = %v", f.Timeout())
	}
}

func TestLoadCorruptNamesPathAndKeepsFile(t *testing.T) {
	dir := t.TempDir()
	bad := []byte("[hosts.\"github.com\"\nclient_id = ")
	if err := os.WriteFile(Path(dir), bad, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Load(dir)
	var pe *ParseError
	if !errors.As(err, &pe) || pe.Path != Path(dir) || !strings.Contains(err.Error(), Path(dir)) {
		t.Fatalf("want *ParseError naming %s, got %v", Path(dir), err)
	}
	if !strings.Contains(err.Error(), "line") {
		t.Errorf("message should give the line: %v", err)
	}
	got, _ := os.ReadFile(Path(dir))
	if string(got) != string(bad) {
		t.Fatal("a corrupt file must be left alone")
	}
}

func TestLoadRejectsUnknownKeysAndDuplicateHosts(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(Path(dir), []byte("[hosts.\"github.com\"]\nclient_idd = \"x\"\n"), 0o600)
	_, err := Load(dir)
	if err == nil || !strings.Contains(err.Error(), "client_idd") {
		t.Fatalf("want unknown key error, got %v", err)
	}
	os.WriteFile(Path(dir), []byte("[hosts.\"GitHub.com\"]\nclient_id = \"a\"\n[hosts.\"github.com:443\"]\nclient_id = \"b\"\n"), 0o600)
	_, err = Load(dir)
	if err == nil || !strings.Contains(err.Error(), "same host") {
		t.Fatalf("want duplicate host error, got %v", err)
	}
	os.WriteFile(Path(dir), []byte("keyring_timeout = \"soon\"\n"), 0o600)
	if _, err = Load(dir); err == nil || !strings.Contains(err.Error(), "duration") {
		t.Fatalf("want duration error, got %v", err)
	}
}

func TestLoadNormalizesHostKeys(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(Path(dir), []byte("[hosts.\"GHE.Example.com:443\"]\nclient_id = \"a\"\n"), 0o600)
	f, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if f.Hosts["ghe.example.com"] == nil || f.Host("https://GHE.example.COM").ClientID != "a" {
		t.Fatalf("host not normalized: %+v", f.Hosts)
	}
}

func TestSaveRoundTripAndModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a", "ghlogin")
	f := New()
	tru, fal := true, false
	added := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	f.KeyringTimeout = Duration(1500 * time.Millisecond)
	f.Hosts["github.com"] = &Host{
		ClientID: "Iv1.abc", Scopes: []string{"repo", "gist"}, Store: "file", PKCE: &fal, GitPrompt: &tru,
		CallbackPort: 8123, Active: "octocat",
		Accounts: map[string]*Account{
			"octocat": {Store: "keyring", Scopes: []string{"repo"}, TokenType: "bearer", ExpiresAt: added.Add(time.Hour), AddedAt: added},
			"hubot":   {Store: "file"},
		},
	}
	f.Hosts["127.0.0.1:8787"] = &Host{Protocol: "http", TokenURL: "http://127.0.0.1:8787/token", ClientAuth: "basic"}
	if err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if g.Dir() != dir {
		t.Errorf("Dir() = %q, want %q", g.Dir(), dir)
	}
	g.dir = ""
	if !reflect.DeepEqual(f, g) {
		t.Fatalf("round trip differs:\n%+v\n%+v", f.Hosts["github.com"], g.Hosts["github.com"])
	}
	data, _ := os.ReadFile(Path(dir))
	if !strings.Contains(string(data), `keyring_timeout = "1.5s"`) {
		t.Errorf("duration not written as text:\n%s", data)
	}
	if strings.Contains(string(data), "0001-01-01") {
		t.Errorf("zero times should be omitted:\n%s", data)
	}
	if runtime.GOOS != "windows" {
		st, _ := os.Stat(Path(dir))
		if st.Mode().Perm() != 0o600 {
			t.Errorf("config mode = %v", st.Mode().Perm())
		}
		st, _ = os.Stat(dir)
		if st.Mode().Perm() != 0o700 {
			t.Errorf("dir mode = %v", st.Mode().Perm())
		}
	}
	// No temporary files left behind.
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Errorf("want only %s in dir, got %v", FileName, ents)
	}
}

func TestEmptyFileSavesNoDefaults(t *testing.T) {
	dir := t.TempDir()
	if err := New().Save(dir); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(Path(dir))
	if strings.Contains(string(data), "keyring_timeout") {
		t.Fatalf("zero timeout written:\n%s", data)
	}
}

func TestHostHelpers(t *testing.T) {
	f := New()
	h, err := f.EnsureHost("HTTPS://GitHub.com:443")
	if err != nil {
		t.Fatal(err)
	}
	h.Accounts = map[string]*Account{"b": {}, "a": {}}
	if f.Host("github.com") != h || f.Hosts["github.com"] != h {
		t.Fatal("EnsureHost did not key by normalized name")
	}
	if got := h.Logins(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("Logins = %v", got)
	}
	if _, err := f.EnsureHost("http://example.com"); err == nil {
		t.Fatal("http to a non-loopback host must fail")
	}
	if f.Host("nope.example") != nil || (*Host)(nil).Account("x") != nil {
		t.Fatal("missing host should be nil")
	}
	if h.HasSettings() {
		t.Fatal("accounts are not settings")
	}
	h.ClientID = "x"
	if !h.HasSettings() {
		t.Fatal("client_id is a setting")
	}
}

func TestSettingsRoundTrip(t *testing.T) {
	cases := []struct{ host, key, in, want string }{
		{"github.com", "client_id", "Iv1.0123456789abcdef", "Iv1.0123456789abcdef"},
		{"github.com", "client_secret", "s3cr3t", "s3cr3t"},
		{"github.com", "scopes", "repo, read:org  gist,repo", "repo,read:org,gist"},
		{"github.com", "store", "File", "file"},
		{"auth.example.com", "device_code_url", "https://auth.example.com/device", "https://auth.example.com/device"},
		{"auth.example.com", "authorize_url", "https://auth.example.com/auth", "https://auth.example.com/auth"},
		{"auth.example.com", "token_url", "https://auth.example.com/token", "https://auth.example.com/token"},
		{"auth.example.com", "api_url", "https://auth.example.com/api/", "https://auth.example.com/api"},
		{"auth.example.com", "userinfo_url", "https://auth.example.com/me", "https://auth.example.com/me"},
		{"localhost:3000", "token_url", "http://localhost:3000/token", "http://localhost:3000/token"},
		{"[::1]:3000", "userinfo_url", "http://[::1]:3000/me", "http://[::1]:3000/me"},
		{"auth.example.com", "login_field", "preferred_username", "preferred_username"},
		{"auth.example.com", "client_auth", "basic", "basic"},
		// The spellings --client-auth takes, stored as the canonical one.
		{"auth2.example.com", "client_auth", "post", "body"},
		{"auth3.example.com", "client_auth", "Header", "basic"},
		{"auth.example.com", "pkce", "no", "false"},
		{"auth.example.com", "git_prompt", "TRUE", "true"},
		{"auth.example.com", "callback_port", "8123", "8123"},
		{"127.0.0.1:8787", "protocol", "http", "http"},
		{"", "keyring_timeout", "750ms", "750ms"},
	}
	dir := t.TempDir()
	f := New()
	for _, c := range cases {
		if err := f.Set(c.host, c.key, c.in); err != nil {
			t.Fatalf("Set(%q,%q,%q): %v", c.host, c.key, c.in, err)
		}
	}
	if err := f.Save(dir); err != nil {
		t.Fatal(err)
	}
	g, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		got, err := g.Get(c.host, c.key)
		if err != nil || got != c.want {
			t.Errorf("Get(%q,%q) = %q, %v; want %q", c.host, c.key, got, err, c.want)
		}
	}
	if g.Timeout() != 750*time.Millisecond {
		t.Errorf("Timeout = %v", g.Timeout())
	}
	// Host "" is github.com; spelling does not matter.
	if v, _ := g.Get("", "client_id"); v != "Iv1.0123456789abcdef" {
		t.Errorf("Get(\"\") = %q", v)
	}
	if v, _ := g.Get("https://GitHub.com/", "client_id"); v != "Iv1.0123456789abcdef" {
		t.Errorf("Get(URL) = %q", v)
	}
	// Endpoints honour the settings.
	hp, _ := hosts.Parse("auth.example.com")
	ep := g.Host("auth.example.com").Endpoints(hp)
	if ep.TokenURL != "https://auth.example.com/token" || ep.UserInfoURL != "https://auth.example.com/me" || ep.LoginField != "preferred_username" {
		t.Errorf("endpoints = %+v", ep)
	}
	// Unset removes, and an emptied host entry disappears.
	for _, k := range []string{"protocol"} {
		if err := g.Unset("127.0.0.1:8787", k); err != nil {
			t.Fatal(err)
		}
	}
	if g.Hosts["127.0.0.1:8787"] != nil {
		t.Error("empty host entry should be dropped")
	}
}

func TestSetRejects(t *testing.T) {
	cases := []struct{ host, key, val, want string }{
		{"github.com", "colour", "x", "valid settings: protocol, client_id"},
		{"github.com", "store", "disk", "keyring, kernel or file"},
		{"github.com", "client_auth", "digest", "body"},
		{"github.com", "pkce", "maybe", "true or false"},
		{"github.com", "git_prompt", "2", "true or false"},
		{"github.com", "callback_port", "70000", "1 to 65535"},
		{"github.com", "callback_port", "http", "1 to 65535"},
		{"github.com", "token_url", "/login/oauth/access_token", "absolute URL"},
		{"github.com", "token_url", "http://example.com/token", "loopback"},
		{"github.com", "token_url", "ftp://example.com/token", "https://"},
		{"github.com", "token_url", "https://u:p@example.com/token", "user name"},
		{"github.com", "protocol", "http", "loopback"},
		{"github.com", "protocol", "gopher", "https"},
		{"github.com", "scopes", "repo \"x", "scope"},
		{"github.com", "login_field", "a b", "JSON field"},
		{"github.com", "client_id", "has space", "printable"},
		{"", "keyring_timeout", "3", "duration"},
		{"", "keyring_timeout", "-1s", "above 0"},
		{"", "keyring_timeout", "1h", "at most"},
		{"http://example.com", "client_id", "x", "loopback"},
	}
	for _, c := range cases {
		f := New()
		err := f.Set(c.host, c.key, c.val)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Set(%q,%q,%q) = %v; want error containing %q", c.host, c.key, c.val, err, c.want)
		}
		if len(f.Hosts) != 0 {
			t.Errorf("Set(%q,%q,%q) left a host entry on failure", c.host, c.key, c.val)
		}
	}
	var uk *UnknownKeyError
	if err := New().Set("", "nope", "x"); !errors.As(err, &uk) || len(uk.Valid) != len(Keys()) {
		t.Errorf("unknown key: %v", err)
	}
	var iv *InvalidValueError
	err := New().Set("", "client_secret", "bad secret")
	if !errors.As(err, &iv) || strings.Contains(err.Error(), "bad secret") {
		t.Errorf("a rejected secret must not be echoed: %v", err)
	}
	if _, err := New().Get("", "nope"); !errors.As(err, &uk) {
		t.Errorf("Get unknown key: %v", err)
	}
}

func TestListMasksSecretsAndShowsDefaults(t *testing.T) {
	f := New()
	f.Set("ghe.example.com", "client_secret", "topsecret")
	f.Set("ghe.example.com", "client_id", "abc")
	f.Set("", "keyring_timeout", "5s")
	rows := f.List("ghe.example.com")
	byKey := map[string]Setting{}
	for _, r := range rows {
		byKey[r.Key] = r
		if strings.Contains(r.Value, "topsecret") {
			t.Fatalf("secret shown: %+v", r)
		}
	}
	if len(rows) != len(Keys()) {
		t.Errorf("want every key, got %d rows", len(rows))
	}
	if s := byKey["client_secret"]; s.Value != Mask || !s.IsSet {
		t.Errorf("client_secret row = %+v", s)
	}
	if s := byKey["token_url"]; s.IsSet || s.Default != "https://ghe.example.com/login/oauth/access_token" {
		t.Errorf("token_url row = %+v", s)
	}
	if s := byKey["api_url"]; s.Default != "https://ghe.example.com/api/v3" {
		t.Errorf("api_url row = %+v", s)
	}
	if s := byKey["keyring_timeout"]; s.Value != "5s" || s.Host != "" {
		t.Errorf("keyring_timeout row = %+v", s)
	}
	all := f.List("")
	// global + the two keys set on the host.
	if len(all) != 3 {
		t.Errorf("List(\"\") = %+v", all)
	}
	SortedSettings(all)
	if all[0].Host != "" || all[1].Key != "client_id" || all[2].Value != Mask {
		t.Errorf("sorted = %+v", all)
	}
	if got := f.List("http://example.com"); len(got) != 1 || got[0].Key != "keyring_timeout" {
		t.Errorf("invalid host: %+v", got)
	}
	if len(HostKeys())+len(GlobalKeys()) != len(Keys()) || GlobalKeys()[0] != "keyring_timeout" || HostKeys()[0] != "protocol" {
		t.Errorf("HostKeys %v GlobalKeys %v", HostKeys(), GlobalKeys())
	}
	gh := New().List("github.com")
	for _, r := range gh {
		if r.Key == "api_url" && r.Default != "https://api.github.com" {
			t.Errorf("github.com api default = %q", r.Default)
		}
	}
}

// A hand-edited file whose active account is not one of the host's, or whose
// protocol is unknown, is refused at load, naming the file, host and key.
func TestLoadRefusesActiveAndProtocol(t *testing.T) {
	for _, tc := range []struct {
		name, toml, key, want string
	}{
		{"active names no account", "[hosts.\"github.com\"]\nactive = \"ghost\"\n[hosts.\"github.com\".accounts.octocat]\nstore = \"file\"\n",
			"active", `[hosts."github.com"] active = "ghost" names no account of this host (its accounts: octocat)`},
		{"active with no accounts", "[hosts.\"github.com\"]\nactive = \"ghost\"\n", "active", `active = "ghost" names no account of this host`},
		{"unknown protocol", "[hosts.\"github.com\"]\nprotocol = \"ftp\"\n", "protocol", `[hosts."github.com"] invalid value "ftp" for protocol`},
	} {
		_, err := Parse("/c/config.toml", []byte(tc.toml))
		var pe *ParseError
		if !errors.As(err, &pe) || pe.Key != tc.key || pe.Host != "github.com" || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "/c/config.toml") {
			t.Errorf("%s: %T %v", tc.name, err, err)
		}
	}
	if _, err := Parse("/c/config.toml", []byte("[hosts.\"github.com\"]\nactive = \"octocat\"\n[hosts.\"github.com\".accounts.octocat]\nstore = \"file\"\n")); err != nil {
		t.Errorf("a good file: %v", err)
	}
}
