package session

import (
	"context"
	"errors"
	"testing"

	"github.com/ghlogin/ghlogin/store"
)

func TestChooseAccount(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, login := range []string{"hubot", "octocat"} { // octocat saved last: active
		if err := f.st.Save(ctx, "github.com", login, store.BackendFile, &store.Secret{Token: "gho_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	cfg := f.cfg()
	for _, tc := range []struct {
		host, user    string
		login, reason string
	}{
		{"github.com", "", "octocat", ReasonActive},
		{"github.com", "hubot", "hubot", ReasonNamed},
		{"github.com", "octocat", "octocat", ReasonNamed},
	} {
		c, err := ChooseAccount(f.st, cfg, tc.host, tc.user)
		if err != nil || c.Login != tc.login || c.Reason != tc.reason || c.Host != "github.com" {
			t.Errorf("%s/%q: %+v %v", tc.host, tc.user, c, err)
		}
	}
	for _, tc := range []struct{ host, user string }{{"github.com", "nobody"}, {"ghe.example.com", ""}} {
		_, err := ChooseAccount(f.st, cfg, tc.host, tc.user)
		var nl *store.NotLoggedInError
		if !errors.As(err, &nl) || nl.Host != tc.host || nl.Login != tc.user {
			t.Errorf("%s/%q: %T %v", tc.host, tc.user, err, err)
		}
	}
	// Session.Account reads the configuration fresh.
	if c, err := f.sess.Account("github.com", ""); err != nil || c.Login != "octocat" {
		t.Fatalf("%+v %v", c, err)
	}
}

func TestLogoutAndSwitch(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	for _, login := range []string{"hubot", "octocat"} {
		if err := f.st.Save(ctx, "github.com", login, store.BackendKeyring, &store.Secret{Token: "gho_" + login}); err != nil {
			t.Fatal(err)
		}
	}
	tg, err := f.sess.ResolveHost(Request{})
	if err != nil {
		t.Fatal(err)
	}
	ac, err := f.sess.Switch(tg, "")
	if err != nil || ac.Login != "hubot" {
		t.Fatalf("switch: %+v %v", ac, err)
	}
	removed, next, err := f.sess.Logout(ctx, tg, "")
	if err != nil || removed.Login != "hubot" || next != "octocat" {
		t.Fatalf("logout: %+v %q %v", removed, next, err)
	}
	if got := f.kr.Services(); len(got) != 1 {
		t.Fatalf("keyring after logout: %v", got)
	}
	if _, _, err := f.sess.Logout(ctx, tg, "hubot"); err == nil {
		t.Fatal("logged out twice")
	}
}
