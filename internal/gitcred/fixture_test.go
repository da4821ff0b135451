package gitcred

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/oskeyring"
	"github.com/ghlogin/ghlogin/store/storetest"
)

// Tokens of the fixture accounts.
const (
	tokOctocat = "gho_octocatTOKEN0000000000000000000000"
	tokHubot   = "gho_hubotTOKEN000000000000000000000000"
	tokAlice   = "gho_aliceGHESTOKEN00000000000000000000"
	tokEmu     = "ghu_emulatorTOKEN000000000000000000000"
	tokLocal   = "gho_localhostTOKEN00000000000000000000"
	emuHost    = "127.0.0.1:8787"
)

// newFixtureStore opens a real file store in a temp directory holding:
// github.com: octocat (active), hubot; ghe.example.com: alice;
// 127.0.0.1:8787 (protocol http): emu; localhost (https): local.
func newFixtureStore(t testing.TB, dir string) *store.Store {
	t.Helper()
	st, err := store.Open(store.Options{Dir: dir, Keyring: storetest.NewMemKeyring()})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	save := func(host, login, tok string) {
		if err := st.Save(ctx, host, login, store.BackendFile, &store.Secret{Token: tok, TokenType: "bearer"}); err != nil {
			t.Fatal(err)
		}
	}
	save("github.com", "hubot", tokHubot)
	save("github.com", "octocat", tokOctocat)
	save("ghe.example.com", "alice", tokAlice)
	save(emuHost, "emu", tokEmu)
	save("localhost", "local", tokLocal)
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts[emuHost].Protocol = "http"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return st
}

func noTTY() bool { return false }

func env(kv ...string) func(string) string {
	// No test asks an agent of the machine it runs on (a ghlogin ssh
	// session's well-known socket) unless it names one.
	m := map[string]string{agent.EnvSock: "none"}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = kv[i+1]
	}
	return func(k string) string { return m[k] }
}

// sessionFor returns a session over st with no environment, for the
// helper's Refresh and Check; hc may be nil.
func sessionFor(st *store.Store, hc *http.Client) *session.Session {
	return &session.Session{Getenv: env(), HTTPClient: hc, OpenStore: func() (*store.Store, error) { return st, nil }}
}

// newHelper returns a helper over st with no terminal, no environment
// tokens and no refresh.
func newHelper(st Store, stderr *bytes.Buffer) *Helper {
	return &Helper{
		Store:             st,
		Getenv:            env(),
		Stderr:            stderr,
		TerminalAvailable: noTTY,
	}
}

// run performs one action and returns stdout and stderr.
func run(t testing.TB, h *Helper, action, in string) (string, string) {
	t.Helper()
	var out bytes.Buffer
	errBuf, _ := h.Stderr.(*bytes.Buffer)
	if errBuf != nil {
		errBuf.Reset()
	}
	if err := h.Run(context.Background(), action, strings.NewReader(in), &out); err != nil {
		t.Fatalf("Run(%s): %v", action, err)
	}
	if errBuf != nil {
		return out.String(), errBuf.String()
	}
	return out.String(), ""
}

// tokenServer is an OAuth token endpoint for the refresh_token grant that
// rotates pairs the way GitHub does, counting refresh requests.
type tokenServer struct {
	*httptest.Server
	refreshes atomic.Int32
	// valid is the refresh token currently accepted.
	valid atomic.Value
	gen   atomic.Int32
	delay time.Duration
}

func newTokenServer(t testing.TB, firstRefresh string) *tokenServer {
	ts := &tokenServer{}
	ts.valid.Store(firstRefresh)
	ts.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.URL.Path != "/login/oauth/access_token" {
			http.NotFound(w, r)
			return
		}
		r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("grant_type") != "refresh_token" {
			fmt.Fprint(w, `{"error":"unsupported_grant_type"}`)
			return
		}
		ts.refreshes.Add(1)
		time.Sleep(ts.delay)
		if r.PostForm.Get("client_id") != "Iv1.testclient" || r.PostForm.Get("refresh_token") != ts.valid.Load().(string) {
			fmt.Fprint(w, `{"error":"bad_refresh_token","error_description":"The refresh token passed is incorrect or expired."}`)
			return
		}
		n := ts.gen.Add(1)
		next := fmt.Sprintf("ghr_rotated%04d", n)
		ts.valid.Store(next)
		fmt.Fprintf(w, `{"access_token":"ghu_refreshed%04d","expires_in":28800,"refresh_token":%q,"refresh_token_expires_in":15897600,"scope":"","token_type":"bearer"}`, n, next)
	}))
	t.Cleanup(ts.Close)
	return ts
}

// addExpiring stores an account whose token has expired, with a valid
// refresh token, on a host whose token endpoint is ts.
func addExpiring(t testing.TB, st *store.Store, host, login string, ts *tokenServer) {
	t.Helper()
	now := time.Now()
	sec := &store.Secret{
		Token:                 "ghu_expired000000000000000000000000000",
		TokenType:             "bearer",
		ExpiresAt:             now.Add(-time.Minute).UTC().Truncate(time.Second),
		RefreshToken:          ts.valid.Load().(string),
		RefreshTokenExpiresAt: now.Add(180 * 24 * time.Hour).UTC().Truncate(time.Second),
	}
	if err := st.Save(context.Background(), host, login, store.BackendFile, sec); err != nil {
		t.Fatal(err)
	}
	if err := st.UpdateConfig(func(f *config.File) error {
		hc := f.Hosts[host]
		hc.TokenURL = ts.URL + "/login/oauth/access_token"
		hc.ClientID = "Iv1.testclient"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// apiServer answers GET /api/v3/user: 200 for tokens in ok, 401 otherwise.
func apiServer(t testing.TB, ok ...string) (*httptest.Server, *atomic.Int32) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		auth := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
		for _, tok := range ok {
			if auth == tok {
				w.Header().Set("Content-Type", "application/json")
				fmt.Fprint(w, `{"login":"someone"}`)
				return
			}
		}
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"message":"Bad credentials"}`)
	}))
	t.Cleanup(srv.Close)
	return srv, &calls
}

// pointAPI sets host's api_url to srv.
func pointAPI(t testing.TB, st *store.Store, host string, srv *httptest.Server) {
	t.Helper()
	if err := st.UpdateConfig(func(f *config.File) error {
		f.Hosts[host].APIURL = srv.URL + "/api/v3"
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// helperFromEnv builds the helper the way the ghlogin command does, for the
// child processes (see TestMain): a file store in GITCRED_TEST_DIR, refresh
// through the configured token endpoint, erase checks through the API.
func helperFromEnv() (*Helper, error) {
	st, err := store.Open(store.Options{Dir: os.Getenv("GITCRED_TEST_DIR"), Keyring: oskeyring.Keyring{}})
	if err != nil {
		return nil, err
	}
	sess := &session.Session{
		Getenv:     os.Getenv,
		HTTPClient: &http.Client{Timeout: 10 * time.Second},
		OpenStore:  func() (*store.Store, error) { return st, nil },
	}
	return &Helper{
		Store:             st,
		Refresh:           sess.Refresh,
		Check:             sess.CheckToken,
		Getenv:            os.Getenv,
		Stderr:            os.Stderr,
		TerminalAvailable: noTTY,
	}, nil
}

// TestMain doubles as the helper binary: with GITCRED_TEST_HELPER=1 the
// test binary runs `<binary> git-credential ACTION` like ghlogin does.
func TestMain(m *testing.M) {
	if os.Getenv("GITCRED_TEST_HELPER") == "1" {
		args := os.Args[1:]
		if len(args) != 2 || args[0] != "git-credential" {
			fmt.Fprintf(os.Stderr, "usage: git-credential get|store|erase (got %q)\n", args)
			os.Exit(2)
		}
		h, err := helperFromEnv()
		if err != nil {
			fmt.Fprintln(os.Stderr, "ghlogin:", err)
			os.Exit(1)
		}
		if err := h.Run(context.Background(), args[1], os.Stdin, os.Stdout); err != nil {
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}
