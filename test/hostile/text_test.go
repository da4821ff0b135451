package hostile

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/emulator/workload"
)

// evil is server text that would take over a terminal printed raw: OSC 52
// (write the clipboard), CSI (clear the screen, colours), a bidi override,
// C1 CSI and OSC (window title), NEL and a line separator. What a person
// may see of it is "visible tail".
const evil = "\x1b]52;c;ZXZpbA==\x07\x1b[2J\x1b[31m\u202evisible\u009b31m\u009d0;title\x07\u0085\u2028tail"

// shown is what the one sanitiser leaves of evil.
const shown = "visible tail"

// headerEvil is evil as far as an HTTP header can carry it (Go's client
// refuses ESC and BEL in headers; C1 and bidi controls, as UTF-8, pass).
const headerEvil = "\u202evisible\u009b31m\u0085"

func jsonBody(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// checkOutput runs the byte-level checks on a run: stdout and stderr are
// terminal-safe, and each of want appears in stderr (or stdout).
func checkOutput(t *testing.T, name string, r result, want ...string) {
	t.Helper()
	assertTerminalSafe(t, name+" stdout", r.stdout)
	assertTerminalSafe(t, name+" stderr", r.stderr)
	for _, w := range want {
		if !strings.Contains(r.stdout+r.stderr, w) {
			t.Errorf("%s: output lacks %q\nstdout:\n%s\nstderr:\n%s", name, w, r.stdout, r.stderr)
		}
	}
}

// TestServerTextNeverReachesTheTerminalRaw puts control sequences in every
// server field that can reach stdout or stderr, and checks the bytes.
func TestServerTextNeverReachesTheTerminalRaw(t *testing.T) {
	oauthError := func(code string) map[string]any {
		return map[string]any{"error": code + evil, "error_description": "described " + evil, "error_uri": "https://docs.example/" + evil}
	}
	t.Run("device code request error", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
			if r.URL.Path != devicePath {
				return false
			}
			jsonBody(w, 400, oauthError("device_flow_disabled"))
			return true
		})
		s := newSandbox(t)
		r := deviceLogin(t, s, h)
		checkOutput(t, "plain", r, "the server answered invalid_error_code: described "+shown)
		r = s.run(s.env, "", "login", "--device", "--json", "--host", h.url, "--client-id", emulator.DefaultClientID)
		checkOutput(t, "json", r, `"code":"invalid_error_code"`)
	})
	t.Run("device code reply fields", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		for _, field := range []string{"user_code", "verification_uri", "verification_uri_complete"} {
			h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
				if r.URL.Path != devicePath {
					return false
				}
				reply := map[string]any{"device_code": "dc", "user_code": "ABCD-EFGH", "verification_uri": h.url + "/login/device", "expires_in": 900, "interval": 1}
				reply[field] = reply["verification_uri"].(string) + evil
				if field == "user_code" {
					reply[field] = "AB\x1b[2J\u202eCD"
				}
				jsonBody(w, 200, reply)
				return true
			})
			r := deviceLogin(t, newSandbox(t), h)
			checkOutput(t, field, r, "device code reply is unusable: "+field+" contains control characters")
		}
	})
	t.Run("device poll errors and retry reasons", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		var polls atomic.Int32
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
			if r.URL.Path != tokenPath {
				return false
			}
			if polls.Add(1) == 1 {
				jsonBody(w, 503, map[string]any{"error": "busy" + evil})
				return true
			}
			jsonBody(w, 200, oauthError("access_denied"))
			return true
		})
		s := newSandbox(t)
		r := deviceLogin(t, s, h)
		checkOutput(t, "plain", r, "server answered invalid_error_code", "the server answered invalid_error_code: described "+shown)
	})
	t.Run("scopes from the token reply and the API", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
			switch {
			case r.URL.Path == tokenPath:
				jsonBody(w, 200, map[string]any{"access_token": canaryToken, "token_type": "bearer", "scope": "repo," + evil + "gist read:org \"quoted\""})
			case r.URL.Path == userPath && r.Header.Get("Authorization") == "Bearer "+canaryToken:
				jsonBody(w, 200, map[string]any{"login": "octocat"})
			default:
				return false
			}
			return true
		})
		s := newSandbox(t)
		if r := deviceLogin(t, s, h); r.code != 0 {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		for _, args := range [][]string{{"status", "--offline"}, {"status", "--offline", "--json"}} {
			r := s.run(s.env, "", args...)
			checkOutput(t, strings.Join(args, " "), r, "repo")
			// The scopes the login requested (repo read:org gist, ours)
			// are shown after those granted: only the granted ones come
			// from the server.
			granted := r.stdout
			if i := strings.Index(granted, "requested"); i >= 0 {
				granted = granted[:i]
			}
			if strings.Contains(granted, "gist") || strings.Contains(r.stdout, "quoted") {
				t.Errorf("%v shows a scope outside the scope-token grammar:\n%s", args, r.stdout)
			}
		}
		cfg, _ := os.ReadFile(filepath.Join(s.configDir(), "config.toml"))
		assertTerminalSafe(t, "config.toml", string(cfg))
		if !strings.Contains(string(cfg), `scopes = ["repo", "read:org"]`) {
			t.Errorf("config.toml keeps other scopes:\n%s", cfg)
		}

		// X-OAuth-Scopes wins over the reply's scope: the same grammar.
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
			switch {
			case r.URL.Path == tokenPath:
				jsonBody(w, 200, map[string]any{"access_token": canaryToken, "token_type": "bearer"})
			case r.URL.Path == userPath:
				w.Header().Set("X-OAuth-Scopes", "repo, "+headerEvil+", workflow")
				jsonBody(w, 200, map[string]any{"login": "octocat"})
			default:
				return false
			}
			return true
		})
		s = newSandbox(t)
		if r := deviceLogin(t, s, h); r.code != 0 {
			t.Fatalf("login: exit %d\n%s", r.code, r.stderr)
		}
		r := s.run(s.env, "", "status", "--offline")
		checkOutput(t, "status", r, "scopes: repo, workflow")
	})
	t.Run("login from the API", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
			if r.URL.Path != userPath {
				return false
			}
			jsonBody(w, 200, map[string]any{"login": "octo" + evil})
			return true
		})
		s := newSandbox(t)
		r := s.run(s.env, canaryToken+"\n", "login", "--with-token", "--host", h.url)
		checkOutput(t, "login --with-token", r, `no usable "login" field`)
		r = deviceLogin(t, s, h)
		checkOutput(t, "login --device", r, `no usable "login" field`)
	})
	t.Run("refresh error in token and git-credential", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
			if r.URL.Path != tokenPath {
				return false
			}
			jsonBody(w, 400, oauthError("bad_refresh_token"))
			return true
		})
		s := newSandbox(t)
		storeExpiring(t, s, h)
		r := s.run(s.env, "", "token", "--host", h.url)
		checkOutput(t, "token", r, "invalid_error_code: described "+shown)
		r = s.run(s.with("GIT_TERMINAL_PROMPT=0"), "protocol=http\nhost="+h.host()+"\n\n", "git-credential", "get")
		checkOutput(t, "git-credential get", r, "invalid_error_code: described "+shown)
		if r.stdout != "" {
			t.Errorf("git-credential answered %q", r.stdout)
		}
	})
	t.Run("web callback error", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
			if r.URL.Path != "/login/oauth/authorize" {
				return false
			}
			q := r.URL.Query()
			back := q.Get("redirect_uri") + "?" + url.Values{"error": {"access_denied" + evil}, "error_description": {"described " + evil}, "state": {q.Get("state")}}.Encode()
			http.Redirect(w, r, back, http.StatusFound)
			return true
		})
		r := webLogin(t, newSandbox(t), h)
		checkOutput(t, "login --web", r, "the server answered invalid_error_code: described "+shown)
	})
	t.Run("workload replies", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
			switch {
			case strings.HasPrefix(r.URL.Path, actionsPath):
				jsonBody(w, 403, map[string]any{"message": "forbidden " + evil})
			case r.URL.Path == identPath:
				w.WriteHeader(403)
				w.Write([]byte("metadata says " + evil))
			case r.URL.Path == stsPath:
				jsonBody(w, 400, map[string]any{"error": "invalid_grant" + evil, "error_description": "sts " + evil})
			default:
				return false
			}
			return true
		})
		s := newSandbox(t)
		r := s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions")
		checkOutput(t, "actions", r, "forbidden "+shown)
		r = s.run(s.with("GCE_METADATA_HOST="+h.host()), "", "oidc", "token", "--source", "gce", "--audience", "aud")
		checkOutput(t, "metadata", r, "metadata says "+shown)
		tokenFile := filepath.Join(s.dir, "subject.jwt")
		os.WriteFile(tokenFile, []byte("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln"), 0o600)
		r = s.run(s.env, "", "oidc", "exchange", "--provider", wifProvider, "--subject-token-file", tokenFile, "--sts-url", h.url+stsPath)
		checkOutput(t, "sts", r, "STS token exchange failed (invalid_error_code)", "sts "+shown)
	})
	t.Run("IAM error", func(t *testing.T) {
		t.Parallel()
		h := newHostile(t, false, emulatorConfig())
		h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
			if !strings.HasPrefix(r.URL.Path, iamPath) {
				return false
			}
			jsonBody(w, 403, map[string]any{"error": map[string]any{"code": 403, "message": "iam " + evil, "status": "PERMISSION_DENIED" + evil,
				"details": []any{map[string]any{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "IAM" + evil}}}})
			return true
		})
		s := newSandbox(t)
		r := s.run(actionsEnv(s, h), "", "oidc", "exchange", "--provider", wifProvider, "--source", "github-actions",
			"--sts-url", h.url+stsPath, "--iamcredentials-url", h.url, "--service-account", workload.DefaultServiceAccount)
		checkOutput(t, "iam", r, "iam "+shown)
	})
	t.Run("verified and decoded claims", func(t *testing.T) {
		t.Parallel()
		cfg := emulatorConfig()
		cfg.Workload = &workload.Config{ActionsClaims: map[string]any{"sub": "repo:" + evil, "repository": evil}}
		h := newHostile(t, false, cfg)
		s := newSandbox(t)
		r := s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions", "--verify", "--audience", "aud"+evil)
		checkOutput(t, "--verify", r, "subject repo:"+shown, "for aud"+shown)
		r = s.run(actionsEnv(s, h), "", "oidc", "token", "--source", "github-actions", "--verify", "--decode")
		checkOutput(t, "--decode", r)
		// --decode prints the claims verbatim: the escapes decode back to them.
		var doc struct {
			Claims map[string]any `json:"claims"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Claims["repository"] != evil {
			t.Errorf("--decode: claims %v (%v); want the repository claim verbatim", doc.Claims, err)
		}
	})
}
