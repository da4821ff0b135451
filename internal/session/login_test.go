package session

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// A login saves the account, its secret and what the host relied on (the
// http protocol, the client ID, endpoint flags) in one write.
func TestSaveLogin(t *testing.T) {
	for _, backend := range []string{store.BackendKeyring, store.BackendFile} {
		t.Run(backend, func(t *testing.T) {
			f := newFixture(t)
			e, srv, host := f.emu(emulator.Config{})
			ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo", "gist")
			tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: backend,
				Overrides: config.Host{APIURL: srv.URL + "/api/v3", LoginField: "login", ClientAuth: "basic"}})
			if err != nil {
				t.Fatal(err)
			}
			tok := &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer", Scope: "repo"}
			l, err := f.sess.SaveLogin(context.Background(), tg, tok)
			if err != nil {
				t.Fatal(err)
			}
			// The API's X-OAuth-Scopes win over the token reply's scope.
			if l.Host != host || l.Login != "octocat" || l.Store != backend || !reflect.DeepEqual(l.Scopes, []string{"gist", "repo"}) {
				t.Errorf("login %+v", l)
			}
			hc := f.cfg().Hosts[host]
			if hc == nil || hc.Protocol != "http" || hc.ClientID != emulator.DefaultClientID || hc.APIURL != srv.URL+"/api/v3" ||
				hc.LoginField != "login" || hc.ClientAuth != "basic" || hc.Active != "octocat" || hc.Accounts["octocat"].Store != backend {
				t.Fatalf("host settings %+v", hc)
			}
			sec, err := f.st.Secret(context.Background(), store.Account{Host: host, Login: "octocat"})
			if err != nil || sec.Token != ts.AccessToken || sec.TokenType != "bearer" {
				t.Fatalf("secret: %v", err)
			}
			// An existing client ID is kept.
			f.configure(func(c *config.File) { c.Hosts[host].ClientID = "Ov23li.mine" })
			if _, err := f.sess.SaveLogin(context.Background(), tg, tok); err != nil {
				t.Fatal(err)
			}
			if got := f.cfg().Hosts[host].ClientID; got != "Ov23li.mine" {
				t.Errorf("client ID replaced: %q", got)
			}
		})
	}
}

// An expiring App token keeps its expiry and refresh token, counted from
// the session's clock.
func TestSaveLoginExpiring(t *testing.T) {
	f := newFixture(t)
	e, srv, host := f.emu(emulator.Config{})
	ts := issue(t, e, emulator.AppClientID, "hubot")
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.AppClientID, Store: store.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	tok := &oauth.Token{AccessToken: ts.AccessToken, RefreshToken: ts.RefreshToken, TokenType: "bearer",
		ExpiresIn: oauth.Seconds(8 * 3600), RefreshTokenExpiresIn: oauth.Seconds(3600 * 24 * 180)}
	if _, err := f.sess.SaveLogin(context.Background(), tg, tok); err != nil {
		t.Fatal(err)
	}
	sec, err := f.st.Secret(context.Background(), store.Account{Host: host, Login: "hubot"})
	if err != nil {
		t.Fatal(err)
	}
	if !sec.ExpiresAt.Equal(epoch.Add(8*time.Hour)) || sec.RefreshToken != ts.RefreshToken || !sec.RefreshTokenExpiresAt.Equal(epoch.Add(180*24*time.Hour)) {
		t.Fatalf("expiries %v %v", sec.ExpiresAt, sec.RefreshTokenExpiresAt)
	}
}

// The token the API rejects is not stored, nor anything about the host.
func TestSaveRejectedToken(t *testing.T) {
	f := newFixture(t)
	_, srv, _ := f.emu(emulator.Config{})
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: store.BackendFile})
	if err != nil {
		t.Fatal(err)
	}
	before := f.configBytes()
	_, err = f.sess.SaveToken(context.Background(), tg, "gho_notissued")
	if !githubapi.IsUnauthorized(err) || !strings.Contains(err.Error(), "checking the token with") {
		t.Fatalf("%T %v", err, err)
	}
	if f.configBytes() != before {
		t.Fatal("the config changed")
	}
	if _, err := os.Stat(filepath.Join(f.dir, store.CredentialsFile)); !os.IsNotExist(err) {
		t.Fatalf("credentials written: %v", err)
	}
}

// When the secret cannot be written, the index and the host's settings are
// not written either.
func TestSaveSecretWriteFails(t *testing.T) {
	f := newFixture(t)
	e, srv, host := f.emu(emulator.Config{})
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	// A login to another account exists already; it must survive.
	f.save("github.com", "hubot", store.BackendKeyring, &store.Secret{Token: "gho_hubot"}, "")
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: store.BackendKeyring,
		Overrides: config.Host{TokenURL: srv.URL + "/login/oauth/access_token"}})
	if err != nil {
		t.Fatal(err)
	}
	before := f.configBytes()
	f.kr.FailWith("set", errors.New("the collection is locked"))
	_, err = f.sess.SaveToken(context.Background(), tg, ts.AccessToken)
	var ku *store.KeyringUnavailableError
	if !errors.As(err, &ku) || !strings.Contains(err.Error(), "storing the token") {
		t.Fatalf("%T %v", err, err)
	}
	if got := f.configBytes(); got != before {
		t.Fatalf("the config changed:\n%s", got)
	}
	if f.cfg().Host(host) != nil {
		t.Fatal("the host's settings were remembered without its account")
	}
	f.kr.FailWith("set", nil)
	if got := f.kr.Services(); len(got) != 1 || !strings.HasSuffix(got[0], "/hubot") {
		t.Fatalf("keyring %v", got)
	}
}

// sabotageKeyring writes the secret, then makes the config file impossible
// to replace (a non-empty directory where the file was), so the second half
// of the transaction fails whoever runs the test (root ignores file modes).
type sabotageKeyring struct {
	*storetest.MemKeyring
	path string
}

func (k *sabotageKeyring) Set(service, user, secret string) error {
	if err := k.MemKeyring.Set(service, user, secret); err != nil {
		return err
	}
	if err := os.Remove(k.path); err != nil && !os.IsNotExist(err) {
		return err
	}
	if err := os.MkdirAll(filepath.Join(k.path, "blocker"), 0o700); err != nil {
		return err
	}
	return nil
}

// When the config file cannot be written, the secret just written is taken
// back: no secret without its account, no account without its settings.
func TestSaveConfigWriteFails(t *testing.T) {
	f := newFixture(t)
	e, srv, host := f.emu(emulator.Config{})
	ts := issue(t, e, emulator.DefaultClientID, "octocat", "repo")
	cfgPath := filepath.Join(f.dir, config.FileName)
	kr := &sabotageKeyring{MemKeyring: f.kr, path: cfgPath}
	st, err := store.Open(store.Options{Dir: f.dir, Keyring: kr})
	if err != nil {
		t.Fatal(err)
	}
	f.sess.OpenStore = func() (*store.Store, error) { return st, nil }
	tg, err := f.sess.ResolveHost(Request{Host: srv.URL, ClientID: emulator.DefaultClientID, Store: store.BackendKeyring})
	if err != nil {
		t.Fatal(err)
	}
	_, err = f.sess.SaveLogin(context.Background(), tg, &oauth.Token{AccessToken: ts.AccessToken, TokenType: "bearer"})
	if err == nil || !strings.Contains(err.Error(), "storing the token") {
		t.Fatalf("%v", err)
	}
	if got := f.kr.Services(); len(got) != 0 {
		t.Fatalf("the secret stayed in the keyring without its account: %v", got)
	}
	if err := os.RemoveAll(cfgPath); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".tmp") {
			t.Errorf("temporary file left behind: %s", en.Name())
		}
	}
	if hc := f.cfg().Host(host); hc != nil {
		t.Fatalf("host settings written: %+v", hc)
	}
}
