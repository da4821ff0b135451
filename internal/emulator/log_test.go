package emulator

import (
	"net/url"
	"strings"
	"testing"
)

// TestLogsHoldNoSecrets runs every flow and checks that no token, code or
// state reaches Logf, while the request lines are there.
func TestLogsHoldNoSecrets(t *testing.T) {
	e := start(t, Config{AutoApproveAfter: 1, AutoApproveWeb: true})
	var secrets []string
	dc := e.deviceCode(AppClientID, "")
	tok := e.poll(AppClientID, dc.f["device_code"])
	secrets = append(secrets, dc.f["device_code"], tok.f["access_token"], tok.f["refresh_token"])
	ref := e.refresh(AppClientID, "", tok.f["refresh_token"])
	secrets = append(secrets, ref.f["access_token"], ref.f["refresh_token"])
	u := location(t, e.get(authorizeURL(DefaultClientID, "http://127.0.0.1:9/callback", "statevalue123", challengeFor(verifier))))
	code := u.Query().Get("code")
	web := e.exchange(DefaultClientID, DefaultClientSecret, code, "", verifier)
	secrets = append(secrets, code, "statevalue123", verifier, web.f["access_token"], DefaultClientSecret)
	e.get("/user", "Authorization", "Bearer "+web.f["access_token"])
	e.post("/login/oauth/access_token", url.Values{"client_id": {DefaultClientID}, "client_secret": {DefaultClientSecret}, "code": {code}}, false)

	logs := e.logs.all()
	for _, s := range secrets {
		if s == "" {
			t.Fatal("a flow failed to produce a value")
		}
		if strings.Contains(logs, s) {
			t.Fatalf("log holds a secret:\n%s", logs)
		}
	}
	for _, want := range []string{"POST /login/device/code 200", "POST /login/oauth/access_token 200", "GET /login/oauth/authorize 302", "GET /user 200", "error=bad_verification_code"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}
