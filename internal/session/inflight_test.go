package session

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// other is a second session on the fixture's directory, as another process
// would have, with a clock of its own: its waits spin on it without moving
// the fixture's time.
func (f *fixture) other() *Session {
	st, err := store.Open(store.Options{Dir: f.dir, Keyring: f.kr})
	if err != nil {
		f.t.Fatal(err)
	}
	return &Session{Getenv: f.sess.Getenv, Clock: clock.NewFake(epoch), OpenStore: func() (*store.Store, error) { return st, nil }}
}

// beginAsync runs sess.BeginLogin in a goroutine; waiting is closed once it
// waits for another process.
type began struct {
	lease   *store.LoginLease
	login   *Login
	err     error
	done    chan struct{}
	waiting chan store.LoginOwner
}

func beginAsync(sess *Session, tg *Target, w LoginWait) *began {
	b := &began{done: make(chan struct{}), waiting: make(chan store.LoginOwner, 1)}
	w.OnWait = func(o store.LoginOwner) {
		select {
		case b.waiting <- o:
		default:
		}
	}
	go func() {
		defer close(b.done)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		b.lease, b.login, b.err = sess.BeginLogin(ctx, tg, w)
	}()
	return b
}

func (b *began) wait(t *testing.T) {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(20 * time.Second):
		t.Fatal("BeginLogin did not return")
	}
}

// A login that waited for another reports that login's account, read from
// the store; one that waited for a failure gets the same message, error code
// and exit status.
func TestBeginLoginWaitsForTheOneInFlight(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	e, srv, host := f.emu(emulator.Config{})
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: "file"})
	if err != nil {
		t.Fatal(err)
	}
	lease, l, err := f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil || lease == nil || l != nil {
		t.Fatalf("first login: %v %v %v", lease, l, err)
	}
	b := beginAsync(f.other(), tg, LoginWait{Since: f.clk.Now()})
	if o := <-b.waiting; o.Host != host || o.PID == 0 {
		t.Errorf("waiting for %+v", o)
	}
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	saved, err := f.sess.SaveLogin(ctx, tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer"})
	if err != nil {
		t.Fatal(err)
	}
	f.sess.EndLogin(lease, saved, nil, 0)
	b.wait(t)
	if b.err != nil || b.lease != nil || b.login == nil || b.login.Login != "octocat" || b.login.Store != "file" || b.login.Host != host || !b.login.Kept.PlaintextAtRest {
		t.Fatalf("waiter: %+v %v %v", b.login, b.lease, b.err)
	}

	// A failure is passed on as it was reported.
	f.clk.Advance(time.Second)
	lease, _, err = f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil || lease == nil {
		t.Fatal(err)
	}
	b = beginAsync(f.other(), tg, LoginWait{Since: f.clk.Now()})
	<-b.waiting
	f.sess.EndLogin(lease, nil, &oauth.Error{Code: "access_denied"}, 1)
	b.wait(t)
	var we *WaitedLoginError
	if !errors.As(b.err, &we) || we.ErrorCode() != "access_denied" || we.ExitCode() != 1 || we.Error() != (&oauth.Error{Code: "access_denied"}).Error() {
		t.Fatalf("waiter: %T %v", b.err, b.err)
	}

	// A failure whose error carries its own code (the command line's
	// JSON error code, such as server) passes that code on.
	f.clk.Advance(time.Second)
	lease, _, err = f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil || lease == nil {
		t.Fatal(err)
	}
	b = beginAsync(f.other(), tg, LoginWait{Since: f.clk.Now()})
	<-b.waiting
	f.sess.EndLogin(lease, nil, codedErr{errors.New("an HTML page instead of a device code"), "server"}, 1)
	b.wait(t)
	if !errors.As(b.err, &we) || we.ErrorCode() != "server" {
		t.Fatalf("waiter: %T %v", b.err, b.err)
	}
}

// codedErr is an error that carries its JSON error code, as the command
// line's do.
type codedErr struct {
	error
	code string
}

func (e codedErr) ErrorCode() string { return e.code }

// A cancelled login publishes nothing: the waiter runs the login itself.
func TestBeginLoginCancelledLeaderIsTakenOver(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	tg, err := f.sess.ResolveHost(Request{Store: "file"})
	if err != nil {
		t.Fatal(err)
	}
	lease, _, err := f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil {
		t.Fatal(err)
	}
	b := beginAsync(f.other(), tg, LoginWait{Since: f.clk.Now()})
	<-b.waiting
	f.sess.EndLogin(lease, nil, context.Canceled, 130)
	b.wait(t)
	if b.err != nil || b.lease == nil {
		t.Fatalf("waiter: %v %v", b.lease, b.err)
	}
	b.lease.Release()
}

// A result published since the caller found it needed a login is its
// outcome, though it never waited; with Recheck, a usable token stored
// meanwhile without a result is used instead of a new login.
func TestBeginLoginSinceAndRecheck(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	e, srv, _ := f.emu(emulator.Config{})
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: "file"})
	if err != nil {
		t.Fatal(err)
	}
	since := f.clk.Now()
	lease, _, err := f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil {
		t.Fatal(err)
	}
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	saved, err := f.sess.SaveLogin(ctx, tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer"})
	if err != nil {
		t.Fatal(err)
	}
	f.sess.EndLogin(lease, saved, nil, 0)
	lease, l, err := f.sess.BeginLogin(ctx, tg, LoginWait{Since: since})
	if err != nil || lease != nil || l == nil || l.Login != "octocat" {
		t.Fatalf("since: %v %+v %v", lease, l, err)
	}
	// Later, with no result since: a lease, unless Recheck finds the token.
	f.clk.Advance(time.Minute)
	lease, _, err = f.sess.BeginLogin(ctx, tg, LoginWait{})
	if err != nil || lease == nil {
		t.Fatalf("no recheck: %v %v", lease, err)
	}
	f.sess.EndLogin(lease, nil, nil, 0)
	lease, l, err = f.sess.BeginLogin(ctx, tg, LoginWait{Recheck: true})
	if err != nil || lease != nil || l == nil || l.Login != "octocat" {
		t.Fatalf("recheck: %v %+v %v", lease, l, err)
	}
	// An expired token that cannot be refreshed is not usable.
	f.save(tg.Host.Name, "octocat", "file", &store.Secret{Token: "gho_x", TokenType: "bearer", ExpiresAt: f.clk.Now().Add(-time.Hour)}, "")
	lease, l, err = f.sess.BeginLogin(ctx, tg, LoginWait{Recheck: true})
	if err != nil || lease == nil || l != nil {
		t.Fatalf("recheck of an expired token: %v %+v %v", lease, l, err)
	}
	lease.Release()
}
