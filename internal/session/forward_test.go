package session

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
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
