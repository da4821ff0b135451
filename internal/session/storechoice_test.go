package session

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
)

// withBackends reopens the fixture's store with backends replacing its own.
func (f *fixture) withBackends(bs ...store.Backend) {
	f.t.Helper()
	st, err := store.Open(store.Options{Dir: f.dir, Keyring: f.kr, Clock: f.clk, Backends: bs})
	if err != nil {
		f.t.Fatal(err)
	}
	f.st = st
	f.sess = &Session{Getenv: f.sess.Getenv, Clock: f.clk, UserAgent: "ghlogin/test", OpenStore: func() (*store.Store, error) { return st, nil }}
}

func TestCheckStore(t *testing.T) {
	ctx := context.Background()
	noService := &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}}
	seccomp := &store.KernelKeyringUnavailableError{Op: "probe", Reason: "the kernel refused keyctl"}
	for _, tc := range []struct {
		name      string
		store     string
		keyring   bool // the keyring works
		kernel    bool // the kernel keyring works
		answer    int  // the chooser's answer (-1: cancel)
		askErr    error
		ask       bool // a terminal to ask on
		wantOffer []string
		wantStore string
		wantErr   string // "", "unavailable", "cancelled", "ask"
	}{
		{name: "keyring works", store: "keyring", keyring: true, kernel: true, ask: true, wantStore: "keyring"},
		{name: "kernel works", store: "kernel", kernel: true, ask: true, wantStore: "kernel"},
		{name: "no desktop: kernel first", store: "keyring", kernel: true, ask: true, answer: 0, wantOffer: []string{"kernel", "file"}, wantStore: "kernel"},
		{name: "no desktop: file", store: "keyring", kernel: true, ask: true, answer: 1, wantOffer: []string{"kernel", "file"}, wantStore: "file"},
		{name: "container: file only", store: "keyring", ask: true, answer: 0, wantOffer: []string{"file"}, wantStore: "file"},
		{name: "kernel refused, keyring offered", store: "kernel", keyring: true, ask: true, answer: 0, wantOffer: []string{"keyring", "file"}, wantStore: "keyring"},
		{name: "cancel", store: "keyring", kernel: true, ask: true, answer: -1, wantOffer: []string{"kernel", "file"}, wantStore: "keyring", wantErr: "cancelled"},
		{name: "the question failed", store: "keyring", kernel: true, ask: true, askErr: errors.New("EOF"), wantOffer: []string{"kernel", "file"}, wantStore: "keyring", wantErr: "ask"},
		{name: "no terminal", store: "keyring", kernel: true, wantStore: "keyring", wantErr: "unavailable"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			var kerr error
			if !tc.kernel {
				kerr = seccomp
			}
			kb := storefake.New(store.BackendKernel, kerr)
			f.withBackends(kb)
			if !tc.keyring {
				f.kr.FailWith("", noService)
			}
			tg, err := f.sess.ResolveHost(Request{Store: tc.store})
			if err != nil {
				t.Fatal(err)
			}
			var offered []string
			var choose Chooser
			if tc.ask {
				choose = func(q StoreQuestion) (int, error) {
					for _, o := range q.Offers {
						offered = append(offered, o.Name)
					}
					if q.Host != "github.com" || q.Unavailable.Name != tc.store || q.Err == nil {
						t.Errorf("question %+v", q)
					}
					// The stores not offered come with why.
					var want, got []string
					if !tc.keyring && tc.store != "keyring" {
						want = append(want, "keyring")
					}
					if !tc.kernel && tc.store != "kernel" && runtime.GOOS == "linux" {
						want = append(want, "kernel")
					}
					for _, o := range q.NotOffered {
						if o.Err == nil {
							t.Errorf("%s not offered, without a reason", o.Name)
						}
						got = append(got, o.Name)
					}
					if strings.Join(got, ",") != strings.Join(want, ",") {
						t.Errorf("not offered %v, want %v", got, want)
					}
					return tc.answer, tc.askErr
				}
			}
			err = f.sess.CheckStore(ctx, tg, choose)
			var su *StoreUnavailableError
			switch tc.wantErr {
			case "":
				if err != nil {
					t.Fatal(err)
				}
			case "unavailable":
				if !errors.As(err, &su) || su.Host != "github.com" || len(su.Offers) != 2 || su.Offers[0].Name != "kernel" || su.Offers[1].Name != "file" || !su.Offers[1].PlaintextAtRest {
					t.Fatalf("err %T %v", err, err)
				}
			case "cancelled":
				if !errors.Is(err, context.Canceled) || !errors.Is(err, ErrStoreNotChosen) {
					t.Fatalf("err %v", err)
				}
			case "ask":
				if err == nil || errors.Is(err, context.Canceled) {
					t.Fatalf("err %v", err)
				}
			}
			if strings.Join(offered, ",") != strings.Join(tc.wantOffer, ",") {
				t.Errorf("offered %v, want %v", offered, tc.wantOffer)
			}
			if tg.Store != tc.wantStore {
				t.Errorf("store %q, want %q", tg.Store, tc.wantStore)
			}
		})
	}
}

// The store chosen at the question is remembered as the host's store
// setting, in the same write as the account; a store given by flag is not.
func TestCheckStoreRemembersTheChoice(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	kb := storefake.New(store.BackendKernel, nil)
	f.withBackends(kb)
	f.kr.FailWith("", &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no bus"}})
	e, srv, host := f.emu(emulator.Config{})
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.sess.CheckStore(ctx, tg, func(StoreQuestion) (int, error) { return 0, nil }); err != nil {
		t.Fatal(err)
	}
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	l, err := f.sess.SaveLogin(ctx, tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer"})
	if err != nil {
		t.Fatal(err)
	}
	if l.Store != "kernel" || l.Kept.Name != "kernel" || !l.Kept.Volatile {
		t.Errorf("login %+v", l)
	}
	hc := f.cfg().Hosts[host]
	if hc.Store != "kernel" || hc.Accounts["octocat"].Store != "kernel" {
		t.Fatalf("host settings %+v", hc)
	}
	if _, err := kb.Get(ctx, host, "octocat"); err != nil {
		t.Fatalf("the token is not in the kernel backend: %v", err)
	}
	// The next login to the host uses it without asking.
	tg, err = f.sess.ResolveHost(Request{Host: srv.URL})
	if err != nil || tg.Store != "kernel" {
		t.Fatalf("store %q %v", tg.Store, err)
	}
	if err := f.sess.CheckStore(ctx, tg, func(StoreQuestion) (int, error) { t.Error("asked again"); return -1, nil }); err != nil {
		t.Fatal(err)
	}

	// A store named by flag is used, not remembered.
	f2 := newFixture(t)
	e2, srv2, host2 := f2.emu(emulator.Config{})
	tg, err = f2.sess.ResolveHost(Request{Host: srv2.URL, ClientID: emulator.DefaultClientID, Store: "file"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f2.sess.CheckStore(ctx, tg, nil); err != nil {
		t.Fatal(err)
	}
	ts = issue(t, e2, emulator.DefaultClientID, "octocat", "repo")
	if _, err := f2.sess.SaveLogin(ctx, tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer"}); err != nil {
		t.Fatal(err)
	}
	if hc := f2.cfg().Hosts[host2]; hc.Store != "" || hc.Accounts["octocat"].Store != "file" {
		t.Fatalf("host settings %+v", hc)
	}
}

// status says which store keeps each account, that the file store is
// plaintext at rest, how long the kernel keyring keeps a token, and that a
// kernel keyring login that is gone is gone.
func TestStatusStores(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t)
	kb := storefake.New(store.BackendKernel, nil)
	f.withBackends(kb)
	e, _, host := f.emu(emulator.Config{})
	for _, acct := range []struct{ login, backend string }{{"octocat", "kernel"}, {"hubot", "file"}} {
		ts := issue(t, e, emulator.DefaultClientID, acct.login, "repo")
		f.save(host, acct.login, acct.backend, &store.Secret{Token: ts.AccessToken, TokenType: "bearer"}, emulator.DefaultClientID)
	}
	rep, err := f.sess.Status(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	byLogin := map[string]AccountStatus{}
	for _, a := range rep.Hosts[0].Accounts {
		byLogin[a.Login] = a
	}
	if a := byLogin["hubot"]; a.Store != "file" || !a.PlaintextAtRest || a.KeptUntil != "" || !strings.HasSuffix(a.Place, store.CredentialsFile) || a.State != StateValid {
		t.Errorf("file account %+v", a)
	}
	if a := byLogin["octocat"]; a.Store != "kernel" || a.PlaintextAtRest || !strings.HasPrefix(a.KeptUntil, "until the machine restarts") || a.State != StateValid {
		t.Errorf("kernel account %+v", a)
	}
	kb.Forget()
	rep, err = f.sess.Status(ctx, "", false)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range rep.Hosts[0].Accounts {
		if a.Login == "octocat" && (a.State != StateInvalid || !strings.Contains(a.Error, "kept in memory and is gone")) {
			t.Errorf("gone kernel account %+v", a)
		}
	}
}
