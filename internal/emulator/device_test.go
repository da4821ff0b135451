package emulator

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestDeviceCodeFormReply(t *testing.T) {
	e := start(t, Config{})
	r := e.post("/login/device/code", url.Values{"client_id": {DefaultClientID}, "scope": {"repo gist"}}, false)
	if r.status != 200 || !strings.HasPrefix(r.ctype, "application/x-www-form-urlencoded") {
		t.Fatalf("want a form-encoded 200 reply, got %d %q %s", r.status, r.ctype, r.body)
	}
	if !deviceCodeRe.MatchString(r.f["device_code"]) {
		t.Errorf("device_code %q is not 40 hex characters", r.f["device_code"])
	}
	if !userCodeRe.MatchString(r.f["user_code"]) {
		t.Errorf("user_code %q is not like WDJB-MJHT", r.f["user_code"])
	}
	if r.f["verification_uri"] != e.base+"/login/device" {
		t.Errorf("verification_uri = %q", r.f["verification_uri"])
	}
	if r.f["expires_in"] != "900" || r.f["interval"] != "5" {
		t.Errorf("expires_in=%s interval=%s, want 900 and 5", r.f["expires_in"], r.f["interval"])
	}
	if _, ok := r.f["verification_uri_complete"]; ok {
		t.Errorf("GitHub sends no verification_uri_complete")
	}
}

func TestDeviceCodeJSONReplyAndJSONBody(t *testing.T) {
	e := start(t, Config{Interval: 7 * time.Second, ExpiresIn: 60 * time.Second})
	req, _ := http.NewRequest(http.MethodPost, e.base+"/login/device/code", strings.NewReader(`{"client_id":"`+DefaultClientID+`","scope":"repo"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	r := e.do(req)
	if r.status != 200 || !strings.HasPrefix(r.ctype, "application/json") {
		t.Fatalf("want JSON 200, got %d %q %s", r.status, r.ctype, r.body)
	}
	if r.raw["interval"] != float64(7) || r.raw["expires_in"] != float64(60) {
		t.Errorf("interval/expires_in must be JSON numbers 7 and 60: %s", r.body)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", r.header.Get("Cache-Control"))
	}
}

func TestDeviceCodeErrors(t *testing.T) {
	e := start(t, Config{})
	for _, asJSON := range []bool{false, true} {
		r := e.post("/login/device/code", url.Values{"client_id": {"nope"}}, asJSON)
		wantError(t, r, http.StatusBadRequest, "incorrect_client_credentials")
		r = e.post("/login/device/code", url.Values{"client_id": {DisabledClientID}}, asJSON)
		wantError(t, r, http.StatusBadRequest, "device_flow_disabled")
		if !strings.Contains(r.f["error_description"], "Device Flow must be explicitly enabled") {
			t.Errorf("description = %q", r.f["error_description"])
		}
	}
	if r := e.get("/login/device/code"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET /login/device/code = %d, want 405", r.status)
	}
}

func TestDeviceFlowApproveAndUser(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "repo,gist read:org repo")
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "authorization_pending")
	if err := e.s.Approve(strings.ToLower(dc.f["user_code"]), "hubot"); err != nil {
		t.Fatal(err)
	}
	e.clk.Advance(5 * time.Second)
	r := e.poll(DefaultClientID, dc.f["device_code"])
	if r.status != 200 || !oauthTokenRe.MatchString(r.f["access_token"]) {
		t.Fatalf("want a gho_ token, got %d %s", r.status, r.body)
	}
	if r.f["token_type"] != "bearer" || r.f["scope"] != "gist,read:org,repo" {
		t.Errorf("token_type=%q scope=%q", r.f["token_type"], r.f["scope"])
	}
	if _, ok := r.f["expires_in"]; ok {
		t.Errorf("OAuth app tokens do not expire: %v", r.f)
	}
	tok := r.f["access_token"]

	// The device code is used once.
	e.clk.Advance(5 * time.Second)
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "incorrect_device_code")
	if err := e.s.Approve(dc.f["user_code"], "octocat"); !errors.Is(err, ErrUnknownUserCode) {
		t.Errorf("Approve after use: %v", err)
	}

	u := e.get("/user", "Authorization", "Bearer "+tok)
	if u.status != 200 || u.f["login"] != "hubot" || u.raw["id"] != float64(480938) {
		t.Fatalf("/user = %d %s", u.status, u.body)
	}
	if got := u.header.Get("X-OAuth-Scopes"); got != "gist, read:org, repo" {
		t.Errorf("X-OAuth-Scopes = %q, want %q", got, "gist, read:org, repo")
	}
	if _, ok := u.header["X-Accepted-Oauth-Scopes"]; !ok {
		t.Errorf("X-Accepted-OAuth-Scopes missing")
	}
	if strings.Contains(e.logs.all(), tok) || strings.Contains(e.logs.all(), dc.f["device_code"]) {
		t.Fatalf("a secret reached the log:\n%s", e.logs.all())
	}
}

func TestFormPollReply(t *testing.T) {
	e := start(t, Config{AutoApproveAfter: 1})
	dc := e.deviceCode(DefaultClientID, "repo")
	r := e.post("/login/oauth/access_token", url.Values{
		"client_id": {DefaultClientID}, "device_code": {dc.f["device_code"]}, "grant_type": {DeviceGrantType},
	}, false)
	if !strings.HasPrefix(r.ctype, "application/x-www-form-urlencoded") || !oauthTokenRe.MatchString(r.f["access_token"]) {
		t.Fatalf("want a form-encoded token reply, got %q %d", r.ctype, r.status)
	}
	// Errors are form-encoded too, with HTTP 200.
	r = e.post("/login/oauth/access_token", url.Values{"client_id": {DefaultClientID}, "device_code": {"x"}, "grant_type": {DeviceGrantType}}, false)
	if !strings.HasPrefix(r.ctype, "application/x-www-form-urlencoded") {
		t.Fatalf("content type %q", r.ctype)
	}
	wantError(t, r, 200, "incorrect_device_code")
}

func TestSlowDownEscalates(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "")
	code := dc.f["device_code"]
	e.clk.Advance(5 * time.Second)
	wantError(t, e.poll(DefaultClientID, code), 200, "authorization_pending")

	e.clk.Advance(4 * time.Second) // early
	r := e.poll(DefaultClientID, code)
	wantError(t, r, 200, "slow_down")
	if r.raw["interval"] != float64(10) {
		t.Fatalf("slow_down interval = %v, want 10", r.raw["interval"])
	}
	e.clk.Advance(9 * time.Second) // still early for the new interval of 10
	r = e.poll(DefaultClientID, code)
	wantError(t, r, 200, "slow_down")
	if r.f["interval"] != "15" {
		t.Fatalf("second slow_down interval = %v, want 15", r.f["interval"])
	}
	e.clk.Advance(15 * time.Second) // on time
	wantError(t, e.poll(DefaultClientID, code), 200, "authorization_pending")

	// Form replies carry the interval too.
	e.clk.Advance(time.Second)
	f := e.post("/login/oauth/access_token", url.Values{"client_id": {DefaultClientID}, "device_code": {code}, "grant_type": {DeviceGrantType}}, false)
	wantError(t, f, 200, "slow_down")
	if f.f["interval"] != "20" {
		t.Fatalf("form slow_down interval = %q", f.f["interval"])
	}

	st := e.s.Stats()
	rec := st.Codes[dc.f["user_code"]]
	if st.Polls != 5 || st.EarlyPolls != 3 || rec.Early != 3 || len(rec.Polls) != 5 || rec.Interval != 20*time.Second {
		t.Fatalf("stats: polls=%d early=%d record=%+v", st.Polls, st.EarlyPolls, rec)
	}
	if !rec.Issued.Equal(t0) || !rec.Polls[0].Equal(t0.Add(5*time.Second)) {
		t.Errorf("poll timestamps %v issued %v", rec.Polls, rec.Issued)
	}
	if st.Requests["POST /login/oauth/access_token"] != 5 || st.Requests["POST /login/device/code"] != 1 {
		t.Errorf("requests: %v", st.Requests)
	}
}

func TestDeviceCodeExpires(t *testing.T) {
	e := start(t, Config{ExpiresIn: 30 * time.Second})
	dc := e.deviceCode(DefaultClientID, "")
	e.clk.Advance(30 * time.Second)
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "expired_token")
	if err := e.s.Approve(dc.f["user_code"], "octocat"); !errors.Is(err, ErrCodeExpired) {
		t.Fatalf("Approve after expiry: %v", err)
	}
	// Still expired_token later (not incorrect_device_code) while GitHub remembers it.
	e.clk.Advance(10 * time.Minute)
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "expired_token")
}

func TestTokenEndpointErrors(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "")
	app := e.deviceCode(AppClientID, "")
	cases := []struct {
		name string
		form url.Values
		code string
	}{
		{"unknown client", url.Values{"client_id": {"nope"}, "device_code": {dc.f["device_code"]}, "grant_type": {DeviceGrantType}}, "incorrect_client_credentials"},
		{"missing client", url.Values{"device_code": {dc.f["device_code"]}, "grant_type": {DeviceGrantType}}, "incorrect_client_credentials"},
		{"unknown device code", url.Values{"client_id": {DefaultClientID}, "device_code": {"0000"}, "grant_type": {DeviceGrantType}}, "incorrect_device_code"},
		{"another client's device code", url.Values{"client_id": {DefaultClientID}, "device_code": {app.f["device_code"]}, "grant_type": {DeviceGrantType}}, "incorrect_device_code"},
		{"unsupported grant", url.Values{"client_id": {DefaultClientID}, "device_code": {dc.f["device_code"]}, "grant_type": {"password"}}, "unsupported_grant_type"},
		{"device flow disabled", url.Values{"client_id": {DisabledClientID}, "device_code": {dc.f["device_code"]}, "grant_type": {DeviceGrantType}}, "device_flow_disabled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			wantError(t, e.post("/login/oauth/access_token", c.form, true), 200, c.code)
		})
	}
	if r := e.get("/login/oauth/access_token"); r.status != http.StatusMethodNotAllowed {
		t.Errorf("GET token endpoint = %d", r.status)
	}
}

func TestDenyFlow(t *testing.T) {
	e := start(t, Config{})
	dc := e.deviceCode(DefaultClientID, "")
	if err := e.s.Deny(dc.f["user_code"]); err != nil {
		t.Fatal(err)
	}
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "access_denied")
	e.clk.Advance(5 * time.Second)
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "access_denied")
	if err := e.s.Approve(dc.f["user_code"], "octocat"); !errors.Is(err, ErrCodeDecided) {
		t.Fatalf("Approve after deny: %v", err)
	}
	if err := e.s.Deny("BCDF-GHJK"); !errors.Is(err, ErrUnknownUserCode) {
		t.Fatalf("Deny unknown: %v", err)
	}
	if err := e.s.Approve(e.deviceCode(DefaultClientID, "").f["user_code"], "mallory"); !errors.Is(err, ErrUnknownUser) {
		t.Fatalf("Approve as unknown user: %v", err)
	}
}

func TestAutoApproveAfterPolls(t *testing.T) {
	e := start(t, Config{AutoApproveAfter: 2})
	dc := e.deviceCode(DefaultClientID, "repo")
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "authorization_pending")
	e.clk.Advance(time.Second) // early: answered slow_down, not counted
	wantError(t, e.poll(DefaultClientID, dc.f["device_code"]), 200, "slow_down")
	e.clk.Advance(10 * time.Second)
	r := e.poll(DefaultClientID, dc.f["device_code"])
	if !oauthTokenRe.MatchString(r.f["access_token"]) {
		t.Fatalf("second timely poll should get the token: %s", r.body)
	}
	if u := e.get("/user", "Authorization", "token "+r.f["access_token"]); u.f["login"] != "octocat" {
		t.Fatalf("auto-approved as %q, want the first user", u.f["login"])
	}
}

func TestUserCodeFormatAndUniqueness(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 2000; i++ {
		c := newUserCode()
		if !userCodeRe.MatchString(c) {
			t.Fatalf("user code %q", c)
		}
		seen[c] = true
	}
	if len(seen) < 1990 {
		t.Fatalf("user codes repeat too often: %d distinct of 2000", len(seen))
	}
	if normalizeUserCode("wdjb mjht") != "WDJBMJHT" || normalizeUserCode("WDJB-MJHT") != "WDJBMJHT" {
		t.Fatal("normalizeUserCode")
	}
}

func TestTokenFormat(t *testing.T) {
	for i := 0; i < 200; i++ {
		for _, c := range []struct {
			tok string
			re  interface{ MatchString(string) bool }
		}{{newToken("gho_", 36), oauthTokenRe}, {newToken("ghu_", 36), appTokenRe}, {newToken("ghr_", 76), refreshTokenRe}} {
			if !c.re.MatchString(c.tok) {
				t.Fatalf("token %q has the wrong shape", c.tok[:4])
			}
		}
	}
	if newToken("gho_", 36) == newToken("gho_", 36) {
		t.Fatal("tokens repeat")
	}
}

func TestApproveConcurrently(t *testing.T) {
	e := start(t, Config{})
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			dc := e.deviceCode(DefaultClientID, "repo")
			if err := e.s.Approve(dc.f["user_code"], "octocat"); err != nil {
				t.Error(err)
				return
			}
			r := e.poll(DefaultClientID, dc.f["device_code"])
			if !oauthTokenRe.MatchString(r.f["access_token"]) {
				t.Errorf("no token: %s", r.body)
			}
			_ = e.s.Stats()
		}()
	}
	wg.Wait()
	if st := e.s.Stats(); st.TokensIssued != 20 || st.DeviceCodes != 20 {
		t.Fatalf("stats %+v", st)
	}
}

func TestStartRefusesNonLoopback(t *testing.T) {
	for _, addr := range []string{"0.0.0.0:0", "192.0.2.1:0", "example.com:80"} {
		if _, err := Start(context.Background(), addr, Config{}); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("Start(%q) = %v, want ErrNotLoopback", addr, err)
		}
	}
	s, err := Start(context.Background(), "localhost:0", Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !strings.HasPrefix(s.URL(), "http://127.0.0.1:") {
		t.Fatalf("URL %q", s.URL())
	}
}

func TestCloseOnContextCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	s, err := Start(ctx, "", Config{})
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		c := &http.Client{Timeout: time.Second}
		resp, err := c.Get(s.URL() + "/")
		if err != nil {
			return // closed
		}
		resp.Body.Close()
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the server still answers after its context ended")
}

func TestHandlerWithoutStart(t *testing.T) {
	s := New(Config{})
	if s.URL() != "" {
		t.Fatal("URL of an unstarted server")
	}
	rec := newRecorder()
	req, _ := http.NewRequest(http.MethodPost, "http://emu.test:9/login/device/code", strings.NewReader("client_id="+DefaultClientID))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	s.ServeHTTP(rec, req)
	if !strings.Contains(rec.body.String(), `"verification_uri":"http://emu.test:9/login/device"`) {
		t.Fatalf("verification_uri not derived from Host: %s", rec.body.String())
	}
}
