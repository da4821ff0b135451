package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ghlogin/ghlogin/deviceflow"
	"github.com/ghlogin/ghlogin/internal/config"
	"github.com/ghlogin/ghlogin/internal/emulator"
	"github.com/ghlogin/ghlogin/internal/githubapi"
	"github.com/ghlogin/ghlogin/internal/hosts"
	"github.com/ghlogin/ghlogin/internal/oidcdisc"
	"github.com/ghlogin/ghlogin/internal/session"
	"github.com/ghlogin/ghlogin/internal/storefake"
	"github.com/ghlogin/ghlogin/oauth"
	"github.com/ghlogin/ghlogin/store"
	"github.com/ghlogin/ghlogin/webflow"
)

// eventSchema is every JSON event, field by field, as SPEC and
// docs/json-events.md list them: no other event, no other field, and each
// field of its type.
var eventSchema = map[string]map[string]func(v any) bool{
	"code": {
		"user_code":                 nonEmptyString,
		"verification_uri":          nonEmptyString,
		"verification_uri_complete": func(v any) bool { return v == nil || nonEmptyString(v) },
		"expires_at":                rfc3339String,
		"interval":                  wholeNumber,
	},
	"pending":   {},
	"slow_down": {"interval": wholeNumber},
	"retry":     {"error": nonEmptyString, "retry_in": wholeNumber},
	"authorize": {"url": nonEmptyString},
	"success": {"host": nonEmptyString, "login": nonEmptyString, "store": func(v any) bool {
		return v == "keyring" || v == "kernel" || v == "file"
	}},
	"error": {"code": eventCodeString, "message": func(v any) bool {
		s, ok := v.(string)
		return ok && s != "" && !strings.ContainsAny(s, "\n\r")
	}},
}

func nonEmptyString(v any) bool { s, ok := v.(string); return ok && s != "" }

func rfc3339String(v any) bool {
	s, ok := v.(string)
	if !ok {
		return false
	}
	_, err := time.Parse(time.RFC3339, s)
	return err == nil
}

func wholeNumber(v any) bool { f, ok := v.(float64); return ok && f >= 0 && f == float64(int64(f)) }

// eventCodeString accepts an error event's code: one of eventCodes, or a
// server's OAuth error code (RFC 6749 §5.2's grammar).
func eventCodeString(v any) bool {
	s, ok := v.(string)
	if !ok || s == "" {
		return false
	}
	for _, c := range eventCodes {
		if c.Code == s {
			return true
		}
	}
	return oauth.IsErrorCode(s) && s != "error"
}

// checkEvents checks that stdout holds only events that fit eventSchema,
// one a line, and returns them.
func checkEvents(t *testing.T, stdout string) []map[string]any {
	t.Helper()
	var evs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(stdout, "\n"), "\n") {
		if line == "" && stdout == "" {
			break
		}
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("stdout holds a line that is not a JSON event: %q", line)
			continue
		}
		kind, _ := ev["event"].(string)
		fields, ok := eventSchema[kind]
		if !ok {
			t.Errorf("unknown event %q: %s", kind, line)
			continue
		}
		for k, v := range ev {
			if k == "event" {
				continue
			}
			check, ok := fields[k]
			if !ok {
				t.Errorf("%s event has the field %q, which SPEC does not list: %s", kind, k, line)
				continue
			}
			if !check(v) {
				t.Errorf("%s event: %q is %#v, not of its type: %s", kind, k, v, line)
			}
		}
		for k := range fields {
			if _, ok := ev[k]; !ok {
				t.Errorf("%s event lacks %q: %s", kind, k, line)
			}
		}
		evs = append(evs, ev)
	}
	return evs
}

// fakeServer is a GitHub-like OAuth server on loopback whose answers a test
// chooses: device codes, token replies in turn, the user API, and an OpenID
// Connect discovery document.
type fakeServer struct {
	srv *httptest.Server
	mu  sync.Mutex
	// deviceCode answers /login/device/code; nil answers a code.
	deviceCode http.HandlerFunc
	// tokens are the token endpoint's replies, in turn (the last repeats):
	// a status and a JSON body.
	tokens []fakeReply
	polls  int
	// discovery, when set, is /.well-known/openid-configuration's body.
	discovery string
}

type fakeReply struct {
	status int
	body   string
}

func newFakeServer(t *testing.T) *fakeServer {
	f := &fakeServer{}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	switch r.URL.Path {
	case "/login/device/code":
		if f.deviceCode != nil {
			f.deviceCode(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"device_code":"dc","user_code":"WDJB-MJHT","verification_uri":"%s/login/device","expires_in":900,"interval":5}`, f.srv.URL)
	case "/login/oauth/access_token":
		rep := f.tokens[min(f.polls, len(f.tokens)-1)]
		f.polls++
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		fmt.Fprint(w, rep.body)
	case "/api/v3/user":
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"login":"octocat","id":1}`)
	case "/.well-known/openid-configuration":
		if f.discovery == "" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, f.discovery)
	default:
		http.NotFound(w, r)
	}
}

// Every event login --json and refresh --json write, in every outcome the
// review named, fits SPEC's list exactly: the device flow's code, pending,
// slow_down, retry and success; the web flow's authorize; --with-token's
// success and error; and the error events whose codes are not the server's
// (docs/json-events.md).
func TestJSONEventsFitTheSchema(t *testing.T) {
	type scenario struct {
		name string
		run  func(t *testing.T) result
		// kinds are the event kinds expected, in order; code, for a last
		// error event, its code; exit the exit status.
		kinds []string
		code  string
		exit  int
	}
	scenarios := []scenario{
		{name: "device flow: slow_down, pending, success", kinds: []string{"code", "slow_down", "pending", "success"},
			run: func(t *testing.T) result {
				h := newHarness(t, emulator.Config{AutoApproveAfter: 2, SlowDownPolls: []int{1}})
				return h.run("", "login", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
			}},
		{name: "device flow: retry after a 503", kinds: []string{"code", "retry", "success"},
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				f := newFakeServer(t)
				f.tokens = []fakeReply{{503, `{"message":"down"}`}, {200, `{"access_token":"gho_canary","token_type":"bearer","scope":"repo"}`}}
				return h.run("", "login", "--json", "--host", f.srv.URL, "--client-id", "Iv1.x", "--store", "file")
			}},
		{name: "web flow: authorize, success", kinds: []string{"authorize", "success"},
			run: func(t *testing.T) result {
				h := newHarness(t, emulator.Config{AutoApproveWeb: true})
				h.vars["DISPLAY"] = ":0"
				h.vars["GHLOGIN_CLIENT_SECRET"] = emulator.DefaultClientSecret
				h.browse = browser(t)
				return h.run("", "login", "--web", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file", "--timeout", "20s")
			}},
		{name: "--with-token: success", kinds: []string{"success"},
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				tok := h.token(emulator.DefaultClientID, "octocat", "repo").AccessToken
				return h.run(tok+"\n", "login", "--with-token", "--json", "--host", h.srv.URL, "--store", "file")
			}},
		{name: "--with-token: refused", kinds: []string{"error"}, code: codeInvalidToken, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				return h.run("gho_notatoken\n", "login", "--with-token", "--json", "--host", h.srv.URL, "--store", "file")
			}},
		{name: "--with-token: nothing on stdin", kinds: []string{"error"}, code: codeConfig, exit: ExitUsage,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				return h.run("", "login", "--with-token", "--json", "--host", h.srv.URL, "--store", "file")
			}},
		{name: "keyring unavailable, nobody to ask", kinds: []string{"error"}, code: codeStoreUnavailable, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				h.kernel = storefake.New(store.BackendKernel, nil)
				h.kr.FailWith("", &store.KeyringUnavailableError{Op: "read", Err: &store.NoKeyringServiceError{Reason: "no D-Bus session bus"}})
				return h.run("", "login", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID)
			}},
		{name: "no client ID", kinds: []string{"error"}, code: codeConfig, exit: ExitUsage,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				return h.run("", "login", "--json", "--host", h.srv.URL, "--store", "file")
			}},
		{name: "a host that cannot be used", kinds: []string{"error"}, code: codeConfig, exit: ExitUsage,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				return h.run("", "login", "--json", "--host", "http://example.com", "--store", "file")
			}},
		{name: "issuer mismatch", kinds: []string{"error"}, code: codeServer, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				f := newFakeServer(t)
				f.discovery = `{"issuer":"http://127.0.0.1:1/other","token_endpoint":"http://127.0.0.1:1/t","device_authorization_endpoint":"http://127.0.0.1:1/d","authorization_endpoint":"http://127.0.0.1:1/a","jwks_uri":"http://127.0.0.1:1/k","response_types_supported":["code"],"subject_types_supported":["public"],"id_token_signing_alg_values_supported":["RS256"]}`
				return h.run("", "login", "--json", "--issuer", f.srv.URL, "--client-id", "cli", "--store", "file")
			}},
		{name: "an HTML page for a device code", kinds: []string{"error"}, code: codeServer, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				f := newFakeServer(t)
				f.deviceCode = func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "text/html")
					fmt.Fprint(w, "<html><body>Sign in to the hotel Wi-Fi</body></html>")
				}
				return h.run("", "login", "--json", "--host", f.srv.URL, "--client-id", "Iv1.x", "--store", "file")
			}},
		{name: "denied", kinds: []string{"code", "error"}, code: "access_denied", exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				f := newFakeServer(t)
				f.tokens = []fakeReply{{200, `{"error":"access_denied"}`}}
				return h.run("", "login", "--json", "--host", f.srv.URL, "--client-id", "Iv1.x", "--store", "file")
			}},
		{name: "the code expires", kinds: []string{"code", "error"}, code: codeTimeout, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emulator.Config{ExpiresIn: 5 * time.Second, Interval: 5 * time.Second})
				return h.run("", "login", "--json", "--host", h.srv.URL, "--client-id", emulator.DefaultClientID, "--store", "file")
			}},
		{name: "nothing listens", kinds: []string{"error"}, code: codeNetwork, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				f := newFakeServer(t)
				url := f.srv.URL
				f.srv.Close()
				return h.run("", "login", "--json", "--host", url, "--client-id", "Iv1.x", "--store", "file")
			}},
		{name: "refresh approved as another account", kinds: []string{"code", "error"}, code: codeWrongAccount, exit: ExitFailure,
			run: func(t *testing.T) result {
				h := newHarness(t, emulator.Config{AutoApproveAfter: 1})
				h.loginWithToken("hubot")
				h.setHost(func(c *config.Host) { c.ClientID = emulator.DefaultClientID })
				return h.run("", "refresh", "--json", "--host", h.srv.URL, "--user", "hubot", "--scopes", "repo")
			}},
		{name: "refresh of an account that is not logged in", kinds: []string{"error"}, code: codeNotLoggedIn, exit: ExitAuth,
			run: func(t *testing.T) result {
				h := newHarness(t, emuDefaults)
				return h.run("", "refresh", "--json", "--host", h.srv.URL, "--scopes", "repo")
			}},
	}
	seen := map[string]bool{}
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			r := sc.run(t)
			evs := checkEvents(t, r.stdout)
			var kinds []string
			for _, ev := range evs {
				kinds = append(kinds, ev["event"].(string))
				seen[ev["event"].(string)] = true
			}
			if got, want := strings.Join(kinds, " "), strings.Join(sc.kinds, " "); got != want {
				t.Errorf("events %q, want %q\nstdout:\n%s\nstderr:\n%s", got, want, r.stdout, r.stderr)
			}
			if r.code != sc.exit {
				t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, sc.exit, r.stderr)
			}
			if sc.code != "" && len(evs) > 0 {
				if last := evs[len(evs)-1]; last["code"] != sc.code {
					t.Errorf("error code %v, want %s (%v)", last["code"], sc.code, last["message"])
				}
			}
			if strings.Contains(r.stdout, "gho_canary") {
				t.Error("a token reached an event")
			}
		})
	}
	for kind := range eventSchema {
		if !seen[kind] {
			t.Errorf("no scenario wrote a %s event", kind)
		}
	}
}

// The code of every error event comes from eventCode: the server's OAuth
// code, else one of the documented codes, whatever wraps the error.
func TestEventCodes(t *testing.T) {
	wrapped := func(err error) error { return fmt.Errorf("checking the new token with h: %w", err) }
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&oauth.Error{Code: "access_denied"}, "access_denied"},
		{wrapped(&oauth.Error{Code: "expired_token"}), "expired_token"},
		{&oauth.TimeoutError{Message: deviceflow.ExpiredMessage, Flow: oauth.FlowDevice}, codeTimeout},
		{context.Canceled, codeCancelled},
		{wrapped(context.Canceled), codeCancelled},
		{&oauth.NetworkError{Endpoint: "https://h/x", Err: errors.New("connection refused")}, codeNetwork},
		{&oauth.HTTPError{StatusCode: 502}, codeNetwork},
		{&oauth.HTTPError{StatusCode: 200, Unparsed: true, HTML: true}, codeServer},
		{&deviceflow.CodeError{Field: "reply", Reason: "is an HTML page", HTML: true}, codeServer},
		{&oidcdisc.DocumentError{Issuer: "https://i", Problem: oidcdisc.IssuerMismatch}, codeServer},
		{&webflow.CallbackError{Reason: "without an authorization code"}, codeServer},
		{&session.StoreUnavailableError{Host: "h"}, codeStoreUnavailable},
		{wrapped(&store.KeyringUnavailableError{Op: "write", Err: errors.New("locked")}), codeStoreUnavailable},
		{&store.KernelKeyringUnavailableError{Op: "write", Reason: "seccomp"}, codeStoreUnavailable},
		{&session.NoClientIDError{Host: "h"}, codeConfig},
		{&session.NoClientSecretError{Host: "h"}, codeConfig},
		{&session.InputError{Field: "host", Err: &hosts.Error{Input: "x", Reason: "bad"}}, codeConfig},
		{&config.UntrustedError{Path: "/c", Dir: true}, codeConfig},
		{usagef("--wait -5m0s: give a duration above zero"), codeConfig},
		{&session.WrongAccountError{Host: "h", Want: "a", Got: "b"}, codeWrongAccount},
		{wrapped(&githubapi.UnauthorizedError{Host: "h"}), codeInvalidToken},
		{&store.NotLoggedInError{Host: "h"}, codeNotLoggedIn},
		{&session.EndedTogetherError{Host: "h", Login: "a"}, codeNotLoggedIn},
		{&webflow.PasteError{Reason: webflow.PasteNotCode, Attempt: 5, Max: 5}, codeFailed},
		{&webflow.PasteError{Reason: webflow.PasteCodeRefused, Err: &oauth.Error{Code: "invalid_grant"}}, "invalid_grant"},
		{errors.New("open /x: permission denied"), codeFailed},
		// A login another process ran is reported with its own code.
		{&session.WaitedLoginError{Result: store.LoginResult{ErrorCode: "access_denied"}}, "access_denied"},
	} {
		if got := eventCode(tc.err); got != tc.want {
			t.Errorf("eventCode(%v) = %q, want %q", tc.err, got, tc.want)
		}
		// The UI reads the code from what wrap made of the error.
		e := &Env{}
		var c interface{ ErrorCode() string }
		if w := e.wrap(tc.err); !errors.As(w, &c) || c.ErrorCode() != tc.want {
			t.Errorf("wrap(%v) carries no code %q", tc.err, tc.want)
		}
	}
}

// docs/json-events.md and the README list exactly the error codes that
// eventCode gives besides the server's.
func TestEventCodesAreDocumented(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "json-events.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	// The codes are the rows of the "Error codes" section's table.
	codes := string(doc)
	if i := strings.Index(codes, "## Error codes"); i >= 0 {
		codes = codes[i:]
		if j := strings.Index(codes[2:], "\n## "); j >= 0 {
			codes = codes[:j+2]
		}
	}
	listed := regexp.MustCompile("(?m)^\\| `([a-z_]+)` \\|").FindAllStringSubmatch(codes, -1)
	var inDoc, inCode []string
	for _, m := range listed {
		inDoc = append(inDoc, m[1])
	}
	for _, c := range eventCodes {
		inCode = append(inCode, c.Code)
		if !strings.Contains(string(readme), "`"+c.Code+"`") {
			t.Errorf("README.md does not name the error code %s", c.Code)
		}
	}
	sort.Strings(inDoc)
	sort.Strings(inCode)
	if strings.Join(inDoc, " ") != strings.Join(inCode, " ") {
		t.Errorf("docs/json-events.md lists the codes %v; eventCodes has %v", inDoc, inCode)
	}
	for kind := range eventSchema {
		if !strings.Contains(string(doc), `{"event":"`+kind+`"`) {
			t.Errorf("docs/json-events.md does not show the %s event", kind)
		}
	}
}

// Every login --json (and refresh --json) ends with one error event even
// when the command line cannot start it: stdout holds exactly that event,
// stderr nothing (as for every failure under --json), and the exit status
// is 2.
func TestJSONUsageErrorsEndWithAnEvent(t *testing.T) {
	h := newHarness(t, emuDefaults)
	for _, args := range [][]string{
		{"login", "--json", "--device", "--web"},
		{"login", "--json", "--wait", "0s"},
		{"login", "--nosuch", "--json"},
		{"login", "--json", "extra"},
		{"login", "--json", "--web", "--with-token"},
		{"refresh", "--json", "--scopes", "a", "--add-scopes", "b"},
	} {
		r := h.run("", args...)
		lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
		var ev map[string]any
		if r.code != ExitUsage || len(lines) != 1 || json.Unmarshal([]byte(lines[0]), &ev) != nil || ev["event"] != "error" || ev["code"] != "config" || r.stderr != "" {
			t.Errorf("%v: exit %d, stdout %q", args, r.code, r.stdout)
		}
	}
	// Without --json, stdout stays empty.
	if r := h.run("", "login", "--device", "--web"); r.stdout != "" || r.code != ExitUsage {
		t.Errorf("plain: exit %d, stdout %q", r.code, r.stdout)
	}
}
