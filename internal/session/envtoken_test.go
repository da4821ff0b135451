package session

import (
	"testing"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/hosts"
)

func TestEnvTokenRule(t *testing.T) {
	const gh, ghe = "gho_github", "gho_enterprise"
	for _, tc := range []struct {
		name        string
		env         map[string]string
		host        string
		origin      Origin
		known       bool
		tok, envVar string
	}{
		{"GH_TOKEN for github.com", map[string]string{"GH_TOKEN": gh}, "github.com", OriginDefault, false, gh, "GH_TOKEN"},
		{"GITHUB_TOKEN for github.com", map[string]string{"GITHUB_TOKEN": gh}, "github.com", OriginFlag, false, gh, "GITHUB_TOKEN"},
		{"GH_TOKEN first", map[string]string{"GH_TOKEN": gh, "GITHUB_TOKEN": "other"}, "github.com", OriginDefault, false, gh, "GH_TOKEN"},
		{"github.com from a git remote", map[string]string{"GH_TOKEN": gh}, "github.com", OriginGit, false, gh, "GH_TOKEN"},
		{"trimmed", map[string]string{"GH_TOKEN": "  " + gh + "\n"}, "github.com", OriginDefault, false, gh, "GH_TOKEN"},
		{"blank does not count", map[string]string{"GH_TOKEN": "  ", "GITHUB_TOKEN": gh}, "github.com", OriginDefault, false, gh, "GITHUB_TOKEN"},
		{"no enterprise token for github.com", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "github.com", OriginFlag, true, "", ""},
		{"no GH_TOKEN for another host", map[string]string{"GH_TOKEN": gh}, "ghe.example.com", OriginFlag, true, "", ""},
		{"enterprise: a host the person named", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "ghe.example.com", OriginFlag, false, ghe, "GH_ENTERPRISE_TOKEN"},
		{"enterprise: the default host", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "ghe.example.com", OriginDefault, false, ghe, "GH_ENTERPRISE_TOKEN"},
		{"enterprise: a configured host", map[string]string{"GITHUB_ENTERPRISE_TOKEN": ghe}, "ghe.example.com", OriginConfig, true, ghe, "GITHUB_ENTERPRISE_TOKEN"},
		{"enterprise: a known host from a git remote", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "ghe.example.com", OriginGit, true, ghe, "GH_ENTERPRISE_TOKEN"},
		{"enterprise: never an unknown host from a git remote", map[string]string{"GH_ENTERPRISE_TOKEN": ghe, "GITHUB_ENTERPRISE_TOKEN": ghe}, "evil.example.com", OriginGit, false, "", ""},
		{"GH_ENTERPRISE_TOKEN first", map[string]string{"GH_ENTERPRISE_TOKEN": ghe, "GITHUB_ENTERPRISE_TOKEN": "other"}, "127.0.0.1:8787", OriginFlag, true, ghe, "GH_ENTERPRISE_TOKEN"},
		{"nothing set", map[string]string{}, "ghe.example.com", OriginFlag, true, "", ""},
		// Over plain http (loopback only) a host never gets an enterprise
		// token: once the real server stops, any local user can bind its port.
		{"enterprise: never over plain http", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "http://127.0.0.1:8787", OriginFlag, true, "", ""},
		{"enterprise: never over plain http, from git", map[string]string{"GITHUB_ENTERPRISE_TOKEN": ghe}, "http://localhost:8787", OriginGit, true, "", ""},
		{"enterprise: https on loopback", map[string]string{"GH_ENTERPRISE_TOKEN": ghe}, "https://127.0.0.1:8787", OriginFlag, true, ghe, "GH_ENTERPRISE_TOKEN"},
	} {
		h, err := hosts.Parse(tc.host)
		if err != nil {
			t.Fatal(err)
		}
		tok, v := EnvToken(func(k string) string { return tc.env[k] }, h, tc.origin, tc.known)
		if tok != tc.tok || v != tc.envVar {
			t.Errorf("%s: got %q from %q, want %q from %q", tc.name, tok, v, tc.tok, tc.envVar)
		}
	}
}

// A Target carries what the rule needs: its origin, and whether the config
// knows the host.
func TestSessionEnvToken(t *testing.T) {
	f := newFixture(t, "GH_ENTERPRISE_TOKEN", "gho_enterprise")
	f.configure(func(c *config.File) { c.Hosts["known.example.com"] = &config.Host{ClientID: "x"} })
	cfg := f.cfg()
	named, _ := f.sess.ResolveHostIn(cfg, Request{Host: "unknown.example.com"})
	if _, v := f.sess.EnvToken(named); v != "GH_ENTERPRISE_TOKEN" {
		t.Errorf("a host named with --host: %q", v)
	}
	known, _ := f.sess.storedTarget(cfg, "known.example.com")
	if _, v := f.sess.EnvToken(known); v != "GH_ENTERPRISE_TOKEN" {
		t.Errorf("a configured host: %q", v)
	}
	git := &Target{Host: named.Host, Origin: OriginGit}
	if tok, v := f.sess.EnvToken(git); tok != "" || v != "" {
		t.Errorf("an unknown host from git got %q", v)
	}
	plain, _ := f.sess.ResolveHostIn(cfg, Request{Host: "http://127.0.0.1:8787"})
	if tok, v := f.sess.EnvToken(plain); tok != "" || v != "" {
		t.Errorf("a plain-http host got %q", v)
	}
}
