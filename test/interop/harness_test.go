package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
)

// Timeouts. Every step is bounded so a hung server or client fails the test
// instead of hanging it.
const (
	npmTimeout      = 5 * time.Minute
	buildTimeout    = 5 * time.Minute
	startTimeout    = 60 * time.Second
	httpTimeout     = 15 * time.Second
	loginTimeout    = 2 * time.Minute
	commandTimeout  = 30 * time.Second
	stopGracePeriod = 5 * time.Second
)

// providerDir is the node harness, relative to this package.
const providerDir = "provider"

// The provider's clients (see provider/server.mjs).
const (
	publicClient      = "ghlogin-public"
	shortLivedClient  = "ghlogin-shortlived"
	basicClient       = "ghlogin-basic"
	basicClientSecret = "interop-basic-secret"
	postClient        = "ghlogin-post"
	postClientSecret  = "interop-post-secret"
)

// bobAccountID is bob's account ID (his sub claim), which differs from his
// preferred_username "bob"; alice's account ID is "alice".
const bobAccountID = "248289761001"

// TestMain stops the processes the tests started (the provider) and removes
// the built binary, whatever the tests' outcome.
func TestMain(m *testing.M) {
	code := m.Run()
	shared.stop()
	os.Exit(code)
}

// suite is what every test shares: one npm install, one provider, one
// ghlogin binary per test run.
type suite struct {
	nodeOnce   sync.Once
	nodeErr    error
	nodeSkip   string
	provOnce   sync.Once
	prov       *provider
	provErr    error
	binOnce    sync.Once
	bin        string
	binErr     error
	binDir     string
	stopOnce   sync.Once
	stopMu     sync.Mutex
	stopFuncs  []func()
	installLog string
}

var shared = &suite{}

func (s *suite) atStop(f func()) {
	s.stopMu.Lock()
	defer s.stopMu.Unlock()
	s.stopFuncs = append(s.stopFuncs, f)
}

func (s *suite) stop() {
	s.stopOnce.Do(func() {
		s.stopMu.Lock()
		defer s.stopMu.Unlock()
		for i := len(s.stopFuncs) - 1; i >= 0; i-- {
			s.stopFuncs[i]()
		}
	})
}

// requireNode skips the test when node or npm is missing, unless CI=true,
// where the interop tests must run and a missing tool is a failure. It then
// installs the provider's packages (once per run).
func requireNode(t *testing.T) {
	t.Helper()
	shared.nodeOnce.Do(func() {
		var missing []string
		for _, tool := range []string{"node", "npm"} {
			if _, err := exec.LookPath(tool); err != nil {
				missing = append(missing, tool)
			}
		}
		if len(missing) > 0 {
			shared.nodeSkip = fmt.Sprintf("interop tests need %s on PATH (Node.js 20 or later with npm): install Node.js to run them", strings.Join(missing, " and "))
			return
		}
		shared.installLog, shared.nodeErr = npmInstall()
	})
	if shared.nodeSkip != "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true: %s", shared.nodeSkip)
		}
		t.Skip(shared.nodeSkip)
	}
	if shared.nodeErr != nil {
		t.Fatalf("installing the interop provider's npm packages: %v\n%s", shared.nodeErr, shared.installLog)
	}
}

// npmInstall runs `npm ci` in provider/ unless node_modules already holds the
// pinned oidc-provider version (so later runs work offline).
func npmInstall() (string, error) {
	pinned, err := pinnedVersion(filepath.Join(providerDir, "package.json"), "oidc-provider")
	if err != nil {
		return "", err
	}
	installed, err := installedVersion(filepath.Join(providerDir, "node_modules", "oidc-provider", "package.json"))
	if err == nil && installed == pinned {
		return "", nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), npmTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund", "--loglevel=error")
	cmd.Dir = providerDir
	cmd.Env = append(os.Environ(), "npm_config_update_notifier=false")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("npm ci in %s: %w (is the npm registry reachable?)", providerDir, err)
	}
	installed, err = installedVersion(filepath.Join(providerDir, "node_modules", "oidc-provider", "package.json"))
	if err != nil {
		return string(out), err
	}
	if installed != pinned {
		return string(out), fmt.Errorf("npm ci installed oidc-provider %s, package.json pins %s: run npm install in %s to update package-lock.json", installed, pinned, providerDir)
	}
	return string(out), nil
}

func pinnedVersion(packageJSON, dep string) (string, error) {
	b, err := os.ReadFile(packageJSON)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", packageJSON, err)
	}
	v := pkg.Dependencies[dep]
	if !regexp.MustCompile(`^\d+\.\d+\.\d+$`).MatchString(v) {
		return "", fmt.Errorf("%s must pin %s to an exact version, not %q", packageJSON, dep, v)
	}
	return v, nil
}

func installedVersion(packageJSON string) (string, error) {
	b, err := os.ReadFile(packageJSON)
	if err != nil {
		return "", err
	}
	var pkg struct {
		Version string `json:"version"`
	}
	if err := json.Unmarshal(b, &pkg); err != nil {
		return "", fmt.Errorf("%s: %w", packageJSON, err)
	}
	return pkg.Version, nil
}

// provider is a running oidc-provider.
type provider struct {
	// Issuer is http://127.0.0.1:PORT.
	Issuer string
	// HostArg is what ghlogin's --host takes for it.
	HostArg string
	logs    *syncBuffer
}

// Endpoint returns the issuer's URL for path.
func (p *provider) Endpoint(path string) string { return p.Issuer + path }

// Logs returns what the provider printed so far (for failure messages).
func (p *provider) Logs() string { return p.logs.String() }

// startProvider returns the shared provider, starting it on first use.
func startProvider(t *testing.T) *provider {
	t.Helper()
	requireNode(t)
	shared.provOnce.Do(func() {
		shared.prov, shared.provErr = launchProvider()
	})
	if shared.provErr != nil {
		t.Fatalf("starting oidc-provider: %v", shared.provErr)
	}
	return shared.prov
}

func launchProvider() (*provider, error) {
	cmd := exec.Command("node", "server.mjs", "0", "--exit-on-stdin-eof")
	cmd.Dir = providerDir
	setProcessGroup(cmd)
	// The provider exits when this pipe closes, even if this process is killed.
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	logs := &syncBuffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("node server.mjs: %w", err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	shared.atStop(func() {
		_ = stdin.Close()
		terminate(cmd, done)
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if issuer, ok := strings.CutPrefix(line, "READY "); ok {
				select {
				case ready <- issuer:
				default:
				}
				continue
			}
			fmt.Fprintln(logs, line)
		}
	}()
	select {
	case issuer := <-ready:
		u, err := url.Parse(issuer)
		if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
			return nil, fmt.Errorf("provider announced issuer %q, want http://127.0.0.1:PORT", issuer)
		}
		return &provider{Issuer: issuer, HostArg: issuer, logs: logs}, nil
	case <-done:
		return nil, fmt.Errorf("node server.mjs exited before it was ready:\n%s", logs.String())
	case <-time.After(startTimeout):
		return nil, fmt.Errorf("node server.mjs printed no READY line within %s:\n%s", startTimeout, logs.String())
	}
}

// terminate asks a process group to stop, then kills it after a grace period.
func terminate(cmd *exec.Cmd, done <-chan struct{}) {
	if cmd.Process == nil {
		return
	}
	signalGroup(cmd, false)
	select {
	case <-done:
	case <-time.After(stopGracePeriod):
		signalGroup(cmd, true)
		<-done
	}
}

// ghloginBinary builds the ghlogin command from the repository root once per run.
func ghloginBinary(t *testing.T) string {
	t.Helper()
	shared.binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "ghlogin-interop-bin-")
		if err != nil {
			shared.binErr = err
			return
		}
		shared.binDir = dir
		shared.atStop(func() { _ = os.RemoveAll(dir) })
		bin := filepath.Join(dir, "ghlogin")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "github.com/ghlogin/ghlogin")
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if err != nil {
			shared.binErr = fmt.Errorf("go build github.com/ghlogin/ghlogin: %w\n%s", err, out)
			return
		}
		shared.bin = bin
	})
	if shared.binErr != nil {
		t.Fatal(shared.binErr)
	}
	return shared.bin
}

// syncBuffer is a bytes.Buffer safe for concurrent writers and readers.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// newHTTPClient returns a client with a timeout and no cookies, for API calls.
func newHTTPClient() *http.Client {
	return &http.Client{Timeout: httpTimeout}
}

// userinfo calls the provider's userinfo endpoint with token and returns the
// claims, or an error that includes the HTTP status.
func userinfo(ctx context.Context, p *provider, token string) (map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, p.Endpoint("/me"), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	resp, err := newHTTPClient().Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET /me: HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(body))
	}
	var claims map[string]any
	if err := json.Unmarshal(body, &claims); err != nil {
		return nil, fmt.Errorf("GET /me: %w", err)
	}
	return claims, nil
}

// postForm posts a form to one of the provider's endpoints and decodes the
// JSON reply, returning the HTTP status too.
func postForm(ctx context.Context, endpoint string, form url.Values, basicUser, basicPass string) (int, map[string]any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	if basicUser != "" {
		req.SetBasicAuth(url.QueryEscape(basicUser), url.QueryEscape(basicPass))
	}
	resp, err := newHTTPClient().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return resp.StatusCode, nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return resp.StatusCode, nil, nil
	}
	var out map[string]any
	if err := json.Unmarshal(body, &out); err != nil {
		return resp.StatusCode, nil, fmt.Errorf("POST %s: HTTP %d, not JSON: %q", endpoint, resp.StatusCode, body)
	}
	return resp.StatusCode, out, nil
}
