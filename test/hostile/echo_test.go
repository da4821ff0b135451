package hostile

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// More secrets the echo runs hand ghlogin.
const (
	canaryClientSecret = "CLIENTSECRETCANARY/0123+456789abcdef="
	canaryIDToken      = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJDQU5BUllJRFRPS0VOIn0.Q0FOQVJZSURUT0tFTlNJRw"
)

// secretKeys are the form and JSON fields whose values are secrets.
var secretKeys = []string{"client_secret", "code", "code_verifier", "device_code", "refresh_token", "token", "subject_token", "access_token"}

// echoModes are the ways the echoing server hands a request's secrets
// back: in every field of an error reply (OAuth, GitHub, Google and
// WWW-Authenticate), in a plain error page, in the content type of a
// reply that is no OAuth reply, and in the host of a redirect.
var echoModes = []string{"error fields", "error page", "content type", "redirect"}

// echoer answers the requests match picks with everything they carried,
// the way mode says, and records the secrets it received.
type echoer struct {
	mode string
	// issued: the server issued the stored account's tokens, and echoes
	// them too.
	issued bool
	match  func(r *http.Request, form url.Values) bool
	hits   atomic.Int32
	mu     sync.Mutex
	secret map[string]bool
}

// received lists the secrets the echoer was sent.
func (e *echoer) received() []string {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []string
	for s := range e.secret {
		out = append(out, s)
	}
	return out
}

var hostChars = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// answer is the hostile front's answer hook.
func (e *echoer) answer(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	if !e.match(r, form) {
		return false
	}
	e.hits.Add(1)
	raw, _ := io.ReadAll(r.Body)
	var got []string
	for _, k := range secretKeys {
		got = append(got, form[k]...)
	}
	var body map[string]any
	if json.Unmarshal(raw, &body) == nil {
		for _, k := range secretKeys {
			if v, ok := body[k].(string); ok {
				got = append(got, v)
			}
		}
	}
	auth := r.Header.Get("Authorization")
	if scheme, cred, ok := strings.Cut(auth, " "); ok {
		got = append(got, cred)
		if strings.EqualFold(scheme, "Basic") {
			if dec, err := base64.StdEncoding.DecodeString(cred); err == nil {
				_, pass, _ := strings.Cut(string(dec), ":")
				got = append(got, pass)
				if p, err := url.QueryUnescape(pass); err == nil {
					got = append(got, p)
				}
			}
		}
	}
	e.mu.Lock()
	for _, s := range got {
		if len(s) >= 8 {
			e.secret[s] = true
		}
	}
	e.mu.Unlock()
	everything := fmt.Sprintf("you sent %s body=%s auth=%s", strings.Join(got, " "), raw, auth)
	if e.issued {
		// What the server also knows: the tokens it issued.
		everything += fmt.Sprintf("; I issued %s %s %s", canaryToken, canaryRefresh, canaryIDToken)
	}
	// first is a secret the request carried, for the fields that hold one
	// value (the error code); host one that a host name can hold.
	first, host := "nothing", "nothing"
	if len(got) > 0 {
		first = got[0]
	}
	for _, s := range got {
		if hostChars.MatchString(s) {
			host = s
			break
		}
	}
	switch e.mode {
	case "error fields":
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token", error_description="`+strings.ReplaceAll(everything, `"`, `'`)+`"`)
		w.Header().Set("X-GitHub-SSO", "required; url=https://"+host+".example/sso")
		status := http.StatusBadRequest
		if r.Method == http.MethodGet {
			status = http.StatusUnauthorized
		}
		jsonBody(w, status, map[string]any{"error": first, "error_description": everything, "error_uri": "https://docs.example/" + everything, "message": everything})
	case "error page":
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, everything)
	case "content type":
		w.Header().Set("Content-Type", "application/"+host)
		io.WriteString(w, everything)
	case "redirect":
		w.Header().Set("Location", "http://"+strings.ToLower(host)+".localhost:1/"+url.PathEscape(everything))
		w.WriteHeader(http.StatusFound)
	}
	return true
}

// googleEcho is the same for Google's APIs, whose errors are objects.
func (e *echoer) googleAnswer(w http.ResponseWriter, r *http.Request, form url.Values) bool {
	if e.mode != "error fields" || !e.match(r, form) {
		return e.answer(w, r, form)
	}
	e.hits.Add(1)
	auth := r.Header.Get("Authorization")
	bearer := strings.TrimPrefix(auth, "Bearer ")
	e.mu.Lock()
	e.secret[bearer] = true
	e.mu.Unlock()
	everything := "you sent auth=" + auth + " " + bearer
	jsonBody(w, http.StatusForbidden, map[string]any{"error": map[string]any{"code": 403, "message": everything, "status": "PERMISSION_DENIED",
		"details": []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": everything}}}})
	return true
}

// storeAccount writes an account for h's host whose token (canaryToken,
// with canaryRefresh and canaryIDToken) has expired when expired is set;
// hostCfg adds settings to the host's table.
func storeAccount(t *testing.T, s *sandbox, h *hostile, expired bool, hostCfg string) {
	t.Helper()
	u, _ := url.Parse(h.url)
	expires := "2099-01-01T00:00:00Z"
	if expired {
		expires = "2001-01-01T00:00:00Z"
	}
	cfg := fmt.Sprintf("[hosts.%q]\nprotocol = \"http\"\nclient_id = %q\n%sactive = \"octocat\"\n\n[hosts.%q.accounts.octocat]\nstore = \"file\"\nexpires_at = %s\n",
		u.Host, emulator.DefaultClientID, hostCfg, u.Host, expires)
	creds, _ := json.Marshal(map[string]map[string]map[string]string{u.Host: {"octocat": {
		"token": canaryToken, "expires_at": expires, "refresh_token": canaryRefresh, "id_token": canaryIDToken}}})
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

// echoCase is one secret-carrying request and the runs that make it.
type echoCase struct {
	name  string
	match func(r *http.Request, form url.Values) bool
	// google: the endpoint answers errors as Google APIs do.
	google bool
	// skip names modes the request is not tried with.
	skip string
	// stored: the runs use a stored account (storeAccount), whose tokens
	// the server issued.
	stored bool
	runs   map[string]func(t *testing.T, s *sandbox, h *hostile) result
}

func withSecret(s *sandbox) []string {
	return s.with("GHLOGIN_CLIENT_SECRET=" + canaryClientSecret)
}

var echoCases = []echoCase{
	{name: "device code request", match: post(devicePath, ""), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"login": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(withSecret(s), "", "login", "--device", "--host", h.url, "--client-id", emulator.DefaultClientID)
		},
		"login --json": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(withSecret(s), "", "login", "--device", "--json", "--host", h.url, "--client-id", emulator.DefaultClientID)
		},
	}},
	// A poll answered with something that is no OAuth reply is retried
	// until the code expires (a proxy in the way, say): the content type
	// is tried on the device code request.
	{name: "device token poll", skip: "content type", match: post(tokenPath, "urn:ietf:params:oauth:grant-type:device_code"), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"login": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(withSecret(s), "", "login", "--device", "--host", h.url, "--client-id", emulator.DefaultClientID)
		},
		"login --json": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(withSecret(s), "", "login", "--device", "--json", "--host", h.url, "--client-id", emulator.DefaultClientID)
		},
	}},
	{name: "code exchange", match: post(tokenPath, "authorization_code"), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"login --web": webLogin,
	}},
	{name: "refresh", stored: true, match: post(tokenPath, "refresh_token"), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"token": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, true, "")
			return s.run(withSecret(s), "", "token", "--host", h.url)
		},
		"exec": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, true, "")
			return s.run(withSecret(s), "", "exec", "--host", h.url, "--", "true")
		},
		"git-credential get": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, true, "")
			return s.run(append(withSecret(s), "GIT_TERMINAL_PROMPT=0"), "protocol=http\nhost="+h.host()+"\n\n", "git-credential", "get")
		},
	}},
	{name: "user info at login", match: get(userPath), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"login --with-token": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(s.env, canaryToken+"\n", "login", "--with-token", "--host", h.url)
		},
	}},
	{name: "user info at status", stored: true, match: get(userPath), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"status": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, false, "")
			return s.run(s.env, "", "status", "--host", h.url)
		},
		"status --json": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, false, "")
			return s.run(s.env, "", "status", "--json", "--host", h.url)
		},
	}},
	{name: "GitHub revocation", stored: true, match: func(r *http.Request, _ url.Values) bool {
		return r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v3/applications/")
	}, runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"logout": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, false, "")
			return s.run(withSecret(s), "", "logout", "--host", h.url)
		},
	}},
	{name: "RFC 7009 revocation", stored: true, match: post("/revoke", ""), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"logout": func(t *testing.T, s *sandbox, h *hostile) result {
			storeAccount(t, s, h, false, fmt.Sprintf("revocation_url = %q\nclient_auth = \"basic\"\n", h.url+"/revoke"))
			return s.run(withSecret(s), "", "logout", "--host", h.url)
		},
	}},
	{name: "Actions ID token request", match: get(actionsPath), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"oidc token": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions")
		},
	}},
	{name: "STS token exchange", match: post(stsPath, ""), runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"oidc exchange": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "exchange", "--provider", wifProvider, "--source", "github-actions",
				"--sts-url", h.url+stsPath, "--iamcredentials-url", h.url)
		},
	}},
	{name: "IAM generateAccessToken", google: true, match: func(r *http.Request, _ url.Values) bool {
		return r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, iamPath)
	}, runs: map[string]func(*testing.T, *sandbox, *hostile) result{
		"oidc exchange": func(t *testing.T, s *sandbox, h *hostile) result {
			return s.run(actionsEnv(s, h), "", "oidc", "exchange", "--provider", wifProvider, "--source", "github-actions",
				"--sts-url", h.url+stsPath, "--iamcredentials-url", h.url, "--service-account", workload.DefaultServiceAccount)
		},
	}},
}

// TestEchoedSecretsNeverShown: a server that hands back, in every field
// it has, everything a secret-carrying request sent it (and the tokens it
// issued) never gets one of them onto stdout or stderr, JSON events
// included — for every request that carries a secret, through every
// command that makes it.
func TestEchoedSecretsNeverShown(t *testing.T) {
	for _, ec := range echoCases {
		t.Run(ec.name, func(t *testing.T) {
			t.Parallel()
			for _, mode := range echoModes {
				if mode == ec.skip {
					continue
				}
				for name, run := range ec.runs {
					h := newHostile(t, false, emulatorConfig())
					e := &echoer{mode: mode, match: ec.match, issued: ec.stored, secret: map[string]bool{}}
					if ec.google {
						h.setAnswer(e.googleAnswer)
					} else {
						h.setAnswer(e.answer)
					}
					start := time.Now()
					r := run(t, newSandbox(t), h)
					what := fmt.Sprintf("%s, %s", mode, name)
					t.Logf("%s: exit %d in %v", what, r.code, time.Since(start).Round(time.Millisecond))
					if e.hits.Load() == 0 {
						t.Fatalf("%s: the request was never made\nstdout:\n%s\nstderr:\n%s", what, r.stdout, r.stderr)
					}
					out := strings.ToLower(r.stdout + r.stderr)
					for _, s := range append(e.received(), canaryToken, canaryRefresh, canaryIDToken, canaryClientSecret, workload.DefaultActionsRequestToken) {
						for _, form := range []string{s, url.QueryEscape(s)} {
							if strings.Contains(out, strings.ToLower(form)) {
								t.Errorf("%s: the output holds the secret %q\nstdout:\n%s\nstderr:\n%s", what, form, r.stdout, r.stderr)
							}
						}
					}
					assertTerminalSafe(t, what+" stderr", r.stderr)
				}
			}
		})
	}
}
