package session

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/agent/agenttest"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/refresh"
	"github.com/ghlogin/ghlogin/store"
)

// serveAgent runs an agent for allowed hosts over src on a socket of its
// own until the test ends, and returns a client for it.
func serveAgent(t *testing.T, src agent.Source, allowed ...string) (*agent.Client, *agent.Server) {
	t.Helper()
	srv := &agent.Server{Name: "laptop", Allowed: allowed, Source: src}
	return &agent.Client{Path: agenttest.Serve(t, srv)}, srv
}

// appAccount stores octocat's GitHub App token from the emulator in the
// file store (the real one, with its cross-process locks) and returns it.
func appAccount(t *testing.T, f *fixture) (*emulator.Server, string, emulator.TokenSet) {
	t.Helper()
	e, _, host := f.emu(emulator.Config{})
	app := issue(t, e, emulator.AppClientID, "octocat")
	f.save(host, "octocat", store.BackendFile, &store.Secret{Token: app.AccessToken, ExpiresAt: app.ExpiresAt,
		RefreshToken: app.RefreshToken, RefreshTokenExpiresAt: app.RefreshExpiresAt}, emulator.AppClientID)
	f.env[EnvClientSecret] = emulator.AppClientSecret
	return e, host, app
}

// Twenty requests at once for a token that is due: the agent's source
// refreshes it once, under the account's lock in the real store, and every
// request gets the new token.
func TestAgentSourceRefreshesOnce(t *testing.T) {
	f := newFixture(t)
	e, host, app := appAccount(t, f)
	c, srv := serveAgent(t, &AgentSource{Session: f.sess}, host)
	f.clk.Advance(app.ExpiresAt.Sub(f.clk.Now()) - time.Minute)

	const n = 20
	var wg sync.WaitGroup
	grants := make([]*agent.Grant, n)
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			grants[i], errs[i] = c.Token(context.Background(), agent.Query{Host: host, Purpose: agent.PurposeGit})
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("request %d: %v", i, errs[i])
		}
		if grants[i].Token == app.AccessToken || grants[i].Token != grants[0].Token || grants[i].Login != "octocat" || grants[i].Agent != "laptop" {
			t.Fatalf("request %d: %v (fresh token: %t)", i, grants[i], grants[i].Token != app.AccessToken)
		}
	}
	if got := e.Stats().Refreshes; got != 1 {
		t.Fatalf("%d refreshes for %d requests, want 1", got, n)
	}
	acct, err := f.st.Resolve(host, "octocat")
	if err != nil {
		t.Fatal(err)
	}
	sec, err := f.st.Secret(context.Background(), acct)
	if err != nil || sec.Token != grants[0].Token {
		t.Fatalf("the store holds another token: %v", err)
	}
	if got := agent.Report("build-1", srv.Counts()); got != "build-1 used your "+host+" token 20 times for git" {
		t.Fatal(got)
	}
}

// What the source refuses, and why: no account, a token that expired with
// no way to refresh it, and a token from the environment, which is never
// lent.
func TestAgentSourceRefusals(t *testing.T) {
	f := newFixture(t, "GH_TOKEN", "gho_env_never_lent")
	_, host, app := appAccount(t, f)
	f.save(host, "hubot", store.BackendFile, &store.Secret{Token: "gho_hubot"}, "")
	if _, err := f.st.Switch(host, "octocat"); err != nil {
		t.Fatal(err)
	}
	c, _ := serveAgent(t, &AgentSource{Session: f.sess}, host, "github.com")
	ctx := context.Background()
	var rf *agent.RefusedError

	// The active account, an account named, an account the laptop lacks.
	if g, err := c.Token(ctx, agent.Query{Host: host, Purpose: agent.PurposeToken}); err != nil || g.Login != "octocat" || g.Token != app.AccessToken {
		t.Fatalf("active: %v %v", g, err)
	}
	if g, err := c.Token(ctx, agent.Query{Host: host, User: "hubot", Purpose: agent.PurposeToken}); err != nil || g.Token != "gho_hubot" {
		t.Fatalf("named: %v %v", g, err)
	}
	_, err := c.Token(ctx, agent.Query{Host: host, User: "mona", Purpose: agent.PurposeGit})
	if !errors.As(err, &rf) || rf.Code != agent.CodeNotLoggedIn || !strings.Contains(rf.Reason, `no account "mona"`) {
		t.Fatalf("missing account: %v", err)
	}
	// GH_TOKEN is set here, but github.com has no stored account: nothing
	// to lend.
	_, err = c.Token(ctx, agent.Query{Host: "github.com", Purpose: agent.PurposeGit})
	if !errors.As(err, &rf) || rf.Code != agent.CodeNotLoggedIn {
		t.Fatalf("environment token: %v", err)
	}
	// --user: requests that name no account get that one.
	c2, _ := serveAgent(t, &AgentSource{Session: f.sess, User: "hubot"}, host)
	if g, err := c2.Token(ctx, agent.Query{Host: host, Purpose: agent.PurposeGit}); err != nil || g.Login != "hubot" {
		t.Fatalf("--user: %v %v", g, err)
	}
	l, err := c2.List(ctx)
	if err != nil || len(l.Hosts) != 1 || len(l.Hosts[0].Accounts) != 2 {
		t.Fatalf("list: %+v %v", l, err)
	}
	for _, a := range l.Hosts[0].Accounts {
		if a.Active != (a.Login == "hubot") {
			t.Errorf("list marks %+v", a)
		}
	}
	// Past the refresh token's life: only a login on the laptop helps.
	f.clk.Advance(365 * 24 * time.Hour)
	_, err = c.Token(ctx, agent.Query{Host: host, Purpose: agent.PurposeGit})
	if !errors.As(err, &rf) || rf.Code != agent.CodeNeedsLogin || rf.Host != host || !strings.Contains(rf.Reason, "octocat@"+host) {
		t.Fatalf("expired: %v", err)
	}
	// The source's own error, as the agent's Server reads it.
	var nl *refresh.NeedsLoginError
	_, err = (&AgentSource{Session: f.sess}).Token(ctx, agent.Query{Host: host, Purpose: agent.PurposeGit})
	if errors.As(err, &nl) || !errors.As(err, &rf) {
		t.Fatalf("source: %T %v", err, err)
	}
}

func TestLending(t *testing.T) {
	f := newFixture(t)
	f.save("github.com", "alice-work", store.BackendFile, &store.Secret{Token: "gho_b"}, "")
	f.save("github.com", "octocat", store.BackendFile, &store.Secret{Token: "gho_a"}, "")
	f.save("ghe.example.com", "mona", store.BackendFile, &store.Secret{Token: "gho_c"}, "")
	l, err := f.sess.Lending(nil, "")
	if err != nil || len(l) != 1 || l[0].Host != "github.com" || l[0].Login != "octocat" || len(l[0].Others) != 1 || l[0].Others[0] != "alice-work" {
		t.Fatalf("default: %+v %v", l, err)
	}
	l, err = f.sess.Lending([]string{"github.com", "https://GHE.example.com", "github.com"}, "")
	if err != nil || len(l) != 2 || l[1].Host != "ghe.example.com" || l[1].Login != "mona" {
		t.Fatalf("two hosts: %+v %v", l, err)
	}
	l, err = f.sess.Lending(nil, "alice-work")
	if err != nil || l[0].Login != "alice-work" || l[0].Others[0] != "octocat" {
		t.Fatalf("--user: %+v %v", l, err)
	}
	var nl *store.NotLoggedInError
	if _, err := f.sess.Lending([]string{"github.com", "ghe.example.com"}, "alice-work"); !errors.As(err, &nl) || nl.Host != "ghe.example.com" {
		t.Fatalf("missing account: %v", err)
	}
	var ie *InputError
	if _, err := f.sess.Lending([]string{"http://ghe.example.com"}, ""); !errors.As(err, &ie) || ie.Field != "allow" {
		t.Fatalf("bad host: %v", err)
	}
}
