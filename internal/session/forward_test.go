package session

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/store"
)

// lender lends octocat's token on github.com and nothing else, and records
// what it was asked.
type lender struct{ asked []agent.Query }

func (l *lender) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	l.asked = append(l.asked, q)
	if q.Host != hosts.GitHub {
		return nil, &store.NotLoggedInError{Host: q.Host}
	}
	return &agent.Grant{Host: q.Host, Login: "octocat", Token: "ghu_lent", ExpiresAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)}, nil
}

func (l *lender) Accounts(_ context.Context, host string) ([]agent.Account, error) {
	if host != hosts.GitHub {
		return nil, &store.NotLoggedInError{Host: host}
	}
	return []agent.Account{{Login: "octocat", Active: true}, {Login: "alice-work"}}, nil
}

// The rule: a forwarded agent first; a host it does not lend goes on to
// the environment and the store, and its refusal stands when they have
// nothing; an agent that is gone is an error, not a reason to use another
// login.
func TestFindOrder(t *testing.T) {
	f := newFixture(t, "GH_TOKEN", "gho_env", "GH_ENTERPRISE_TOKEN", "gho_ent")
	f.save("github.com", "hubot", store.BackendFile, &store.Secret{Token: "gho_stored"}, "")
	f.save("ghe.example.com", "mona", store.BackendFile, &store.Secret{Token: "gho_ghe"}, "")
	src := &lender{}
	c, _ := serveAgent(t, src, "github.com", "ghe.example.com")
	f.env[agent.EnvSock] = c.Path
	ctx := context.Background()
	target := func(host string) *Target {
		tg, err := f.sess.ResolveHost(Request{Host: host})
		if err != nil {
			t.Fatal(err)
		}
		return tg
	}

	// The agent's token wins over GH_TOKEN and the stored account; it
	// carries the owner and the purpose.
	tok, err := f.sess.TokenWith(ctx, target("github.com"), Query{Owner: "octo-org"}, TokenOptions{Purpose: agent.PurposeExec})
	if err != nil || !tok.Forwarded || tok.Agent != "laptop" || tok.Secret.Token != "ghu_lent" || tok.Account.Login != "octocat" || tok.Account.Reason != ReasonForwarded {
		t.Fatalf("forwarded: %v %v", tok, err)
	}
	if q := src.asked[len(src.asked)-1]; q.Owner != "octo-org" || q.Purpose != agent.PurposeExec || q.User != "" {
		t.Fatalf("asked %+v", q)
	}
	if s := tok.String() + tok.GoString(); strings.Contains(s, "ghu_lent") {
		t.Fatal(s)
	}
	// An ID token is never lent: the store answers (here: nothing).
	n := len(src.asked)
	if _, err := f.sess.TokenWith(ctx, target("github.com"), Query{}, TokenOptions{IDToken: true}); err == nil || len(src.asked) != n {
		t.Fatalf("--id-token: %v, agent asked %d times", err, len(src.asked)-n)
	}
	// The agent has no account on ghe.example.com: the environment's
	// token answers, then (naming an account) the store.
	if tok, err = f.sess.Token(ctx, target("ghe.example.com"), Query{}); err != nil || tok.Env != "GH_ENTERPRISE_TOKEN" {
		t.Fatalf("not lent, environment: %v %v", tok, err)
	}
	if tok, err = f.sess.Token(ctx, target("ghe.example.com"), Query{User: "mona"}); err != nil || tok.Secret.Token != "gho_ghe" {
		t.Fatalf("not lent, store: %v %v", tok, err)
	}
	// A host the agent does not serve, with nothing here: the refusal,
	// which names --allow.
	_, err = f.sess.Token(ctx, target("other.example.com"), Query{User: "mona"})
	var rf *agent.RefusedError
	if !errors.As(err, &rf) || rf.Code != agent.CodeNotAllowed || rf.Host != "other.example.com" {
		t.Fatalf("not served: %T %v", err, err)
	}
	// The agent is gone (its socket refuses connections): an error, though
	// GH_TOKEN and a stored account are there.
	dead := filepath.Join(t.TempDir(), "dead.sock")
	ln, err := net.Listen("unix", dead)
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	f.env[agent.EnvSock] = dead
	var gone *agent.GoneError
	if _, err = f.sess.Token(ctx, target("github.com"), Query{}); !errors.As(err, &gone) {
		t.Fatalf("gone: %T %v", err, err)
	}
	// GHLOGIN_AGENT_SOCK=none: the agent is not asked.
	f.env[agent.EnvSock] = "none"
	if tok, err = f.sess.Token(ctx, target("github.com"), Query{}); err != nil || tok.Env != "GH_TOKEN" {
		t.Fatalf("none: %v %v", tok, err)
	}
}

// Only at the well-known path, an agent nobody answers is a link left by
// a session that was killed: the local logins answer.
func TestFindWellKnownGone(t *testing.T) {
	run := t.TempDir()
	if err := os.Chmod(run, 0o700); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(run, "ghlogin")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("unix", filepath.Join(dir, "agent.sock"))
	if err != nil {
		t.Fatal(err)
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false)
	ln.Close()
	getenv := func(k string) string {
		return map[string]string{"XDG_RUNTIME_DIR": run, "GH_TOKEN": "gho_env"}[k]
	}
	if _, ok := agent.FromEnv(getenv); !ok {
		t.Fatal("the well-known socket is not found")
	}
	l := Lookup{Host: hosts.Host{Name: "github.com", Scheme: "https"}, Purpose: agent.PurposeGit}
	tok, err := Find(context.Background(), getenv, l, func(context.Context, error) (*Token, error) { return nil, errors.New("not reached") })
	if err != nil || tok.Env != "GH_TOKEN" {
		t.Fatalf("%v %v", tok, err)
	}
	// With nothing here, the agent's failure is the answer.
	l.User = "octocat"
	_, err = Find(context.Background(), getenv, l, func(_ context.Context, refused error) (*Token, error) {
		if refused == nil {
			t.Error("the store step was not told the agent failed")
		}
		return nil, &store.NotLoggedInError{Host: "github.com"}
	})
	var gone *agent.GoneError
	if !errors.As(err, &gone) {
		t.Fatalf("%T %v", err, err)
	}
}

// status lists what a forwarded agent lends, as such, and what is wrong
// with it when it cannot be asked.
func TestStatusForwarded(t *testing.T) {
	f := newFixture(t)
	c, _ := serveAgent(t, &lender{}, "github.com", "ghe.example.com")
	f.env[agent.EnvSock] = c.Path
	rep, err := f.sess.Status(context.Background(), "", true)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Agent == nil || rep.Agent.Agent != "laptop" || rep.Agent.Socket != c.Path || rep.Agent.Error != "" {
		t.Fatalf("agent %+v", rep.Agent)
	}
	if len(rep.Hosts) != 1 || rep.Hosts[0].Host != "github.com" || len(rep.Hosts[0].Forwarded) != 2 || !rep.Hosts[0].Forwarded[0].Active || rep.Hosts[0].Forwarded[1].Login != "alice-work" {
		t.Fatalf("hosts %+v", rep.Hosts)
	}
	if from, login, ok := f.sess.Lends(context.Background(), "github.com"); !ok || from != "laptop" || login != "octocat" {
		t.Fatalf("Lends: %q %q %t", from, login, ok)
	}
	if rep, err = f.sess.Status(context.Background(), "ghe.example.com", true); err != nil || len(rep.Hosts) != 0 {
		t.Fatalf("filtered: %+v %v", rep.Hosts, err)
	}
	f.env[agent.EnvSock] = filepath.Join(t.TempDir(), "gone.sock")
	rep, err = f.sess.Status(context.Background(), "", true)
	if err != nil || rep.Agent == nil || !strings.Contains(rep.Agent.Error, "no ghlogin agent at") || len(rep.Hosts) != 0 {
		t.Fatalf("gone: %+v %v", rep.Agent, err)
	}
}

// gheLender lends mona on ghe.example.com and counts the list requests
// (one Accounts call per served host).
type gheLender struct{ lists atomic.Int32 }

func (l *gheLender) Token(_ context.Context, q agent.Query) (*agent.Grant, error) {
	if q.Host != "ghe.example.com" {
		return nil, &store.NotLoggedInError{Host: q.Host}
	}
	return &agent.Grant{Host: q.Host, Login: "mona", Token: "ghu_lent"}, nil
}

func (l *gheLender) Accounts(_ context.Context, host string) ([]agent.Account, error) {
	l.lists.Add(1)
	if host != "ghe.example.com" {
		return nil, &store.NotLoggedInError{Host: host}
	}
	return []agent.Account{{Login: "mona", Active: true}}, nil
}

// The default host's "only host that has accounts" counts the hosts a
// forwarded agent lends: a remote with no login of its own acts on the
// lent host, as status shows it. Only a command that names no host asks
// the agent, once; GHLOGIN_HOST and GH_HOST still come first.
func TestDefaultHostCountsLentHosts(t *testing.T) {
	src := &gheLender{}
	c, _ := serveAgent(t, src, "ghe.example.com")
	ctx := context.Background()

	f := newFixture(t, agent.EnvSock, c.Path)
	if got := f.sess.DefaultHost(f.cfg()); got != "ghe.example.com" {
		t.Fatalf("lent only: DefaultHost = %q", got)
	}
	tg, err := f.sess.ResolveHost(Request{})
	if err != nil || tg.Host.Name != "ghe.example.com" {
		t.Fatalf("lent only: %+v %v", tg, err)
	}
	tok, err := f.sess.Token(ctx, tg, Query{})
	if err != nil || !tok.Forwarded || tok.Secret.Token != "ghu_lent" {
		t.Fatalf("token on the default host: %v %v", tok, err)
	}
	if rep, err := f.sess.Status(ctx, "", true); err != nil || len(rep.Hosts) != 1 || rep.Hosts[0].Host != "ghe.example.com" {
		t.Fatalf("status: %+v %v", rep, err)
	}
	if n := src.lists.Load(); n != 1 {
		t.Fatalf("the agent was asked for its list %d times, want once per session", n)
	}

	// A host named (as git names it) costs no list request.
	f = newFixture(t, agent.EnvSock, c.Path)
	src.lists.Store(0)
	if tg, err = f.sess.ResolveHost(Request{Host: "ghe.example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.sess.Token(ctx, tg, Query{}); err != nil || src.lists.Load() != 0 || f.sess.HostArg("ghe.example.com", "") != "ghe.example.com" || src.lists.Load() != 0 {
		t.Fatalf("named host: %v, %d list requests", err, src.lists.Load())
	}

	// The variables still come first, without asking the agent.
	for _, v := range []string{EnvGhloginHost, EnvHost} {
		f = newFixture(t, agent.EnvSock, c.Path, v, "github.com")
		if got := f.sess.DefaultHost(f.cfg()); got != "github.com" || src.lists.Load() != 0 {
			t.Fatalf("%s: DefaultHost = %q, %d list requests", v, got, src.lists.Load())
		}
	}

	// The same host here and lent is one host; another host here makes
	// two, so github.com.
	f = newFixture(t, agent.EnvSock, c.Path)
	f.save("ghe.example.com", "hubot", store.BackendFile, &store.Secret{Token: "gho_here"}, "")
	if got := f.sess.DefaultHost(f.cfg()); got != "ghe.example.com" {
		t.Fatalf("lent and here: DefaultHost = %q", got)
	}
	f = newFixture(t, agent.EnvSock, c.Path)
	f.save("127.0.0.1:8787", "octocat", store.BackendFile, &store.Secret{Token: "gho_here"}, "")
	if got := f.sess.DefaultHost(f.cfg()); got != "github.com" {
		t.Fatalf("two hosts: DefaultHost = %q", got)
	}

	// An agent that is gone lends nothing: the rule goes on without it
	// (the command's own request to it then says it is gone).
	f = newFixture(t, agent.EnvSock, filepath.Join(t.TempDir(), "gone.sock"))
	f.save("127.0.0.1:8787", "octocat", store.BackendFile, &store.Secret{Token: "gho_here"}, "")
	if got := f.sess.DefaultHost(f.cfg()); got != "127.0.0.1:8787" {
		t.Fatalf("agent gone: DefaultHost = %q", got)
	}
}

// An agent that let this session's list request time out (while choosing
// the default host) is not asked again for the token: the command fails
// with the same timeout at once instead of waiting as long a second time.
func TestStalledAgentIsNotAskedTwice(t *testing.T) {
	src := &gheLender{}
	c, _ := serveAgent(t, src, "ghe.example.com")
	f := newFixture(t, agent.EnvSock, c.Path)
	stalled := &agent.TimeoutError{Path: c.Path, After: agent.DefaultTimeout}
	f.sess.lists = map[string]agentListing{c.Path + "\x00" + c.Fallback: {err: stalled}}
	tg, err := f.sess.ResolveHost(Request{Host: "ghe.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var te *agent.TimeoutError
	if _, err := f.sess.Token(context.Background(), tg, Query{}); !errors.As(err, &te) {
		t.Fatalf("token: %v, want the list request's timeout", err)
	}
	// Without that answer on record, the agent is asked as usual.
	f = newFixture(t, agent.EnvSock, c.Path)
	if tok, err := f.sess.Token(context.Background(), tg, Query{}); err != nil || !tok.Forwarded {
		t.Fatalf("token: %v %v", tok, err)
	}
}
