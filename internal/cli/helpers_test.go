package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/ghlogin/ghlogin/internal/agent"
	"github.com/ghlogin/ghlogin/internal/clock"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/opener"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/store/storetest"
	"github.com/ghlogin/ghlogin/ui"
)

// harness runs ghlogin in-process: buffers for the streams, a fixed
// environment, a fake clock, an in-memory keyring, and the emulator on
// httptest sharing the clock.
type harness struct {
	t    *testing.T
	vars map[string]string
	dir  string // config directory
	clk  *clock.Fake
	kr   *storetest.MemKeyring
	emu  *emulator.Server
	srv  *httptest.Server
	host string // the emulator as git names it: 127.0.0.1:PORT
	// tlsSrv is the same emulator over https, once startTLS has run (an
	// enterprise token goes only to an https host).
	tlsSrv *httptest.Server
	// wd is the working directory commands see (a temporary directory
	// outside any git work tree unless a test changes it).
	wd string
	// opened records the URLs the opener was asked to open.
	mu     sync.Mutex
	opened []string
	// browse, when set, is run on each opened URL (in its own goroutine).
	browse func(url string)
	// kernel, when set, replaces the kernel keyring backend.
	kernel *storefake.Backend
}

// result is one run's outcome.
type result struct {
	code           int
	stdout, stderr string
}

var epoch = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func newHarness(t *testing.T, cfg emulator.Config) *harness {
	t.Helper()
	h := &harness{t: t, dir: filepath.Join(t.TempDir(), "config"), clk: clock.NewFake(epoch), kr: storetest.NewMemKeyring(), wd: t.TempDir()}
	h.vars = map[string]string{
		config.EnvDir: h.dir,
		"NO_COLOR":    "1",
		// No run asks an agent of the machine the tests run on.
		agent.EnvSock: "none",
		"HOME":        t.TempDir(),
	}
	if cfg.Clock == nil {
		cfg.Clock = h.clk
	}
	h.emu = emulator.New(cfg)
	h.srv = httptest.NewServer(h.emu)
	t.Cleanup(h.srv.Close)
	h.host = strings.TrimPrefix(h.srv.URL, "http://")
	return h
}

// startTLS serves the emulator over https too and returns that URL; the
// runs' HTTP client trusts its certificate.
func (h *harness) startTLS() string {
	h.t.Helper()
	h.tlsSrv = httptest.NewTLSServer(h.emu)
	h.t.Cleanup(h.tlsSrv.Close)
	return h.tlsSrv.URL
}

// env returns a fresh Env for one run.
func (h *harness) env(stdin string) (*Env, *bytes.Buffer, *bytes.Buffer) {
	var out, errb bytes.Buffer
	hc := &http.Client{Timeout: 10 * time.Second}
	if h.tlsSrv != nil {
		hc = h.tlsSrv.Client()
		hc.Timeout = 10 * time.Second
	}
	var backends []store.Backend
	if h.kernel != nil {
		backends = append(backends, h.kernel)
	}
	return &Env{
		Backends:   backends,
		Stdin:      strings.NewReader(stdin),
		Stdout:     &out,
		Stderr:     &errb,
		Getenv:     func(k string) string { return h.vars[k] },
		HTTPClient: hc,
		Keyring:    h.kr,
		Opener:     opener.Func(h.open),
		Clock:      h.clk,
		Getwd:      func() (string, error) { return h.wd, nil },
		Environ:    h.environ,
	}, &out, &errb
}

// environ is the harness's variables as KEY=VALUE entries, with PATH from
// the process (so exec finds its commands).
func (h *harness) environ() []string {
	out := []string{"PATH=" + os.Getenv("PATH")}
	for k, v := range h.vars {
		out = append(out, k+"="+v)
	}
	return out
}

func (h *harness) open(url string) error {
	h.mu.Lock()
	h.opened = append(h.opened, url)
	browse := h.browse
	h.mu.Unlock()
	if browse != nil {
		go browse(url)
	}
	return nil
}

// run runs ghlogin args through Main with stdin.
func (h *harness) run(stdin string, args ...string) result {
	h.t.Helper()
	env, out, errb := h.env(stdin)
	code := Main(context.Background(), args, env)
	return result{code, out.String(), errb.String()}
}

// runCmd runs a root holding cmd (built on a by the caller) as Main would.
func runCmd(t *testing.T, a *app, cmd *cobra.Command, args ...string) int {
	t.Helper()
	root := a.bareRoot()
	root.AddCommand(cmd)
	return a.execute(context.Background(), root, append([]string{cmd.Name()}, args...))
}

// store opens the harness's store, as another ghlogin process would.
func (h *harness) store() *store.Store {
	h.t.Helper()
	st, err := store.Open(store.Options{Dir: h.dir, Keyring: h.kr})
	if err != nil {
		h.t.Fatal(err)
	}
	return st
}

// token has the emulator issue a token without a flow.
func (h *harness) token(client, login string, scopes ...string) emulator.TokenSet {
	h.t.Helper()
	ts, err := h.emu.IssueToken(client, login, scopes)
	if err != nil {
		h.t.Fatal(err)
	}
	return ts
}

// loginWithToken stores login's token through `login --with-token`.
func (h *harness) loginWithToken(login string, extra ...string) string {
	h.t.Helper()
	tok := h.token(emulator.DefaultClientID, login, "repo", "gist").AccessToken
	args := append([]string{"login", "--with-token", "--host", h.srv.URL, "--store", "file"}, extra...)
	if r := h.run(tok+"\n", args...); r.code != 0 {
		h.t.Fatalf("login --with-token as %s: exit %d\n%s", login, r.code, r.stderr)
	}
	return tok
}

// browser follows an authorization URL as a browser would, through the
// emulator's automatic approval to the loopback callback.
func browser(t *testing.T) func(string) {
	return func(u string) {
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(u)
		if err != nil {
			t.Errorf("browser: %v", err)
			return
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
}

// jsonLines decodes one JSON object a line.
func jsonLines(t *testing.T, s string) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON line: %q", line)
		}
		out = append(out, m)
	}
	return out
}

// noToken fails when any of toks appears in the output.
func (r result) noToken(t *testing.T, toks ...string) {
	t.Helper()
	for _, tok := range toks {
		if tok != "" && strings.Contains(r.stdout+r.stderr, tok) {
			t.Fatalf("a token was printed:\n%s\n%s", r.stdout, r.stderr)
		}
	}
}

// emuDefaults is the emulator as built in: an OAuth app, a GitHub App,
// octocat and hubot.
var emuDefaults = emulator.Config{}

// plainMode is the UI's line mode.
func plainMode() ui.Mode { return ui.Plain }
