package hostile

import (
	"crypto/tls"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// Secrets the runs hand ghlogin; none may reach the output or a collector.
const (
	canaryToken   = "ghu_HOSTILECANARYTOKEN0123456789abcdefgh"
	canaryRefresh = "ghr_HOSTILECANARYREFRESH0123456789abcdef"
)

// The paths of the emulator's endpoints that the cases redirect.
const (
	devicePath  = "/login/device/code"
	tokenPath   = "/login/oauth/access_token"
	userPath    = "/api/v3/user"
	actionsPath = "/_apis/distributedtask/hubs/Actions/plans/"
	identPath   = "/computeMetadata/v1/instance/service-accounts/default/identity"
	discPath    = "/_services/token/.well-known/openid-configuration"
	jwksPath    = "/_services/token/.well-known/jwks"
	stsPath     = "/v1/token"
	iamPath     = "/v1/projects/-/serviceAccounts/"
	wifProvider = "//iam.googleapis.com/projects/123456789012/locations/global/workloadIdentityPools/github/providers/actions"
)

// endpoint is one request ghlogin makes, the run that makes it, and how the
// hostile front recognises it.
type endpoint struct {
	name string
	// path is the endpoint's path, as the error names it.
	path string
	// match picks the request out (method, path, grant type, …).
	match func(r *http.Request, form url.Values) bool
	// run runs ghlogin so that it makes the request.
	run func(t *testing.T, s *sandbox, h *hostile) result
	// plainOnly: the endpoint is never https (the metadata server).
	plainOnly bool
}

func post(path string, grant string) func(*http.Request, url.Values) bool {
	return func(r *http.Request, form url.Values) bool {
		return r.Method == http.MethodPost && r.URL.Path == path && (grant == "" || form.Get("grant_type") == grant)
	}
}

func get(prefix string) func(*http.Request, url.Values) bool {
	return func(r *http.Request, _ url.Values) bool {
		return r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, prefix)
	}
}

// login runs a device-flow login at the front.
func deviceLogin(t *testing.T, s *sandbox, h *hostile) result {
	return s.run(s.env, "", "login", "--device", "--host", h.url, "--client-id", emulator.DefaultClientID)
}

// webLogin runs a loopback web-flow login at the front and plays the
// browser: it opens the authorize URL ghlogin prints, which the emulator
// answers with a redirect to ghlogin's callback.
func webLogin(t *testing.T, s *sandbox, h *hostile) result {
	p := s.start(s.with("GHLOGIN_CLIENT_SECRET="+emulator.DefaultClientSecret),
		"login", "--web", "--no-browser", "--host", h.url, "--client-id", emulator.DefaultClientID)
	line := p.waitLine(t, "Open this URL")
	authorize := line[strings.Index(line, "http"):]
	browser := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: tlsClientConfig()}}
	if resp, err := browser.Get(authorize); err == nil {
		resp.Body.Close()
	}
	return p.wait(t)
}

// storeExpiring writes an account for the front's host whose token has
// expired and holds a refresh token, as a login would have left it.
func storeExpiring(t *testing.T, s *sandbox, h *hostile) {
	t.Helper()
	u, _ := url.Parse(h.url)
	proto := ""
	if u.Scheme == "http" {
		proto = "protocol = \"http\"\n"
	}
	cfg := fmt.Sprintf("[hosts.%q]\n%sclient_id = %q\nactive = \"octocat\"\n\n[hosts.%q.accounts.octocat]\nstore = \"file\"\nexpires_at = 2001-01-01T00:00:00Z\n",
		u.Host, proto, emulator.DefaultClientID, u.Host)
	creds, _ := json.Marshal(map[string]map[string]map[string]string{u.Host: {"octocat": {
		"token": canaryToken, "expires_at": "2001-01-01T00:00:00Z", "refresh_token": canaryRefresh}}})
	if err := os.MkdirAll(s.configDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.configDir(), "config.toml"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.configDir(), "credentials.json"), creds, 0o600); err != nil {
		t.Fatal(err)
	}
}

// actionsEnv points the Actions source at the front.
func actionsEnv(s *sandbox, h *hostile, extra ...string) []string {
	return s.with(append([]string{
		"ACTIONS_ID_TOKEN_REQUEST_URL=" + h.url + actionsPath + "p1/jobs/j1/idtoken?api-version=2.0",
		"ACTIONS_ID_TOKEN_REQUEST_TOKEN=" + workload.DefaultActionsRequestToken,
	}, extra...)...)
}

var endpoints = []endpoint{
	{name: "device code request", path: devicePath, match: post(devicePath, ""), run: deviceLogin},
	{name: "device token poll", path: tokenPath, match: post(tokenPath, "urn:ietf:params:oauth:grant-type:device_code"), run: deviceLogin},
	{name: "code exchange with verifier", path: tokenPath,
		match: func(r *http.Request, form url.Values) bool {
			return post(tokenPath, "authorization_code")(r, form) && form.Get("code_verifier") != ""
		}, run: webLogin},
	{name: "refresh", path: tokenPath, match: post(tokenPath, "refresh_token"),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			storeExpiring(t, s, h)
			return s.run(s.env, "", "token", "--host", h.url)
		}},
	{name: "user bearer", path: userPath, match: get(userPath),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(s.env, canaryToken+"\n", "login", "--with-token", "--host", h.url)
		}},
	{name: "Actions ID token request", path: actionsPath + "p1/jobs/j1/idtoken", match: get(actionsPath),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions")
		}},
	{name: "metadata identity", path: identPath, match: get(identPath), plainOnly: true,
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(s.with("GCE_METADATA_HOST="+h.host()), "", "oidc", "token", "--source", "gce", "--audience", "https://example.com")
		}},
	{name: "OIDC discovery", path: discPath, match: get(discPath),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions", "--verify")
		}},
	{name: "JWKS", path: jwksPath, match: get(jwksPath),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions", "--verify")
		}},
	{name: "STS token exchange", path: stsPath, match: post(stsPath, ""),
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "exchange", "--provider", wifProvider, "--source", "github-actions",
				"--sts-url", h.url+stsPath, "--iamcredentials-url", h.url)
		}},
	{name: "IAM generateAccessToken", path: iamPath + workload.DefaultServiceAccount + ":generateAccessToken",
		match: func(r *http.Request, _ url.Values) bool {
			return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, iamPath)
		},
		run: func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "exchange", "--provider", wifProvider, "--source", "github-actions",
				"--sts-url", h.url+stsPath, "--iamcredentials-url", h.url, "--service-account", workload.DefaultServiceAccount)
		}},
}

// TestEndpointsWorkUnredirected checks the harness: with no redirect, each
// run gets past the request the cases redirect (the refresh and bearer runs
// carry tokens the emulator never issued, so the server refuses them), so a
// refusal below is the redirect's doing.
func TestEndpointsWorkUnredirected(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			h := newHostile(t, false, emulatorConfig())
			s := newSandbox(t)
			r := ep.run(t, s, h)
			refused := ep.name == "refresh" || ep.name == "user bearer"
			if (r.code != 0) != refused || strings.Contains(r.stderr, "answered with a redirect") {
				t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
			}
		})
	}
}

// TestSecretRequestsNeverFollowRedirects: for each request ghlogin makes,
// a 301, 302, 307 or 308 to another port, to another host, or from https to
// plain http is refused. The second server receives nothing, and stderr
// names the endpoint and where it pointed, without a secret.
func TestSecretRequestsNeverFollowRedirects(t *testing.T) {
	for _, ep := range endpoints {
		t.Run(ep.name, func(t *testing.T) {
			t.Parallel()
			for _, tlsOn := range []bool{false, true} {
				if tlsOn && ep.plainOnly {
					continue
				}
				h := newHostile(t, tlsOn, emulatorConfig())
				targets := redirectTargets(t, h, tlsOn)
				for _, tg := range targets {
					for _, status := range []int{301, 302, 307, 308} {
						name := fmt.Sprintf("%s %d", tg.name, status)
						h.redirected.Store(0)
						h.rule.Store(&rule{match: ep.match, to: tg.location, status: status})
						s := newSandbox(t)
						r := ep.run(t, s, h)
						if h.redirected.Load() == 0 {
							t.Fatalf("%s: the run never reached %s\nstderr:\n%s", name, ep.path, r.stderr)
						}
						tg.col.check(t)
						if r.code == 0 {
							t.Errorf("%s: exit 0; want a failure\nstdout:\n%s\nstderr:\n%s", name, r.stdout, r.stderr)
						}
						endpoint := h.url + ep.path
						if !strings.Contains(r.stderr, endpoint+" answered with a redirect to "+tg.named+" (HTTP "+fmt.Sprint(status)+")") {
							t.Errorf("%s: stderr does not name %s and %s:\n%s", name, endpoint, tg.named, r.stderr)
						}
						if !strings.Contains(r.stderr, "(check that URL") {
							t.Errorf("%s: stderr does not say what to check:\n%s", name, r.stderr)
						}
						for _, secret := range []string{canaryToken, canaryRefresh, emulator.DefaultClientSecret, workload.DefaultActionsRequestToken} {
							if strings.Contains(r.stdout+r.stderr, secret) {
								t.Errorf("%s: the output holds a secret", name)
							}
						}
						assertTerminalSafe(t, name+" stderr", r.stderr)
					}
				}
			}
		})
	}
}

// target is where a redirect points: a collector, and how the error names it.
type target struct {
	name     string
	location string
	named    string
	col      *collector
}

// redirectTargets are the places h's redirects point to: for plain http,
// another port on the same host and another host (127.0.0.2, on the
// front's own port where it can be had); for https, plain http on the same
// host.
func redirectTargets(t *testing.T, h *hostile, tlsOn bool) []target {
	t.Helper()
	otherPort, err := newCollector(t, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsOn {
		return []target{{name: "https to http", location: "http://" + otherPort.host() + "/collect", named: "http://" + otherPort.host(), col: otherPort}}
	}
	otherHost, err := newCollector(t, "127.0.0.2:"+h.port())
	if err != nil {
		otherHost, err = newCollector(t, "127.0.0.2:0")
	}
	if err != nil {
		t.Fatalf("no second loopback address to stand for another host: %v", err)
	}
	return []target{
		{name: "another port", location: "http://" + otherPort.host() + "/collect", named: otherPort.host(), col: otherPort},
		{name: "another host", location: "http://" + otherHost.host() + "/collect", named: otherHost.host(), col: otherHost},
	}
}

// tlsClientConfig trusts the test CA (for the test's own browser).
func tlsClientConfig() *tls.Config { return &tls.Config{RootCAs: testCA.pool} }
