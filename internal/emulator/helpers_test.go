package emulator

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/clock"
)

var t0 = time.Date(2025, 1, 1, 12, 0, 0, 0, time.UTC)

// env is a started emulator on loopback with a fake clock.
type env struct {
	t    *testing.T
	s    *Server
	clk  *clock.Fake
	base string
	hc   *http.Client
	logs *logSink
}

type logSink struct {
	mu    sync.Mutex
	lines []string
}

func (l *logSink) logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, sprintf(format, args...))
}

func (l *logSink) all() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func start(t *testing.T, cfg Config) *env {
	t.Helper()
	fake := clock.NewFake(t0)
	if cfg.Clock == nil {
		cfg.Clock = fake
	}
	logs := &logSink{}
	if cfg.Logf == nil {
		cfg.Logf = logs.logf
	}
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, "", cfg)
	if err != nil {
		cancel()
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		cancel()
		s.Close()
	})
	return &env{t: t, s: s, clk: fake, base: s.URL(), logs: logs, hc: &http.Client{
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is a decoded OAuth reply.
type reply struct {
	status int
	ctype  string
	body   string
	f      map[string]string // fields as strings
	raw    map[string]any    // JSON fields with their types (JSON replies only)
	header http.Header
}

func (e *env) do(req *http.Request) reply {
	e.t.Helper()
	resp, err := e.hc.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, ctype: resp.Header.Get("Content-Type"), body: string(b), f: map[string]string{}, header: resp.Header}
	switch {
	case strings.HasPrefix(r.ctype, "application/json"):
		if len(b) > 0 {
			if err := json.Unmarshal(b, &r.raw); err != nil {
				e.t.Fatalf("bad JSON %q: %v", b, err)
			}
			for k, v := range r.raw {
				r.f[k] = sprintf("%v", v)
			}
		}
	case strings.HasPrefix(r.ctype, "application/x-www-form-urlencoded"):
		v, err := url.ParseQuery(string(b))
		if err != nil {
			e.t.Fatalf("bad form %q: %v", b, err)
		}
		for k := range v {
			r.f[k] = v.Get(k)
		}
	}
	return r
}

// post sends a form; asJSON adds Accept: application/json.
func (e *env) post(path string, form url.Values, asJSON bool) reply {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if asJSON {
		req.Header.Set("Accept", "application/json")
	}
	return e.do(req)
}

func (e *env) get(path string, hdr ...string) reply {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodGet, e.base+path, nil)
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	return e.do(req)
}

// deviceCode requests a code for client with scope.
func (e *env) deviceCode(client, scope string) reply {
	e.t.Helper()
	r := e.post("/login/device/code", url.Values{"client_id": {client}, "scope": {scope}}, true)
	if r.status != 200 || r.f["device_code"] == "" {
		e.t.Fatalf("device code: %d %s", r.status, r.body)
	}
	return r
}

func (e *env) poll(client, deviceCode string) reply {
	e.t.Helper()
	return e.post("/login/oauth/access_token", url.Values{
		"client_id": {client}, "device_code": {deviceCode}, "grant_type": {DeviceGrantType},
	}, true)
}

// wantError checks an OAuth error reply: code, HTTP status, description and URI.
func wantError(t *testing.T, r reply, status int, code string) {
	t.Helper()
	if r.status != status || r.f["error"] != code {
		t.Fatalf("want HTTP %d error=%s, got HTTP %d %s", status, code, r.status, r.body)
	}
	if r.f["error_description"] == "" || !strings.HasPrefix(r.f["error_uri"], "https://docs.github.com/") {
		t.Fatalf("error %s lacks description or docs URI: %s", code, r.body)
	}
	if _, ok := r.f["access_token"]; ok {
		t.Fatalf("an error reply carries a token: %s", r.body)
	}
}

var (
	oauthTokenRe   = regexp.MustCompile(`^gho_[A-Za-z0-9]{36}$`)
	appTokenRe     = regexp.MustCompile(`^ghu_[A-Za-z0-9]{36}$`)
	refreshTokenRe = regexp.MustCompile(`^ghr_[A-Za-z0-9]{76}$`)
	userCodeRe     = regexp.MustCompile(`^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$`)
	deviceCodeRe   = regexp.MustCompile(`^[0-9a-f]{40}$`)
	csrfRe         = regexp.MustCompile(`name="authenticity_token" value="([^"]+)"`)
	requestIDRe    = regexp.MustCompile(`name="request_id" value="([^"]+)"`)
)

func sprintf(format string, args ...any) string {
	return strings.TrimRight(fmt.Sprintf(format, args...), "\n")
}

// requireGit returns the git binary, skipping without it (never under CI=true).
func requireGit(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("git")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("git is required under CI=true: %v", err)
		}
		t.Skipf("git is not installed (%v); install git to run the smart HTTP tests", err)
	}
	return p
}

// recorder is a minimal http.ResponseWriter for handler tests.
type recorder struct {
	hdr    http.Header
	status int
	body   strings.Builder
}

func newRecorder() *recorder { return &recorder{hdr: http.Header{}} }

func (r *recorder) Header() http.Header { return r.hdr }
func (r *recorder) WriteHeader(code int) {
	if r.status == 0 {
		r.status = code
	}
}
func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = 200
	}
	return r.body.Write(b)
}
