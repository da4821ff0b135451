package emulator

import (
	"html"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

// devicePage fetches /login/device?user_code=code and returns the CSRF token.
func devicePageCSRF(t *testing.T, e *env, code string) (string, reply) {
	t.Helper()
	r := e.get("/login/device?user_code=" + url.QueryEscape(code))
	if r.status != 200 || !strings.HasPrefix(r.ctype, "text/html") {
		t.Fatalf("device page: %d %q", r.status, r.ctype)
	}
	for h, want := range map[string]string{
		"X-Frame-Options": "DENY", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store",
	} {
		if r.header.Get(h) != want {
			t.Errorf("%s = %q, want %q", h, r.header.Get(h), want)
		}
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "form-action 'self'") {
		t.Errorf("CSP %q", csp)
	}
	m := csrfRe.FindStringSubmatch(r.body)
	if m == nil {
		t.Fatalf("no CSRF field in page")
	}
	return html.UnescapeString(m[1]), r
}

func TestDevicePageApprove(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "repo")
	csrf, page := devicePageCSRF(t, e, dc.f["user_code"])
	for _, want := range []string{dc.f["user_code"], "octocat", "hubot", "repo", "ghlogin emulator (OAuth app)"} {
		if !strings.Contains(page.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	r := e.post("/login/device", url.Values{
		"authenticity_token": {csrf}, "user_code": {strings.ToLower(strings.ReplaceAll(dc.f["user_code"], "-", ""))},
		"login": {"hubot"}, "action": {"approve"},
	}, false)
	if r.status != 200 || !strings.Contains(r.body, "all set") {
		t.Fatalf("approve: %d %s", r.status, r.body)
	}
	e.clk.Advance(5 * time.Second)
	tok := e.poll(DefaultClientID, dc.f["device_code"])
	if who := e.get("/user", "Authorization", "Bearer "+tok.f["access_token"]); who.f["login"] != "hubot" {
		t.Fatalf("approved as %s", who.body)
	}
}

func TestDevicePageDeny(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "")
	csrf, _ := devicePageCSRF(t, e, "")
	r := e.post("/login/device", url.Values{"authenticity_token": {csrf}, "user_code": {dc.f["user_code"]}, "action": {"deny"}}, false)
	if r.status != 200 || !strings.Contains(r.body, "denied") {
		t.Fatalf("deny: %d %s", r.status, r.body)
	}
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "access_denied")
}

func TestDevicePageRefusals(t *testing.T) {
	e := start(t, Config{ExpiresIn: time.Minute})
	dc := e.deviceCode(DefaultClientID, "")
	csrf, _ := devicePageCSRF(t, e, "")
	cases := []struct {
		name   string
		form   url.Values
		status int
		text   string
	}{
		{"missing CSRF", url.Values{"user_code": {dc.f["user_code"]}, "login": {"octocat"}, "action": {"approve"}}, http.StatusForbidden, "invalid or has expired"},
		{"forged CSRF", url.Values{"authenticity_token": {csrf + "x"}, "user_code": {dc.f["user_code"]}, "login": {"octocat"}, "action": {"approve"}}, http.StatusForbidden, "invalid or has expired"},
		{"unknown code", url.Values{"authenticity_token": {csrf}, "user_code": {"BCDF-GHJK"}, "login": {"octocat"}, "action": {"approve"}}, http.StatusBadRequest, "not recognized"},
		{"unknown user", url.Values{"authenticity_token": {csrf}, "user_code": {dc.f["user_code"]}, "login": {"mallory"}, "action": {"approve"}}, http.StatusBadRequest, "listed users"},
		{"no action", url.Values{"authenticity_token": {csrf}, "user_code": {dc.f["user_code"]}, "login": {"octocat"}}, http.StatusBadRequest, "Authorize or Cancel"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := e.post("/login/device", c.form, false)
			if r.status != c.status || !strings.Contains(r.body, c.text) {
				t.Fatalf("got %d, want %d with %q:\n%s", r.status, c.status, c.text, r.body)
			}
		})
	}
	// None of them decided the code.
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "authorization_pending")

	e.clk.Advance(time.Minute)
	csrf, _ = devicePageCSRF(t, e, "")
	r := e.post("/login/device", url.Values{"authenticity_token": {csrf}, "user_code": {dc.f["user_code"]}, "login": {"octocat"}, "action": {"approve"}}, false)
	if r.status != http.StatusBadRequest || !strings.Contains(r.body, "expired") {
		t.Fatalf("expired code: %d %s", r.status, r.body)
	}
	if r := e.do(mustReq(http.MethodPut, e.base+"/login/device")); r.status != http.StatusMethodNotAllowed {
		t.Fatalf("PUT = %d", r.status)
	}
}

func TestDevicePageEscapes(t *testing.T) {
	e := start(t, Config{Users: []string{`"><b>x</b>`}})
	_, r := devicePageCSRF(t, e, `"><script>alert(1)</script>`)
	if strings.Contains(r.body, "<script>alert") || strings.Contains(r.body, "<b>x</b>") {
		t.Fatalf("unescaped input:\n%s", r.body)
	}
}

func TestIndexPage(t *testing.T) {
	e := start(t, Config{})
	r := e.get("/")
	if r.status != 200 || !strings.Contains(r.body, DefaultClientID) || !strings.Contains(r.body, AppClientID) {
		t.Fatalf("index: %d %s", r.status, r.body)
	}
	if r := e.get("/nothing/here"); r.status != http.StatusNotFound {
		t.Fatalf("unknown path: %d", r.status)
	}
}

func mustReq(method, u string) *http.Request {
	req, err := http.NewRequest(method, u, nil)
	if err != nil {
		panic(err)
	}
	return req
}
