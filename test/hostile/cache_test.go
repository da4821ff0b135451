//go:build !windows

package hostile

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// issuer is a minimal OpenID Connect server: its discovery document, and a
// token endpoint that refuses every refresh.
type issuer struct {
	srv          *httptest.Server
	discoveries  atomic.Int32
	tokenQueries atomic.Int32
}

func newIssuer(t *testing.T) *issuer {
	t.Helper()
	is := &issuer{}
	is.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/.well-known/openid-configuration":
			is.discoveries.Add(1)
			jsonBody(w, 200, is.document(is.srv.URL+"/token"))
		case "/token":
			is.tokenQueries.Add(1)
			jsonBody(w, 400, map[string]string{"error": "invalid_grant"})
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) document(tokenURL string) map[string]any {
	return map[string]any{"issuer": is.srv.URL, "authorization_endpoint": is.srv.URL + "/auth", "token_endpoint": tokenURL, "jwks_uri": is.srv.URL + "/jwks"}
}

func (is *issuer) host() string { return strings.TrimPrefix(is.srv.URL, "http://") }

// TestDiscoveryCacheTrust: a discovery cache file that another user could
// have rewritten (its token endpoint pointing at their server) is not
// used: the document is fetched again and the refresh token goes only to
// the issuer's own token endpoint; a discovery directory others can write
// is refused with the fix.
func TestDiscoveryCacheTrust(t *testing.T) {
	is := newIssuer(t)
	col, err := newCollector(t, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := newSandbox(t)
	writeConfig(t, s, fmt.Sprintf("[hosts.%q]\nprotocol = \"http\"\nissuer = %q\nclient_id = \"cli\"\nactive = \"octocat\"\n\n[hosts.%q.accounts.octocat]\nstore = \"file\"\nexpires_at = 2001-01-01T00:00:00Z\n",
		is.host(), is.srv.URL, is.host()))
	creds, _ := json.Marshal(map[string]map[string]map[string]string{is.host(): {"octocat": {
		"token": canaryToken, "expires_at": "2001-01-01T00:00:00Z", "refresh_token": canaryRefresh}}})
	os.WriteFile(filepath.Join(s.configDir(), "credentials.json"), creds, 0o600)
	cacheDir := filepath.Join(s.configDir(), "discovery")
	os.Mkdir(cacheDir, 0o700)
	cacheFile := filepath.Join(cacheDir, strings.ReplaceAll(is.host(), ":", "_")+".json")
	doc, _ := json.Marshal(is.document("http://" + col.host() + "/token"))
	entry, _ := json.Marshal(map[string]any{"issuer": is.srv.URL, "fetched_at": time.Now().UTC(), "fresh_until": time.Now().Add(time.Hour).UTC(), "document": json.RawMessage(doc)})
	if err := os.WriteFile(cacheFile, entry, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Chmod(cacheFile, 0o666)

	r := s.run(s.env, "", "token")
	col.check(t)
	if r.code == 0 || is.discoveries.Load() == 0 || is.tokenQueries.Load() != 1 {
		t.Errorf("token over a world-writable cache file: exit %d, %d discoveries, %d refreshes at the issuer\nstderr:\n%s",
			r.code, is.discoveries.Load(), is.tokenQueries.Load(), r.stderr)
	}
	if b, _ := os.ReadFile(cacheFile); strings.Contains(string(b), col.host()) {
		t.Errorf("the forged cache file was kept:\n%s", b)
	}
	if fi, err := os.Stat(cacheFile); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("cache file mode %v (%v), want 0600", fi.Mode(), err)
	}

	// A discovery directory others can write: refused, nothing sent.
	os.Chmod(cacheDir, 0o777)
	n := is.tokenQueries.Load()
	for _, args := range [][]string{{"token"}, {"exec", "--", "true"}} {
		r = s.run(s.env, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "ghlogin will not use the directory "+cacheDir) || !strings.Contains(r.stderr, "run: chmod go-w "+cacheDir) {
			t.Errorf("%v with a world-writable discovery directory: exit %d\nstdout:\n%s\nstderr:\n%s", args, r.code, r.stdout, r.stderr)
		}
	}
	if is.tokenQueries.Load() != n {
		t.Error("a refresh was sent through an untrusted discovery directory")
	}
	col.check(t)
}

// TestLocksDirTrust: a locks directory others can write is refused with
// the fix before any refresh runs under it.
func TestLocksDirTrust(t *testing.T) {
	h := newHostile(t, false, emulatorConfig())
	s := newSandbox(t)
	storeExpiring(t, s, h)
	locks := filepath.Join(s.configDir(), "locks")
	if err := os.Mkdir(locks, 0o777); err != nil {
		t.Fatal(err)
	}
	os.Chmod(locks, 0o777)
	var refreshes atomic.Int32
	h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
		if r.URL.Path == tokenPath {
			refreshes.Add(1)
		}
		return false
	})
	for _, args := range [][]string{{"token", "--host", h.url}, {"exec", "--host", h.url, "--", "true"}} {
		r := s.run(s.env, "", args...)
		if r.code == 0 || !strings.Contains(r.stderr, "ghlogin will not use the directory "+locks) || !strings.Contains(r.stderr, "run: chmod go-w "+locks) {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	if n := refreshes.Load(); n != 0 {
		t.Errorf("%d refreshes ran under an untrusted locks directory", n)
	}
}
