package session

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// fixture is a session over a temporary config directory, an in-memory
// keyring, a fake clock and a fixed environment.
type fixture struct {
	t    *testing.T
	dir  string
	kr   *storetest.MemKeyring
	clk  *clock.Fake
	env  map[string]string
	st   *store.Store
	sess *Session
}

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newFixture(t *testing.T, env ...string) *fixture {
	t.Helper()
	// No test asks an agent of the machine it runs on (a ghlogin ssh
	// session's well-known socket) unless it names one.
	f := &fixture{t: t, dir: t.TempDir(), kr: storetest.NewMemKeyring(), clk: clock.NewFake(epoch), env: map[string]string{agent.EnvSock: "none"}}
	for i := 0; i+1 < len(env); i += 2 {
		f.env[env[i]] = env[i+1]
	}
	st, err := store.Open(store.Options{Dir: f.dir, Keyring: f.kr})
	if err != nil {
		t.Fatal(err)
	}
	f.st = st
	f.sess = &Session{
		Getenv:    func(k string) string { return f.env[k] },
		Clock:     f.clk,
		UserAgent: "ghlogin/test",
		OpenStore: func() (*store.Store, error) { return st, nil },
	}
	return f
}

// configure changes the configuration file.
func (f *fixture) configure(fn func(*config.File)) {
	f.t.Helper()
	if err := f.st.UpdateConfig(func(c *config.File) error { fn(c); return nil }); err != nil {
		f.t.Fatal(err)
	}
}

// cfg reads the configuration file.
func (f *fixture) cfg() *config.File {
	f.t.Helper()
	c, err := f.st.Config()
	if err != nil {
		f.t.Fatal(err)
	}
	return c
}

// configBytes returns the config file's content ("" when missing).
func (f *fixture) configBytes() string {
	f.t.Helper()
	b, err := os.ReadFile(filepath.Join(f.dir, config.FileName))
	if err != nil && !os.IsNotExist(err) {
		f.t.Fatal(err)
	}
	return string(b)
}

// emu starts the emulator on httptest with the fixture's clock and returns
// it with its host name (127.0.0.1:PORT).
func (f *fixture) emu(cfg emulator.Config) (*emulator.Server, *httptest.Server, string) {
	f.t.Helper()
	if cfg.Clock == nil {
		cfg.Clock = f.clk
	}
	e := emulator.New(cfg)
	srv := httptest.NewServer(e)
	f.t.Cleanup(srv.Close)
	return e, srv, strings.TrimPrefix(srv.URL, "http://")
}

// issue has the emulator issue a token.
func issue(t *testing.T, e *emulator.Server, client, login string, scopes ...string) emulator.TokenSet {
	t.Helper()
	ts, err := e.IssueToken(client, login, scopes)
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// save stores a secret for host/login with the http protocol and client ID
// the emulator needs.
func (f *fixture) save(host, login, backend string, sec *store.Secret, clientID string) {
	f.t.Helper()
	if err := f.st.Save(context.Background(), host, login, backend, sec); err != nil {
		f.t.Fatal(err)
	}
	f.configure(func(c *config.File) {
		hc := c.Hosts[host]
		if strings.HasPrefix(host, "127.0.0.1:") {
			hc.Protocol = "http"
		}
		if clientID != "" {
			hc.ClientID = clientID
		}
	})
}
