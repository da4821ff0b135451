package session

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// Every state status knows, from one configuration.
func TestStatusClassification(t *testing.T) {
	f := newFixture(t, "GH_TOKEN", "gho_env", "GH_ENTERPRISE_TOKEN", "gho_ent")
	e, _, host := f.emu(emulator.Config{})
	valid := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	revoked := issue(t, e, emulator.DefaultClientID, "hubot", "repo")
	e.Revoke(revoked.AccessToken)
	app := issue(t, e, emulator.AppClientID, "octocat")
	f.save(host, "octocat", store.BackendFile, &store.Secret{Token: valid.AccessToken, Scopes: []string{"repo"}}, emulator.DefaultClientID)
	f.save(host, "hubot", store.BackendKeyring, &store.Secret{Token: revoked.AccessToken}, "")
	f.save("127.0.0.2:1", "expiring", store.BackendFile, &store.Secret{Token: app.AccessToken, ExpiresAt: epoch.Add(-time.Minute),
		RefreshToken: app.RefreshToken}, "")
	f.save("127.0.0.2:1", "stale", store.BackendFile, &store.Secret{Token: "ghu_stale", ExpiresAt: epoch.Add(-time.Minute)}, "")
	f.save("127.0.0.3:1", "down", store.BackendFile, &store.Secret{Token: "gho_down"}, "")
	f.save("127.0.0.4:1", "locked", store.BackendKeyring, &store.Secret{Token: "gho_locked"}, "")
	f.configure(func(c *config.File) {
		for _, h := range []string{"127.0.0.2:1", "127.0.0.3:1", "127.0.0.4:1"} {
			c.Hosts[h].Protocol = "http"
		}
	})

	rep, err := f.sess.Status(context.Background(), "", false)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]string{}
	envs := map[string]string{}
	var hostsSeen []string
	for _, h := range rep.Hosts {
		hostsSeen = append(hostsSeen, h.Host)
		if h.EnvToken != nil {
			envs[h.Host] = *h.EnvToken
		}
		for _, a := range h.Accounts {
			got[a.Login] = a.State
			if a.State != StateValid && a.Error == "" {
				t.Errorf("%s is %s without a reason", a.Login, a.State)
			}
		}
	}
	if got["octocat"] != StateValid || got["hubot"] != StateInvalid || got["expiring"] != StateExpired || got["stale"] != StateInvalid || got["down"] != StateUnreachable {
		t.Errorf("states %v", got)
	}
	if strings.Join(hostsSeen, " ") != "127.0.0.1:"+strings.TrimPrefix(host, "127.0.0.1:")+" 127.0.0.2:1 127.0.0.3:1 127.0.0.4:1 github.com" {
		t.Errorf("hosts %v", hostsSeen)
	}
	// github.com is listed for its GH_TOKEN; the configured hosts are all
	// plain-http loopback hosts, which never get the enterprise token.
	if envs["github.com"] != "GH_TOKEN" || len(envs) != 1 {
		t.Errorf("env tokens %v", envs)
	}
	if !rep.AnyInvalid() {
		t.Error("AnyInvalid = false")
	}

	// A keyring that cannot be asked: unreachable, not invalid.
	f.kr.FailWith("get", errors.New("no Secret Service"))
	rep, err = f.sess.Status(context.Background(), "127.0.0.4:1", false)
	if err != nil || len(rep.Hosts) != 1 || rep.Hosts[0].Accounts[0].State != StateUnreachable || rep.Filter != "127.0.0.4:1" {
		t.Fatalf("%+v %v", rep, err)
	}
	// Offline: nothing is asked.
	f.kr.FailWith("get", nil)
	calls := f.kr.Calls()
	rep, _ = f.sess.Status(context.Background(), "", true)
	for _, h := range rep.Hosts {
		for _, a := range h.Accounts {
			if a.State != StateUnchecked {
				t.Errorf("offline: %s %s", a.Login, a.State)
			}
		}
	}
	if f.kr.Calls() != calls {
		t.Error("offline status used the keyring")
	}
	// A named host with nothing to show gives an empty report; with an
	// environment token, just that.
	rep, _ = f.sess.Status(context.Background(), "ghe.example.com", false)
	if len(rep.Hosts) != 1 || rep.Hosts[0].EnvToken == nil || len(rep.Hosts[0].Accounts) != 0 {
		t.Errorf("named host: %+v", rep.Hosts)
	}
	delete(f.env, "GH_ENTERPRISE_TOKEN")
	if rep, _ = f.sess.Status(context.Background(), "ghe.example.com", false); len(rep.Hosts) != 0 {
		t.Errorf("named host without a token: %+v", rep.Hosts)
	}
}

func TestToken(t *testing.T) {
	f := newFixture(t, "GH_ENTERPRISE_TOKEN", "gho_ent")
	e, srv, host := f.emu(emulator.Config{})
	app := issue(t, e, emulator.AppClientID, "octocat")
	f.save(host, "octocat", store.BackendKeyring, &store.Secret{Token: app.AccessToken, ExpiresAt: app.ExpiresAt,
		RefreshToken: app.RefreshToken, RefreshTokenExpiresAt: app.RefreshExpiresAt}, emulator.AppClientID)
	f.env[EnvClientSecret] = emulator.AppClientSecret
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// An https host gets the enterprise token ...
	ghe, err := f.sess.ResolveHost(Request{Host: "ghe.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := f.sess.Token(ctx, ghe, Query{})
	if err != nil || tok.Env != "GH_ENTERPRISE_TOKEN" || tok.Secret.Token != "gho_ent" {
		t.Fatalf("env: %v %v", tok, err)
	}
	if s := tok.String() + tok.GoString(); strings.Contains(s, "gho_ent") {
		t.Fatalf("String shows the token: %s", s)
	}
	// ... the plain-http emulator host never does: its stored account answers.
	tok, err = f.sess.Token(ctx, tg, Query{})
	if err != nil || tok.Env != "" || tok.Secret.Token != app.AccessToken {
		t.Fatalf("plain http: %v %v", tok, err)
	}
	tok, err = f.sess.Token(ctx, tg, Query{User: "octocat"})
	if err != nil || tok.Env != "" || tok.Secret.Token != app.AccessToken || tok.Account.Reason != ReasonNamed {
		t.Fatalf("stored: %v %v", tok, err)
	}
	// Due: refreshed through the host's token endpoint with its client.
	f.clk.Advance(app.ExpiresAt.Sub(f.clk.Now()) - time.Minute)
	tok, err = f.sess.Token(ctx, tg, Query{User: "octocat"})
	if err != nil || tok.Secret.Token == app.AccessToken || e.Stats().Refreshes != 1 {
		t.Fatalf("refresh: %v %v", tok, err)
	}
	// Refresh (the git helper's) costs nothing when not due, and refreshes
	// with the same options when due.
	before := f.kr.Calls()
	sec, err := f.sess.Refresh(ctx, tok.Account.Account, tok.Secret)
	if err != nil || sec != tok.Secret || f.kr.Calls() != before {
		t.Fatalf("not due: %v", err)
	}
	f.clk.Advance(8 * time.Hour)
	if sec, err = f.sess.Refresh(ctx, tok.Account.Account, tok.Secret); err != nil || sec.Token == tok.Secret.Token || e.Stats().Refreshes != 2 {
		t.Fatalf("due: %v", err)
	}
	// CheckToken asks the host's API.
	if err := f.sess.CheckToken(ctx, host, sec.Token); err != nil {
		t.Fatalf("check: %v", err)
	}
	if err := f.sess.CheckToken(ctx, host, tok.Secret.Token); err == nil {
		t.Fatal("the rotated token still works")
	}
	// Without a usable refresh token only a login helps.
	f.clk.Advance(365 * 24 * time.Hour)
	_, err = f.sess.Token(ctx, tg, Query{User: "octocat"})
	var nl *refresh.NeedsLoginError
	if !errors.As(err, &nl) {
		t.Fatalf("%T %v", err, err)
	}
}
