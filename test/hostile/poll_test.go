package hostile

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ghlogin/ghlogin/internal/emulator"
)

// TestHTMLWhilePollingDoesNotLoseTheLogin: a captive portal or a proxy
// answers poll 1 and poll 3 with an HTML page and HTTP 200; ghlogin retries
// (retry events), the person's approval arrives, and the login succeeds.
func TestHTMLWhilePollingDoesNotLoseTheLogin(t *testing.T) {
	cfg := emulatorConfig()
	cfg.AutoApproveAfter = 2 // the emulator sees polls 2 and 4
	h := newHostile(t, false, cfg)
	var polls atomic.Int32
	h.setAnswer(func(w http.ResponseWriter, r *http.Request, form url.Values) bool {
		if r.URL.Path != tokenPath || form.Get("grant_type") != "urn:ietf:params:oauth:grant-type:device_code" {
			return false
		}
		switch polls.Add(1) {
		case 1, 3:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.Write([]byte("<!DOCTYPE html><html><head><title>Sign in to the Wi-Fi</title></head><body>Accept the terms</body></html>"))
			return true
		}
		return false
	})
	s := newSandbox(t)
	r := s.run(s.env, "", "login", "--device", "--json", "--host", h.url, "--client-id", emulator.DefaultClientID)
	if r.code != 0 {
		t.Fatalf("login: exit %d\nstdout:\n%s\nstderr:\n%s", r.code, r.stdout, r.stderr)
	}
	var kinds []string
	var retries []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(r.stdout), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("stdout line %q: %v", line, err)
		}
		kinds = append(kinds, ev["event"].(string))
		if ev["event"] == "retry" {
			retries = append(retries, ev)
		}
	}
	if got, want := strings.Join(kinds, " "), "code retry pending retry success"; got != want {
		t.Errorf("events %q, want %q", got, want)
	}
	for _, ev := range retries {
		if msg, _ := ev["error"].(string); !strings.Contains(msg, "HTML page") {
			t.Errorf("retry event %v does not say an HTML page came back", ev)
		}
	}
	if n := polls.Load(); n != 4 {
		t.Errorf("%d polls, want 4", n)
	}
	st := s.run(s.env, "", "status", "--offline")
	if st.code != 0 || !strings.Contains(st.stdout, "octocat (active)") {
		t.Errorf("status after the login: exit %d\n%s%s", st.code, st.stdout, st.stderr)
	}
}

// TestHTMLAtTheDeviceCodeRequestIsAWrongURL: the first request stays
// strict. An HTML page there means the URL is not a device authorization
// endpoint, and the message says so.
func TestHTMLAtTheDeviceCodeRequestIsAWrongURL(t *testing.T) {
	h := newHostile(t, false, emulatorConfig())
	h.setAnswer(func(w http.ResponseWriter, r *http.Request, _ url.Values) bool {
		if r.URL.Path != devicePath {
			return false
		}
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html><title>Sign in</title></html>"))
		return true
	})
	s := newSandbox(t)
	r := deviceLogin(t, s, h)
	if r.code == 0 || !strings.Contains(r.stderr, "is an HTML page (HTTP 200), not an OAuth reply: the device code URL is probably wrong") {
		t.Errorf("exit %d, stderr:\n%s", r.code, r.stderr)
	}
	assertTerminalSafe(t, "stderr", r.stderr)
}
